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
    /// <param name="softcap">
    /// When set, scores pass through softcap·tanh(score/softcap) before the mask and softmax (Gemma's
    /// attn_logit_softcapping); the fused kernel cannot do that, so the product is spelled out.
    /// </param>
    public static Tensor ScaledDotProduct(Tensor q, Tensor k, Tensor v, ForwardContext context, int layer, double? scale = null, double? softcap = null)
    {
        var mask = context.Masks[layer];
        bool causal = mask is null && context.IsCausal;
        if (softcap is { } cap) return SoftCapped(q, k, v, mask, causal, scale ?? 1.0 / Math.Sqrt(q.size(-1)), cap);
        // libtorch 1.13's fused entry point takes no custom scale; fold it into the queries instead.
        if (scale is { } s)
        {
            double standard = 1.0 / Math.Sqrt(q.size(-1));
            q = q * (s / standard);
        }
        return functional.scaled_dot_product_attention(q, k, v, mask, 0, causal);
    }

    /// <summary>softmax(cap·tanh(q·kᵀ·scale / cap) + mask)·v, with key/value heads repeated for grouped-query attention.</summary>
    static Tensor SoftCapped(Tensor q, Tensor k, Tensor v, Tensor? mask, bool causal, double scale, double cap)
    {
        using var scope = torch.NewDisposeScope();
        long groups = q.size(1) / k.size(1);
        if (groups > 1) { k = k.repeat_interleave(groups, 1); v = v.repeat_interleave(groups, 1); }
        var scores = q.matmul(k.transpose(-2, -1)) * scale;
        scores = (scores / cap).tanh() * cap;
        if (mask is not null) scores = scores + mask;
        else if (causal)
        {
            long T = q.size(2), S = k.size(2);
            var blocked = torch.ones([T, S], ScalarType.Bool, q.device).triu(S - T + 1);
            scores = scores.masked_fill(blocked, double.NegativeInfinity);
        }
        var weights = functional.softmax(scores.to(ScalarType.Float32), -1).to(q.dtype);
        return scope.MoveToOuter(weights.matmul(v));
    }
}
