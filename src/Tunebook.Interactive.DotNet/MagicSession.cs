using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.CSharp;
using Microsoft.DotNet.Interactive.Events;

namespace Tunebook.Interactive.DotNet;

/// <summary>
/// What a Tunebook magic reaches when .NET Interactive runs it: the C# kernel's variables (so `model`,
/// `data` and `trainer` are the same variables the next C# cell uses), the host, and a text output that
/// becomes the command's standard output.
/// </summary>
sealed class MagicSession(CSharpKernel csharp, INotebookHost host) : IMagicContext
{
    readonly StringWriter _out = new();

    public INotebookHost Host => host;

    /// <summary>.NET Interactive runs the rest of the cell itself, after the magic; no Tunebook magic of this extension takes it over.</summary>
    public string CellBody => "";

    public TextWriter Out => _out;

    public object? GetVariable(string name) => csharp.TryGetValue<object>(name, out var value) ? value : null;

    public void SetVariable(string name, object? value)
    {
        // The declared type is the value's own, so later cells call its members without a cast; a null
        // keeps the type the variable had.
        var type = value?.GetType() ?? GetVariable(name)?.GetType() ?? typeof(object);
        csharp.SetValueAsync(name, value!, type).GetAwaiter().GetResult();
    }

    public Task<object?> RunCodeAsync(string code, CancellationToken cancellation = default) =>
        throw new NotSupportedException("running C# from a magic is not supported under .NET Interactive: put the code in its own cell");

    /// <summary>Sends what the magic wrote as the command's standard output.</summary>
    public void FlushOutput(KernelInvocationContext context)
    {
        var text = _out.ToString();
        if (text.Length == 0) return;
        _out.GetStringBuilder().Clear();
        context.Publish(new StandardOutputValueProduced(context.Command, [new("text/plain", text)]));
    }
}
