using Tunebook.Models.Llama;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Gemma3;

// Gemma 3 (text), as transformers' modeling_gemma3.py computes it. What differs from Llama:
//
//  1. The token embeddings are multiplied by √hidden_size, rounded to the model dtype first (as
//     transformers does), so that they start at the scale the residual stream works at.
//  2. RMSNorm multiplies by (1 + weight), computed in float32; the stored weights start at 0.
//  3. Sandwich norms: each sublayer's input is normalised (input_layernorm, pre_feedforward_layernorm)
//     and so is its output before it joins the residual stream (post_attention_layernorm,
//     post_feedforward_layernorm) — four norms per layer instead of two.
//  4. Queries and keys get a per-head RMSNorm (q_norm, k_norm) before RoPE, as in Qwen3.
//  5. The MLP gate uses GELU (tanh approximation, "gelu_pytorch_tanh") instead of SiLU.
//  6. Local and global layers interleave: by default five sliding-window layers (each token sees the
//     last sliding_window tokens) then one global layer (layer_types names them). Local layers rotate
//     with their own RoPE base, rope_local_base_freq (10 000) and no rope_scaling; global layers use
//     rope_theta (1 000 000) and rope_scaling.
//  7. Scores are scaled by query_pre_attn_scalar^-0.5, not head_dim^-0.5 (equal for most sizes).
//  8. attn_logit_softcapping / final_logit_softcapping, when set, squash attention scores / logits
//     through cap·tanh(x / cap) (Gemma 3 checkpoints leave both null; Gemma 2 used them).
//  9. lm_head is tied to the embedding.
// The stack around the layers, lm_head and the checkpoint names are Llama's (LlamaLikeForCausalLM).
// Checkpoints of the image-and-text model (Gemma3ForConditionalGeneration) load their language model:
// ModelConfig reads text_config, and the weights under language_model.* are renamed (vision ignored).

/// <summary>Gemma's RMSNorm: x / rms(x) · (1 + weight), in float32, cast back to the input dtype.</summary>
public sealed class Gemma3RMSNorm : Module<Tensor, Tensor>
{
    readonly double _eps;

    public Parameter weight { get; }

    public Gemma3RMSNorm(long dim, double eps, Device device, ScalarType dtype)
    {
        _eps = eps;
        using (torch.NewDisposeScope())
            weight = RegisterParameter("weight", new Parameter(torch.zeros([dim], dtype, device)))!;
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var f = x.to(ScalarType.Float32);
        var normed = f * (f.pow(2).mean(-1, keepdim: true) + _eps).rsqrt();
        var output = normed * (weight.to(ScalarType.Float32) + 1.0);
        return scope.MoveToOuter(output.to(x.dtype));
    }
}

/// <summary>Gated feed-forward with GELU: down_proj(gelu_tanh(gate_proj(x)) × up_proj(x)).</summary>
public sealed class Gemma3MLP : Module<Tensor, Tensor>
{
    readonly string _approximate;

    public Module<Tensor, Tensor> gate_proj { get; private set; }
    public Module<Tensor, Tensor> up_proj { get; private set; }
    public Module<Tensor, Tensor> down_proj { get; private set; }

    public Gemma3MLP(ModelConfig config, Device device, ScalarType dtype)
    {
        // gelu_pytorch_tanh and gelu_new are the tanh approximation; "gelu" the exact erf form.
        _approximate = config.HiddenAct == "gelu" ? "none" : "tanh";
        gate_proj = RegisterModule("gate_proj", new Linear(config.HiddenSize, config.IntermediateSize, false, device, dtype));
        up_proj = RegisterModule("up_proj", new Linear(config.HiddenSize, config.IntermediateSize, false, device, dtype));
        down_proj = RegisterModule("down_proj", new Linear(config.IntermediateSize, config.HiddenSize, false, device, dtype));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var gated = gate_proj.forward(x).gelu(_approximate) * up_proj.forward(x);
        return scope.MoveToOuter(down_proj.forward(gated));
    }
}

/// <summary>
/// Grouped-query attention with q/k norms, the layer's own RoPE (local or global), its own window
/// (through the mask the context holds for this layer), query_pre_attn_scalar scaling and optional soft-capping.
/// </summary>
public sealed class Gemma3Attention : Module, ISelfAttention
{
    readonly int _layerIndex;
    readonly long _heads, _kvHeads, _headDim;
    readonly double _scale;
    readonly double? _softcap;
    readonly bool _sliding;

    public Module<Tensor, Tensor> q_proj { get; private set; }
    public Module<Tensor, Tensor> k_proj { get; private set; }
    public Module<Tensor, Tensor> v_proj { get; private set; }
    public Module<Tensor, Tensor> o_proj { get; private set; }
    public Gemma3RMSNorm q_norm { get; }
    public Gemma3RMSNorm k_norm { get; }

    public Gemma3Attention(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    {
        _layerIndex = layerIndex;
        _heads = config.NumAttentionHeads;
        _kvHeads = config.NumKeyValueHeads;
        _headDim = config.HeadDim;
        _scale = Math.Pow(config.QueryPreAttnScalar ?? config.HeadDim, -0.5);
        _softcap = config.AttnLogitSoftcapping;
        _sliding = config.SlidingWindowFor(layerIndex) is not null;
        long hidden = config.HiddenSize;
        bool bias = config.AttentionBias;
        q_proj = RegisterModule("q_proj", new Linear(hidden, _heads * _headDim, bias, device, dtype));
        k_proj = RegisterModule("k_proj", new Linear(hidden, _kvHeads * _headDim, bias, device, dtype));
        v_proj = RegisterModule("v_proj", new Linear(hidden, _kvHeads * _headDim, bias, device, dtype));
        o_proj = RegisterModule("o_proj", new Linear(_heads * _headDim, hidden, bias, device, dtype));
        q_norm = RegisterModule("q_norm", new Gemma3RMSNorm(_headDim, config.NormEps, device, dtype));
        k_norm = RegisterModule("k_norm", new Gemma3RMSNorm(_headDim, config.NormEps, device, dtype));
    }

    public Tensor Forward(Tensor hidden, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        long B = context.Batch, T = context.Length;
        var q = q_norm.forward(q_proj.forward(hidden).view(B, T, _heads, _headDim)).transpose(1, 2);
        var k = k_norm.forward(k_proj.forward(hidden).view(B, T, _kvHeads, _headDim)).transpose(1, 2);
        var v = v_proj.forward(hidden).view(B, T, _kvHeads, _headDim).transpose(1, 2);
        // Sliding-window layers rotate with rope_local_base_freq, global layers with rope_theta.
        var (cos, sin) = _sliding && context.LocalCos is not null ? (context.LocalCos, context.LocalSin!) : (context.Cos!, context.Sin!);
        q = RotaryEmbedding.Apply(q, cos, sin);
        k = RotaryEmbedding.Apply(k, cos, sin);
        if (context.Cache is { } cache) (k, v) = cache.Update(_layerIndex, k, v);
        var output = Attention.ScaledDotProduct(q, k, v, context, _layerIndex, _scale, _softcap);
        output = output.transpose(1, 2).reshape(B, T, _heads * _headDim);
        return scope.MoveToOuter(o_proj.forward(output));
    }
}

/// <summary>
/// One Gemma 3 block with sandwich norms:
/// h = x + post_attention_norm(attn(input_norm(x))); out = h + post_feedforward_norm(mlp(pre_feedforward_norm(h))).
/// </summary>
public sealed class Gemma3DecoderLayer : DecoderLayer
{
    public Gemma3Attention self_attn { get; }
    /// <summary>The feed-forward (a <see cref="Gemma3MLP"/>), typed so that it can be replaced.</summary>
    public Module<Tensor, Tensor> mlp { get; private set; }
    public Gemma3RMSNorm input_layernorm { get; }
    public Gemma3RMSNorm post_attention_layernorm { get; }
    public Gemma3RMSNorm pre_feedforward_layernorm { get; }
    public Gemma3RMSNorm post_feedforward_layernorm { get; }

    public Gemma3DecoderLayer(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    {
        self_attn = RegisterModule("self_attn", new Gemma3Attention(config, layerIndex, device, dtype));
        mlp = RegisterModule("mlp", new Gemma3MLP(config, device, dtype));
        Gemma3RMSNorm Norm() => new(config.HiddenSize, config.NormEps, device, dtype);
        input_layernorm = RegisterModule("input_layernorm", Norm());
        post_attention_layernorm = RegisterModule("post_attention_layernorm", Norm());
        pre_feedforward_layernorm = RegisterModule("pre_feedforward_layernorm", Norm());
        post_feedforward_layernorm = RegisterModule("post_feedforward_layernorm", Norm());
    }

    public override Tensor Forward(Tensor hidden, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        var attended = post_attention_layernorm.forward(self_attn.Forward(input_layernorm.forward(hidden), context));
        var h = hidden + attended;
        var fed = post_feedforward_layernorm.forward(mlp.forward(pre_feedforward_layernorm.forward(h)));
        return scope.MoveToOuter(h + fed);
    }
}

/// <summary>Gemma 3's language model (Gemma3ForCausalLM; model_type gemma3_text, or the text_config of a gemma3 checkpoint).</summary>
public sealed class Gemma3ForCausalLM : LlamaLikeForCausalLM<Gemma3DecoderLayer>
{
    readonly RotaryEmbedding _local;

    public Gemma3ForCausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(Expect(config, nameof(Gemma3ForCausalLM), "gemma3_text"), device, dtype,
            (i, dev) => new Gemma3DecoderLayer(config, i, dev, dtype),
            dev => new Gemma3RMSNorm(config.HiddenSize, config.NormEps, dev, dtype))
    {
        // The global layers use the config's rotary embedding (Rotary); the sliding-window layers this one.
        _local = new RotaryEmbedding(config, config.RopeLocalTheta ?? config.RopeTheta, scaling: null);
    }

    protected override (Tensor Cos, Tensor Sin)? LocalRotaryTables(Tensor positionIds, long sequenceLength) =>
        _local.Compute(positionIds, DType, sequenceLength);

    protected override Tensor Embed(Tensor inputIds, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        // transformers keeps √hidden as a float32 buffer and casts it to the weights' dtype before multiplying.
        double scale = torch.tensor(new[] { (float)Math.Sqrt(Config.HiddenSize) }, [1]).to(DType).to(ScalarType.Float64).item<double>();
        return scope.MoveToOuter(model.embed_tokens.forward(inputIds) * scale);
    }

    protected override Tensor Head(Tensor hidden)
    {
        if (Config.FinalLogitSoftcapping is not { } cap) return base.Head(hidden);
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter((base.Head(hidden) / cap).tanh() * cap);
    }

    protected override OutputProjection? PlainOutputProjection =>
        base.PlainOutputProjection is { } plain ? plain with { LogitSoftcap = Config.FinalLogitSoftcapping } : null;

    /// <summary>
    /// Checkpoint keys map to parameters one to one, with the language model of an image-and-text
    /// checkpoint renamed (language_model.model.* as first published, model.language_model.* as
    /// transformers now saves it); the vision tower, the projector and rotary buffers are ignored.
    /// </summary>
    public override string? ParameterNameFor(string checkpointKey)
    {
        var key = checkpointKey;
        if (key.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || key.EndsWith("rotary_emb_local.inv_freq", StringComparison.Ordinal)) return null;
        foreach (var ignored in new[] { "vision_tower.", "multi_modal_projector.", "model.vision_tower.", "model.multi_modal_projector." })
            if (key.StartsWith(ignored, StringComparison.Ordinal)) return null;
        if (key.StartsWith("language_model.model.", StringComparison.Ordinal)) key = key["language_model.".Length..];
        else if (key.StartsWith("model.language_model.", StringComparison.Ordinal)) key = "model." + key["model.language_model.".Length..];
        else if (key == "language_model.lm_head.weight") key = "lm_head.weight";
        return base.ParameterNameFor(key);
    }
}
