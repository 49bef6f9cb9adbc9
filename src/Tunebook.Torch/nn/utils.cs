namespace Tunebook.Torch.nn;

/// <summary>Gradient utilities (torch.nn.utils).</summary>
public static class utils
{
    /// <summary>
    /// Scales gradients in place so their global norm is at most <paramref name="max_norm"/>, exactly
    /// as torch.nn.utils.clip_grad_norm_ does; returns the norm before clipping. Parameters without a
    /// gradient are skipped.
    /// </summary>
    public static double clip_grad_norm_(IEnumerable<Tensor> parameters, double max_norm, double norm_type = 2.0, bool error_if_nonfinite = false)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (max_norm < 0 || double.IsNaN(max_norm)) throw new ArgumentOutOfRangeException(nameof(max_norm), max_norm, "clip_grad_norm_: max_norm must be non-negative");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var grads = parameters.Select(p => p.grad).Where(g => g is not null).Select(g => g!).ToArray();
        if (grads.Length == 0) return 0;
        Tensor total;
        if (double.IsPositiveInfinity(norm_type))
        {
            var norms = grads.Select(g => g.detach().abs().max()).ToArray();
            total = norms.Length == 1 ? norms[0] : torch.stack(norms).max();
        }
        else
        {
            var norms = grads.Select(g => g.detach().norm(norm_type)).ToArray();
            total = torch.stack(norms).norm(norm_type);
        }
        double totalValue = total.item<double>();
        if (error_if_nonfinite && (double.IsNaN(totalValue) || double.IsInfinity(totalValue)))
            throw new InvalidOperationException($"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite ({totalValue})");
        var coef = (max_norm / (total + 1e-6)).clamp(max: 1.0);
        foreach (var g in grads) g.detach().mul_(coef);
        return totalValue;
    }

    /// <summary>Clamps every gradient element to [−clip_value, clip_value].</summary>
    public static void clip_grad_value_(IEnumerable<Tensor> parameters, double clip_value)
    {
        using var scope = torch.NewDisposeScope();
        foreach (var p in parameters)
            p.grad?.clamp_(-clip_value, clip_value);
    }
}
