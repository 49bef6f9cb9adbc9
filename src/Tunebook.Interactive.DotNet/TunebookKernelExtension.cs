using System.Reflection;
using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;
using Tunebook.Notebook;

namespace Tunebook.Interactive.DotNet;

/// <summary>
/// The .NET Interactive kernel extension: loaded when a notebook runs #r "nuget: Tunebook.Interactive.DotNet"
/// (the package carries it under interactive-extensions/dotnet). It adds the magics and formatters of
/// <see cref="NotebookExtension"/> to the C# kernel — the same objects the Tunebook kernel loads — and the
/// usings every Tunebook cell has.
/// </summary>
public sealed class TunebookKernelExtension : Microsoft.DotNet.Interactive.IKernelExtension
{
    public Task OnLoadAsync(Kernel kernel)
    {
        SupportedVersion.Check(typeof(Kernel).Assembly);
        return LoadAsync(kernel);
    }

    // Apart from the version check, so that another .NET Interactive, whose API may lack what this method calls,
    // meets the check's clear error before the JIT compiles these calls.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static async Task LoadAsync(Kernel kernel)
    {
        var csharp = FindCSharpKernel(kernel);
        Frontend.Host = new DotNetInteractiveHost();
        NotebookExtension.RegisterFormatters();
        Tunebook.Notebook.Charts.ChartFormatters.Register();
        FormatterBridge.Register();
        foreach (var magic in NotebookExtension.Magics) AddMagic(csharp, magic);
        var usings = await csharp.SendAsync(new SubmitCode(string.Concat(NotebookExtension.Usings.Select(u => $"using {u};\n"))));
        if (usings.Events.OfType<CommandFailed>().FirstOrDefault() is { } failed)
            throw new InvalidOperationException("Tunebook's usings failed in the C# kernel: " + failed.Message);
    }

    /// <summary>The C# kernel: the one the package was added to, or the C# child of the notebook's composite kernel.</summary>
    static CSharpKernel FindCSharpKernel(Kernel kernel) => kernel switch
    {
        CSharpKernel csharp => csharp,
        CompositeKernel composite => composite.ChildKernels.OfType<CSharpKernel>().FirstOrDefault()
            ?? throw new InvalidOperationException("Tunebook needs the C# kernel, and this notebook has none"),
        _ => FindCSharpKernel(kernel.RootKernel is CompositeKernel root && root != kernel ? root
            : throw new InvalidOperationException($"Tunebook needs the C# kernel; it was loaded into {kernel.Name}")),
    };

    // .NET Interactive routes a directive's invocation to the handler of its command type, and every Tunebook magic
    // binds to the one type TunebookMagicInvocation: so one handler per kernel, which finds the magic by the directive's name.
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<CSharpKernel, Dictionary<string, MagicCommand>> MagicsByKernel = new();

    /// <summary>Registers <paramref name="magic"/> as a directive of the C# kernel that runs it as the Tunebook kernel would.</summary>
    public static void AddMagic(CSharpKernel csharp, MagicCommand magic)
    {
        var magics = MagicsByKernel.GetOrCreateValue(csharp);
        lock (magics) magics["#!" + magic.Name] = magic;
        csharp.AddDirective<TunebookMagicInvocation>(MagicDirectives.Create(magic), (invocation, context) =>
        {
            var name = (invocation.InvokedDirective ?? "").Split(' ')[0];
            MagicCommand? target;
            lock (magics) magics.TryGetValue(name, out target);
            return target is null
                ? throw new InvalidOperationException($"no Tunebook magic {name}")
                : RunAsync(csharp, target, invocation, context);
        });
    }

    // .NET Interactive ends a cancelled command at once, while the run it started stops only at its next step
    // boundary: one magic at a time, so the next #!train waits for that instead of training the same model beside it.
    static readonly SemaphoreSlim OneMagicAtATime = new(1, 1);

    static async Task RunAsync(CSharpKernel csharp, MagicCommand magic, TunebookMagicInvocation invocation, KernelInvocationContext context)
    {
        var session = new MagicSession(csharp, Frontend.Host);
        await OneMagicAtATime.WaitAsync();
        try
        {
            var options = MagicParser.Bind(magic.OptionsType, MagicDirectives.Tokens(magic, invocation));
            await magic.RunAsync(options, session);
        }
        // A usage error reads as in the Tunebook kernel: the problem and the usage, not an exception and its stack.
        catch (MagicUsageException e) { context.Fail(invocation, null, MagicParser.WithUsage(magic, e.Message).Message); }
        finally
        {
            OneMagicAtATime.Release();
            session.FlushOutput(context);
        }
    }
}

/// <summary>The .NET Interactive version this extension was built against, and the check made when it is loaded.</summary>
public static class SupportedVersion
{
    /// <summary>From the project file (the version of its Microsoft.DotNet.Interactive reference): one source.</summary>
    public static string Version { get; } = Metadata("DotNetInteractiveVersion");

    /// <summary>The dotnet-interactive tool that ships <see cref="Version"/>.</summary>
    public static string ToolVersion { get; } = Metadata("DotNetInteractiveToolVersion");

    static string Metadata(string key) =>
        typeof(SupportedVersion).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;

    /// <summary>Throws, naming the supported version, when <paramref name="dotNetInteractive"/> is another one.</summary>
    public static void Check(Assembly dotNetInteractive)
    {
        var informational = dotNetInteractive.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
        var found = informational.Split('+')[0];
        if (found != Version)
            throw new NotSupportedException(
                $"Tunebook.Interactive.DotNet supports .NET Interactive {Version} (the dotnet-interactive tool {ToolVersion}); this kernel runs {found}. " +
                "Install that version (dotnet tool install Microsoft.dotnet-interactive --version {ToolVersion}) or use Tunebook's own kernel (./tunebook kernel install).");
    }
}
