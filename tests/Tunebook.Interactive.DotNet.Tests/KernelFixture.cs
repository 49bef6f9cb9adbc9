using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;

namespace Tunebook.Interactive.DotNet.Tests;

/// <summary>
/// A notebook's kernel as .NET Interactive builds it (a composite kernel with a C# kernel), with the
/// extension loaded the way a package load does: OnLoadAsync on the kernel the package was added to.
/// </summary>
public sealed class KernelFixture : IDisposable
{
    public CompositeKernel Kernel { get; }
    public CSharpKernel CSharp { get; }

    public KernelFixture()
    {
        CSharp = new CSharpKernel();
        Kernel = new CompositeKernel { CSharp };
        Kernel.DefaultKernelName = CSharp.Name;
        // Relative paths in the cells (datasets/puddle/...) are the repository's, as in a notebook beside it.
        Directory.SetCurrentDirectory(Paths.RepoRoot);
        // What #r "nuget: Tunebook.Interactive.DotNet" gives the C# kernel first: references to the package's assemblies.
        var references = string.Concat(Directory.GetFiles(AppContext.BaseDirectory, "Tunebook.*.dll")
            .Where(f => !f.Contains(".Tests.", StringComparison.Ordinal)).Select(f => $"#r \"{f}\"\n"));
        Events.Succeeded(Kernel.SendAsync(new SubmitCode(references)).GetAwaiter().GetResult().Events);
        new TunebookKernelExtension().OnLoadAsync(CSharp).GetAwaiter().GetResult();
    }

    /// <summary>Runs one cell and returns every event it produced.</summary>
    public async Task<IReadOnlyList<KernelEvent>> Run(string code)
    {
        var result = await Kernel.SendAsync(new SubmitCode(code));
        return result.Events;
    }

    public void Dispose() => Kernel.Dispose();
}

[CollectionDefinition(Name)]
public sealed class KernelCollection : ICollectionFixture<KernelFixture>
{
    // Tunebook's Frontend.Host and .NET Interactive's Formatter are process-wide: one kernel for all tests.
    public const string Name = "dotnet-interactive kernel";
}

static class Paths
{
    public static string RepoRoot { get; } = typeof(Paths).Assembly
        .GetCustomAttributes(typeof(System.Reflection.AssemblyMetadataAttribute), false)
        .Cast<System.Reflection.AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;
}

static class Events
{
    public static void Succeeded(IReadOnlyList<KernelEvent> events)
    {
        if (events.OfType<CommandFailed>().FirstOrDefault() is { } failed) Assert.Fail(failed.Message);
    }

    public static string Failure(IReadOnlyList<KernelEvent> events) =>
        Assert.Single(events.OfType<CommandFailed>()).Message;
}
