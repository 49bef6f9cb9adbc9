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
            // llama.cpp's CPU GELU reads a float16 table (GGML_GELU_FP16, fixed when the binary is built;
            // no context option reaches it): its input and output are rounded to float16, which moves
            // probabilities by about 1e-4 (GPT-2 shows the same; measured 1.5e-4 here). Tunebook computes
            // GELU as transformers does, in float32, so this comparison is held to KL and 1e-3; the next
            // test reproduces the table and shows that it is the whole difference.
            Assert.True(stats.MeanKL < 1e-6, $"mean KL {stats.MeanKL}");
            Assert.True(stats.MaxDiff <= 1e-3, $"max |Δp| {stats.MaxDiff}");
        }
        else Assert.True(stats.MaxDiff <= 1e-4, $"max |Δp| {stats.MaxDiff}");
    }

    [LlamaCppFact]
    public void Gemma3_with_llama_cpps_float16_gelu_table_is_the_whole_gap()
    {
        var table = exports.GemmaWithLlamaCppGelu!;
        var exact = exports.Results["gemma3"].Stats;
        var (rounded, flips) = exports.GemmaWithLlamaCppRounding!.Value;
        output.WriteLine($"gemma3, exact GELU: max |Δp| {exact.MaxDiff:0.0e0}, mean KL {exact.MeanKL:0.0e0}");
        output.WriteLine($"gemma3, Tunebook with llama.cpp's float16 GELU table: max |Δp| {table.MaxDiff:0.0e0}, top-1 {table.Top1:P1}, mean KL {table.MeanKL:0.0e0}, greedy equal {table.GreedyEqual}");
        output.WriteLine($"gemma3, the same with {string.Join(" + ", flips)} table inputs per prompt rounded the other way: max |Δp| {rounded:0.0e0}");
        Assert.Equal(1.0, table.Top1);
        Assert.True(table.GreedyEqual, "greedy continuations differ");
        Assert.True(table.MeanKL < exact.MeanKL / 10, $"mean KL {table.MeanKL} vs {exact.MeanKL} with the exact GELU");
        // What is left after the table (measured 3.0e-5, mean KL 2.8e-9, against 1.5e-4 and 1.2e-7 with the
        // exact GELU) is where the two float32 computations round a GELU input to different float16
        // neighbours: an input within a few float32 ulps of the midpoint between two float16 values goes
        // either way depending on summation order (ggml's SIMD dot products, libtorch's BLAS), and a single
        // one moves next-token probabilities by up to about 1e-4 in a six-layer model like this one (a
        // re-implementation in plain PyTorch saw a 1.6e-4 spike fall to 1.6e-5 with one input rounded the
        // other way). So the figure for the table alone jumps with any float32 detail upstream: 3.6e-5 with
        // the table's GELU computed by libtorch's formula, 1.4e-4 recorded at an earlier state of this test.
        // Letting at most four inputs per prompt that lie within 2^-18 of a midpoint round the other way,
        // each required to halve the largest difference, reproduces llama.cpp's rounding; then the 1e-4
        // bound of the other architectures holds (measured 1.1e-5, one input in one of five prompts).
        Assert.True(rounded <= 1e-4, $"max |Δp| {rounded}");
    }

    /// <summary>
    /// llama.cpp's CPU GeGLU as the prebuilt binary computes it (ggml_vec_geglu_f32 with GGML_GELU_FP16): the
    /// input rounded to float16 (round to nearest even), looked up in a table of GELU values rounded to
    /// float16, multiplied by the up projection in float32; inputs at or beyond ±10 bypass the table (0
    /// below, the input itself above). Chosen inputs (<see cref="GgmlGeluRounding.Flipped"/>) round to the
    /// other float16 neighbour.
    /// </summary>
    sealed class LlamaCppGeluMlp(Tunebook.Models.Gemma3.Gemma3MLP inner, int layer, GgmlGeluRounding rounding) : Tunebook.Torch.nn.Module<Tensor, Tensor>
    {
        public override Tensor forward(Tensor x)
        {
            using var scope = torch.NewDisposeScope();
            Assert.Equal(1, x.shape[0]);
            var gate = inner.gate_proj.forward(x).contiguous();
            var g = gate.data<float>();
            long units = gate.shape[^1];
            var y = new float[g.Length];
            for (int i = 0; i < g.Length; i++) y[i] = rounding.Gelu(layer, i / units, i % units, g[i]);
            var gelu = torch.tensor(y, gate.shape);
            return scope.MoveToOuter(inner.down_proj.forward(gelu * inner.up_proj.forward(x)));
        }
    }

    /// <summary>ggml's float16 GELU table and the float16 rounding of its inputs, with inputs near a rounding midpoint noted.</summary>
    internal sealed class GgmlGeluRounding
    {
        /// <summary>
        /// An input this close to the midpoint between two float16 values (relative: 2^-18, 32 float32 ulps,
        /// 1/128 of the float16 spacing) may round either way in another float32 computation of the same layer.
        /// </summary>
        public const double Tolerance = 1.0 / (1 << 18);
        public const int MaxFlipsPerPrompt = 4;

        // ggml_cpu_init fills the table; the binary evaluates ggml_gelu_f32 as
        // (0.5x)·(1 + tanhf((√(2/π)·x)·fma(x, 0.044715·x, 1))) (the compiler fused one multiply-add:
        // vfmadd213ss in libggml-cpu-*.so), glibc's tanhf (MathF.Tanh calls the same), rounded to float16.
        static readonly float[] Table = BuildTable();

        static float[] BuildTable()
        {
            var table = new float[65536];
            for (int i = 0; i < table.Length; i++)
            {
                float x = (float)BitConverter.UInt16BitsToHalf((ushort)i);
                float inner = MathF.FusedMultiplyAdd(x, 0.044715f * x, 1.0f);
                float gelu = 0.5f * x * (1.0f + MathF.Tanh(0.79788456080286535587989211986876f * x * inner));
                table[i] = (float)(Half)gelu;
            }
            return table;
        }

        public HashSet<(int Layer, long Position, long Unit)> Flipped { get; } = [];
        public List<(int Layer, long Position, long Unit)>? Near { get; set; }

        public float Gelu(int layer, long position, long unit, float x)
        {
            if (x <= -10f) return 0f;
            if (x >= 10f) return x;
            var h = (Half)x;
            float hf = (float)h;
            if (hf != x)
            {
                // The float16 neighbour on x's side: one step up in magnitude when |x| > |h|, down otherwise
                // (float16 bits are sign and magnitude).
                ushort bits = BitConverter.HalfToUInt16Bits(h);
                var other = BitConverter.UInt16BitsToHalf((ushort)(Math.Abs(x) > Math.Abs(hf) ? bits + 1 : bits - 1));
                double mid = ((double)hf + (double)(float)other) / 2;
                if (Near is not null && Math.Abs(x - mid) <= Tolerance * Math.Abs(x)) Near.Add((layer, position, unit));
                if (Flipped.Contains((layer, position, unit))) h = other;
            }
            return Table[BitConverter.HalfToUInt16Bits(h)];
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
        public GgufParityTests.Stats? GemmaWithLlamaCppGelu { get; }
        /// <summary>Max |Δp| with llama.cpp's GELU and chosen near-midpoint inputs rounded the other way, and how many per prompt.</summary>
        public (double MaxDiff, int[] Flips)? GemmaWithLlamaCppRounding { get; }

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
            var rounding = new GgmlGeluRounding();
            for (int i = 0; i < gemma.NumLayers; i++)
            {
                var path = $"model.layers.{i}.mlp";
                gemma.ReplaceModule(path, new LlamaCppGeluMlp((Tunebook.Models.Gemma3.Gemma3MLP)gemma.get_submodule(path), i, rounding));
            }
            GemmaWithLlamaCppGelu = GgufParityTests.Evaluate(gemma, answers[0], StarterTokenizer);
            GemmaWithLlamaCppRounding = MatchRounding(gemma, rounding, jobs[0].Probabilities!, answers[0].Probabilities);
        }

        /// <summary>
        /// For each prompt, greedily picks table inputs near a float16 rounding midpoint whose other rounding
        /// brings Tunebook closest to llama.cpp, as long as each pick at least halves the largest difference
        /// (at most <see cref="GgmlGeluRounding.MaxFlipsPerPrompt"/>); returns the largest difference left.
        /// </summary>
        static (double, int[]) MatchRounding(CausalLM model, GgmlGeluRounding rounding, IReadOnlyList<long[]> prompts, double[][][] llama)
        {
            double worst = 0;
            var flips = new int[prompts.Count];
            double MaxDiff(int p) => LlamaCpp.MaxDiff(LlamaCpp.TunebookProbabilities(model, prompts[p]), llama[p]);
            for (int p = 0; p < prompts.Count; p++)
            {
                rounding.Flipped.Clear();
                rounding.Near = [];
                double current = MaxDiff(p);
                var candidates = rounding.Near.Distinct().ToList();
                rounding.Near = null;
                while (flips[p] < GgmlGeluRounding.MaxFlipsPerPrompt)
                {
                    (double Diff, (int, long, long) Input) best = (double.MaxValue, default);
                    foreach (var c in candidates.Where(c => !rounding.Flipped.Contains(c)))
                    {
                        rounding.Flipped.Add(c);
                        double d = MaxDiff(p);
                        rounding.Flipped.Remove(c);
                        if (d < best.Diff) best = (d, c);
                    }
                    if (best.Diff > current / 2) break;
                    rounding.Flipped.Add(best.Input);
                    current = best.Diff;
                    flips[p]++;
                }
                worst = Math.Max(worst, current);
            }
            rounding.Flipped.Clear();
            return (worst, flips);
        }
    }
}
