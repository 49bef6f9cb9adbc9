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
