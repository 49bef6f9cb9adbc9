using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

/// <summary>
/// A libtorch tensor. Each Tensor object owns one native reference, released by <see cref="Dispose"/>
/// or by the <see cref="DisposeScope"/> that was active when the tensor was created. There is no
/// finalizer: release is deterministic (see docs/memory.md).
/// </summary>
public partial class Tensor : IDisposable
{
    static long _nextId;
    IntPtr _handle;
    internal DisposeScope? scope;
    readonly long _id;

    static Tensor() => torch.EnsureInitialized();

    /// <summary>Wraps a native handle the caller owns; the new tensor joins the current dispose scope.</summary>
    internal Tensor(IntPtr handle, bool joinScope = true)
    {
        if (handle == IntPtr.Zero) throw new ArgumentException("null tensor handle");
        this._handle = handle;
        _id = Interlocked.Increment(ref _nextId);
        if (joinScope) DisposeScope.Register(this);
    }

    /// <summary>Wraps the result of a native call, turning a NULL handle into a <see cref="TorchException"/>.</summary>
    internal static Tensor Wrap(IntPtr handle, string operation) =>
        handle != IntPtr.Zero ? new Tensor(handle) : throw TorchException.FromNative(operation);

    /// <summary>Optional name shown in error messages (parameters get their dotted path).</summary>
    public string? Name { get; set; }

    /// <summary>True after <see cref="Dispose"/> (or the owning scope's disposal).</summary>
    public bool IsDisposed => _handle == IntPtr.Zero;

    /// <summary>The native handle; throws <see cref="ObjectDisposedException"/> after disposal.</summary>
    internal IntPtr Handle
    {
        get
        {
            var h = _handle;
            if (h == IntPtr.Zero) ThrowDisposed(null, -1);
            return h;
        }
    }

    internal IntPtr HandleFor(string operation, int position)
    {
        var h = _handle;
        if (h == IntPtr.Zero) ThrowDisposed(operation, position);
        return h;
    }

    string Label => Name is { } n ? $"tensor '{n}'" : $"tensor #{_id}";

    void ThrowDisposed(string? operation, int position)
    {
        var where = operation is null ? "" : position >= 0 ? $"{operation}: argument {position}: " : $"{operation}: ";
        throw new ObjectDisposedException(Label, $"{where}{Label} was already disposed (explicitly or by the DisposeScope that owned it); " +
            "keep results with MoveToOuterScope() or scope.Detach(t)");
    }

    /// <summary>Releases the native tensor now. Safe to call twice.</summary>
    public virtual void Dispose()
    {
        var h = _handle;
        if (h == IntPtr.Zero) return;
        _handle = IntPtr.Zero;
        scope = null;
        NativeMethods.tb_tensor_free(h);
    }

    /// <summary>Moves this tensor from the current scope to the enclosing one (or to no scope), so it survives the current scope.</summary>
    public Tensor MoveToOuterScope()
    {
        var s = scope;
        if (s is null) return this;
        s.Forget(this);
        s.Outer?.Adopt(this);
        return this;
    }

    /// <summary>Removes this tensor from any dispose scope; the caller must dispose it.</summary>
    public Tensor DetachFromDisposeScope()
    {
        scope?.Forget(this);
        return this;
    }

    /// <summary>A second Tensor object sharing this tensor's storage and autograd identity (like Python aliasing `b = a`).</summary>
    public Tensor alias() => Wrap(NativeMethods.tb_tensor_shallow_copy(Handle), "alias");

    // ---- metadata -------------------------------------------------------------------------------

    /// <summary>Sizes of each dimension.</summary>
    public unsafe long[] shape
    {
        get
        {
            var h = Handle;
            long* buf = stackalloc long[16];
            int n = NativeMethods.tb_tensor_sizes(h, buf, 16);
            if (n < 0) throw TorchException.FromNative("shape");
            var result = new long[n];
            if (n > 16) { fixed (long* p = result) NativeMethods.tb_tensor_sizes(h, p, n); }
            else for (int k = 0; k < n; k++) result[k] = buf[k];
            return result;
        }
    }

    /// <summary>Strides of each dimension, in elements.</summary>
    public unsafe long[] stride()
    {
        var h = Handle;
        int n = NativeMethods.tb_tensor_ndim(h);
        var result = new long[n];
        fixed (long* p = result) NativeMethods.tb_tensor_strides(h, p, n);
        return result;
    }

    /// <summary>Size of one dimension (negative counts from the end).</summary>
    public long size(int dim)
    {
        var s = shape;
        int d = NormalizeDim(dim, s.Length, "size");
        return s[d];
    }

    /// <summary>Number of dimensions.</summary>
    public int dim() => NativeMethods.tb_tensor_ndim(Handle);

    /// <summary>Number of dimensions.</summary>
    public int ndim => dim();

    /// <summary>Number of elements.</summary>
    public long numel() => NativeMethods.tb_tensor_numel(Handle);

    /// <summary>Element type.</summary>
    public ScalarType dtype => ScalarTypes.FromCode(NativeMethods.tb_tensor_dtype(Handle));

    /// <summary>Bytes per element.</summary>
    public int element_size() => dtype.ElementSize();

    /// <summary>Total bytes of the elements (numel × element size).</summary>
    public long NumBytes => numel() * element_size();

    /// <summary>Device holding the data.</summary>
    public unsafe Device device
    {
        get
        {
            int type, index;
            TorchException.Check(NativeMethods.tb_tensor_device(Handle, &type, &index), "device");
            return new Device((DeviceType)type, index);
        }
    }

    public bool is_cuda => device.Type == DeviceType.CUDA;
    public bool is_contiguous() => NativeMethods.tb_tensor_is_contiguous(Handle) == 1;
    public bool is_floating_point() => dtype.IsFloatingPoint();

    internal static int NormalizeDim(int dim, int ndim, string operation)
    {
        int d = dim < 0 ? dim + ndim : dim;
        if (d < 0 || d >= Math.Max(ndim, 1))
            throw new ArgumentOutOfRangeException(nameof(dim), $"{operation}: dimension {dim} is out of range for a tensor with {ndim} dimensions (expected {-Math.Max(ndim, 1)}..{Math.Max(ndim, 1) - 1})");
        return d;
    }

    /// <summary>A shape as error messages write it: [2, 3, 4].</summary>
    public static string ShapeString(long[] s) => "[" + string.Join(", ", s) + "]";

    /// <summary>Short description: shape, dtype, device (no values); see ToString() for values.</summary>
    public string Describe() => IsDisposed ? $"{Label} (disposed)" : $"{ShapeString(shape)} {dtype.Name()} on {device}{(requires_grad ? " requires_grad" : "")}";
}

public partial class Tensor
{
    /// <summary>Gives up ownership of the native handle (this object becomes disposed) and returns it.</summary>
    internal IntPtr ReleaseHandle()
    {
        var h = Handle;
        scope?.Forget(this);
        _handle = IntPtr.Zero;
        return h;
    }

    /// <summary>Exchanges native handles with <paramref name="other"/> (same-object identity for callers, new data).</summary>
    internal void SwapHandle(Tensor other)
    {
        var mine = Handle;
        var theirs = other.Handle;
        _handle = theirs;
        other._handle = mine;
    }
}
