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

    /// <summary>SmolLM2-135M's shapes (../shared/bench/lora-cpu-smollm2-135m.json), random weights.</summary>
    public static JsonObject Smol135MConfig(string sharedConfig)
    {
        var model = JsonNode.Parse(File.ReadAllText(sharedConfig))!["model"]!.AsObject();
        return new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["vocab_size"] = model["vocab_size"]!.GetValue<int>(),
            ["hidden_size"] = model["hidden_size"]!.GetValue<int>(),
            ["intermediate_size"] = model["intermediate_size"]!.GetValue<int>(),
            ["num_hidden_layers"] = model["num_hidden_layers"]!.GetValue<int>(),
            ["num_attention_heads"] = model["num_attention_heads"]!.GetValue<int>(),
            ["num_key_value_heads"] = model["num_key_value_heads"]!.GetValue<int>(),
            ["max_position_embeddings"] = 2048,
            ["rms_norm_eps"] = model["rms_norm_eps"]!.GetValue<double>(),
            ["rope_theta"] = model["rope_theta"]!.GetValue<double>(),
            ["tie_word_embeddings"] = model["tie_word_embeddings"]!.GetValue<bool>(),
            ["torch_dtype"] = "float32",
        };
    }

    /// <summary>Questions of the batched row: as many as a held-out set in notebook 01, of different lengths.</summary>
    public const int Questions = 12, AnswerTokens = 48;

    /// <param name="args">[model folder to write] [135M model folder to write] [path of lora-cpu-smollm2-135m.json]</param>
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
            var (rate, tokens) = Greedy(model, prompt, options);
            Emit(useCache ? "greedy_tokens_per_s_kv_cache" : "greedy_tokens_per_s_no_cache", rate, "tok/s", config, tokens);
        }
        Batched(model, config);

        if (args.Length > 2)
        {
            torch.manual_seed(0);
            using var smol = CausalLM.FromConfig(ModelConfig.FromJson(Smol135MConfig(args[2])));
            smol.eval();
            smol.SavePretrained(args[1]);
            var smolConfig = new { shapes = "lora-cpu-smollm2-135m", prompt = PromptTokens, new_tokens = SmolNewTokens, dtype = "float32", device = "cpu", threads = torch.get_num_threads() };
            var (rate, tokens) = Greedy(smol, prompt, new GenerationOptions { MaxNewTokens = SmolNewTokens, EosTokenIds = [] });
            Emit("smollm2_135m_greedy_tokens_per_s_kv_cache", rate, "tok/s", smolConfig, tokens);
        }
        return 0;
    }

    /// <summary>New tokens of the 135M row (fewer: each costs ~50× the small model's).</summary>
    public const int SmolNewTokens = 32;

    /// <summary>Median tokens/s of three greedy runs (after a warm-up) and the tokens of the last.</summary>
    static (double Rate, IReadOnlyList<int> Tokens) Greedy(CausalLM model, int[] prompt, GenerationOptions options)
    {
        model.Generate([prompt], options with { MaxNewTokens = 4 }); // warm-up
        var runs = new List<double>();
        IReadOnlyList<int>? tokens = null;
        for (int r = 0; r < 3; r++)
        {
            var clock = Stopwatch.StartNew();
            var result = model.Generate([prompt], options);
            runs.Add(result.GeneratedTokens / clock.Elapsed.TotalSeconds);
            tokens = result.Sequences[0].TokenIds;
        }
        runs.Sort();
        return (runs[1], tokens!);
    }

    /// <summary>
    /// What Tune.Compare does for one side of the table: 12 questions of 12–40 tokens, 48 greedy tokens
    /// each, answered one by one and as one left-padded batch. Both rows count the same tokens, so the
    /// ratio of the two is the speed-up of batching; the answers must be the same.
    /// </summary>
    static void Batched(CausalLM model, object config)
    {
        var questions = Enumerable.Range(0, Questions)
            .Select(q => Enumerable.Range(0, 12 + (q * 7) % 29).Select(i => (i * 53 + q * 101 + 7) % 4096).ToArray()).ToArray();
        var options = new GenerationOptions { MaxNewTokens = AnswerTokens, EosTokenIds = [] };
        model.Generate(questions.Take(2).ToArray(), options with { MaxNewTokens = 4 }); // warm-up
        double OneByOne(out int[][] answers)
        {
            var clock = Stopwatch.StartNew();
            answers = questions.Select(q => model.Generate([q], options).Sequences[0].TokenIds.ToArray()).ToArray();
            return answers.Sum(a => a.Length) / clock.Elapsed.TotalSeconds;
        }
        double Batch(out int[][] answers)
        {
            var clock = Stopwatch.StartNew();
            answers = model.Generate(questions, options).Sequences.Select(s => s.TokenIds.ToArray()).ToArray();
            return answers.Sum(a => a.Length) / clock.Elapsed.TotalSeconds;
        }
        var single = new List<double>(); var batched = new List<double>();
        int[][] a1 = [], a2 = [];
        for (int r = 0; r < 3; r++) { single.Add(OneByOne(out a1)); batched.Add(Batch(out a2)); }
        single.Sort(); batched.Sort();
        bool same = a1.Zip(a2).All(p => p.First.SequenceEqual(p.Second));
        var batchConfig = new { questions = Questions, prompt_tokens = "12-40", new_tokens = AnswerTokens, same_answers = same, threads = torch.get_num_threads() };
        Emit("compare_12_questions_one_by_one", single[1], "tok/s", batchConfig, a1[0]);
        Emit("compare_12_questions_batched", batched[1], "tok/s", batchConfig, a2[0]);
    }

    static void Emit(string metric, double value, string unit, object config, IReadOnlyList<int> tokens) =>
        Console.WriteLine(JsonSerializer.Serialize(new { impl = "tunebook", metric, value = Math.Round(value, 2), unit, config, tokens_head = tokens.Take(8) }));
}
