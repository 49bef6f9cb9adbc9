using System.Text.RegularExpressions;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;

namespace Tunebook.Models.Gguf;

/// <summary>What <see cref="GgufExport.Save(CausalLM, string, GgufFileType, string?)"/> wrote.</summary>
public sealed record GgufExportResult(string Path, long Bytes, GgufFileType Type, long Parameters, double BitsPerWeight,
    IReadOnlyList<string> Warnings, string? ModelfilePath)
{
    /// <summary>One line for a notebook or a terminal: path, size, type, bits per weight.</summary>
    public override string ToString() =>
        $"wrote {Path}: {Bytes / 1e6:0.0} MB, {Type.Name()}, {BitsPerWeight:0.00} bits per weight ({Parameters / 1e6:0.0}M parameters)";
}

/// <summary>
/// A Hugging Face checkpoint as a GGUF file that llama.cpp (and Ollama, LM Studio) runs the same way
/// Tunebook does: the hyperparameters under llama.cpp's keys, the tensors under llama.cpp's names and
/// layouts, and the tokenizer. Follows what llama.cpp's convert_hf_to_gguf.py writes for the same models:
/// Llama, Mistral and SmolLM2 as "llama" (queries and keys permuted for llama.cpp's RoPE layout),
/// Qwen2 and Qwen3 as themselves (their RoPE already has the layout llama.cpp uses for them), GPT-2 as
/// "gpt2" (Conv1D weights transposed to linear layout), Gemma 3 as "gemma3" (norm weights stored as
/// 1 + weight), Phi-3/Phi-4-mini as "phi3" (fused projections kept fused, longrope factors as tensors),
/// SmolLM3 as "smollm3" (queries and keys permuted as for Llama).
/// </summary>
public static partial class GgufExport
{
    /// <summary>config.json architectures a GGUF export can express.</summary>
    public static readonly IReadOnlyList<string> SupportedArchitectures =
        ["LlamaForCausalLM", "MistralForCausalLM", "Qwen2ForCausalLM", "Qwen3ForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM", "SmolLM3ForCausalLM", "GPT2LMHeadModel"];

    /// <summary>Writes <paramref name="model"/> (with its tokenizer) to <paramref name="path"/>, and an Ollama Modelfile beside it.</summary>
    public static GgufExportResult Save(CausalLM model, string path, GgufFileType type = GgufFileType.Q8_0, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("GGUF export: the model has no tokenizer; llama.cpp needs one (load the model from a folder with tokenizer.json, or set model.Tokenizer)");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return Save(model.Config, tokenizer, model.CheckpointTensors(), path, type, name);
    }

    /// <summary>
    /// Writes a GGUF from a config, a tokenizer and checkpoint tensors under their Hugging Face names
    /// (tied lm_head left out), and an Ollama Modelfile beside it unless <paramref name="modelfile"/> is false.
    /// </summary>
    public static GgufExportResult Save(ModelConfig config, Tokenizer tokenizer, IReadOnlyDictionary<string, Tensor> weights, string path,
        GgufFileType type = GgufFileType.Q8_0, string? name = null, bool modelfile = true)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(path);
        var warnings = new List<string>();
        var arch = LlamaCppArchitecture(config, warnings);
        name = GgufModelName.Choose(name, path, tokenizer, config, warnings);
        var w = new GgufWriter();
        w.Add("general.architecture", arch);
        w.Add("general.name", name);
        w.Add("general.file_type", type.LlamaFileType());
        w.Add("general.quantization_version", 2u);
        AddHyperparameters(w, arch, config);
        GgufVocabulary.Add(w, tokenizer, config, warnings);

        long parameters = 0;
        foreach (var (hfName, tensor) in weights.OrderBy(kv => TensorOrder(kv.Key)).ThenBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (Ignored(hfName)) continue;
            var (ggufName, transform) = MapName(hfName, config)
                ?? throw new NotSupportedException($"GGUF export: no llama.cpp tensor for checkpoint tensor '{hfName}' of a {config.Architecture} model");
            var source = tensor;
            var shape = transform == Transform.Transpose ? [tensor.shape[1], tensor.shape[0]] : tensor.shape;
            Func<Tensor> produce = transform switch
            {
                Transform.None => () => source,
                Transform.AddOne => () => source.to(ScalarType.Float32) + 1.0,
                Transform.Transpose => () => source.t().contiguous(),
                Transform.PermuteQ => () => PermuteForRope(source, config.NumAttentionHeads),
                Transform.PermuteK => () => PermuteForRope(source, config.NumKeyValueHeads),
                _ => throw new InvalidOperationException(),
            };
            w.AddTensor(ggufName, shape, GgufTensorTypes.Choose(ggufName, shape, type, config), produce);
            parameters += source.numel();
        }
        if (config.RopeScaling?.Type == "llama3")
        {
            var factors = Llama3RopeFactors(config);
            w.AddTensor("rope_freqs.weight", [factors.Length], GgmlType.F32, () => torch.tensor(factors, [factors.Length]));
        }
        if (config.RopeScaling is { Type: "longrope" } longrope)
        {
            // llama.cpp divides each rotary frequency by these, the long set once its context exceeds
            // rope.scaling.original_context_length (convert_hf_to_gguf.py's Phi3MiniModel writes the same).
            var longFactors = longrope.LongFactor!.Select(f => (float)f).ToArray();
            var shortFactors = longrope.ShortFactor!.Select(f => (float)f).ToArray();
            w.AddTensor("rope_factors_long.weight", [longFactors.Length], GgmlType.F32, () => torch.tensor(longFactors, [longFactors.Length]));
            w.AddTensor("rope_factors_short.weight", [shortFactors.Length], GgmlType.F32, () => torch.tensor(shortFactors, [shortFactors.Length]));
        }
        CheckComplete(w, config);

        long bytes = w.Write(path);
        long tensorBits = 8 * w.Tensors.Where(t => !t.Name.StartsWith("rope_f", StringComparison.Ordinal)).Sum(t => t.Type.ByteCount(t.Shape.Aggregate(1L, (a, b) => a * b)));
        string? modelfilePath = modelfile ? OllamaModelfile.WriteBeside(path, tokenizer, config) : null;
        return new GgufExportResult(System.IO.Path.GetFullPath(path), bytes, type, parameters, parameters == 0 ? 0 : (double)tensorBits / parameters, warnings, modelfilePath);
    }

    /// <summary>llama.cpp's architecture name for the config; unsupported features are errors, approximations warnings.</summary>
    static string LlamaCppArchitecture(ModelConfig config, List<string> warnings)
    {
        var arch = config.Architecture switch
        {
            "LlamaForCausalLM" or "MistralForCausalLM" => "llama",
            "Qwen2ForCausalLM" => "qwen2",
            "Qwen3ForCausalLM" => "qwen3",
            "GPT2LMHeadModel" => "gpt2",
            "Gemma3ForCausalLM" => "gemma3",
            "Phi3ForCausalLM" => "phi3",
            "SmolLM3ForCausalLM" => "smollm3",
            _ => throw new NotSupportedException($"GGUF export: architecture {config.Architecture} cannot be written as GGUF here; supported: {string.Join(", ", SupportedArchitectures)}"),
        };
        if (config.IsGpt2)
        {
            if (config.ScaleAttnByInverseLayerIdx)
                throw new NotSupportedException("GGUF export: GPT-2 with scale_attn_by_inverse_layer_idx has no llama.cpp equivalent");
            if (config.HiddenAct is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu_fast"))
                warnings.Add($"GPT-2 activation '{config.HiddenAct}': llama.cpp computes the tanh approximation of GELU (gelu_new), so outputs will differ slightly");
            return arch;
        }
        if (arch == "qwen3" && config.AttentionBias)
            throw new NotSupportedException("GGUF export: llama.cpp's qwen3 has no attention biases (config attention_bias is true)");
        if (arch != "llama" && config.MlpBias)
            throw new NotSupportedException($"GGUF export: llama.cpp's {arch} has no MLP biases (config mlp_bias is true)");
        if (arch == "gemma3") CheckGemma3(config);
        if (arch == "phi3" && config.HeadDim * config.NumAttentionHeads != config.HiddenSize)
            throw new NotSupportedException($"GGUF export: llama.cpp's phi3 takes head_dim = hidden_size / num_attention_heads ({config.HiddenSize / config.NumAttentionHeads}), the config has {config.HeadDim}");
        if (arch == "smollm3")
        {
            // llama.cpp leaves RoPE out of every fourth layer (n_no_rope_layer_step = 4), whatever the config says.
            var expected = Enumerable.Range(0, config.NumHiddenLayers).Select(i => (i + 1) % 4 != 0);
            if (!Enumerable.Range(0, config.NumHiddenLayers).Select(config.UsesRope).SequenceEqual(expected))
                throw new NotSupportedException("GGUF export: llama.cpp's smollm3 skips RoPE on every fourth layer (3, 7, 11, ...); this config's no_rope_layers differ");
        }
        switch (config.RopeScaling?.Type)
        {
            case null or "linear": break;
            case "llama3" when arch == "llama": break;
            case "longrope" when arch == "phi3": break;
            case "dynamic":
                warnings.Add("rope scaling 'dynamic': llama.cpp has no dynamic NTK scaling and uses plain RoPE; the same as Tunebook up to max_position_embeddings, different beyond");
                break;
            default:
                throw new NotSupportedException($"GGUF export: rope scaling '{config.RopeScaling.Type}' cannot be expressed for llama.cpp's {arch}");
        }
        if (arch != "gemma3" && config.SlidingWindow is { } window && window < config.MaxPositionEmbeddings)
            warnings.Add($"sliding_window {window} is shorter than max_position_embeddings {config.MaxPositionEmbeddings}: llama.cpp runs this model as {arch} with full attention, " +
                         $"so prompts longer than {window} tokens get other outputs than in Tunebook (as with llama.cpp's own converter)");
        return arch;
    }

    /// <summary>
    /// llama.cpp's gemma3 fixes what transformers reads from the config: five local layers then one
    /// global (sliding_window_pattern 6), local RoPE base 10 000, scores scaled by 1/√head_dim (by
    /// 1/√(hidden/heads) for the 62-layer 27B), no soft-capping. A config that differs cannot be expressed.
    /// </summary>
    static void CheckGemma3(ModelConfig c)
    {
        var pattern = Enumerable.Range(0, c.NumHiddenLayers).Select(i => (i + 1) % 6 != 0 ? "sliding_attention" : "full_attention");
        if (!c.LayerTypes!.SequenceEqual(pattern))
            throw new NotSupportedException("GGUF export: llama.cpp's gemma3 alternates five sliding-window layers and one global layer; this config's layer_types differ");
        if (c.RopeLocalTheta is { } local && local != 10000.0)
            throw new NotSupportedException($"GGUF export: llama.cpp's gemma3 rotates its sliding-window layers with base 10000; the config's rope_local_base_freq is {local}");
        double expected = c.NumHiddenLayers == 62 ? (double)c.HiddenSize / c.NumAttentionHeads : c.HeadDim;
        if (c.QueryPreAttnScalar is { } scalar && scalar != expected)
            throw new NotSupportedException($"GGUF export: llama.cpp's gemma3 scales attention scores by 1/√{expected}; the config's query_pre_attn_scalar is {scalar}");
        if (c.AttnLogitSoftcapping is not null || c.FinalLogitSoftcapping is not null)
            throw new NotSupportedException("GGUF export: llama.cpp's gemma3 has no logit soft-capping (attn_logit_softcapping / final_logit_softcapping are set)");
    }

    static void AddHyperparameters(GgufWriter w, string arch, ModelConfig c)
    {
        w.Add($"{arch}.context_length", (uint)c.MaxPositionEmbeddings);
        w.Add($"{arch}.embedding_length", (uint)c.HiddenSize);
        w.Add($"{arch}.block_count", (uint)c.NumHiddenLayers);
        w.Add($"{arch}.feed_forward_length", (uint)c.IntermediateSize);
        w.Add($"{arch}.attention.head_count", (uint)c.NumAttentionHeads);
        if (c.IsGpt2)
        {
            w.Add($"{arch}.attention.layer_norm_epsilon", (float)c.NormEps);
            return;
        }
        w.Add($"{arch}.attention.head_count_kv", (uint)c.NumKeyValueHeads);
        w.Add($"{arch}.attention.layer_norm_rms_epsilon", (float)c.NormEps);
        w.Add($"{arch}.attention.key_length", (uint)c.HeadDim);
        w.Add($"{arch}.attention.value_length", (uint)c.HeadDim);
        w.Add($"{arch}.rope.freq_base", (float)c.RopeTheta);
        w.Add($"{arch}.rope.dimension_count", (uint)c.RotaryDim);
        if (arch == "llama") w.Add($"{arch}.vocab_size", (uint)c.VocabSize);
        if (arch == "gemma3") w.Add($"{arch}.attention.sliding_window", (uint)c.SlidingWindow!.Value);
        if (arch == "phi3")
        {
            // The converter writes 0 when there is no window; llama.cpp currently runs Phi-3 without one either way.
            w.Add($"{arch}.attention.sliding_window", (uint)(c.SlidingWindow ?? 0));
            long original = c.OriginalMaxPositionEmbeddings ?? c.MaxPositionEmbeddings;
            w.Add($"{arch}.rope.scaling.original_context_length", (uint)original);
            if (c.RopeScaling is { Type: "longrope" } longrope)
            {
                double factor = c.OriginalMaxPositionEmbeddings is { } o ? (double)c.MaxPositionEmbeddings / o : longrope.Factor;
                double attention = longrope.AttentionFactor ?? (factor <= 1 ? 1.0 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(original)));
                w.Add($"{arch}.rope.scaling.attn_factor", (float)attention);
            }
        }
        if (c.RopeScaling is { Type: "linear" } linear)
        {
            w.Add($"{arch}.rope.scaling.type", "linear");
            w.Add($"{arch}.rope.scaling.factor", (float)linear.Factor);
        }
    }

    /// <summary>
    /// llama3 rope scaling as llama.cpp takes it: a per-frequency divisor in the tensor rope_freqs.weight
    /// (convert_hf_to_gguf.py computes the same): 1 for short wavelengths, factor for long ones, a blend between.
    /// </summary>
    internal static float[] Llama3RopeFactors(ModelConfig c)
    {
        var s = c.RopeScaling!;
        long dim = c.HeadDim;
        double old = s.OriginalMaxPositionEmbeddings!.Value;
        double lowWavelen = old / s.LowFreqFactor, highWavelen = old / s.HighFreqFactor;
        var factors = new float[dim / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            // The frequency in float32, as transformers and the converter compute it.
            double freq = 1f / MathF.Pow((float)c.RopeTheta, (float)(2 * i) / dim);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) factors[i] = 1;
            else if (wavelen > lowWavelen) factors[i] = (float)s.Factor;
            else
            {
                double smooth = (old / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                factors[i] = (float)(1 / ((1 - smooth) / s.Factor + smooth));
            }
        }
        return factors;
    }

    enum Transform { None, Transpose, PermuteQ, PermuteK, AddOne }

    static bool Ignored(string name) =>
        name.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal) || name.EndsWith(".attn.bias", StringComparison.Ordinal) && name.StartsWith("transformer.h.")
        || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal);

    /// <summary>Hugging Face checkpoint name → llama.cpp tensor name and the change of layout it needs.</summary>
    static (string Name, Transform Transform)? MapName(string name, ModelConfig c)
    {
        if (c.IsGpt2)
        {
            switch (name)
            {
                case "transformer.wte.weight": return ("token_embd.weight", Transform.None);
                case "transformer.wpe.weight": return ("position_embd.weight", Transform.None);
                case "transformer.ln_f.weight": return ("output_norm.weight", Transform.None);
                case "transformer.ln_f.bias": return ("output_norm.bias", Transform.None);
                case "lm_head.weight": return ("output.weight", Transform.None);
            }
            var m = Gpt2Layer().Match(name);
            if (!m.Success) return null;
            var (module, param) = (m.Groups[2].Value, m.Groups[3].Value);
            string? target = module switch
            {
                "ln_1" => "attn_norm", "attn.c_attn" => "attn_qkv", "attn.c_proj" => "attn_output",
                "ln_2" => "ffn_norm", "mlp.c_fc" => "ffn_up", "mlp.c_proj" => "ffn_down", _ => null,
            };
            if (target is null) return null;
            // Conv1D keeps weights as [in, out]; llama.cpp multiplies by [out, in] like a linear layer.
            var transform = param == "weight" && module.Contains("c_") ? Transform.Transpose : Transform.None;
            return ($"blk.{m.Groups[1].Value}.{target}.{param}", transform);
        }

        // Gemma's norms multiply by (1 + weight); llama.cpp multiplies by the stored weight, so the converter adds 1.
        var norm = c.ModelType == "gemma3_text" ? Transform.AddOne : Transform.None;
        switch (name)
        {
            case "model.embed_tokens.weight": return ("token_embd.weight", Transform.None);
            case "model.norm.weight": return ("output_norm.weight", norm);
            case "lm_head.weight": return ("output.weight", Transform.None);
        }
        var l = LlamaLayer().Match(name);
        if (!l.Success) return null;
        var (part, kind) = (l.Groups[2].Value, l.Groups[3].Value);
        // llama.cpp rotates Llama-family heads as interleaved pairs (x0,x1),(x2,x3)...; Hugging Face
        // checkpoints rotate the two halves of each head: the converter reorders the rows of the
        // query and key projections so that llama.cpp's rotation meets the same values.
        bool permute = c.ModelType is "llama" or "mistral" or "smollm3";
        (string, Transform)? Map(string target, Transform t = Transform.None) => ($"blk.{l.Groups[1].Value}.{target}.{kind}", t);
        if (c.ModelType == "gemma3_text")
            return part switch
            {
                "input_layernorm" => Map("attn_norm", norm),
                "post_attention_layernorm" => Map("post_attention_norm", norm),
                "pre_feedforward_layernorm" => Map("ffn_norm", norm),
                "post_feedforward_layernorm" => Map("post_ffw_norm", norm),
                "self_attn.q_norm" => Map("attn_q_norm", norm),
                "self_attn.k_norm" => Map("attn_k_norm", norm),
                "self_attn.q_proj" => Map("attn_q"),
                "self_attn.k_proj" => Map("attn_k"),
                "self_attn.v_proj" => Map("attn_v"),
                "self_attn.o_proj" => Map("attn_output"),
                "mlp.gate_proj" => Map("ffn_gate"),
                "mlp.up_proj" => Map("ffn_up"),
                "mlp.down_proj" => Map("ffn_down"),
                _ => null,
            };
        return part switch
        {
            "self_attn.qkv_proj" => Map("attn_qkv"),    // Phi-3: llama.cpp splits the fused projection itself
            "mlp.gate_up_proj" => Map("ffn_up"),        // Phi-3: gate and up stacked, as llama.cpp's phi3 expects
            "input_layernorm" => Map("attn_norm"),
            "self_attn.q_proj" => Map("attn_q", permute ? Transform.PermuteQ : Transform.None),
            "self_attn.k_proj" => Map("attn_k", permute ? Transform.PermuteK : Transform.None),
            "self_attn.v_proj" => Map("attn_v"),
            "self_attn.o_proj" => Map("attn_output"),
            "self_attn.q_norm" => Map("attn_q_norm"),
            "self_attn.k_norm" => Map("attn_k_norm"),
            "post_attention_layernorm" => Map("ffn_norm"),
            "mlp.gate_proj" => Map("ffn_gate"),
            "mlp.up_proj" => Map("ffn_up"),
            "mlp.down_proj" => Map("ffn_down"),
            _ => null,
        };
    }

    /// <summary>convert_hf_to_gguf.py's LlamaModel.permute: within each head, rows (first half, second half) → interleaved pairs.</summary>
    internal static Tensor PermuteForRope(Tensor w, long heads)
    {
        var shape = w.shape;
        var rest = shape.Skip(1).ToArray();
        return w.reshape([heads, 2, shape[0] / heads / 2, .. rest]).transpose(1, 2).reshape(shape).contiguous();
    }

    static int TensorOrder(string name) =>
        name.Contains("embed_tokens") || name.Contains(".wte.") || name.Contains(".wpe.") ? 0
        : name.Contains(".layers.") || name.Contains(".h.") ? 1 : 2;

    static void CheckComplete(GgufWriter w, ModelConfig c)
    {
        var names = w.Tensors.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var required = new List<string> { "token_embd.weight", "output_norm.weight" };
        if (!c.TieWordEmbeddings) required.Add("output.weight");
        if (c.IsGpt2) required.Add("position_embd.weight");
        for (int i = 0; i < c.NumHiddenLayers; i++)
            required.AddRange(c.IsGpt2
                ? [$"blk.{i}.attn_norm.weight", $"blk.{i}.attn_qkv.weight", $"blk.{i}.attn_output.weight", $"blk.{i}.ffn_norm.weight", $"blk.{i}.ffn_up.weight", $"blk.{i}.ffn_down.weight"]
                : c.ModelType == "phi3"
                ? [$"blk.{i}.attn_norm.weight", $"blk.{i}.attn_qkv.weight", $"blk.{i}.attn_output.weight", $"blk.{i}.ffn_norm.weight", $"blk.{i}.ffn_up.weight", $"blk.{i}.ffn_down.weight"]
                : c.ModelType == "gemma3_text"
                ? [$"blk.{i}.attn_norm.weight", $"blk.{i}.attn_q.weight", $"blk.{i}.attn_k.weight", $"blk.{i}.attn_v.weight", $"blk.{i}.attn_output.weight",
                   $"blk.{i}.attn_q_norm.weight", $"blk.{i}.attn_k_norm.weight", $"blk.{i}.post_attention_norm.weight",
                   $"blk.{i}.ffn_norm.weight", $"blk.{i}.ffn_gate.weight", $"blk.{i}.ffn_up.weight", $"blk.{i}.ffn_down.weight", $"blk.{i}.post_ffw_norm.weight"]
                : [$"blk.{i}.attn_norm.weight", $"blk.{i}.attn_q.weight", $"blk.{i}.attn_k.weight", $"blk.{i}.attn_v.weight", $"blk.{i}.attn_output.weight",
                   $"blk.{i}.ffn_norm.weight", $"blk.{i}.ffn_gate.weight", $"blk.{i}.ffn_up.weight", $"blk.{i}.ffn_down.weight"]);
        var missing = required.Where(r => !names.Contains(r)).ToList();
        if (missing.Count > 0)
            throw new InvalidDataException($"GGUF export: the checkpoint lacks tensors llama.cpp needs: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? $" and {missing.Count - 5} more" : "")}");
    }

    [GeneratedRegex(@"^transformer\.h\.(\d+)\.(ln_1|ln_2|attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.(weight|bias)$")]
    private static partial Regex Gpt2Layer();

    [GeneratedRegex(@"^model\.layers\.(\d+)\.(.+)\.(weight|bias)$")]
    private static partial Regex LlamaLayer();
}
