using System.CommandLine;
using Tunebook.Kernel;

namespace Tunebook.Cli;

/// <summary>./tunebook kernel install | run: the C# Jupyter kernel.</summary>
static class KernelCommands
{
    public static Command Create()
    {
        var kernel = new Command("kernel", "The C# Jupyter kernel (VS Code, JupyterLab, Jupyter Notebook).");
        kernel.Subcommands.Add(Install());
        kernel.Subcommands.Add(Run());
        return kernel;
    }

    static Command Install()
    {
        var user = new Option<bool>("--user") { Description = "Install for the current user (the default): ~/.local/share/jupyter/kernels/tunebook" };
        var prefix = new Option<string?>("--prefix") { Description = "Install under DIR/share/jupyter/kernels/tunebook (for a virtual environment or a test setup)" };
        var command = new Command("install", $"Install the \"{Kernelspec.DisplayName}\" kernelspec so Jupyter front ends can start the kernel.") { user, prefix };
        command.SetAction(parse =>
        {
            if (parse.GetValue(user) && parse.GetValue(prefix) is not null)
            {
                Console.Error.WriteLine("kernel install: give either --user or --prefix, not both");
                return 2;
            }
            var cli = typeof(KernelCommands).Assembly.Location;
            var folder = Kernelspec.Install(cli, parse.GetValue(prefix));
            Console.WriteLine($"Installed kernelspec \"{Kernelspec.Name}\" ({Kernelspec.DisplayName}) in {folder}");
            return 0;
        });
        return command;
    }

    static Command Run()
    {
        var file = new Option<string>("--connection-file", "-f") { Description = "The connection file Jupyter wrote for this kernel", Required = true };
        var command = new Command("run", "Run the kernel for a Jupyter connection file (Jupyter starts this; you normally do not).") { file };
        command.SetAction(parse => KernelProgram.Run(parse.GetValue(file)!));
        return command;
    }
}
