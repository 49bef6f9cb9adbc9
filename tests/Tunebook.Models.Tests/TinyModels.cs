using System.Diagnostics;
using System.Reflection;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

/// <summary>Tiny randomly initialised configs of every supported architecture, and temp folders.</summary>
public static class TinyModels
{
    public static string RepoRoot { get; } = typeof(TinyModels).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    /// <summary>Names used as xunit theory data.</summary>
    public static TheoryData<string> All => new() { "llama", "llama3-rope", "llama-linear-rope", "llama-dynamic-rope", "qwen2-bias", "qwen3-qknorm", "mistral-window", "gemma3", "gemma3-softcap", "phi3-window", "phi4-longrope", "smollm3", "smollm3-window", "gpt2" };

    public static JsonObject Json(string kind)
    {
        JsonObject llama() => new()
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = 97,
            ["hidden_size"] = 32,
            ["intermediate_size"] = 48,
            ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4,
            ["num_key_value_heads"] = 2,
            ["max_position_embeddings"] = 128,
            ["rms_norm_eps"] = 1e-6,
            ["rope_theta"] = 10000.0,
            ["tie_word_embeddings"] = false,
            ["initializer_range"] = 0.1,
            ["bos_token_id"] = 1,
            ["eos_token_id"] = 2,
            ["torch_dtype"] = "float32",
            ["some_unknown_field"] = new JsonObject { ["kept"] = true },
        };
        var j = llama();
        switch (kind)
        {
            case "llama":
                j["tie_word_embeddings"] = true;
                break;
            case "llama3-rope":
                j["rope_theta"] = 500000.0;
                j["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 16 };
                j["eos_token_id"] = new JsonArray(2, 3);
                break;
            case "llama-linear-rope":
                j["rope_scaling"] = new JsonObject { ["type"] = "linear", ["factor"] = 2.0 };
                break;
            case "llama-dynamic-rope":
                j["max_position_embeddings"] = 16; // the 24-token tests go past it
                j["rope_scaling"] = new JsonObject { ["rope_type"] = "dynamic", ["factor"] = 2.0 };
                break;
            case "qwen2-bias":
                j["architectures"] = new JsonArray("Qwen2ForCausalLM");
                j["model_type"] = "qwen2";
                j["rope_theta"] = 1000000.0;
                j["use_sliding_window"] = false;
                j["sliding_window"] = 4;
                break;
            case "qwen3-qknorm":
                j["architectures"] = new JsonArray("Qwen3ForCausalLM");
                j["model_type"] = "qwen3";
                j["head_dim"] = 16; // wider than hidden / heads, as in real Qwen3 models
                j["tie_word_embeddings"] = true;
                break;
            case "mistral-window":
                j["architectures"] = new JsonArray("MistralForCausalLM");
                j["model_type"] = "mistral";
                j["sliding_window"] = 4;
                break;
            case "gemma3":
                // head_dim ≠ hidden / heads, query_pre_attn_scalar ≠ head_dim, local RoPE base ≠ global,
                // linear scaling on global layers only, and a window shorter than the tests' sequences.
                j["architectures"] = new JsonArray("Gemma3ForCausalLM");
                j["model_type"] = "gemma3_text";
                j["head_dim"] = 16;
                j["num_hidden_layers"] = 3;
                j["hidden_activation"] = "gelu_pytorch_tanh";
                j["query_pre_attn_scalar"] = 24;
                j["rope_theta"] = 1000000.0;
                j["rope_local_base_freq"] = 100.0;
                j["rope_scaling"] = new JsonObject { ["rope_type"] = "linear", ["factor"] = 2.0 };
                j["sliding_window"] = 4;
                j["layer_types"] = new JsonArray("sliding_attention", "full_attention", "sliding_attention");
                j["tie_word_embeddings"] = true;
                break;
            case "gemma3-softcap":
                // Layer types from sliding_window_pattern (local, global, local), both soft caps set.
                j["architectures"] = new JsonArray("Gemma3ForCausalLM");
                j["model_type"] = "gemma3_text";
                j["head_dim"] = 8;
                j["num_hidden_layers"] = 3;
                j["query_pre_attn_scalar"] = 8;
                j["sliding_window"] = 5;
                j["sliding_window_pattern"] = 2;
                j["attn_logit_softcapping"] = 2.0;
                j["final_logit_softcapping"] = 3.0;
                j["tie_word_embeddings"] = true;
                break;
            case "phi3-window":
                j["architectures"] = new JsonArray("Phi3ForCausalLM");
                j["model_type"] = "phi3";
                j["sliding_window"] = 6;
                j["rms_norm_eps"] = 1e-5;
                break;
            case "phi4-longrope":
                // Phi-4-mini's shape: partial rotary (6 of 8 channels), longrope with the pretraining
                // length (16) shorter than the 24-token tests, so that both factor sets are used.
                j["architectures"] = new JsonArray("Phi3ForCausalLM");
                j["model_type"] = "phi3";
                j["partial_rotary_factor"] = 0.75;
                j["original_max_position_embeddings"] = 16;
                j["max_position_embeddings"] = 128;
                j["rope_scaling"] = new JsonObject
                {
                    ["type"] = "longrope",
                    ["short_factor"] = new JsonArray(1.0, 1.25, 1.5),
                    ["long_factor"] = new JsonArray(1.0, 4.0, 16.0),
                };
                j["tie_word_embeddings"] = true;
                break;
            case "smollm3":
                j["architectures"] = new JsonArray("SmolLM3ForCausalLM");
                j["model_type"] = "smollm3";
                j["num_hidden_layers"] = 4; // layer 3 has no RoPE (no_rope_layer_interval 4)
                j["rope_theta"] = 2000000.0;
                j["tie_word_embeddings"] = true;
                break;
            case "smollm3-window":
                j["architectures"] = new JsonArray("SmolLM3ForCausalLM");
                j["model_type"] = "smollm3";
                j["num_hidden_layers"] = 3;
                j["no_rope_layers"] = new JsonArray(1, 0, 1);
                j["use_sliding_window"] = true;
                j["sliding_window"] = 4;
                break;
            case "gpt2":
                j = new JsonObject
                {
                    ["architectures"] = new JsonArray("GPT2LMHeadModel"),
                    ["model_type"] = "gpt2",
                    ["vocab_size"] = 97,
                    ["n_embd"] = 32,
                    ["n_layer"] = 2,
                    ["n_head"] = 4,
                    ["n_positions"] = 64,
                    ["n_ctx"] = 64,
                    ["activation_function"] = "gelu_new",
                    ["layer_norm_epsilon"] = 1e-5,
                    ["initializer_range"] = 0.1,
                    ["bos_token_id"] = 1,
                    ["eos_token_id"] = 2,
                    ["some_unknown_field"] = 7,
                };
                break;
            default: throw new ArgumentException(kind);
        }
        return j;
    }

    public static ModelConfig Config(string kind) => ModelConfig.FromJson(Json(kind));

    /// <summary>A seeded random model of the kind; LayerNorm/RMSNorm weights are perturbed so they matter.</summary>
    public static CausalLM Create(string kind, long seed = 1)
    {
        torch.manual_seed(seed);
        var model = CausalLM.FromConfig(Config(kind));
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.Contains("norm") || name.Contains("ln_"))
                p.add_(torch.randn(p.shape) * 0.1);
        model.eval();
        return model;
    }

    /// <summary>A deterministic token sequence in the tiny vocabularies (ids below 97).</summary>
    public static long[] Sequence(int length, int seed) => Enumerable.Range(0, length).Select(i => (long)((i * 31 + seed * 17 + 3) % 97)).ToArray();

    public static Tensor Ids(long[][] rows) =>
        torch.tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
}

/// <summary>A temporary folder removed on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "tunebook-models-" + Guid.NewGuid().ToString("N")[..12]);
    public TempFolder() => Directory.CreateDirectory(Path);
    public string this[string name] => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}

/// <summary>Runs tests/Tunebook.Models.Tests/reference/hf_reference.py with /usr/bin/python3 (python3-torch).</summary>
public static class PythonReference
{
    public static string Script => System.IO.Path.Combine(TinyModels.RepoRoot, "tests", "Tunebook.Models.Tests", "reference", "hf_reference.py");

    /// <summary>Logits [B, T, V] float32 computed by the reference for the model saved in <paramref name="folder"/>.</summary>
    public static Tensor Logits(string folder, long[][] ids, long[][]? mask = null, string? dtype = null)
    {
        using var work = new TempFolder();
        var input = new JsonObject
        {
            ["input_ids"] = new JsonArray(ids.Select(r => (JsonNode)new JsonArray(r.Select(x => (JsonNode)x).ToArray())).ToArray()),
        };
        if (mask is not null) input["attention_mask"] = new JsonArray(mask.Select(r => (JsonNode)new JsonArray(r.Select(x => (JsonNode)x).ToArray())).ToArray());
        if (dtype is not null) input["dtype"] = dtype;
        File.WriteAllText(work["input.json"], input.ToJsonString());
        var output = work["logits.safetensors"];
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Script, folder, work["input.json"], output }) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start /usr/bin/python3");
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"python reference failed ({process.ExitCode}); python3-torch must be installed (scripts/setup-deps.sh):\n{stderr.Result}");
        var tensors = Safetensors.Load(output);
        return tensors["logits"];
    }
}
