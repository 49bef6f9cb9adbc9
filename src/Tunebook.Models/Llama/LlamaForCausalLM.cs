using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>The decoder stack: model.embed_tokens, model.layers.{i}, model.norm.</summary>
public sealed class LlamaModel : Module
{
    public Embedding embed_tokens { get; }
    public ModuleList<LlamaDecoderLayer> layers { get; }
    public RMSNorm norm { get; }

    public LlamaModel(ModelConfig config, Device device, ScalarType dtype)
    {
        embed_tokens = RegisterModule("embed_tokens", new Embedding(config.VocabSize, config.HiddenSize, device: device, dtype: dtype));
        layers = RegisterModule("layers", new ModuleList<LlamaDecoderLayer>(
            Enumerable.Range(0, config.NumHiddenLayers).Select(i => new LlamaDecoderLayer(config, i, device, dtype))));
        norm = RegisterModule("norm", new RMSNorm(config.HiddenSize, config.NormEps, device, dtype));
    }
}

/// <summary>
/// Llama and its relatives (Mistral, Qwen2, Qwen3, SmolLM2, TinyLlama): RMSNorm, rotary positions,
/// grouped-query attention, SwiGLU, optional q/k/v bias, q/k norm and sliding window; lm_head tied
/// to the embedding or separate. Architectures: LlamaForCausalLM, MistralForCausalLM,
/// Qwen2ForCausalLM, Qwen3ForCausalLM (and SmolLM3ForCausalLM, which derives from it).
/// </summary>
public class LlamaForCausalLM : CausalLM
{
    readonly RotaryEmbedding _rotary;

    public LlamaModel model { get; }
    /// <summary>The output projection; null when tied to model.embed_tokens (then the embedding matrix is used).</summary>
    public Module<Tensor, Tensor>? lm_head { get; private set; }

    public LlamaForCausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(config)
    {
        if (config.IsGpt2) throw new ArgumentException("LlamaForCausalLM: the config describes a GPT-2 model; use GPT2LMHeadModel");
        var dev = device ?? Torch.Device.CPU;
        model = RegisterModule("model", new LlamaModel(config, dev, dtype));
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

    /// <summary>Checkpoint keys map to parameters one to one; rotary inv_freq buffers are ignored; a bare LlamaModel checkpoint (no "model." prefix) is accepted.</summary>
    public override string? ParameterNameFor(string checkpointKey)
    {
        if (checkpointKey.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal)) return null;
        if (Config.TieWordEmbeddings && checkpointKey == "lm_head.weight") return null;
        if (!checkpointKey.StartsWith("model.", StringComparison.Ordinal) && checkpointKey != "lm_head.weight") return "model." + checkpointKey;
        return checkpointKey;
    }
}
