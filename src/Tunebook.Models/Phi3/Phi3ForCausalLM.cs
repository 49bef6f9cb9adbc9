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
// Everything else — RMSNorm, pre-norm blocks, SwiGLU, grouped-query attention — is Llama's.

/// <summary>Attention with the fused qkv_proj; rotary (possibly partial, possibly longrope) from the context.</summary>
public sealed class Phi3Attention : Module
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
        return scope.MoveToOuter(down_proj.forward(up * gate.silu()));
    }
}

/// <summary>A pre-norm block, as Llama's: h = x + attn(norm(x)); out = h + mlp(norm(h)).</summary>
public sealed class Phi3DecoderLayer : Module
{
    public Phi3Attention self_attn { get; }
    public Phi3MLP mlp { get; }
    public RMSNorm input_layernorm { get; }
    public RMSNorm post_attention_layernorm { get; }

    public Phi3DecoderLayer(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    {
        self_attn = RegisterModule("self_attn", new Phi3Attention(config, layerIndex, device, dtype));
        mlp = RegisterModule("mlp", new Phi3MLP(config, device, dtype));
        input_layernorm = RegisterModule("input_layernorm", new RMSNorm(config.HiddenSize, config.NormEps, device, dtype));
        post_attention_layernorm = RegisterModule("post_attention_layernorm", new RMSNorm(config.HiddenSize, config.NormEps, device, dtype));
    }

    public Tensor Forward(Tensor hidden, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        var h = hidden + self_attn.Forward(input_layernorm.forward(hidden), context);
        return scope.MoveToOuter(h + mlp.forward(post_attention_layernorm.forward(h)));
    }
}

/// <summary>The decoder stack: model.embed_tokens, model.layers.{i}, model.norm.</summary>
public sealed class Phi3Model : Module
{
    public Embedding embed_tokens { get; }
    public ModuleList<Phi3DecoderLayer> layers { get; }
    public RMSNorm norm { get; }

    public Phi3Model(ModelConfig config, Device device, ScalarType dtype)
    {
        embed_tokens = RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype));
        layers = RegisterModule("layers", new ModuleList<Phi3DecoderLayer>(
            Enumerable.Range(0, config.NumHiddenLayers).Select(i => new Phi3DecoderLayer(config, i, device, dtype))));
        norm = RegisterModule("norm", new RMSNorm(config.HiddenSize, config.NormEps, device, dtype));
    }
}

/// <summary>Phi-3 / Phi-3.5-mini / Phi-4-mini (Phi3ForCausalLM, model_type phi3).</summary>
public sealed class Phi3ForCausalLM : CausalLM
{
    readonly RotaryEmbedding _rotary;

    public Phi3Model model { get; }
    /// <summary>The output projection; null when tied to model.embed_tokens (Phi-4-mini).</summary>
    public Module<Tensor, Tensor>? lm_head { get; private set; }

    public Phi3ForCausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(config)
    {
        if (config.ModelType != "phi3") throw new ArgumentException($"Phi3ForCausalLM: the config describes {config.Architecture} (model_type {config.ModelType})");
        var dev = device ?? Torch.Device.CPU;
        model = RegisterModule("model", new Phi3Model(config, dev, dtype));
        if (!config.TieWordEmbeddings)
            lm_head = RegisterModule("lm_head", new Linear(config.HiddenSize, config.VocabSize, false, dev, dtype));
        _rotary = new RotaryEmbedding(config);
        InitializeWeights();
    }

    public override Embedding InputEmbeddings => model.embed_tokens;

    public override Tensor OutputWeight => lm_head is null ? model.embed_tokens.weight
        : lm_head is Linear l ? l.weight : lm_head.named_parameters().First(p => p.name == "weight" || p.name.EndsWith(".weight")).parameter;

    protected override (Tensor Cos, Tensor Sin)? RotaryTables(Tensor positionIds, long sequenceLength) =>
        _rotary.Compute(positionIds, DType, sequenceLength);

    protected override int? SlidingWindowOf(int layer) => Config.SlidingWindowFor(layer);

    protected override Tensor Embed(Tensor inputIds, ForwardContext context) => model.embed_tokens.forward(inputIds);

    protected override Tensor RunLayer(int index, Tensor hidden, ForwardContext context) =>
        model.layers[index].Forward(hidden, context);

    protected override Tensor Head(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        var normed = model.norm.forward(hidden);
        var logits = lm_head is null ? functional.linear(normed, model.embed_tokens.weight) : lm_head.forward(normed);
        return scope.MoveToOuter(logits);
    }

    /// <summary>Checkpoint keys map to parameters one to one; rotary buffers and a tied lm_head are ignored.</summary>
    public override string? ParameterNameFor(string checkpointKey)
    {
        if (checkpointKey.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)) return null;
        if (Config.TieWordEmbeddings && checkpointKey == "lm_head.weight") return null;
        if (!checkpointKey.StartsWith("model.", StringComparison.Ordinal) && checkpointKey != "lm_head.weight") return "model." + checkpointKey;
        return checkpointKey;
    }
}
