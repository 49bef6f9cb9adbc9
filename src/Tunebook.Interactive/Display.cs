namespace Tunebook.Interactive;

/// <summary>
/// A live output area in the notebook. <see cref="Update"/> replaces what it shows in place
/// (Jupyter's update_display_data), so a training loop can redraw one progress view instead of printing
/// thousands of lines. Safe to call from any thread.
/// </summary>
public interface IDisplayHandle
{
    string DisplayId { get; }
    void Update(object? value);
    /// <summary>Empties the area; the handle stays valid and a later Update fills it again.</summary>
    void Clear();
}

/// <summary>What a notebook host (the Jupyter kernel, or a plain console) provides to library code.</summary>
public interface INotebookHost
{
    /// <summary>Shows a value in a new output area and returns a handle to update it.</summary>
    IDisplayHandle Display(object? value);

    /// <summary>Clears the current cell's output; with <paramref name="wait"/> the clearing waits for the next output (no flicker).</summary>
    void ClearOutput(bool wait = false);

    /// <summary>Cancelled when the user interrupts the running cell. Long loops poll it at safe points.</summary>
    CancellationToken Cancellation { get; }
}

/// <summary>
/// The ambient host. Library code calls <c>Frontend.Display(x)</c> and works the same under the kernel,
/// in a test, or in a console program (where displays print their text/plain form).
/// </summary>
public static class Frontend
{
    static INotebookHost _host = new ConsoleHost();

    public static INotebookHost Host
    {
        get => _host;
        set => _host = value ?? throw new ArgumentNullException(nameof(value));
    }

    public static IDisplayHandle Display(object? value) => _host.Display(value);
    public static CancellationToken Cancellation => _host.Cancellation;
}

/// <summary>A host for console programs and tests: displays print their text/plain form; nothing is ever cancelled.</summary>
public sealed class ConsoleHost : INotebookHost
{
    int _next;
    public CancellationToken Cancellation => CancellationToken.None;
    public void ClearOutput(bool wait = false) { }
    public IDisplayHandle Display(object? value)
    {
        var handle = new Handle($"console-{Interlocked.Increment(ref _next)}");
        handle.Update(value);
        return handle;
    }

    sealed class Handle(string id) : IDisplayHandle
    {
        public string DisplayId => id;
        public void Update(object? value) => Console.WriteLine(Formatters.Format(value)["text/plain"]);
        public void Clear() { }
    }
}
