using Tunebook.Interactive;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// The members every cell can use without a prefix (the Roslyn script globals):
/// <c>display(x)</c>, <c>ClearOutput()</c>, <c>Cancellation</c>.
/// </summary>
public class KernelGlobals
{
    readonly INotebookHost _host;

    public KernelGlobals(INotebookHost host) => _host = host;

    /// <summary>Shows a value in a new output area; the handle's Update redraws it in place.</summary>
    public IDisplayHandle display(object? value) => _host.Display(value);

    /// <summary>Same as <see cref="display"/>, in .NET casing.</summary>
    public IDisplayHandle Display(object? value) => _host.Display(value);

    /// <summary>Clears this cell's output; with <paramref name="wait"/> the clearing happens when the next output arrives.</summary>
    public void ClearOutput(bool wait = false) => _host.ClearOutput(wait);

    /// <summary>Cancelled when the user interrupts the cell. Long loops should check it.</summary>
    public CancellationToken Cancellation => _host.Cancellation;

    /// <summary>
    /// Asks the user for a line of text in the front end (Jupyter's input box); with
    /// <paramref name="password"/> the typed text is hidden. Console.ReadLine() works too.
    /// </summary>
    public string Input(string prompt = "", bool password = false) =>
        _host is KernelHost { InputProvider: { } ask } ? ask(prompt, password) : Console.ReadLine() ?? "";

    /// <summary>The notebook host (the kernel).</summary>
    public INotebookHost Host => _host;

    /// <summary>Values handed to cells by magics (IMagicContext.SetVariable); cells see them as typed variables.</summary>
    public Dictionary<string, object?> __vars { get; } = new(StringComparer.Ordinal);
}
