using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models;

/// <summary>
/// A decoder-only language model: token ids in, next-token logits out. Parameter names equal the
/// Hugging Face checkpoint keys ("model.layers.0.self_attn.q_proj.weight", "transformer.h.0.attn.c_attn.weight"),
/// so checkpoints load by name and LoRA can replace a projection by its dotted path with
/// <see cref="Module.ReplaceModule"/>. Subclasses supply the three stages of a forward pass
/// (<see cref="Embed"/>, <see cref="RunLayer"/>, <see cref="Head"/>) and state what differs between
/// architectures (<see cref="RotaryTables"/>, <see cref="SlidingWindowOf"/>, <see cref="MaxPositions"/>);
/// this class builds the positions and masks into a <see cref="ForwardContext"/> that it passes down
/// the layers, runs the stages, and offers generation, saving and gradient checkpointing on top.
/// </summary>
public abstract class CausalLM : Module
{
    protected CausalLM(ModelConfig config)
    {
        Config = config ?? throw new ArgumentNullException(nameof(config));
        GenerationConfig = GenerationConfig.FromModelConfig(config);
    }

    /// <summary>The model's config.json.</summary>
    public ModelConfig Config { get; }

    /// <summary>The tokenizer loaded from the model folder, when there was one.</summary>
    public Tokenizer? Tokenizer { get; set; }

    /// <summary>What loading found (unexpected and ignored tensors); null for a model built from a config.</summary>
    public LoadReport? LoadReport { get; internal set; }

    /// <summary>Generation defaults (generation_config.json, else config.json's token ids).</summary>
    public GenerationConfig GenerationConfig { get; set; }

    /// <summary>
    /// Trade compute for memory in training: <see cref="ForwardBackward"/> keeps only each decoder
    /// layer's input and recomputes the layer during the backward pass. <see cref="Forward"/> itself is
    /// unaffected (it always records the full graph).
    /// </summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>Number of decoder layers.</summary>
    public int NumLayers => Config.NumHiddenLayers;

    /// <summary>Dtype of the parameters (that of the token embedding).</summary>
    public ScalarType DType => InputEmbeddings.weight.dtype;

    /// <summary>Device of the parameters.</summary>
    public Device Device => InputEmbeddings.weight.device;

    /// <summary>The token-embedding table (model.embed_tokens / transformer.wte).</summary>
    public abstract Embedding InputEmbeddings { get; }

    /// <summary>The output projection weight [vocab, hidden] (the embedding matrix when tied).</summary>
    public abstract Tensor OutputWeight { get; }

    // ---- the forward pass -----------------------------------------------------------------------

    /// <summary>Token (and, for GPT-2, position) embeddings of <paramref name="inputIds"/> [B, T] → hidden [B, T, H].</summary>
    protected abstract Tensor Embed(Tensor inputIds, ForwardContext context);

    /// <summary>Decoder layer <paramref name="index"/>: hidden [B, T, H] → hidden [B, T, H].</summary>
    protected abstract Tensor RunLayer(int index, Tensor hidden, ForwardContext context);

    /// <summary>Final norm and lm_head: hidden [B, T, H] → logits [B, T, V].</summary>
    protected abstract Tensor Head(Tensor hidden);

    /// <summary>The final norm alone: hidden [B, T, H] → what the output projection reads.</summary>
    protected abstract Tensor FinalNorm(Tensor hidden);

    /// <summary>
    /// The output projection as plain tensors (<see cref="Head"/> = this projection of <see cref="FinalNorm"/>),
    /// which lets training take the loss a block of rows at a time (<see cref="ChunkedCrossEntropy"/>);
    /// null when lm_head has been replaced by a module of another kind (a LoRA adapter, a quantized
    /// layer), whose forward only that module knows: the loss then goes through <see cref="Head"/>.
    /// </summary>
    protected abstract OutputProjection? PlainOutputProjection { get; }

    /// <summary>
    /// <see cref="PlainOutputProjection"/> for a model whose lm_head is either absent (tied to
    /// <paramref name="tiedWeight"/>) or a bias-free <see cref="Linear"/> of exactly that type; null otherwise.
    /// </summary>
    protected static OutputProjection? PlainProjectionOf(Module<Tensor, Tensor>? lmHead, Tensor tiedWeight) =>
        lmHead is null ? new OutputProjection(tiedWeight)
        : lmHead is Linear { bias: null } linear && linear.GetType() == typeof(Linear) ? new OutputProjection(linear.weight)
        : null;

    /// <summary>Whether training (<see cref="ForwardBackward(Tensor, Tensor, double, Tensor?, Tensor?, Tensor?, long, Action?)"/>) takes the loss a block of rows at a time, without the batch's logits.</summary>
    public bool ChunkedTrainingLoss => PlainOutputProjection is not null;

    /// <summary>Sliding window of a layer (null = full attention).</summary>
    protected virtual int? SlidingWindowOf(int layer) => null;

    /// <summary>
    /// Rotary cos/sin tables [B, T, head_dim] for the positions of this pass, handed to every layer;
    /// null for models whose positions are learned embeddings.
    /// </summary>
    protected virtual (Tensor Cos, Tensor Sin)? RotaryTables(Tensor positionIds, long sequenceLength) => null;

    /// <summary>
    /// Rotary tables for the sliding-window layers when they use another RoPE than the global layers
    /// (Gemma 3); null when every layer shares <see cref="RotaryTables"/>.
    /// </summary>
    protected virtual (Tensor Cos, Tensor Sin)? LocalRotaryTables(Tensor positionIds, long sequenceLength) => null;

    /// <summary>
    /// How many positions the model can embed: the size of a learned position table (GPT-2's
    /// n_positions); null when positions are computed (rotary) and need no limit.
    /// </summary>
    public virtual long? MaxPositions => null;

    /// <summary>
    /// The sequence length beyond which the position encoding of every token changes, earlier ones
    /// included (longrope switches from short to long factors past original_max_position_embeddings):
    /// keys cached while the sequence was at most this long are stale once it grows beyond it, and
    /// <see cref="Generator"/> recomputes the cache at that step, as transformers does. Null when cached
    /// keys stay valid however long the sequence grows.
    /// </summary>
    public virtual long? PositionEncodingChangesBeyond => null;

    /// <summary>
    /// Logits [B, T, V] (in the model dtype) for token ids [B, T] (int64).
    /// </summary>
    /// <param name="inputIds">Token ids [B, T], int64 (int32 accepted).</param>
    /// <param name="attentionMask">[B, past + T] with 1 for tokens and 0 for padding (left padding for generation). With a cache it covers the cached tokens too.</param>
    /// <param name="positionIds">[B, T]; by default counted from the attention mask (or restarted per segment).</param>
    /// <param name="cache">KV cache to read and extend (inference); null recomputes everything.</param>
    /// <param name="segmentIds">
    /// [B, T] ids of packed examples: a token attends only to earlier tokens with the same id, and
    /// positions restart at each change of id (block-diagonal attention for sequence packing).
    /// </param>
    /// <param name="logitsToKeep">
    /// When positive, only the last that many positions go through the head (logits [B, logitsToKeep, V]):
    /// generation needs the last position alone, and the vocabulary-wide product of a long prompt's
    /// other positions would be wasted work. 0 keeps every position.
    /// </param>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KVCache? cache = null, Tensor? segmentIds = null, long logitsToKeep = 0)
    {
        if (logitsToKeep < 0) throw new ArgumentOutOfRangeException(nameof(logitsToKeep), logitsToKeep, "Forward: logitsToKeep must be ≥ 0 (0 = every position)");
        using var scope = torch.NewDisposeScope();
        var context = Prepare(inputIds, attentionMask, positionIds, cache, segmentIds);
        var hidden = RunDecoder(context);
        long T = context.Context.Length;
        if (logitsToKeep > 0 && logitsToKeep < T) hidden = hidden.narrow(1, T - logitsToKeep, logitsToKeep);
        return scope.MoveToOuter(Head(hidden));
    }

    /// <summary>PyTorch-style alias of <see cref="Forward"/>.</summary>
    public Tensor forward(Tensor inputIds, Tensor? attentionMask = null, Tensor? positionIds = null, KVCache? cache = null, Tensor? segmentIds = null) =>
        Forward(inputIds, attentionMask, positionIds, cache, segmentIds);

    /// <summary>
    /// Forward pass, <paramref name="loss"/> of the logits, and backward, in one call; returns the loss
    /// (detached). With <see cref="GradientCheckpointing"/> only the input of each decoder layer is
    /// kept: the layers run without a graph, then backward walks from the head to the embeddings,
    /// recomputing one layer at a time (restoring the CPU random state, so dropout inside LoRA layers
    /// draws the same masks) and feeding it the gradient of its output. Gradients accumulate into the
    /// parameters exactly as with a plain backward.
    /// </summary>
    /// <param name="inputIds">[B, T] token ids.</param>
    /// <param name="loss">Turns logits [B, T, V] into a scalar loss (e.g. <see cref="CausalLMLoss"/>).</param>
    /// <param name="attentionMask">[B, T], 1 = token, 0 = padding.</param>
    /// <param name="positionIds">[B, T], optional.</param>
    /// <param name="segmentIds">[B, T] packed-example ids, optional.</param>
    public Tensor ForwardBackward(Tensor inputIds, Func<Tensor, Tensor> loss, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? segmentIds = null)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return ForwardBackwardFromHidden(inputIds, top => loss(Head(top)), attentionMask, positionIds, segmentIds);
    }

    /// <summary>
    /// Forward pass, the causal-LM loss (<see cref="CausalLMLoss"/> with reduction "sum", times
    /// <paramref name="lossScale"/>) and backward, in one call; returns the loss (detached). Where the
    /// output projection is a plain weight (<see cref="PlainOutputProjection"/>), the loss is taken a block
    /// of rows at a time (<see cref="ChunkedCrossEntropy"/>) and the logits of the whole batch never exist;
    /// otherwise it goes through the logits. Either way the gradients are those of the same loss.
    /// </summary>
    /// <param name="inputIds">[B, T] token ids.</param>
    /// <param name="labels">[B, T]; position t's logits predict label t+1; <paramref name="ignoreIndex"/> counts for nothing.</param>
    /// <param name="lossScale">Multiplies the summed token losses (1 / target tokens gives the mean).</param>
    /// <param name="attentionMask">[B, T], 1 = token, 0 = padding.</param>
    /// <param name="positionIds">[B, T], optional.</param>
    /// <param name="segmentIds">[B, T] packed-example ids, optional.</param>
    /// <param name="ignoreIndex">Label value skipped by the loss.</param>
    /// <param name="forwardDone">Called once the loss is computed, before backward starts (for timing the two).</param>
    public Tensor ForwardBackward(Tensor inputIds, Tensor labels, double lossScale, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? segmentIds = null,
        long ignoreIndex = -100, Action? forwardDone = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        Tensor HeadLoss(Tensor top)
        {
            var loss = HeadLossSum(top, labels, lossScale, ignoreIndex);
            forwardDone?.Invoke();
            return loss;
        }
        return ForwardBackwardFromHidden(inputIds, HeadLoss, attentionMask, positionIds, segmentIds);
    }

    /// <summary>
    /// The causal-LM loss of <paramref name="labels"/> summed over target tokens (float32 scalar; divide by
    /// the target-token count for the mean): evaluation's loss and perplexity. Taken a block of rows at a
    /// time like <see cref="ForwardBackward(Tensor, Tensor, double, Tensor?, Tensor?, Tensor?, long, Action?)"/>,
    /// so a large vocabulary's logits never exist for the whole batch; differentiable where gradients are enabled.
    /// </summary>
    public Tensor LossSum(Tensor inputIds, Tensor labels, Tensor? attentionMask = null, Tensor? positionIds = null, Tensor? segmentIds = null, long ignoreIndex = -100)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = torch.NewDisposeScope();
        var hidden = RunDecoder(Prepare(inputIds, attentionMask, positionIds, null, segmentIds));
        return scope.MoveToOuter(HeadLossSum(hidden, labels, 1, ignoreIndex));
    }

    /// <summary>Embeddings and every decoder layer: the last layer's output [B, T, H] for a prepared pass.</summary>
    Tensor RunDecoder(Prepared pass)
    {
        var hidden = Embed(pass.InputIds, pass.Context);
        for (int i = 0; i < NumLayers; i++) hidden = RunLayer(i, hidden, pass.Context);
        return hidden;
    }

    /// <summary>
    /// The causal-LM loss summed over target tokens, times <paramref name="scale"/>, of the last layer's output:
    /// block-wise where the output projection is a plain weight, through the logits otherwise.
    /// </summary>
    Tensor HeadLossSum(Tensor lastHidden, Tensor labels, double scale, long ignoreIndex) =>
        PlainOutputProjection is { } projection
            ? ChunkedCrossEntropy.CausalLMLoss(FinalNorm(lastHidden), labels, projection, scale, ignoreIndex)
            : CausalLMLoss(Head(lastHidden), labels, ignoreIndex, "sum") * scale;

    /// <summary>The two ForwardBackward overloads: <paramref name="headLoss"/> takes the last decoder layer's output [B, T, H] to the scalar loss.</summary>
    Tensor ForwardBackwardFromHidden(Tensor inputIds, Func<Tensor, Tensor> headLoss, Tensor? attentionMask, Tensor? positionIds, Tensor? segmentIds)
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.enable_grad();
        if (!GradientCheckpointing)
        {
            var value = headLoss(RunDecoder(Prepare(inputIds, attentionMask, positionIds, null, segmentIds)));
            value.backward();
            return scope.MoveToOuter(value.detach());
        }

        var prepared = Prepare(inputIds, attentionMask, positionIds, null, segmentIds);
        var context = prepared.Context;
        var embedded = Embed(prepared.InputIds, context);
        var layerInputs = new Tensor[NumLayers + 1];
        var rngStates = new Tensor[NumLayers];
        // Dropout draws from the generator of the device it runs on: replay that one on recomputation.
        var rngDevice = embedded.device.IsCuda ? embedded.device : Device.CPU;
        using (torch.no_grad())
        {
            var h = embedded.detach();
            for (int i = 0; i < NumLayers; i++)
            {
                layerInputs[i] = h;
                rngStates[i] = torch.get_rng_state(rngDevice);
                h = RunLayer(i, h, context);
            }
            layerInputs[NumLayers] = h;
        }

        var top = layerInputs[NumLayers].detach().requires_grad_();
        var lossValue = headLoss(top);
        lossValue.backward();
        var upstream = top.grad ?? throw new InvalidOperationException("ForwardBackward: the loss does not depend on the model output");
        for (int i = NumLayers - 1; i >= 0; i--)
        {
            // Each recomputed layer's graph and temporaries die with this scope; only the gradient
            // of its input moves out, to be fed to the layer below.
            using var layerScope = torch.NewDisposeScope();
            var input = layerInputs[i].detach().requires_grad_();
            var current = torch.get_rng_state(rngDevice);
            torch.set_rng_state(rngDevice, rngStates[i]);
            var output = RunLayer(i, input, context);
            torch.set_rng_state(rngDevice, current);
            output.backward(upstream);
            upstream = layerScope.MoveToOuter(input.grad ?? torch.zeros_like(input));
        }
        if (embedded.requires_grad) embedded.backward(upstream);
        return scope.MoveToOuter(lossValue.detach());
    }

    /// <summary>
    /// The usual causal-LM loss: logits at position t predict label t+1 (the shift happens here);
    /// labels equal to <paramref name="ignoreIndex"/> (prompt, padding) are skipped; the mean is over
    /// the counted tokens. Computed in float32. Trainers that normalise by tokens across
    /// accumulation steps can pass reduction "sum" and divide themselves.
    /// </summary>
    public static Tensor CausalLMLoss(Tensor logits, Tensor labels, long ignoreIndex = -100, string reduction = "mean")
    {
        using var scope = torch.NewDisposeScope();
        long vocab = logits.size(-1), T = logits.size(1);
        if (T < 2) throw new ArgumentException($"CausalLMLoss: need at least 2 positions to shift, got logits {Tensor.ShapeString(logits.shape)}");
        var shiftedLogits = logits.narrow(1, 0, T - 1).reshape(-1, vocab).to(ScalarType.Float32);
        var shiftedLabels = labels.narrow(1, 1, T - 1).reshape(-1).to(ScalarType.Int64);
        return scope.MoveToOuter(functional.cross_entropy(shiftedLogits, shiftedLabels, ignore_index: ignoreIndex, reduction: reduction));
    }

    /// <summary>Generates a continuation of <paramref name="prompt"/> with the model's tokenizer (see <see cref="Generator"/>).</summary>
    public GenerationResult Generate(string prompt, GenerationOptions? options = null) => new Generator(this).Generate(prompt, options);

    /// <summary>Generates continuations of several prompts as one left-padded batch.</summary>
    public GenerationResult Generate(IReadOnlyList<string> prompts, GenerationOptions? options = null) => new Generator(this).Generate(prompts, options);

    /// <summary>Generates from token-id prompts (no tokenizer needed unless stop strings are used).</summary>
    public GenerationResult Generate(IReadOnlyList<int[]> prompts, GenerationOptions? options = null) => new Generator(this).Generate(prompts, options);

    /// <summary>A KV cache sized for this model.</summary>
    public KVCache NewCache(long capacity = 256) => new(NumLayers, capacity);

    // ---- preparing a forward pass ---------------------------------------------------------------

    readonly record struct Prepared(Tensor InputIds, ForwardContext Context);

    Prepared Prepare(Tensor inputIds, Tensor? attentionMask, Tensor? positionIds, KVCache? cache, Tensor? segmentIds)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        var shape = inputIds.shape;
        if (shape.Length != 2)
            throw new ArgumentException($"Forward: input_ids must be [batch, length], got shape {Tensor.ShapeString(shape)}");
        if (inputIds.dtype is not (ScalarType.Int64 or ScalarType.Int32))
            throw new ArgumentException($"Forward: input_ids must hold int64 token ids, got {inputIds.dtype.Name()}");
        long B = shape[0], T = shape[1];
        if (T == 0) throw new ArgumentException("Forward: input_ids has no tokens (length 0)");
        long past = cache?.Length ?? 0;
        if (cache is not null && cache.NumLayers != NumLayers)
            throw new ArgumentException($"Forward: the KV cache has {cache.NumLayers} layers, the model {NumLayers}");
        var device = Device;
        var ids = inputIds.device == device && inputIds.dtype == ScalarType.Int64 ? inputIds : inputIds.to(device, ScalarType.Int64);
        if (attentionMask is not null)
        {
            var ms = attentionMask.shape;
            if (ms.Length != 2 || ms[0] != B || ms[1] != past + T)
                throw new ArgumentException($"Forward: attention_mask must be [batch, cached + new tokens] = [{B}, {past + T}], got {Tensor.ShapeString(ms)}");
            if (attentionMask.device != device) attentionMask = attentionMask.to(device);
            // An all-ones mask changes nothing; dropping it keeps the fast causal path.
            if (attentionMask.ne(0).all().item<bool>()) attentionMask = null;
        }
        if (segmentIds is not null)
        {
            if (cache is not null && past > 0) throw new ArgumentException("Forward: segment_ids (packed sequences) cannot be combined with a filled KV cache");
            if (!segmentIds.shape.SequenceEqual(shape))
                throw new ArgumentException($"Forward: segment_ids must have the shape of input_ids {Tensor.ShapeString(shape)}, got {Tensor.ShapeString(segmentIds.shape)}");
            if (segmentIds.device != device) segmentIds = segmentIds.to(device);
        }
        if (positionIds is not null)
        {
            if (!positionIds.shape.SequenceEqual(shape) && !(positionIds.dim() == 2 && positionIds.size(0) == 1 && positionIds.size(1) == T))
                throw new ArgumentException($"Forward: position_ids must be [batch, length] = {Tensor.ShapeString(shape)}, got {Tensor.ShapeString(positionIds.shape)}");
            positionIds = positionIds.to(device, ScalarType.Int64).expand(B, T);
        }
        positionIds ??= AttentionMask.PositionIds(B, T, past, attentionMask, segmentIds, device);
        if (MaxPositions is { } limit)
        {
            long top = positionIds.max().item<long>();
            if (top >= limit)
                throw new ArgumentException($"Forward: position {top} is beyond the {limit} learned positions of {Config.Architecture} (config n_positions = {limit})");
        }

        var rotary = RotaryTables(positionIds, past + T);
        var localRotary = LocalRotaryTables(positionIds, past + T);
        var context = new ForwardContext
        {
            Batch = B,
            Length = T,
            PastLength = past,
            PositionIds = positionIds,
            Masks = LayerMasks(B, T, past, attentionMask, segmentIds),
            IsCausal = past == 0 && T > 1,
            Cos = rotary?.Cos,
            Sin = rotary?.Sin,
            LocalCos = localRotary?.Cos,
            LocalSin = localRotary?.Sin,
            Cache = cache,
        };
        return new Prepared(ids, context);
    }

    /// <summary>
    /// The attention mask of every layer: one for full attention, one per distinct sliding window
    /// (shared by the layers that use it); null where plain causal attention is exact.
    /// </summary>
    Tensor?[] LayerMasks(long B, long T, long past, Tensor? attentionMask, Tensor? segmentIds)
    {
        var dtype = DType;
        var device = Device;
        var full = AttentionMask.Build(B, T, past, attentionMask, segmentIds, null, dtype, device);
        var windowed = new Dictionary<int, Tensor?>();
        var masks = new Tensor?[NumLayers];
        for (int i = 0; i < NumLayers; i++)
        {
            if (SlidingWindowOf(i) is not { } window) { masks[i] = full; continue; }
            if (!windowed.TryGetValue(window, out var mask))
                windowed[window] = mask = AttentionMask.Build(B, T, past, attentionMask, segmentIds, window, dtype, device);
            masks[i] = mask;
        }
        return masks;
    }

    // ---- loading, saving, describing ------------------------------------------------------------

    /// <summary>Loads a Hugging Face model folder (see <see cref="ModelLoader.Load"/>).</summary>
    public static CausalLM FromPretrained(string folder, Device? device = null, ScalarType? dtype = null, LoadOptions? options = null) =>
        ModelLoader.Load(folder, device, dtype, options);

    /// <summary>Builds a randomly initialised model of the config's architecture (for tests and pretraining).</summary>
    public static CausalLM FromConfig(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) =>
        ModelLoader.Create(config, device ?? Torch.Device.CPU, dtype);

    /// <summary>
    /// Writes config.json, generation_config.json, the weights (model.safetensors, or shards plus
    /// model.safetensors.index.json when larger than <paramref name="maxShardSize"/>) and the tokenizer
    /// into <paramref name="folder"/>, in the layout transformers reads.
    /// </summary>
    public void SavePretrained(string folder, string maxShardSize = "5GB") => ModelSaver.Save(this, folder, maxShardSize);

    /// <summary>The weights by checkpoint name, as saved (tied lm_head left out).</summary>
    public virtual Dictionary<string, Tensor> CheckpointTensors() => state_dict();

    /// <summary>Maps a checkpoint key to this model's parameter name; null means "ignore this key" (e.g. rotary inv_freq buffers).</summary>
    public virtual string? ParameterNameFor(string checkpointKey) => checkpointKey.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) ? null : checkpointKey;

    /// <summary>Architecture, sizes, parameter count, dtype, device and memory.</summary>
    public ModelSummary Summary() => ModelSummary.Of(this);

    /// <summary>Random init as in transformers: normal(0, initializer_range) for linear and embedding weights, zero biases.</summary>
    protected void InitializeWeights()
    {
        // Loading overwrites every parameter right away: skip the random draw.
        if (SkipInitialization) return;
        double std = Config["initializer_range"]?.GetValue<double>() ?? 0.02;
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith(".bias", StringComparison.Ordinal)) { if (!IsNormParameter(name)) p.zero_(); continue; }
            if (IsNormParameter(name)) continue;
            p.normal_(0, std);
        }
    }

    /// <summary>Set by the loader while it builds a model whose weights it is about to overwrite.</summary>
    [ThreadStatic] internal static bool SkipInitialization;

    /// <summary>Norm weights and biases keep their identity initialisation.</summary>
    protected virtual bool IsNormParameter(string name) => name.Contains("norm", StringComparison.Ordinal) || name.Contains(".ln_", StringComparison.Ordinal) || name.Contains("ln_f", StringComparison.Ordinal);
}
