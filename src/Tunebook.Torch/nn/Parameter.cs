namespace Tunebook.Torch.nn;

/// <summary>
/// A trainable tensor owned by a <see cref="Module"/>. It shares storage with the tensor it was made
/// from, is a graph leaf, requires grad by default, and never joins a dispose scope (the module
/// releases it when disposed).
/// </summary>
public sealed class Parameter : Tensor
{
    /// <summary>Wraps <paramref name="data"/>'s storage as a parameter (data itself stays owned by its scope/caller).</summary>
    public Parameter(Tensor data, bool requires_grad = true)
        : base(DetachedHandle(data), joinScope: false)
    {
        if (requires_grad) requires_grad_(true);
    }

    static IntPtr DetachedHandle(Tensor data)
    {
        ArgumentNullException.ThrowIfNull(data);
        // Detach so the parameter is a leaf even when data came out of a recorded computation.
        return data.detach().ReleaseHandle();
    }

    /// <summary>Replaces the parameter's data in place (keeps this object, e.g. for module.to(device)), preserving requires_grad.</summary>
    internal void SetData(Tensor value)
    {
        bool rg = requires_grad;
        var fresh = new Parameter(value, rg);
        SwapHandle(fresh);
        fresh.Dispose();
    }
}
