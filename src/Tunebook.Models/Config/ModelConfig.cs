using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>
/// A model's config.json, read into the fields the models use (Llama names; GPT-2's n_embd, n_layer,
/// ... are mapped onto them) while keeping the original JSON so that <see cref="ToJson"/> writes every
/// field back, including those Tunebook does not know.
/// </summary>
public sealed class ModelConfig
{
    /// <summary>The architectures Tunebook can build, as config.json names them.</summary>
    public static readonly IReadOnlyList<string> SupportedArchitectures =
        ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM", "SmolLM3ForCausalLM", "GPT2LMHeadModel"];

    static readonly Dictionary<string, string> ArchitectureByModelType = new()
    {
        ["llama"] = "LlamaForCausalLM",
        ["mistral"] = "MistralForCausalLM",
        ["qwen2"] = "Qwen2ForCausalLM",
        ["qwen3"] = "Qwen3ForCausalLM",
        ["gemma3_text"] = "Gemma3ForCausalLM",
        ["phi3"] = "Phi3ForCausalLM",
        ["smollm3"] = "SmolLM3ForCausalLM",
        ["gpt2"] = "GPT2LMHeadModel",
    };

    readonly JsonObject _raw;

    /// <summary>The file this config came from (for error messages), or null.</summary>
    public string? SourceFile { get; }

    /// <summary>One of <see cref="SupportedArchitectures"/>.</summary>
    public string Architecture { get; }
    /// <summary>config.json "model_type" (llama, mistral, qwen2, qwen3, gemma3_text, phi3, smollm3, gpt2).</summary>
    public string ModelType { get; }

    public long VocabSize { get; }
    public long HiddenSize { get; }
    public long IntermediateSize { get; }
    public int NumHiddenLayers { get; }
    public int NumAttentionHeads { get; }
    /// <summary>Key/value heads (grouped-query attention); equals <see cref="NumAttentionHeads"/> for plain multi-head attention.</summary>
    public int NumKeyValueHeads { get; }
    /// <summary>Width of one attention head (config "head_dim", else hidden / heads).</summary>
    public long HeadDim { get; }
    public long MaxPositionEmbeddings { get; }
    /// <summary>RMSNorm epsilon (Llama family) or LayerNorm epsilon (GPT-2).</summary>
    public double NormEps { get; }
    public double RopeTheta { get; }
    public RopeScaling? RopeScaling { get; }
    /// <summary>lm_head shares the token-embedding matrix.</summary>
    public bool TieWordEmbeddings { get; }
    /// <summary>q/k/v projections carry a bias (Qwen2 always; Llama/Mistral when "attention_bias").</summary>
    public bool AttentionBias { get; }
    /// <summary>o_proj carries a bias too (Llama's "attention_bias" covers all four; Qwen2's bias is q/k/v only).</summary>
    public bool OutputBias { get; }
    public bool MlpBias { get; }
    /// <summary>Per-head RMSNorm on queries and keys before RoPE (Qwen3).</summary>
    public bool QkNorm { get; }
    /// <summary>Sliding attention window in tokens, or null for full attention.</summary>
    public int? SlidingWindow { get; }
    /// <summary>Layers from this index on use the sliding window (Qwen2's max_window_layers; 0 for Mistral).</summary>
    public int SlidingWindowFromLayer { get; }
    /// <summary>Activation: "silu" for SwiGLU models, "gelu_new" etc. for GPT-2.</summary>
    public string HiddenAct { get; }
    public int? BosTokenId { get; }
    /// <summary>End-of-sequence ids (config "eos_token_id" may be one id or a list).</summary>
    public IReadOnlyList<int> EosTokenIds { get; }
    public int? PadTokenId { get; }
    /// <summary>"torch_dtype" / "dtype" as written, e.g. "bfloat16".</summary>
    public string? TorchDtype { get; }
    /// <summary>GPT-2: divide attention scores by (layer index + 1) as well.</summary>
    public bool ScaleAttnByInverseLayerIdx { get; }

    /// <summary>
    /// Scores are multiplied by this^-0.5 instead of head_dim^-0.5 (Gemma 3's query_pre_attn_scalar);
    /// null for the usual 1/√head_dim.
    /// </summary>
    public double? QueryPreAttnScalar { get; }
    /// <summary>Attention scores pass through cap·tanh(score/cap) before softmax (Gemma's attn_logit_softcapping), or null.</summary>
    public double? AttnLogitSoftcapping { get; }
    /// <summary>Logits pass through cap·tanh(logit/cap) (Gemma's final_logit_softcapping), or null.</summary>
    public double? FinalLogitSoftcapping { get; }
    /// <summary>RoPE base of the sliding-window layers when it differs from <see cref="RopeTheta"/> (Gemma 3's rope_local_base_freq), or null.</summary>
    public double? RopeLocalTheta { get; }
    /// <summary>"sliding_attention" or "full_attention" per layer (Gemma 3, SmolLM3), or null when the window rule is <see cref="SlidingWindowFromLayer"/>.</summary>
    public IReadOnlyList<string>? LayerTypes { get; }
    /// <summary>Per layer: does it rotate queries and keys (SmolLM3's no_rope_layers, 1 = RoPE); null means every layer does.</summary>
    public IReadOnlyList<bool>? RopeLayers { get; }
    /// <summary>Share of each head's channels that RoPE rotates (Phi's partial_rotary_factor; 1 = all).</summary>
    public double PartialRotaryFactor { get; } = 1.0;
    /// <summary>Channels of a head that RoPE rotates: head_dim × partial_rotary_factor.</summary>
    public long RotaryDim => (long)(HeadDim * PartialRotaryFactor);
    /// <summary>The pretraining context length (Phi-3's top-level original_max_position_embeddings), or null.</summary>
    public long? OriginalMaxPositionEmbeddings { get; }
    /// <summary>
    /// What loading this config left out, for the user to see (e.g. the vision tower of a Gemma 3
    /// image-and-text checkpoint, of which only the text model is built).
    /// </summary>
    public IReadOnlyList<string> Notices { get; } = [];

    /// <summary>Sliding attention window of a layer, or null for full attention.</summary>
    public int? SlidingWindowFor(int layer)
    {
        if (SlidingWindow is not { } window) return null;
        if (LayerTypes is not null) return LayerTypes[layer] == "sliding_attention" ? window : null;
        return layer >= SlidingWindowFromLayer ? window : null;
    }

    /// <summary>Does this layer apply rotary positions (false for SmolLM3's NoPE layers)?</summary>
    public bool UsesRope(int layer) => RopeLayers is null || RopeLayers[layer];

    /// <summary>Is this a GPT-2 model (learned positions, LayerNorm, Conv1D)?</summary>
    public bool IsGpt2 => Architecture == "GPT2LMHeadModel";

    ModelConfig(JsonObject raw, string? file)
    {
        (raw, var notice) = TextModelOf(raw, file);
        if (notice is not null) Notices = [notice];
        _raw = raw;
        SourceFile = file;
        (Architecture, ModelType) = ResolveArchitecture(raw, file);
        var r = new Reader(raw, file);
        if (IsGpt2)
        {
            VocabSize = r.Long("vocab_size", 50257);
            HiddenSize = r.Long("n_embd", 768);
            NumHiddenLayers = r.Int("n_layer", 12);
            NumAttentionHeads = r.Int("n_head", 12);
            NumKeyValueHeads = NumAttentionHeads;
            IntermediateSize = r.OptLong("n_inner") ?? 4 * HiddenSize;
            MaxPositionEmbeddings = r.Long("n_positions", 1024);
            NormEps = r.Double("layer_norm_epsilon", 1e-5);
            HiddenAct = r.String("activation_function", "gelu_new");
            TieWordEmbeddings = r.Bool("tie_word_embeddings", true);
            AttentionBias = OutputBias = MlpBias = true;
            ScaleAttnByInverseLayerIdx = r.Bool("scale_attn_by_inverse_layer_idx", false);
            if (!r.Bool("scale_attn_weights", true))
                throw new ModelConfigException(file, "scale_attn_weights", "false is not supported (GPT-2 checkpoints use true)");
            if (HiddenSize % NumAttentionHeads != 0)
                throw new ModelConfigException(file, "n_embd", $"{HiddenSize} is not divisible by n_head {NumAttentionHeads}");
            HeadDim = HiddenSize / NumAttentionHeads;
            RopeTheta = 0;
        }
        else
        {
            // Gemma 3's image-and-text configs leave most text fields at Gemma3TextConfig's defaults.
            bool gemma = ModelType == "gemma3_text";
            VocabSize = r.Long("vocab_size", gemma ? 262208 : 32000);
            HiddenSize = r.Long("hidden_size", gemma ? 2304 : 4096);
            IntermediateSize = r.Long("intermediate_size", gemma ? 9216 : 11008);
            NumHiddenLayers = r.Int("num_hidden_layers", gemma ? 26 : 32);
            NumAttentionHeads = r.Int("num_attention_heads", gemma ? 8 : 32);
            NumKeyValueHeads = r.OptInt("num_key_value_heads") ?? (gemma ? 4 : NumAttentionHeads);
            MaxPositionEmbeddings = r.Long("max_position_embeddings", gemma ? 131072 : 2048);
            NormEps = r.Double("rms_norm_eps", 1e-6);
            RopeTheta = r.Double("rope_theta", gemma ? 1_000_000.0 : 10000.0);
            RopeScaling = RopeScaling.Parse(raw["rope_scaling"], file);
            TieWordEmbeddings = r.Bool("tie_word_embeddings", gemma);
            if (ModelType == "gemma3_text")
            {
                HiddenAct = r.String("hidden_activation", "gelu_pytorch_tanh");
                if (HiddenAct is not ("gelu_pytorch_tanh" or "gelu_new" or "gelu"))
                    throw new ModelConfigException(file, "hidden_activation", $"'{HiddenAct}' is not supported; Gemma 3 uses \"gelu_pytorch_tanh\" (also accepted: gelu_new, gelu)");
            }
            else
            {
                HiddenAct = r.String("hidden_act", "silu");
                if (HiddenAct != "silu")
                    throw new ModelConfigException(file, "hidden_act", $"'{HiddenAct}' is not supported; Llama-family models here use \"silu\" (SwiGLU)");
            }
            HeadDim = r.OptLong("head_dim") ?? (gemma ? 256 : HiddenSize % NumAttentionHeads == 0 ? HiddenSize / NumAttentionHeads
                : throw new ModelConfigException(file, "hidden_size", $"{HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads} and no head_dim is given"));
            switch (ModelType)
            {
                case "qwen2":
                    AttentionBias = true; OutputBias = false;
                    break;
                case "qwen3":
                    AttentionBias = OutputBias = r.Bool("attention_bias", false);
                    QkNorm = true;
                    break;
                case "gemma3_text":
                    AttentionBias = OutputBias = r.Bool("attention_bias", false);
                    QkNorm = true;
                    QueryPreAttnScalar = r.Double("query_pre_attn_scalar", 256);
                    if (QueryPreAttnScalar <= 0) throw new ModelConfigException(file, "query_pre_attn_scalar", $"must be positive, got {QueryPreAttnScalar}");
                    AttnLogitSoftcapping = r.OptDouble("attn_logit_softcapping");
                    FinalLogitSoftcapping = r.OptDouble("final_logit_softcapping");
                    RopeLocalTheta = r.Double("rope_local_base_freq", 10000.0);
                    break;
                case "phi3":
                    PartialRotaryFactor = r.Double("partial_rotary_factor", 1.0);
                    if (PartialRotaryFactor is <= 0 or > 1 || RotaryDim % 2 != 0)
                        throw new ModelConfigException(file, "partial_rotary_factor", $"must be in (0, 1] and leave an even number of rotated channels, got {PartialRotaryFactor} (head_dim {HeadDim})");
                    OriginalMaxPositionEmbeddings = r.OptLong("original_max_position_embeddings");
                    AttentionBias = OutputBias = false;
                    break;
                default:
                    AttentionBias = OutputBias = r.Bool("attention_bias", false);
                    MlpBias = r.Bool("mlp_bias", false);
                    break;
            }
            // Mistral and Phi-3 honour sliding_window whenever it is set; Qwen2/Qwen3 only with use_sliding_window;
            // Gemma 3 on its sliding layers; SmolLM3 with use_sliding_window, on the layers layer_types names.
            var window = r.OptInt("sliding_window");
            if (ModelType is "mistral" or "phi3") { SlidingWindow = window; SlidingWindowFromLayer = 0; }
            else if (ModelType == "gemma3_text")
            {
                SlidingWindow = window ?? 4096;
                LayerTypes = ReadLayerTypes(raw, file, NumHiddenLayers)
                    ?? Enumerable.Range(0, NumHiddenLayers).Select(i => (i + 1) % r.Int("sliding_window_pattern", 6) != 0 ? "sliding_attention" : "full_attention").ToArray();
            }
            else if (ModelType == "smollm3")
            {
                var noRope = r.IntOrList("no_rope_layers");
                int interval = r.Int("no_rope_layer_interval", 4);
                if (noRope.Count > 0 && noRope.Count != NumHiddenLayers)
                    throw new ModelConfigException(file, "no_rope_layers", $"has {noRope.Count} entries for {NumHiddenLayers} layers");
                if (noRope.Count == 0 && interval <= 0) throw new ModelConfigException(file, "no_rope_layer_interval", $"must be positive, got {interval}");
                // no_rope_layers[i] is 1 where layer i uses RoPE (every no_rope_layer_interval-th layer does not).
                RopeLayers = noRope.Count > 0 ? noRope.Select(x => x != 0).ToArray()
                    : Enumerable.Range(0, NumHiddenLayers).Select(i => (i + 1) % interval != 0).ToArray();
                bool useWindow = r.Bool("use_sliding_window", false);
                LayerTypes = ReadLayerTypes(raw, file, NumHiddenLayers)
                    ?? RopeLayers.Select(rope => useWindow && window is not null && !rope ? "sliding_attention" : "full_attention").ToArray();
                if (useWindow) SlidingWindow = window;
            }
            else if (ModelType is "qwen2" or "qwen3" && r.Bool("use_sliding_window", false))
            {
                SlidingWindow = window;
                SlidingWindowFromLayer = r.OptInt("max_window_layers") ?? 0;
            }
            if (SlidingWindow is <= 0) throw new ModelConfigException(file, "sliding_window", $"must be positive or null, got {SlidingWindow}");
        }
        if (VocabSize <= 0) throw new ModelConfigException(file, "vocab_size", $"must be positive, got {VocabSize}");
        if (HiddenSize <= 0) throw new ModelConfigException(file, IsGpt2 ? "n_embd" : "hidden_size", $"must be positive, got {HiddenSize}");
        if (NumHiddenLayers <= 0) throw new ModelConfigException(file, IsGpt2 ? "n_layer" : "num_hidden_layers", $"must be positive, got {NumHiddenLayers}");
        if (NumAttentionHeads <= 0) throw new ModelConfigException(file, IsGpt2 ? "n_head" : "num_attention_heads", $"must be positive, got {NumAttentionHeads}");
        if (NumKeyValueHeads <= 0 || NumAttentionHeads % NumKeyValueHeads != 0)
            throw new ModelConfigException(file, "num_key_value_heads", $"{NumKeyValueHeads} must be positive and divide num_attention_heads {NumAttentionHeads}");
        if (IntermediateSize <= 0) throw new ModelConfigException(file, IsGpt2 ? "n_inner" : "intermediate_size", $"must be positive, got {IntermediateSize}");
        if (HeadDim <= 0 || (!IsGpt2 && HeadDim % 2 != 0 && ModelType != "phi3")) throw new ModelConfigException(file, "head_dim", $"must be positive and even for rotary embeddings, got {HeadDim}");
        RopeScaling?.Validate(this, file);
        BosTokenId = r.OptInt("bos_token_id");
        PadTokenId = r.OptInt("pad_token_id");
        EosTokenIds = r.IntOrList("eos_token_id");
        TorchDtype = r.OptString("torch_dtype") ?? r.OptString("dtype");
    }

    static IReadOnlyList<string>? ReadLayerTypes(JsonObject raw, string? file, int layers)
    {
        if (raw["layer_types"] is not { } node) return null;
        if (node is not JsonArray list || list.Any(x => x?.GetValueKind() != JsonValueKind.String))
            throw new ModelConfigException(file, "layer_types", $"expected a list of strings, got {node.ToJsonString()}");
        var types = list.Select(x => x!.GetValue<string>()).ToArray();
        if (types.Length != layers) throw new ModelConfigException(file, "layer_types", $"has {types.Length} entries for {layers} layers");
        foreach (var t in types)
            if (t is not ("sliding_attention" or "full_attention"))
                throw new ModelConfigException(file, "layer_types", $"unknown layer type '{t}'; expected \"sliding_attention\" or \"full_attention\"");
        return types;
    }

    /// <summary>
    /// A Gemma 3 image-and-text config (model_type "gemma3", Gemma3ForConditionalGeneration) nests the
    /// language model's config under "text_config": that becomes the config (a Gemma3ForCausalLM), with
    /// the token ids and dtype of the outer config where the inner one has none, and a notice that the
    /// vision tower is left out.
    /// </summary>
    static (JsonObject config, string? notice) TextModelOf(JsonObject raw, string? file)
    {
        bool multimodal = raw["model_type"] is JsonValue mt && mt.GetValueKind() == JsonValueKind.String && mt.GetValue<string>() == "gemma3"
            || raw["architectures"] is JsonArray a && a.Any(x => x?.GetValueKind() == JsonValueKind.String && x.GetValue<string>() == "Gemma3ForConditionalGeneration");
        if (!multimodal) return (raw, null);
        if (raw["text_config"] is not JsonObject inner)
            throw new ModelConfigException(file, "text_config", "a Gemma 3 image-and-text config (model_type \"gemma3\") must nest the language model's config under \"text_config\"");
        var text = (JsonObject)inner.DeepClone();
        text["architectures"] = new JsonArray("Gemma3ForCausalLM");
        text["model_type"] = "gemma3_text";
        foreach (var key in new[] { "bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "dtype", "tie_word_embeddings", "initializer_range" })
            if (text[key] is null && raw[key] is { } v) text[key] = v.DeepClone();
        return (text, "Gemma3ForConditionalGeneration: only the text model is loaded (Gemma3ForCausalLM); the vision tower and the multimodal projector are ignored");
    }

    static (string architecture, string modelType) ResolveArchitecture(JsonObject raw, string? file)
    {
        string? modelType = null;
        if (raw["model_type"] is { } mt)
        {
            try { modelType = mt.GetValue<string>(); }
            catch (InvalidOperationException) { throw new ModelConfigException(file, "model_type", $"expected a string, got {mt.ToJsonString()}"); }
        }
        var listed = new List<string>();
        if (raw["architectures"] is JsonArray archs)
            foreach (var a in archs) if (a?.GetValueKind() == JsonValueKind.String) listed.Add(a.GetValue<string>());
        foreach (var a in listed)
            if (SupportedArchitectures.Contains(a))
                return (a, modelType ?? ArchitectureByModelType.First(kv => kv.Value == a).Key);
        if (listed.Count == 0 && modelType is not null && ArchitectureByModelType.TryGetValue(modelType, out var fromType))
            return (fromType, modelType);
        var what = listed.Count > 0 ? $"architecture {string.Join(", ", listed)}" : modelType is not null ? $"model_type '{modelType}'" : "no \"architectures\" or \"model_type\"";
        throw new ModelConfigException(file, listed.Count > 0 ? "architectures" : "model_type",
            $"unsupported model ({what}); supported architectures: {string.Join(", ", SupportedArchitectures)}");
    }

    // ---- loading and saving ------------------------------------------------------------------

    /// <summary>Reads config.json from a model folder or a file path.</summary>
    public static ModelConfig Load(string path)
    {
        var file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file)) throw new FileNotFoundException($"{file}: no config.json (a Hugging Face model folder holds config.json and model.safetensors)", file);
        return Parse(File.ReadAllText(file), file);
    }

    /// <summary>Parses config.json text; <paramref name="file"/> names it in errors.</summary>
    public static ModelConfig Parse(string json, string? file = null)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e) { throw new ModelConfigException(file, null, $"not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine}): {e.Message}", e); }
        if (node is not JsonObject obj) throw new ModelConfigException(file, null, "expected a JSON object at the top level");
        return new ModelConfig(obj, file);
    }

    /// <summary>Builds a config from a JSON object (e.g. for tests or a new model); the object is copied.</summary>
    public static ModelConfig FromJson(JsonObject json) => Parse(json.ToJsonString());

    /// <summary>A copy of the original JSON with every field, known or not.</summary>
    public JsonObject ToJsonObject() => (JsonObject)_raw.DeepClone();

    /// <summary>The config as indented JSON, every original field kept (like transformers' to_json_string).</summary>
    public string ToJson() => _raw.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>A new config with one field set (or removed with null); re-validated.</summary>
    public ModelConfig With(string field, JsonNode? value)
    {
        var copy = ToJsonObject();
        copy[field] = value?.DeepClone();
        return new ModelConfig(copy, SourceFile);
    }

    /// <summary>Writes config.json into <paramref name="folder"/> atomically.</summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "config.json");
        Tunebook.IO.AtomicFile.WriteAllText(path, ToJson() + "\n");
    }

    /// <summary>The raw value of any field (null when absent).</summary>
    public JsonNode? this[string field] => _raw[field];

    /// <summary>The dtype named by torch_dtype, or null when absent or not a float type.</summary>
    public ScalarType? CheckpointDtype =>
        TorchDtype is not null && ScalarTypes.TryParse(TorchDtype, out var type) && type is ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16
            ? type : null;

    /// <summary>Typed field access with errors naming the file and field.</summary>
    sealed class Reader(JsonObject obj, string? file)
    {
        T Get<T>(string key, Func<JsonNode, T> convert, string expected)
        {
            var node = obj[key]!;
            try { return convert(node); }
            catch (Exception e) when (e is FormatException or InvalidOperationException or OverflowException)
            { throw new ModelConfigException(file, key, $"expected {expected}, got {node.ToJsonString()}"); }
        }

        static long AsLong(JsonNode n)
        {
            if (n.GetValueKind() != JsonValueKind.Number) throw new FormatException();
            var d = n.GetValue<double>();
            if (d != Math.Floor(d) || Math.Abs(d) > 9e15) throw new FormatException();
            return (long)d;
        }

        public long? OptLong(string key) => obj[key] is null ? null : Get(key, AsLong, "an integer");
        public long Long(string key, long fallback) => OptLong(key) ?? fallback;
        public int? OptInt(string key) => obj[key] is null ? null : Get(key, n => checked((int)AsLong(n)), "an integer");
        public int Int(string key, int fallback) => OptInt(key) ?? fallback;
        public double Double(string key, double fallback) => obj[key] is null ? fallback
            : Get(key, n => n.GetValueKind() == JsonValueKind.Number ? n.GetValue<double>() : throw new FormatException(), "a number");
        public double? OptDouble(string key) => obj[key] is null ? null : Double(key, 0);
        public bool Bool(string key, bool fallback) => obj[key] is null ? fallback
            : Get(key, n => n.GetValueKind() switch { JsonValueKind.True => true, JsonValueKind.False => false, _ => throw new FormatException() }, "true or false");
        public string? OptString(string key) => obj[key] is null ? null
            : Get(key, n => n.GetValueKind() == JsonValueKind.String ? n.GetValue<string>() : throw new FormatException(), "a string");
        public string String(string key, string fallback) => OptString(key) ?? fallback;
        public IReadOnlyList<int> IntOrList(string key)
        {
            var node = obj[key];
            if (node is null) return [];
            if (node is JsonArray arr) return arr.Select(x => x is null ? throw new ModelConfigException(file, key, "null in the list of ids") : Get(key, _ => checked((int)AsLong(x)), "an integer or a list of integers")).ToArray();
            return [Get(key, n => checked((int)AsLong(n)), "an integer or a list of integers")];
        }
    }
}
