using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Tests.Starter;
using Xunit.Abstractions;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>
/// llama.cpp, an independent implementation of the same architectures, runs the GGUF files Tunebook
/// writes: its next-token distributions must equal Tunebook's at every position of several prompts,
/// and its greedy continuations Tunebook's. Tiny random checkpoints of every architecture carry the
/// starter tokenizer, so that llama.cpp has a real vocabulary.
/// </summary>
[Collection(TorchCollection.Name)]
public class GgufParityTests(ITestOutputHelper output, GgufParityTests.ArchitectureExports architectures, GgufParityTests.StarterExports starter)
    : IClassFixture<GgufParityTests.ArchitectureExports>, IClassFixture<GgufParityTests.StarterExports>
{
    static readonly string StarterFolder = StarterTestSupport.Datasets("starter");
    static readonly Tokenizer StarterTokenizer = Tokenizer.FromFolder(StarterFolder);

    static readonly string[] PromptTexts =
    [
        "<|im_start|>user\nHow do I list the zones of my garden?<|im_end|>\n<|im_start|>assistant\n",
        "Run `puddle schedule add berries --at 18:30` to water twice a day.",
        "The quick brown fox jumps over the lazy dog, 1234567 times!",
        "def water(zone):\n    return zone.valve.open(minutes=12)\n",
        "Ünïcödé, 日本語のテキスト, and emoji 🌱🌧 in one line.",
    ];

    static long[][] Prompts(Tokenizer tokenizer) =>
        PromptTexts.Select(t => tokenizer.EncodeToIds(t, addSpecialTokens: false).Select(i => (long)i).ToArray()).ToArray();

    static JsonObject TinyJson(string kind)
    {
        var j = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama",
            ["vocab_size"] = 4096, ["hidden_size"] = 64, ["intermediate_size"] = 96, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 256,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = false,
            ["initializer_range"] = 0.2, ["bos_token_id"] = 0, ["eos_token_id"] = 2, ["torch_dtype"] = "float32",
        };
        switch (kind)
        {
            case "llama-gqa-llama3-rope":
                j["rope_theta"] = 500000.0;
                j["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0, ["original_max_position_embeddings"] = 32 };
                break;
            case "qwen2-bias":
                j["architectures"] = new JsonArray("Qwen2ForCausalLM"); j["model_type"] = "qwen2"; j["rope_theta"] = 1000000.0;
                break;
            case "qwen3-qknorm":
                j["architectures"] = new JsonArray("Qwen3ForCausalLM"); j["model_type"] = "qwen3";
                j["head_dim"] = 32; j["tie_word_embeddings"] = true;
                break;
            case "mistral":
                j["architectures"] = new JsonArray("MistralForCausalLM"); j["model_type"] = "mistral";
                j["sliding_window"] = 128; // longer than every prompt: llama.cpp attends to everything
                break;
            case "gpt2":
                j = new JsonObject
                {
                    ["architectures"] = new JsonArray("GPT2LMHeadModel"), ["model_type"] = "gpt2",
                    ["vocab_size"] = 4096, ["n_embd"] = 64, ["n_layer"] = 2, ["n_head"] = 4, ["n_positions"] = 256,
                    ["activation_function"] = "gelu_new", ["layer_norm_epsilon"] = 1e-5, ["initializer_range"] = 0.2,
                    ["bos_token_id"] = 0, ["eos_token_id"] = 2,
                };
                break;
            default: throw new ArgumentException(kind);
        }
        return j;
    }

    /// <summary>A seeded random model whose norms and biases are perturbed, so that a mix-up of any of them shows.</summary>
    static CausalLM Tiny(string kind)
    {
        torch.manual_seed(7);
        var model = CausalLM.FromConfig(ModelConfig.FromJson(TinyJson(kind)));
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.Contains("norm") || name.Contains("ln_") || name.EndsWith(".bias")) p.add_(torch.randn(p.shape) * 0.2);
        model.Tokenizer = StarterTokenizer;
        model.eval();
        return model;
    }

    static readonly string[] Kinds = ["llama-gqa-llama3-rope", "qwen2-bias", "qwen3-qknorm", "mistral", "gpt2"];

    public static TheoryData<string> Architectures => new(Kinds);

    [LlamaCppTheory]
    [MemberData(nameof(Architectures))]
    public void F32_export_gives_llama_cpp_the_same_distributions_and_greedy_continuations(string kind)
    {
        var (result, stats) = architectures.Results[kind];
        foreach (var w in result.Warnings) output.WriteLine("warning: " + w);
        if (kind == "mistral") Assert.Contains(result.Warnings, w => w.Contains("sliding_window 128") && w.Contains("full attention"));
        else Assert.Empty(result.Warnings);
        output.WriteLine($"{kind}: max |Δp| {stats.MaxDiff:0.0e0}, top-1 {stats.Top1:P1}, mean KL {stats.MeanKL:0.0e0}, greedy equal {stats.GreedyEqual} ({stats.Positions} positions)");
        Assert.Equal(1.0, stats.Top1);
        Assert.True(stats.GreedyEqual, "greedy continuations differ");
        if (kind == "gpt2")
        {
            // llama.cpp's CPU GELU reads a float16 lookup table (GGML_GELU_FP16), which can move
            // probabilities by about 1e-3: GPT-2 is held to top-1, greedy and KL instead.
            Assert.True(stats.MeanKL < 1e-4, $"mean KL {stats.MeanKL}");
            Assert.True(stats.MaxDiff < 1e-2, $"max |Δp| {stats.MaxDiff}");
        }
        else Assert.True(stats.MaxDiff <= 1e-4, $"max |Δp| {stats.MaxDiff}");
    }

    /// <summary>Every architecture exported as F32 and run by one llama.cpp process.</summary>
    public sealed class ArchitectureExports
    {
        public Dictionary<string, (GgufExportResult Export, Stats Stats)> Results { get; } = new();
        public Stats? Unpermuted { get; }

        /// <summary>The inverse of the exporter's per-head reordering (interleaved pairs → halves).</summary>
        static Tensor UndoPermutation(Tensor w, long heads) =>
            w.reshape(heads, w.shape[0] / heads / 2, 2, w.shape[1]).transpose(1, 2).reshape(w.shape).contiguous();

        public ArchitectureExports()
        {
            if (!LlamaCpp.Installed) return;
            var dir = Tunebook.Tuning.Tests.Tiny.TempDir();
            var kinds = Kinds.ToList();
            var models = kinds.Select(Tiny).ToList();
            var exports = kinds.Select((k, i) => GgufExport.Save(models[i], Path.Combine(dir, k + ".gguf"), GgufFileType.F32)).ToList();
            // The mistral model once more, with q/k rows given in the order that the exporter's permutation
            // turns back into Hugging Face's: the file then holds them unpermuted.
            var mistral = models[kinds.IndexOf("mistral")];
            var weights = mistral.CheckpointTensors();
            foreach (var key in weights.Keys.Where(k => k.EndsWith("q_proj.weight") || k.EndsWith("k_proj.weight")).ToList())
                weights[key] = UndoPermutation(weights[key], key.EndsWith("q_proj.weight") ? mistral.Config.NumAttentionHeads : mistral.Config.NumKeyValueHeads);
            var unpermuted = GgufExport.Save(mistral.Config, StarterTokenizer, weights, Path.Combine(dir, "unpermuted.gguf"), GgufFileType.F32, modelfile: false);

            var jobs = exports.Select((e, i) => Job(models[i], e.Path, StarterTokenizer)).Append(Job(mistral, unpermuted.Path, StarterTokenizer, greedy: false)).ToList();
            var answers = LlamaCpp.RunAll(jobs);
            for (int i = 0; i < kinds.Count; i++) Results[kinds[i]] = (exports[i], Evaluate(models[i], answers[i], StarterTokenizer));
            Unpermuted = Evaluate(mistral, answers[^1], StarterTokenizer, greedy: false);
        }
    }

    [LlamaCppFact]
    public void Without_the_query_key_permutation_llama_cpp_disagrees()
    {
        // The check above can fail: a llama export whose q/k rows are not reordered for llama.cpp's
        // RoPE layout (interleaved pairs, where Hugging Face rotates half against half) disagrees.
        var stats = architectures.Unpermuted!;
        output.WriteLine($"llama without the q/k permutation: max |Δp| {stats.MaxDiff:0.0e0}, top-1 {stats.Top1:P1}, mean KL {stats.MeanKL:0.0e0}");
        Assert.True(stats.MaxDiff > 1e-2, $"max |Δp| {stats.MaxDiff}");
        Assert.True(stats.Top1 < 0.9, $"top-1 {stats.Top1}");
    }

    [LlamaCppFact]
    public void Starter_model_before_and_after_a_LoRA_fine_tune_agrees_with_llama_cpp()
    {
        foreach (var (name, s) in new[] { ("starter", starter.Before), ("starter + LoRA", starter.Tuned[GgufFileType.F32].Stats) })
        {
            output.WriteLine($"{name}: max |Δp| {s.MaxDiff:0.0e0}, top-1 {s.Top1:P1}, mean KL {s.MeanKL:0.0e0}, greedy equal {s.GreedyEqual} ({s.Positions} positions)");
            Assert.True(s.MaxDiff <= 1e-4, $"{name}: max |Δp| {s.MaxDiff}");
            Assert.Equal(1.0, s.Top1);
            Assert.True(s.GreedyEqual, $"{name}: greedy continuations differ");
        }
        // The fine-tune changed the model (else "after" would test nothing new), and the export left the adapters in place.
        Assert.True(starter.AdaptersKept > 0);
        Assert.True(starter.TunedMovedBy > 1e-3, $"the fine-tune moved probabilities by only {starter.TunedMovedBy}");
        var modelfile = File.ReadAllText(Path.Combine(starter.Folder, "Modelfile"));
        Assert.Contains("FROM ./starter-", modelfile);
        Assert.Contains("PARAMETER stop \"<|im_end|>\"", modelfile);
        Assert.Contains("TEMPLATE \"\"\"{{- range .Messages }}<|im_start|>", modelfile);
    }

    [LlamaCppFact]
    public void Quantized_exports_of_the_tuned_starter_model_keep_its_predictions()
    {
        var results = starter.Tuned;
        foreach (var (type, (stats, export)) in results)
            output.WriteLine($"{type.Name()}: {export.Bytes / 1e6:0.00} MB, {export.BitsPerWeight:0.00} bits/weight, top-1 {stats.Top1:P1}, mean KL {stats.MeanKL:0.0e0}, max |Δp| {stats.MaxDiff:0.0e0} ({stats.Positions} positions)");
        Assert.True(results[GgufFileType.F16].Stats.Top1 >= 0.98 && results[GgufFileType.F16].Stats.MeanKL < 1e-3);
        Assert.True(results[GgufFileType.BF16].Stats.Top1 >= 0.95 && results[GgufFileType.BF16].Stats.MeanKL < 1e-2);
        Assert.True(results[GgufFileType.Q8_0].Stats.Top1 >= 0.95, $"Q8_0 top-1 {results[GgufFileType.Q8_0].Stats.Top1}");
        Assert.True(results[GgufFileType.Q8_0].Stats.MeanKL < 1e-2, $"Q8_0 mean KL {results[GgufFileType.Q8_0].Stats.MeanKL}");
        Assert.True(results[GgufFileType.Q4_0].Stats.Top1 >= 0.75, $"Q4_0 top-1 {results[GgufFileType.Q4_0].Stats.Top1}");
        Assert.True(results[GgufFileType.Q4_0].Stats.MeanKL < 0.2, $"Q4_0 mean KL {results[GgufFileType.Q4_0].Stats.MeanKL}");
        Assert.True(results[GgufFileType.Q4_K_M].Stats.Top1 >= 0.8, $"Q4_K_M top-1 {results[GgufFileType.Q4_K_M].Stats.Top1}");
        Assert.True(results[GgufFileType.Q4_K_M].Stats.MeanKL < 0.1, $"Q4_K_M mean KL {results[GgufFileType.Q4_K_M].Stats.MeanKL}");
        // Q8_0 is closer than Q4_K_M; Q4_K_M (fitted sub-block scales, Q6_K where it matters) keeps more top-1
        // predictions than Q4_0 at about its size (measured 92 % against 82 %); each type is smaller than the one above it.
        Assert.True(results[GgufFileType.Q8_0].Stats.MeanKL < results[GgufFileType.Q4_K_M].Stats.MeanKL);
        Assert.True(results[GgufFileType.Q4_K_M].Stats.Top1 > results[GgufFileType.Q4_0].Stats.Top1);
        Assert.True(results[GgufFileType.Q4_0].Export.Bytes < results[GgufFileType.Q4_K_M].Export.Bytes);
        Assert.True(results[GgufFileType.Q4_K_M].Export.Bytes < results[GgufFileType.Q8_0].Export.Bytes);
        Assert.True(results[GgufFileType.Q8_0].Export.Bytes < results[GgufFileType.F16].Export.Bytes);
        Assert.True(results[GgufFileType.F16].Export.Bytes < results[GgufFileType.F32].Export.Bytes);
    }

    /// <summary>The starter model as F32 before a short LoRA fine-tune, and after it in every type, run by one llama.cpp process.</summary>
    public sealed class StarterExports
    {
        public string Folder { get; } = Tunebook.Tuning.Tests.Tiny.TempDir();
        public Stats Before { get; } = null!;
        public Dictionary<GgufFileType, (Stats Stats, GgufExportResult Export)> Tuned { get; } = new();
        public int AdaptersKept { get; }
        public double TunedMovedBy { get; }

        public StarterExports()
        {
            if (!LlamaCpp.Installed) return;
            var model = CausalLM.FromPretrained(StarterFolder);
            model.eval();
            var prompts = Prompts(model.Tokenizer!);
            var beforeProbabilities = LlamaCpp.TunebookProbabilities(model, prompts[0]);
            var before = GgufExport.Save(model, Path.Combine(Folder, "starter-base.gguf"), GgufFileType.F32);
            var lora = ShortFineTune(model);
            var types = new[] { GgufFileType.F32, GgufFileType.F16, GgufFileType.BF16, GgufFileType.Q8_0, GgufFileType.Q4_K_M, GgufFileType.Q4_0 };
            var exports = types.Select(t => MergedWeights.SaveGguf(lora, Path.Combine(Folder, $"starter-{t.Name()}.gguf"), t)).ToList();
            AdaptersKept = lora.Layers.Count;
            var after = LlamaCpp.TunebookProbabilities(model, prompts[0]);
            TunedMovedBy = LlamaCpp.MaxDiff(after, beforeProbabilities);

            // The base model's job first; it is compared with the base model, evaluated before the fine-tune.
            var jobs = new List<LlamaCpp.Job> { Job(model, before.Path, model.Tokenizer!) };
            jobs.AddRange(exports.Select(e => Job(model, e.Path, model.Tokenizer!, greedy: e.Type == GgufFileType.F32)));
            var answers = LlamaCpp.RunAll(jobs);
            for (int i = 0; i < types.Length; i++) Tuned[types[i]] = (Evaluate(model, answers[i + 1], model.Tokenizer!, greedy: types[i] == GgufFileType.F32), exports[i]);
            using (lora.DisableAdapters()) Before = Evaluate(model, answers[0], model.Tokenizer!);
        }
    }

    /// <summary>A few AdamW steps of LoRA on the puddle chat examples: enough to move every adapted matrix.</summary>
    internal static LoraModel ShortFineTune(CausalLM model)
    {
        torch.manual_seed(1); // the adapters' initialisation: the same tuned model, and the same figures, on every run
        var lora = LoraModel.Apply(model, new LoraConfig { R = 8, Alpha = 16, Targets = LoraTargets.AllLinearLayers });
        var tokenizer = model.Tokenizer!;
        var texts = File.ReadLines(StarterTestSupport.Datasets("puddle", "train.jsonl")).Take(8).Select(line =>
        {
            var messages = JsonNode.Parse(line)!["messages"]!.AsArray();
            return string.Concat(messages.Select(m => $"<|im_start|>{(string)m!["role"]!}\n{(string)m["content"]!}<|im_end|>\n"));
        }).ToList();
        var optimizer = new Tunebook.Torch.optim.AdamW(model.parameters().Where(p => p.requires_grad), lr: 3e-3);
        model.train();
        for (int step = 0; step < 6; step++)
        {
            var ids = tokenizer.EncodeToIds(texts[step % texts.Count], addSpecialTokens: false).Select(i => (long)i).ToArray();
            using var scope = torch.NewDisposeScope();
            var input = torch.tensor(ids, [1, ids.Length]);
            model.ForwardBackward(input, logits => CausalLM.CausalLMLoss(logits, input));
            optimizer.step();
            optimizer.zero_grad();
        }
        model.eval();
        return lora;
    }

    public sealed record Stats(double MaxDiff, double Top1, double MeanKL, bool GreedyEqual, int Positions);

    /// <summary>What llama.cpp is asked about an export: distributions at every position of the prompts, and two greedy continuations.</summary>
    internal static LlamaCpp.Job Job(CausalLM model, string gguf, Tokenizer tokenizer, bool greedy = true)
    {
        var prompts = Prompts(tokenizer);
        return new LlamaCpp.Job(gguf, (int)model.Config.VocabSize, Probabilities: prompts, GreedyPrompts: greedy ? prompts.Take(2).ToArray() : null);
    }

    /// <summary>llama.cpp's answer vs Tunebook's float32 forward pass on the same prompts.</summary>
    internal static Stats Evaluate(CausalLM model, LlamaCpp.Answer llama, Tokenizer tokenizer, bool greedy = true)
    {
        var prompts = Prompts(tokenizer);
        var greedyPrompts = greedy ? prompts.Take(2).ToArray() : null;
        double maxDiff = 0, klSum = 0;
        int positions = 0, top1 = 0;
        for (int p = 0; p < prompts.Length; p++)
        {
            var ours = LlamaCpp.TunebookProbabilities(model, prompts[p]);
            maxDiff = Math.Max(maxDiff, LlamaCpp.MaxDiff(ours, llama.Probabilities[p]));
            for (int t = 0; t < ours.Length; t++)
            {
                var theirs = llama.Probabilities[p][t];
                klSum += LlamaCpp.KL(ours[t], theirs);
                if (LlamaCpp.ArgMax(ours[t]) == LlamaCpp.ArgMax(theirs)) top1++;
                positions++;
            }
        }
        bool greedyEqual = true;
        if (greedyPrompts is not null)
            for (int p = 0; p < greedyPrompts.Length; p++)
                greedyEqual &= LlamaCpp.TunebookGreedy(model, greedyPrompts[p], 32).SequenceEqual(llama.Greedy[p]);
        return new Stats(maxDiff, (double)top1 / positions, klSum / positions, greedyEqual, positions);
    }
}
