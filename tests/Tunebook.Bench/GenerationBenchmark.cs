using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Bench;

/// <summary>
/// Generation benchmark: greedy decoding tokens/s of a fixed small Llama on the CPU, with and without
/// the KV cache. The model is saved to a folder so tests/bench/generation_reference.py can run the
/// same loop in PyTorch; tests/bench/generation.sh prints the ratios.
/// </summary>
public static class GenerationBenchmark
{
    public const int PromptTokens = 32, NewTokens = 64;

    public static JsonObject Config() => new()
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = 4096,
        ["hidden_size"] = 256,
        ["intermediate_size"] = 688,
        ["num_hidden_layers"] = 4,
        ["num_attention_heads"] = 8,
        ["num_key_value_heads"] = 4,
        ["max_position_embeddings"] = 512,
        ["rms_norm_eps"] = 1e-5,
        ["rope_theta"] = 10000.0,
        ["tie_word_embeddings"] = true,
        ["torch_dtype"] = "float32",
    };

    /// <param name="args">[model folder to write]</param>
    public static int Run(string[] args)
    {
        var folder = args.Length > 0 ? args[0] : Path.Combine(Path.GetTempPath(), "tunebook-generation-bench");
        torch.manual_seed(0);
        using var model = CausalLM.FromConfig(ModelConfig.FromJson(Config()));
        model.eval();
        model.SavePretrained(folder);
        var prompt = Enumerable.Range(0, PromptTokens).Select(i => (i * 37 + 11) % 4096).ToArray();
        var config = new { hidden = 256, layers = 4, heads = 8, kv_heads = 4, vocab = 4096, prompt = PromptTokens, new_tokens = NewTokens, dtype = "float32", device = "cpu", threads = torch.get_num_threads() };

        foreach (var useCache in new[] { true, false })
        {
            var options = new GenerationOptions { MaxNewTokens = NewTokens, EosTokenIds = [], UseCache = useCache };
            model.Generate([prompt], options with { MaxNewTokens = 4 }); // warm-up
            var runs = new List<double>();
            IReadOnlyList<int>? tokens = null;
            for (int r = 0; r < 3; r++)
            {
                var clock = Stopwatch.StartNew();
                var result = model.Generate([prompt], options);
                runs.Add(NewTokens / clock.Elapsed.TotalSeconds);
                tokens = result.Sequences[0].TokenIds;
            }
            runs.Sort();
            Emit(useCache ? "greedy_tokens_per_s_kv_cache" : "greedy_tokens_per_s_no_cache", runs[1], "tok/s", config, tokens!);
        }
        return 0;
    }

    static void Emit(string metric, double value, string unit, object config, IReadOnlyList<int> tokens) =>
        Console.WriteLine(JsonSerializer.Serialize(new { impl = "tunebook", metric, value = Math.Round(value, 2), unit, config, tokens_head = tokens.Take(8) }));
}
