using Tunebook.Models.Llama;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Phi3;

// Phi-3 and Phi-4-mini, as transformers' modeling_phi3.py computes them. What differs from Llama:
//
//  1. Fused projections: one qkv_proj makes queries, keys and values in a single matrix multiply (its
//     output is split: heads·head_dim query channels, then kv_heads·head_dim key channels, then values),
//     and one gate_up_proj makes the gate and the up signal (first half gate, second half up).
//     LoRA targets them by these names, as PEFT does.
//  2. rope_scaling "longrope" (the 128k-context models): each rotary frequency is divided by its own
//     factor, short_factor while a sequence fits the pretraining context (original_max_position_embeddings)
//     and long_factor beyond it, and cos/sin are multiplied by an attention factor
//     √(1 + ln(max_position_embeddings / original) / ln(original)).
//  3. Partial rotary (Phi-4-mini, partial_rotary_factor 0.75): only the first 3/4 of each head's
//     channels rotate; the rest carry no position.
//  4. sliding_window, when set, limits every layer's attention (Phi-3-mini-4k: 2047 tokens).
//  5. When a sequence grows past original_max_position_embeddings, the long factors rotate every earlier
//     position differently too: the keys cached so far are stale, and generation recomputes them once
//     (PositionEncodingChangesBeyond), as transformers' Phi3ForCausalLM.prepare_inputs_for_generation does.
// Everything else — RMSNorm, pre-norm blocks, SwiGLU, grouped-query attention, the stack, lm_head,
// checkpoint names — is Llama's (LlamaLikeForCausalLM).

/// <summary>Attention with the fused qkv_proj; rotary (possibly partial, possibly longrope) from the context.</summary>
public sealed class Phi3Attention : Module, ISelfAttention
{
    readonly int _layerIndex;
    readonly long _heads, _kvHeads, _headDim;

    public Module<Tensor, Tensor> qkv_proj { get; private set; }
    public Module<Tensor, Tensor> o_proj { get; private set; }

    public Phi3Attention(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    {
        _layerIndex = layerIndex;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        long width = (_heads + 2 * _kvHeads) * _headDim;
        qkv_proj = RegisterModule("qkv_proj", new Linear(config.HiddenSize, width, false, device, dtype));
        o_proj = RegisterModule("o_proj", new Linear(_heads * _headDim, config.HiddenSize, false, device, dtype));
    }

    public Tensor Forward(Tensor hidden, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        long B = context.Batch, T = context.Length;
        var qkv = qkv_proj.forward(hidden);
        long qWidth = _heads * _headDim, kvWidth = _kvHeads * _headDim;
        var q = qkv.narrow(-1, 0, qWidth).reshape(B, T, _heads, _headDim).transpose(1, 2);
        var k = qkv.narrow(-1, qWidth, kvWidth).reshape(B, T, _kvHeads, _headDim).transpose(1, 2);
        var v = qkv.narrow(-1, qWidth + kvWidth, kvWidth).reshape(B, T, _kvHeads, _headDim).transpose(1, 2);
        q = RotaryEmbedding.Apply(q, context.Cos!, context.Sin!);
        k = RotaryEmbedding.Apply(k, context.Cos!, context.Sin!);
        if (context.Cache is { } cache) (k, v) = cache.Update(_layerIndex, k, v);
        var output = Attention.ScaledDotProduct(q, k, v, context, _layerIndex);
        output = output.transpose(1, 2).reshape(B, T, qWidth);
        return scope.MoveToOuter(o_proj.forward(output));
    }
}

/// <summary>SwiGLU with the fused gate_up_proj: down_proj(silu(gate) × up), [gate | up] = gate_up_proj(x).</summary>
public sealed class Phi3MLP : Module<Tensor, Tensor>
{
    readonly long _intermediate;

    public Module<Tensor, Tensor> gate_up_proj { get; private set; }
    public Module<Tensor, Tensor> down_proj { get; private set; }

    public Phi3MLP(ModelConfig config, Device device, ScalarType dtype)
    {
        _intermediate = config.IntermediateSize;
        gate_up_proj = RegisterModule("gate_up_proj", new Linear(config.HiddenSize, 2 * _intermediate, false, device, dtype));
        down_proj = RegisterModule("down_proj", new Linear(_intermediate, config.HiddenSize, false, device, dtype));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var both = gate_up_proj.forward(x);
        var gate = both.narrow(-1, 0, _intermediate);
        var up = both.narrow(-1, _intermediate, _intermediate);
        return scope.MoveToOuter(down_proj.forward(functional.swiglu(gate, up)));
    }
}

/// <summary>Llama's pre-norm block around the fused <see cref="Phi3Attention"/> and <see cref="Phi3MLP"/>.</summary>
public sealed class Phi3DecoderLayer(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    : PreNormDecoderLayer<Phi3Attention, Phi3MLP>(config, new Phi3Attention(config, layerIndex, device, dtype), new Phi3MLP(config, device, dtype), device, dtype);

/// <summary>Phi-3 / Phi-3.5-mini / Phi-4-mini (Phi3ForCausalLM, model_type phi3): Llama's stack of <see cref="Phi3DecoderLayer"/>s.</summary>
public sealed class Phi3ForCausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
    : LlamaLikeForCausalLM<Phi3DecoderLayer>(Expect(config, nameof(Phi3ForCausalLM), "phi3"), device, dtype,
        (i, dev) => new Phi3DecoderLayer(config, i, dev, dtype),
        dev => new RMSNorm(config.HiddenSize, config.NormEps, dev, dtype));
