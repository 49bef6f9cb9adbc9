using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>
/// Multi-head self-attention with grouped-query heads (fewer key/value heads than query heads, each
/// shared by a group of query heads), rotary positions, optional q/k/v bias (Qwen2) and per-head
/// q/k RMSNorm (Qwen3), and layers without RoPE (SmolLM3). Projections are named as in Hugging Face: q_proj, k_proj, v_proj, o_proj;
/// they are typed <c>Module&lt;Tensor, Tensor&gt;</c> so LoRA can swap in a wrapper.
/// </summary>
public sealed class LlamaAttention : Module, ISelfAttention
{
    readonly int _layerIndex;
    readonly long _heads, _kvHeads, _headDim;
    // SmolLM3 leaves RoPE out of every fourth layer (no_rope_layers): those attend by content alone.
    readonly bool _rope;

    public Module<Tensor, Tensor> q_proj { get; private set; }
    public Module<Tensor, Tensor> k_proj { get; private set; }
    public Module<Tensor, Tensor> v_proj { get; private set; }
    public Module<Tensor, Tensor> o_proj { get; private set; }
    /// <summary>Qwen3's per-head query norm (null otherwise).</summary>
    public RMSNorm? q_norm { get; private set; }
    /// <summary>Qwen3's per-head key norm (null otherwise).</summary>
    public RMSNorm? k_norm { get; private set; }

    public LlamaAttention(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    {
        _layerIndex = layerIndex;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _rope = config.UsesRope(layerIndex);
        long hidden = config.HiddenSize;
        q_proj = RegisterModule("q_proj", new Linear(hidden, _heads * _headDim, config.AttentionBias, device, dtype));
        k_proj = RegisterModule("k_proj", new Linear(hidden, _kvHeads * _headDim, config.AttentionBias, device, dtype));
        v_proj = RegisterModule("v_proj", new Linear(hidden, _kvHeads * _headDim, config.AttentionBias, device, dtype));
        o_proj = RegisterModule("o_proj", new Linear(_heads * _headDim, hidden, config.OutputBias, device, dtype));
        if (config.QkNorm)
        {
            q_norm = RegisterModule("q_norm", new RMSNorm(_headDim, config.NormEps, device, dtype));
            k_norm = RegisterModule("k_norm", new RMSNorm(_headDim, config.NormEps, device, dtype));
        }
    }

    /// <summary>hidden [B, T, H] → attention output [B, T, H], with this layer's mask and the rotary tables from <paramref name="context"/>.</summary>
    public Tensor Forward(Tensor hidden, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        long B = context.Batch, T = context.Length;
        var q = q_proj.forward(hidden).view(B, T, _heads, _headDim);
        var k = k_proj.forward(hidden).view(B, T, _kvHeads, _headDim);
        var v = v_proj.forward(hidden).view(B, T, _kvHeads, _headDim).transpose(1, 2);
        if (q_norm is not null) q = q_norm.forward(q);
        if (k_norm is not null) k = k_norm.forward(k);
        q = q.transpose(1, 2);
        k = k.transpose(1, 2);
        if (_rope)
        {
            q = RotaryEmbedding.Apply(q, context.Cos!, context.Sin!);
            k = RotaryEmbedding.Apply(k, context.Cos!, context.Sin!);
        }
        if (context.Cache is { } cache) (k, v) = cache.Update(_layerIndex, k, v);
        var output = Attention.ScaledDotProduct(q, k, v, context, _layerIndex);   // [B, heads, T, D]
        output = output.transpose(1, 2).reshape(B, T, _heads * _headDim);
        return scope.MoveToOuter(o_proj.forward(output));
    }
}
