using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Gpt2;

/// <summary>The GPT-2 trunk: transformer.wte, transformer.wpe, transformer.h.{i}, transformer.ln_f.</summary>
public sealed class GPT2Model : Module
{
    public Embedding wte { get; }
    public Embedding wpe { get; }
    public ModuleList<GPT2Block> h { get; }
    public LayerNorm ln_f { get; }

    public GPT2Model(ModelConfig config, Device device, ScalarType dtype)
    {
        wte = RegisterModule("wte", new Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype));
        wpe = RegisterModule("wpe", new Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device, dtype: dtype));
        h = RegisterModule("h", new ModuleList<GPT2Block>(Enumerable.Range(0, config.NumHiddenLayers).Select(i => new GPT2Block(config, i, device, dtype))));
        ln_f = RegisterModule("ln_f", new LayerNorm(config.HiddenSize, config.NormEps, device: device, dtype: dtype));
    }
}

/// <summary>
/// GPT-2 (GPT2LMHeadModel): learned absolute positions, LayerNorm, Conv1D projections stored
/// [in, out], gelu_new, and an lm_head tied to the token embedding.
/// </summary>
public sealed class GPT2LMHeadModel : CausalLM
{
    public GPT2Model transformer { get; }
    /// <summary>Separate output projection when the config unties it (rare); null when tied.</summary>
    public Module<Tensor, Tensor>? lm_head { get; private set; }

    public GPT2LMHeadModel(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(config)
    {
        if (!config.IsGpt2) throw new ArgumentException($"GPT2LMHeadModel: the config describes {config.Architecture}");
        var dev = device ?? Torch.Device.CPU;
        transformer = RegisterModule("transformer", new GPT2Model(config, dev, dtype));
        if (!config.TieWordEmbeddings)
            lm_head = RegisterModule("lm_head", new Linear(config.HiddenSize, config.VocabSize, false, dev, dtype));
        InitializeWeights();
    }

    public override Embedding InputEmbeddings => transformer.wte;

    public override Tensor OutputWeight => lm_head is Linear l ? l.weight : transformer.wte.weight;

    /// <summary>Positions are rows of the learned table transformer.wpe (n_positions of them).</summary>
    public override long? MaxPositions => Config.MaxPositionEmbeddings;

    protected override Tensor Embed(Tensor inputIds, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(transformer.wte.forward(inputIds) + transformer.wpe.forward(context.PositionIds));
    }

    protected override Tensor RunLayer(int index, Tensor hidden, ForwardContext context) =>
        transformer.h[index].Forward(hidden, context);

    protected override Tensor Head(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        var normed = FinalNorm(hidden);
        return scope.MoveToOuter(lm_head is null ? functional.linear(normed, transformer.wte.weight) : lm_head.forward(normed));
    }

    protected override Tensor FinalNorm(Tensor hidden) => transformer.ln_f.forward(hidden);

    protected override OutputProjection? PlainOutputProjection => PlainProjectionOf(lm_head, transformer.wte.weight);

    /// <summary>
    /// Accepts both key spellings: "transformer.h.0..." (GPT2LMHeadModel) and "h.0..." (the original
    /// openai-community/gpt2 upload, saved from GPT2Model). The causal-mask buffers "attn.bias" and
    /// "attn.masked_bias" are ignored, as is a tied lm_head.weight.
    /// </summary>
    public override string? ParameterNameFor(string checkpointKey)
    {
        if (checkpointKey.EndsWith(".attn.bias", StringComparison.Ordinal) || checkpointKey.EndsWith(".attn.masked_bias", StringComparison.Ordinal)) return null;
        if (checkpointKey == "lm_head.weight") return Config.TieWordEmbeddings ? null : checkpointKey;
        return checkpointKey.StartsWith("transformer.", StringComparison.Ordinal) ? checkpointKey : "transformer." + checkpointKey;
    }

    protected override bool IsNormParameter(string name) => name.Contains(".ln_", StringComparison.Ordinal) || name.Contains("ln_f", StringComparison.Ordinal);
}
