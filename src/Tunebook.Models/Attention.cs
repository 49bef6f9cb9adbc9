using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models;

/// <summary>The attention product every architecture shares: softmax(q·kᵀ·scale + mask)·v.</summary>
public static class Attention
{
    /// <summary>
    /// Scaled dot-product attention of [B, H, T, D] queries over [B, H_kv, S, D] keys/values, with the
    /// mask that <paramref name="context"/> holds for <paramref name="layer"/>.
    /// </summary>
    /// <param name="scale">Multiplier of the scores; null for the usual 1/√D.</param>
    public static Tensor ScaledDotProduct(Tensor q, Tensor k, Tensor v, ForwardContext context, int layer, double? scale = null)
    {
        var mask = context.Masks[layer];
        bool causal = mask is null && context.IsCausal;
        // libtorch 1.13's fused entry point takes no custom scale; fold it into the queries instead.
        if (scale is { } s)
        {
            double standard = 1.0 / Math.Sqrt(q.size(-1));
            q = q * (s / standard);
        }
        return functional.scaled_dot_product_attention(q, k, v, mask, 0, causal);
    }
}
