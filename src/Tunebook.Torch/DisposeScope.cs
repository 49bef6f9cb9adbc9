namespace Tunebook.Torch;

/// <summary>
/// Frees every tensor created while it is the innermost active scope on this thread, when it is
/// disposed. Use it around each training step or cell so temporaries never accumulate:
/// <code>
/// using (var scope = torch.NewDisposeScope()) {
///     var loss = model.forward(x).mean();   // temporaries join the scope
///     loss.backward();
///     lossValue = loss.item&lt;float&gt;();
/// }                                          // all freed here
/// </code>
/// Keep a result with <see cref="Tensor.MoveToOuterScope"/> or <see cref="Detach{T}"/>. Parameters
/// and module buffers never join a scope.
/// </summary>
public sealed class DisposeScope : IDisposable
{
    [ThreadStatic] static DisposeScope? _current;
    readonly List<Tensor> _owned = new();
    bool _disposed;

    internal DisposeScope? Outer { get; }

    internal DisposeScope()
    {
        Outer = _current;
        _current = this;
    }

    /// <summary>The innermost active scope of this thread, or null.</summary>
    public static DisposeScope? Current => _current;

    /// <summary>Number of live tensors this scope will free.</summary>
    public int Count
    {
        get { int n = 0; foreach (var t in _owned) if (t.scope == this && !t.IsDisposed) n++; return n; }
    }

    internal static void Register(Tensor t)
    {
        var s = _current;
        if (s is null) return;
        s._owned.Add(t);
        t.scope = s;
    }

    internal void Adopt(Tensor t)
    {
        _owned.Add(t);
        t.scope = this;
    }

    // The list entry stays; Dispose skips tensors whose scope is no longer this one (O(1) removal).
    internal void Forget(Tensor t)
    {
        if (t.scope == this) t.scope = null;
    }

    /// <summary>Takes a tensor out of this scope: it survives the scope and the caller owns it.</summary>
    public T Detach<T>(T tensor) where T : Tensor
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Forget(tensor);
        return tensor;
    }

    /// <summary>Moves a tensor from this scope into the enclosing scope (or no scope).</summary>
    public T MoveToOuter<T>(T tensor) where T : Tensor
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (tensor.scope == this) { Forget(tensor); Outer?.Adopt(tensor); }
        return tensor;
    }

    /// <summary>Frees the scope's tensors now and makes the enclosing scope current again.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        // Scopes nest. Disposing an outer scope first also disposes the inner ones still open.
        if (_current != this)
        {
            for (var s = _current; s != null; s = s.Outer)
                if (s == this) { while (_current != this) _current!.Dispose(); break; }
        }
        _disposed = true;
        foreach (var t in _owned)
            if (t.scope == this) t.Dispose();
        _owned.Clear();
        if (_current == this) _current = Outer;
    }
}
