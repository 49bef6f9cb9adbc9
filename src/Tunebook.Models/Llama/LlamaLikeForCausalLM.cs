using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>
/// What Llama and the architectures derived from it (Gemma 3, Phi-3, SmolLM3) share around their
/// decoder layers: the token embedding, the <see cref="DecoderStack{TLayer}"/>, rotary positions of the
/// config, per-layer sliding windows, the final norm and lm_head (tied to the embedding or separate),
/// and checkpoint keys that map one to one onto parameter names. An architecture passes its layer and
/// final norm and overrides only what it does differently.
/// </summary>
public abstract class LlamaLikeForCausalLM<TLayer> : CausalLM where TLayer : DecoderLayer
{
    /// <summary>The rotary embedding of the config (rope_theta, rope_scaling, rotary width).</summary>
    protected RotaryEmbedding Rotary { get; }

    public DecoderStack<TLayer> model { get; }
    /// <summary>The output projection; null when tied to model.embed_tokens (then the embedding matrix is used).</summary>
    public Module<Tensor, Tensor>? lm_head { get; private set; }

    /// <param name="config">The config, already checked by the architecture (see <see cref="Expect"/>).</param>
    /// <param name="layer">Builds decoder layer i on the device, in the dtype.</param>
    /// <param name="norm">Builds the final norm (width hidden_size).</param>
    protected LlamaLikeForCausalLM(ModelConfig config, Device? device, ScalarType dtype,
        Func<int, Device, TLayer> layer, Func<Device, Module<Tensor, Tensor>> norm) : base(config)
    {
        var dev = device ?? Torch.Device.CPU;
        model = RegisterModule("model", new DecoderStack<TLayer>(config, i => layer(i, dev), norm(dev), dev, dtype));
        if (!config.TieWordEmbeddings)
            lm_head = RegisterModule("lm_head", new Linear(config.HiddenSize, config.VocabSize, false, dev, dtype));
        Rotary = new RotaryEmbedding(config);
        InitializeWeights();
    }

    /// <summary>The config when its model_type is one of <paramref name="modelTypes"/>; otherwise a clear error naming the class.</summary>
    protected static ModelConfig Expect(ModelConfig config, string architecture, params string[] modelTypes)
    {
        ArgumentNullException.ThrowIfNull(config);
        return modelTypes.Contains(config.ModelType) ? config
            : throw new ArgumentException($"{architecture}: the config describes {config.Architecture} (model_type {config.ModelType})");
    }

    public override Embedding InputEmbeddings => model.embed_tokens;

    public override Tensor OutputWeight => lm_head is null ? model.embed_tokens.weight
        : lm_head is Linear l ? l.weight : lm_head.named_parameters().First(p => p.name == "weight" || p.name.EndsWith(".weight")).parameter;

    public override long? PositionEncodingChangesBeyond => Rotary.LongFactorsBeyond;

    protected override (Tensor Cos, Tensor Sin)? RotaryTables(Tensor positionIds, long sequenceLength) =>
        Rotary.Compute(positionIds, DType, sequenceLength);

    protected override int? SlidingWindowOf(int layer) => Config.SlidingWindowFor(layer);

    protected override Tensor Embed(Tensor inputIds, ForwardContext context) => model.embed_tokens.forward(inputIds);

    protected override Tensor RunLayer(int index, Tensor hidden, ForwardContext context) =>
        model.layers[index].Forward(hidden, context);

    protected override Tensor Head(Tensor hidden)
    {
        using var scope = torch.NewDisposeScope();
        var normed = FinalNorm(hidden);
        var logits = lm_head is null ? functional.linear(normed, model.embed_tokens.weight) : lm_head.forward(normed);
        return scope.MoveToOuter(logits);
    }

    protected override Tensor FinalNorm(Tensor hidden) => model.norm.forward(hidden);

    protected override OutputProjection? PlainOutputProjection => PlainProjectionOf(lm_head, model.embed_tokens.weight);

    /// <summary>Checkpoint keys map to parameters one to one; rotary inv_freq buffers and a tied lm_head are ignored; a bare decoder checkpoint (no "model." prefix) is accepted.</summary>
    public override string? ParameterNameFor(string checkpointKey)
    {
        if (checkpointKey.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)) return null;
        if (Config.TieWordEmbeddings && checkpointKey == "lm_head.weight") return null;
        if (!checkpointKey.StartsWith("model.", StringComparison.Ordinal) && checkpointKey != "lm_head.weight") return "model." + checkpointKey;
        return checkpointKey;
    }
}
