using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Tests.Starter;
using Xunit.Abstractions;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>
/// Generation that crosses a longrope model's original_max_position_embeddings, against llama.cpp.
/// Tunebook (as transformers) rotates with the short factors while the sequence fits that length and
/// recomputes everything with the long ones once it is longer; llama.cpp picks the factors once per
/// context: short when the context is no larger than that length, long when it is. So a 256-token
/// context must agree with Tunebook up to the switch, a 512-token context after it, at every position
/// within 1e-4, and each generated token must be llama.cpp's argmax for its prefix.
/// </summary>
[Collection(TorchCollection.Name)]
public class GgufLongropeParityTests(ITestOutputHelper output)
{
    const int Original = 256;
    const int PromptLength = 240;
    const int NewTokens = 32;

    static CausalLM Model()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("Phi3ForCausalLM"), ["model_type"] = "phi3",
            ["vocab_size"] = 4096, ["hidden_size"] = 64, ["intermediate_size"] = 96, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 4096,
            ["original_max_position_embeddings"] = Original,
            ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = false,
            ["initializer_range"] = 0.2, ["bos_token_id"] = 0, ["eos_token_id"] = 2, ["torch_dtype"] = "float32",
            ["rope_scaling"] = new JsonObject
            {
                ["type"] = "longrope",
                ["short_factor"] = new JsonArray(Enumerable.Range(0, 8).Select(i => (JsonNode)(1.0 + 0.3 * i)).ToArray()),
                ["long_factor"] = new JsonArray(Enumerable.Range(0, 8).Select(i => (JsonNode)(1.0 + 4.0 * i)).ToArray()),
            },
        };
        torch.manual_seed(13);
        var model = CausalLM.FromConfig(ModelConfig.FromJson(json));
        using (torch.no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.Contains("norm")) p.add_(torch.randn(p.shape) * 0.2);
        model.Tokenizer = Tokenizer.FromFolder(StarterTestSupport.Datasets("starter"));
        model.eval();
        return model;
    }

    [LlamaCppFact]
    public void Generation_across_the_switch_agrees_with_llama_cpp_on_both_sides()
    {
        using var model = Model();
        var prompt = Enumerable.Range(0, PromptLength).Select(i => (i * 769 + 31) % 4000 + 3).ToArray();
        var generated = model.Generate([prompt], new GenerationOptions { MaxNewTokens = NewTokens, EosTokenIds = [] }).Sequences[0].TokenIds.ToArray();
        var sequence = prompt.Concat(generated).Select(t => (long)t).ToArray();
        Assert.True(sequence.Length > Original && prompt.Length < Original, "the generation must cross the switch");

        var dir = Tunebook.Tuning.Tests.Tiny.TempDir();
        var export = GgufExport.Save(model, Path.Combine(dir, "longrope.gguf"), GgufFileType.F32);
        Assert.Empty(export.Warnings);
        // The short side stops one token before the switch: a prefix of exactly original_max_position_embeddings
        // would fill the 256-token context, and node-llama-cpp makes room for the next token there (its last
        // distribution then comes from a shifted context). That one prefix is left to the Python reference test.
        var upToSwitch = sequence[..(Original - 1)];
        var answers = LlamaCpp.RunAll([
            new LlamaCpp.Job(export.Path, 4096, Probabilities: [upToSwitch], ContextSize: Original),
            new LlamaCpp.Job(export.Path, 4096, Probabilities: [sequence], ContextSize: 2 * Original),
        ]);
        var shortSide = answers[0].Probabilities[0];
        var longSide = answers[1].Probabilities[0];

        // Tunebook's distributions (full forward passes, short factors up to the switch, long beyond) at every position.
        var oursShort = LlamaCpp.TunebookProbabilities(model, upToSwitch);
        var oursLong = LlamaCpp.TunebookProbabilities(model, sequence);
        double shortDiff = LlamaCpp.MaxDiff(oursShort, shortSide), longDiff = LlamaCpp.MaxDiff(oursLong, longSide);
        output.WriteLine($"max |Δp| up to the switch (context {Original}) {shortDiff:0.0e0}, across it (context {2 * Original}) {longDiff:0.0e0}");
        Assert.True(shortDiff <= 1e-4, $"up to the switch: max |Δp| {shortDiff}");
        Assert.True(longDiff <= 1e-4, $"across the switch: max |Δp| {longDiff}");

        // Each generated token is llama.cpp's argmax for its prefix: the short-factor context while the prefix
        // fits the pretraining length, the long-factor one after.
        for (int j = 0; j < generated.Length; j++)
        {
            int n = prompt.Length + j;
            if (n == Original) continue;
            var theirs = n < Original ? shortSide[n - 1] : longSide[n - 1];
            Assert.True(LlamaCpp.ArgMax(theirs) == generated[j], $"token {j} (prefix of {n}): Tunebook generated {generated[j]}, llama.cpp's argmax is {LlamaCpp.ArgMax(theirs)}");
        }
        // The two sides differ where they overlap: the switch changes every position.
        double overlap = 0;
        for (int v = 0; v < 4096; v++) overlap = Math.Max(overlap, Math.Abs(shortSide[^1][v] - longSide[Original - 2][v]));
        Assert.True(overlap > 1e-3, $"short and long factors gave nearly the same distribution ({overlap})");
    }
}
