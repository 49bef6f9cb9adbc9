namespace Tunebook.Kernel.Tests;

/// <summary>
/// "--kernel-host connection.json" runs the kernel (what KernelProcess launches); anything else is a test run.
/// The kernel runs out of process because it owns Console, Frontend.Host and SIGINT, as in production.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == "--kernel-host") return KernelProgram.Run(args[1]);
        Console.Error.WriteLine("This is the Tunebook kernel test assembly; run it with dotnet test.");
        return 2;
    }
}
