using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Tests.Starter;
using Xunit.Abstractions;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>
/// Gemma 3, Phi-3/Phi-4-mini and SmolLM3 exported as GGUF and run by llama.cpp: next-token distributions
/// at every position of the prompts of <see cref="GgufParityTests"/> (all longer than the tiny models'
/// sliding window and longrope pretraining length) and 32-token greedy continuations must equal Tunebook's.
/// </summary>
[Collection(TorchCollection.Name)]
public class GgufNewArchitectureParityTests(ITestOutputHelper output, GgufNewArchitectureParityTests.Exports exports)
    : IClassFixture<GgufNewArchitectureParityTests.Exports>
{
    static readonly Tokenizer StarterTokenizer = Tokenizer.FromFolder(StarterTestSupport.Datasets("starter"));

    /// <summary>The Gemma 3 window and the Phi-4 pretraining length: shorter than every prompt.</summary>
    const int Window = 8;

    static JsonObject Json(string kind)
    {
        var j = new JsonObject
        {
            ["vocab_size"] = 4096, ["hidden_size"] = 64, ["intermediate_size"] = 96, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 1024,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = false,
            ["initializer_range"] = 0.2, ["bos_token_id"] = 0, ["eos_token_id"] = 2, ["torch_dtype"] = "float32",
        };
        switch (kind)
        {
            case "gemma3":
                // Six layers: five local (window 8, RoPE base 10 000) and one global (base 1 000 000), as llama.cpp fixes them.
                j["architectures"] = new JsonArray("Gemma3ForCausalLM"); j["model_type"] = "gemma3_text";
                j["num_hidden_layers"] = 6; j["head_dim"] = 32; j["query_pre_attn_scalar"] = 32;
                j["sliding_window"] = Window; j["rope_theta"] = 1000000.0; j["rope_local_base_freq"] = 10000.0;
                j["hidden_activation"] = "gelu_pytorch_tanh"; j["tie_word_embeddings"] = true;
                break;
            case "phi-mini-longrope-short":
                // The 256-token llama.cpp context fits the pretraining length: short factors on both sides.
                j["architectures"] = new JsonArray("Phi3ForCausalLM"); j["model_type"] = "phi3";
                j["original_max_position_embeddings"] = 512; j["max_position_embeddings"] = 4096;
                j["rope_scaling"] = new JsonObject
                {
                    ["type"] = "longrope",
                    ["short_factor"] = new JsonArray(Enumerable.Range(0, 8).Select(i => (JsonNode)(1.0 + 0.3 * i)).ToArray()),
                    ["long_factor"] = new JsonArray(Enumerable.Range(0, 8).Select(i => (JsonNode)(1.0 + 4.0 * i)).ToArray()),
                };
                break;
            case "phi4-longrope-long":
                // Phi-4-mini's shape: partial rotary (12 of 16 channels), tied embeddings, and a pretraining
                // length shorter than every prompt: long factors on both sides.
                j["architectures"] = new JsonArray("Phi3ForCausalLM"); j["model_type"] = "phi3";
                j["partial_rotary_factor"] = 0.75; j["tie_word_embeddings"] = true;
                j["original_max_position_embeddings"] = Window;
                j["rope_scaling"] = new JsonObject
                {
                    ["type"] = "longrope",
                    ["short_factor"] = new JsonArray(Enumerable.Range(0, 6).Select(i => (JsonNode)(1.0 + 0.2 * i)).ToArray()),
                    ["long_factor"] = new JsonArray(Enumerable.Range(0, 6).Select(i => (JsonNode)(1.0 + 5.0 * i)).ToArray()),
                };
                break;
            case "smollm3":
                // Layer 3 has no RoPE.
                j["architectures"] = new JsonArray("SmolLM3ForCausalLM"); j["model_type"] = "smollm3";
                j["num_hidden_layers"] = 4; j["rope_theta"] = 2000000.0; j["tie_word_embeddings"] = true;
                break;
            default: throw new ArgumentException(kind);
        }
        return j;
    }

    static CausalLM Tiny(string kind)
    {
        torch.manual_seed(11);
        var model = CausalLM.FromConfig(ModelConfig.FromJson(Json(kind)));
        using var noGrad = torch.no_grad();
        foreach (var (name, p) in model.named_parameters())
            if (name.Contains("norm")) p.add_(torch.randn(p.shape) * 0.2);
        model.Tokenizer = StarterTokenizer;
        model.eval();
        return model;
    }

    static readonly string[] Kinds = ["gemma3", "phi-mini-longrope-short", "phi4-longrope-long", "smollm3"];

    public static TheoryData<string> Architectures => new(Kinds);

    [LlamaCppTheory]
    [MemberData(nameof(Architectures))]
    public void F32_export_gives_llama_cpp_the_same_distributions_and_greedy_continuations(string kind)
    {
        var (result, stats) = exports.Results[kind];
        foreach (var w in result.Warnings) output.WriteLine("warning: " + w);
        Assert.Empty(result.Warnings);
        output.WriteLine($"{kind}: max |Δp| {stats.MaxDiff:0.0e0}, top-1 {stats.Top1:P1}, mean KL {stats.MeanKL:0.0e0}, greedy equal {stats.GreedyEqual} ({stats.Positions} positions)");
        Assert.Equal(1.0, stats.Top1);
        Assert.True(stats.GreedyEqual, "greedy continuations differ");
        if (kind == "gemma3")
        {
            // llama.cpp's CPU GELU reads a float16 table (GGML_GELU_FP16): its input and output are
            // rounded to float16, which moves probabilities by about 1e-4 (GPT-2 shows the same). Held
            // to KL here; the next test shows that the table is most of the difference.
            Assert.True(stats.MeanKL < 1e-6, $"mean KL {stats.MeanKL}");
            Assert.True(stats.MaxDiff <= 1e-3, $"max |Δp| {stats.MaxDiff}");
        }
        else Assert.True(stats.MaxDiff <= 1e-4, $"max |Δp| {stats.MaxDiff}");
    }

    [LlamaCppFact]
    public void Gemma3_with_llama_cpps_float16_gelu_table_is_most_of_the_gap()
    {
        var stats = exports.GemmaWithFloat16Gelu!;
        var exact = exports.Results["gemma3"].Stats;
        output.WriteLine($"gemma3, Tunebook with GELU through float16 like llama.cpp: max |Δp| {stats.MaxDiff:0.0e0}, top-1 {stats.Top1:P1}, mean KL {stats.MeanKL:0.0e0}, greedy equal {stats.GreedyEqual}");
        output.WriteLine($"gemma3, exact GELU: max |Δp| {exact.MaxDiff:0.0e0}, mean KL {exact.MeanKL:0.0e0}");
        Assert.Equal(1.0, stats.Top1);
        Assert.True(stats.GreedyEqual, "greedy continuations differ");
        // Measured: the table takes the mean KL from 1.2e-7 to 4.7e-9, but the largest single probability
        // difference stays at 1.4e-4 (1.5e-4 with the exact GELU), so the 1e-4 bound is not held here and
        // the table is not the whole difference; the bound below is the measured one, with a small margin.
        Assert.True(stats.MeanKL < exact.MeanKL / 10, $"mean KL {stats.MeanKL} vs {exact.MeanKL} with the exact GELU");
        Assert.True(stats.MaxDiff <= 2e-4, $"max |Δp| {stats.MaxDiff}");
    }

    /// <summary>
    /// Gemma's MLP computing GELU as llama.cpp's CPU GeGLU does (ggml_vec_geglu_f32): the input rounded to
    /// float16, GELU (tanh form) in float32, the result rounded to float16; inputs beyond ±10 bypass the table.
    /// </summary>
    sealed class Float16TableGeluMlp(Tunebook.Models.Gemma3.Gemma3MLP inner) : Tunebook.Torch.nn.Module<Tensor, Tensor>
    {
        public override Tensor forward(Tensor x)
        {
            using var scope = torch.NewDisposeScope();
            var exact = inner.gate_proj.forward(x);
            var table = exact.to(ScalarType.Float16).to(ScalarType.Float32).gelu("tanh").to(ScalarType.Float16).to(ScalarType.Float32);
            // Outside [-10, 10] ggml skips the table: 0 below, the input itself above.
            var gelu = torch.where(exact.ge(10.0), exact, torch.where(exact.le(-10.0), torch.zeros_like(exact), table));
            return scope.MoveToOuter(inner.down_proj.forward(gelu * inner.up_proj.forward(x)));
        }
    }

    [LlamaCppFact]
    public void Every_prompt_is_longer_than_the_window_and_the_longrope_pretraining_length()
    {
        // Otherwise the sliding window and the long factors would not be exercised above.
        var lengths = PromptLengths();
        output.WriteLine("prompt lengths: " + string.Join(", ", lengths));
        Assert.All(lengths, n => Assert.True(n > Window, $"a prompt of {n} tokens"));
    }

    [LlamaCppFact]
    public void Gemma3_export_without_adding_one_to_the_norms_disagrees()
    {
        // The check above can fail: Gemma's (1 + weight) norms written as stored weights change the outputs.
        var stats = exports.UnshiftedGemma!;
        output.WriteLine($"gemma3 with raw norm weights: max |Δp| {stats.MaxDiff:0.0e0}, top-1 {stats.Top1:P1}");
        Assert.True(stats.MaxDiff > 1e-2, $"max |Δp| {stats.MaxDiff}");
    }

    static int[] PromptLengths()
    {
        var job = GgufParityTests.Job(Tiny("smollm3"), "unused.gguf", StarterTokenizer);
        return job.Probabilities!.Select(p => p.Length).ToArray();
    }

    /// <summary>Every architecture exported as F32 and run by one llama.cpp process.</summary>
    public sealed class Exports
    {
        public Dictionary<string, (GgufExportResult Export, GgufParityTests.Stats Stats)> Results { get; } = new();
        public GgufParityTests.Stats? UnshiftedGemma { get; }
        public GgufParityTests.Stats? GemmaWithFloat16Gelu { get; }

        public Exports()
        {
            if (!LlamaCpp.Installed) return;
            var dir = Tunebook.Tuning.Tests.Tiny.TempDir();
            var models = Kinds.Select(Tiny).ToList();
            var files = Kinds.Select((k, i) => GgufExport.Save(models[i], Path.Combine(dir, k + ".gguf"), GgufFileType.F32)).ToList();
            // Gemma 3 once more with every norm weight lowered by one: the exporter's +1 brings them back
            // to the raw stored values, which is what an exporter that forgot the shift would write.
            var gemma = models[0];
            var weights = gemma.CheckpointTensors();
            foreach (var key in weights.Keys.Where(k => k.Contains("norm")).ToList()) weights[key] = weights[key] - 1.0;
            var unshifted = GgufExport.Save(gemma.Config, StarterTokenizer, weights, Path.Combine(dir, "gemma3-unshifted.gguf"), GgufFileType.F32, modelfile: false);

            var jobs = files.Select((e, i) => GgufParityTests.Job(models[i], e.Path, StarterTokenizer))
                .Append(GgufParityTests.Job(gemma, unshifted.Path, StarterTokenizer, greedy: false)).ToList();
            var answers = LlamaCpp.RunAll(jobs);
            for (int i = 0; i < Kinds.Length; i++) Results[Kinds[i]] = (files[i], GgufParityTests.Evaluate(models[i], answers[i], StarterTokenizer));
            UnshiftedGemma = GgufParityTests.Evaluate(gemma, answers[^1], StarterTokenizer, greedy: false);
            for (int i = 0; i < gemma.NumLayers; i++)
            {
                var path = $"model.layers.{i}.mlp";
                gemma.ReplaceModule(path, new Float16TableGeluMlp((Tunebook.Models.Gemma3.Gemma3MLP)gemma.get_submodule(path)));
            }
            GemmaWithFloat16Gelu = GgufParityTests.Evaluate(gemma, answers[0], StarterTokenizer);
        }
    }
}
