using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

// Autograd: requires_grad, gradients, backward, detach.
public partial class Tensor
{
    /// <summary>Whether operations on this tensor are recorded for differentiation.</summary>
    public bool requires_grad
    {
        get => NativeMethods.tb_tensor_requires_grad(Handle) == 1;
        set => requires_grad_(value);
    }

    /// <summary>Sets requires_grad in place (only leaves can change it) and returns this tensor.</summary>
    public Tensor requires_grad_(bool requires_grad = true)
    {
        if (requires_grad && !dtype.IsFloatingPoint())
            throw new InvalidOperationException($"requires_grad_: only floating-point tensors can require gradients, got {dtype.Name()}");
        TorchException.Check(NativeMethods.tb_tensor_set_requires_grad(Handle, requires_grad ? 1 : 0), "requires_grad_");
        return this;
    }

    /// <summary>True for tensors created by the user (not by a recorded operation).</summary>
    public bool is_leaf => NativeMethods.tb_tensor_is_leaf(Handle) == 1;

    /// <summary>Keeps the gradient of this non-leaf tensor after backward.</summary>
    public Tensor retain_grad()
    {
        TorchException.Check(NativeMethods.tb_tensor_retain_grad(Handle), "retain_grad");
        return this;
    }

    /// <summary>
    /// The accumulated gradient, or null. Each read returns a new Tensor object sharing the gradient's
    /// storage (owned by the caller / current scope); setting null clears it.
    /// </summary>
    public unsafe Tensor? grad
    {
        get
        {
            IntPtr g;
            TorchException.Check(NativeMethods.tb_tensor_grad(Handle, &g), "grad");
            return g == IntPtr.Zero ? null : new Tensor(g);
        }
        set => TorchException.Check(NativeMethods.tb_tensor_set_grad(Handle, value is null ? IntPtr.Zero : value.Handle), "grad");
    }

    /// <summary>Whether a gradient is currently stored (without creating a Tensor object).</summary>
    public unsafe bool has_grad
    {
        get
        {
            IntPtr g;
            TorchException.Check(NativeMethods.tb_tensor_grad(Handle, &g), "grad");
            if (g == IntPtr.Zero) return false;
            NativeMethods.tb_tensor_free(g);
            return true;
        }
    }

    /// <summary>Computes gradients of this tensor (a scalar unless <paramref name="gradient"/> is given) with respect to graph leaves.</summary>
    public void backward(Tensor? gradient = null, bool retain_graph = false, bool create_graph = false) =>
        TorchException.Check(NativeMethods.tb_backward(Handle, gradient is null ? IntPtr.Zero : gradient.Handle, retain_graph || create_graph ? 1 : 0, create_graph ? 1 : 0), "backward");

    /// <summary>A tensor sharing storage that is cut off from the autograd graph.</summary>
    public Tensor detach() => Aten.Detach.Call(this);

    /// <summary>Detaches this Tensor in place from the graph (shares the same storage).</summary>
    public Tensor detach_()
    {
        using var d = Aten.Detach.Call(this).DetachFromDisposeScope();
        // Swap native handles: this object now holds the detached tensor.
        (_handle, d._handle) = (d._handle, _handle);
        return this;
    }
}
