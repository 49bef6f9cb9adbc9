namespace Tunebook.Kernel.Execution;

/// <summary>
/// What rewritten cells call to observe an interrupt (see <see cref="CellGuardRewriter"/>). .NET cannot
/// abort a thread, so a cell stops only where its own code checks: every loop iteration calls
/// <see cref="Check"/>, and every awaited task is raced against the cell's token by <see cref="Cancellable(Task)"/>.
/// The token flows with the execution context, so a Task or Thread a cell starts observes the token of
/// the cell that started it, and in-process kernels side by side do not share one.
/// Public because the cells' compiled code calls it.
/// </summary>
public static class CellGuard
{
    static readonly AsyncLocal<CancellationToken> Current = new();

    /// <summary>The running cell's token (none outside a cell).</summary>
    public static CancellationToken Token => Current.Value;

    /// <summary>Makes <paramref name="token"/> the token of the code that runs from here on this flow.</summary>
    internal static void Use(CancellationToken token) => Current.Value = token;

    /// <summary>Throws <see cref="OperationCanceledException"/> once the cell is interrupted.</summary>
    public static void Check() => Current.Value.ThrowIfCancellationRequested();

    /// <summary>
    /// The start of a Thread a cell creates, wrapped so that an exception escaping it (a guarded loop
    /// stopped by an interrupt included) is reported on the cell's stderr instead of ending the process,
    /// which is what .NET does with an exception no code catches on a thread.
    /// </summary>
    public static ThreadStart Contained(ThreadStart start) => () =>
    {
        try { start(); }
        catch (Exception e) { ReportEscaped(e); }
    };

    public static ParameterizedThreadStart Contained(ParameterizedThreadStart start) => state =>
    {
        try { start(state); }
        catch (Exception e) { ReportEscaped(e); }
    };

    static void ReportEscaped(Exception e)
    {
        if (e is OperationCanceledException && Current.Value.IsCancellationRequested)
        {
            Console.Error.WriteLine("A background thread of the interrupted cell stopped.");
            return;
        }
        var error = ErrorFormatter.Runtime(e);
        Console.Error.WriteLine($"An exception escaped a background thread of a cell; the thread ended, the kernel keeps running.\n{string.Join("\n", error.Traceback)}");
    }

    public static Task Cancellable(Task task)
    {
        var token = Current.Value;
        return task.IsCompleted || !token.CanBeCanceled ? task : task.WaitAsync(token);
    }

    public static Task<T> Cancellable<T>(Task<T> task)
    {
        var token = Current.Value;
        return task.IsCompleted || !token.CanBeCanceled ? task : task.WaitAsync(token);
    }

    public static ValueTask Cancellable(ValueTask task)
    {
        var token = Current.Value;
        return task.IsCompleted || !token.CanBeCanceled ? task : new ValueTask(task.AsTask().WaitAsync(token));
    }

    public static ValueTask<T> Cancellable<T>(ValueTask<T> task)
    {
        var token = Current.Value;
        return task.IsCompleted || !token.CanBeCanceled ? task : new ValueTask<T>(task.AsTask().WaitAsync(token));
    }
}
