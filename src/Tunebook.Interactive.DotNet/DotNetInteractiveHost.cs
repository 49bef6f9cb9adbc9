using Microsoft.DotNet.Interactive;
using Microsoft.DotNet.Interactive.Events;
using Microsoft.DotNet.Interactive.Formatting;

namespace Tunebook.Interactive.DotNet;

/// <summary>
/// Tunebook's <see cref="INotebookHost"/> inside .NET Interactive: a display becomes a DisplayedValueProduced
/// event carrying every representation of the value's <see cref="MimeBundle"/>, and its updates become
/// DisplayedValueUpdated events with the same display id (Jupyter's update_display_data), so the live
/// training view redraws in place. The cancellation token is the running command's, which .NET Interactive
/// cancels on an interrupt.
/// </summary>
public sealed class DotNetInteractiveHost : INotebookHost
{
    public CancellationToken Cancellation => KernelInvocationContext.Current?.CancellationToken ?? CancellationToken.None;

    /// <summary>.NET Interactive has no request to clear a cell's output from a running command; nothing to do.</summary>
    public void ClearOutput(bool wait = false) { }

    public IDisplayHandle Display(object? value)
    {
        var handle = new Handle(KernelInvocationContext.Current);
        handle.Publish(value, first: true);
        return handle;
    }

    /// <summary>The representations of <paramref name="value"/> as .NET Interactive carries them: one per MIME type of its bundle.</summary>
    public static IReadOnlyCollection<FormattedValue> FormattedValues(object? value) =>
        Formatters.Format(value).Select(entry => new FormattedValue(entry.Key, entry.Value)).ToArray();

    sealed class Handle(KernelInvocationContext? created) : IDisplayHandle
    {
        public string DisplayId { get; } = Guid.NewGuid().ToString("N");

        public void Update(object? value) => Publish(value, first: false);

        public void Clear() => Publish(new MimeBundle(""), first: false);

        public void Publish(object? value, bool first)
        {
            // A display made by one cell may be updated later (a run continued from another cell): the
            // event goes to the command running now, or, when none is, to the one that made the display.
            var context = KernelInvocationContext.Current ?? created;
            if (context is null) { Console.WriteLine(Formatters.Format(value)["text/plain"]); return; }
            var formatted = FormattedValues(value);
            KernelEvent e = first
                ? new DisplayedValueProduced(value, context.Command, formatted, DisplayId)
                : new DisplayedValueUpdated(value, DisplayId, context.Command, formatted);
            context.Publish(e);
        }
    }
}
