using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

/// <summary>
/// A longrope model (Phi-3 128k, Phi-4-mini) rotates every position with the short factors while the
/// sequence fits original_max_position_embeddings and with the long factors once it is longer, earlier
/// positions included. Generation that crosses that length must recompute its KV cache, as transformers
/// does, or the keys cached before the switch keep their old rotation.
/// </summary>
public class LongropeGenerationTests
{
    const int Original = 16;   // phi4-longrope's original_max_position_embeddings
    static readonly int[] Prompt = [5, 9, 14, 33, 62, 71, 8, 40, 23, 90];   // 10 tokens: generation crosses 16
    const int NewTokens = 24;

    /// <summary>
    /// The Phi-4-mini-shaped tiny model with short and long factors far apart (the fastest rotating pair
    /// slows down eightfold past the switch), so that a stale cache shows in the greedy tokens, not only in the logits.
    /// </summary>
    static CausalLM Model()
    {
        var json = TinyModels.Json("phi4-longrope");
        json["initializer_range"] = 0.3;
        json["rope_scaling"]!["short_factor"] = new System.Text.Json.Nodes.JsonArray(1.0, 1.0, 1.0);
        json["rope_scaling"]!["long_factor"] = new System.Text.Json.Nodes.JsonArray(8.0, 64.0, 512.0);
        torch.manual_seed(5);
        var model = CausalLM.FromConfig(ModelConfig.FromJson(json));
        using (torch.no_grad())
            foreach (var (name, p) in model.named_parameters())
                if (name.Contains("norm")) p.add_(torch.randn(p.shape) * 0.1);
        model.eval();
        return model;
    }

    [Fact]
    public void The_model_states_where_its_position_encoding_changes()
    {
        using var phi = TinyModels.Create("phi4-longrope");
        Assert.Equal(Original, phi.PositionEncodingChangesBeyond);
        foreach (var kind in new[] { "llama3-rope", "llama-dynamic-rope", "phi3-window", "gemma3", "smollm3", "gpt2" })
        {
            using var other = TinyModels.Create(kind);
            Assert.Null(other.PositionEncodingChangesBeyond);
        }
    }

    [Fact]
    public void Cached_generation_across_the_switch_equals_recomputing_every_step()
    {
        using var model = Model();
        var options = new GenerationOptions { MaxNewTokens = NewTokens, EosTokenIds = [] };
        var cached = model.Generate([Prompt], options with { UseCache = true }).Sequences[0].TokenIds.ToArray();
        var recomputed = model.Generate([Prompt], options with { UseCache = false }).Sequences[0].TokenIds.ToArray();
        Assert.Equal(recomputed, cached);

        // The comparison can fail: a cache kept across the switch (keys of positions 0..15 rotated with the
        // short factors, later ones with the long factors) gives other logits, and here other tokens.
        using var noGrad = torch.no_grad();
        var sequence = Prompt.Concat(recomputed).Select(t => (long)t).ToArray();
        var full = model.Forward(TinyModels.Ids([sequence]));
        using var cache = model.NewCache();
        model.Forward(TinyModels.Ids([sequence[..Original]]), cache: cache);
        double staleDiff = 0;
        var stale = new List<int>();
        for (int t = Original; t < sequence.Length; t++)
        {
            var step = model.Forward(TinyModels.Ids([[sequence[t]]]), cache: cache);
            staleDiff = Math.Max(staleDiff, (step[0][0] - full[0][t]).abs().max().item<float>());
        }
        Assert.True(staleDiff > 1e-2, $"a stale cache moved the logits by only {staleDiff:E2}");
        var staleTokens = StaleGreedy(model, Prompt, NewTokens);
        Assert.NotEqual(cached, staleTokens);
    }

    /// <summary>Greedy decoding that fills the cache once and never recomputes it (what a generator unaware of the switch does).</summary>
    static int[] StaleGreedy(CausalLM model, int[] prompt, int count)
    {
        using var noGrad = torch.no_grad();
        using var cache = model.NewCache();
        var logits = model.Forward(TinyModels.Ids([prompt.Select(t => (long)t).ToArray()]), cache: cache, logitsToKeep: 1);
        var tokens = new List<int>();
        for (int i = 0; i < count; i++)
        {
            int next = (int)logits[0][0].argmax().item<long>();
            tokens.Add(next);
            logits = model.Forward(TinyModels.Ids([[next]]), cache: cache);
        }
        return tokens.ToArray();
    }

    [Fact]
    public void Generated_tokens_are_the_python_reference_argmax_on_both_sides_of_the_switch()
    {
        using var folder = new TempFolder();
        using var model = Model();
        model.SavePretrained(folder.Path);
        var generated = model.Generate([Prompt], new GenerationOptions { MaxNewTokens = NewTokens, EosTokenIds = [] }).Sequences[0].TokenIds.ToArray();
        var sequence = Prompt.Concat(generated).Select(t => (long)t).ToArray();
        using var scope = torch.NewDisposeScope();
        // The reference computes the factors from the length of what it is given, as transformers does:
        // the first 16 tokens alone get the short factors, the whole sequence the long ones. Position n-1
        // of either run is what a causal model computes for the prefix of length n.
        var shortRun = PythonReference.Logits(folder.Path, [sequence[..Original]]);
        var longRun = PythonReference.Logits(folder.Path, [sequence]);
        for (int j = 0; j < generated.Length; j++)
        {
            int n = Prompt.Length + j;   // the prefix that predicted generated[j]
            var logits = n <= Original ? shortRun[0][n - 1] : longRun[0][n - 1];
            Assert.True(generated[j] == (int)logits.argmax().item<long>(), $"token {j} (prefix of {n}): Tunebook picked {generated[j]}, the reference's argmax is {logits.argmax().item<long>()}");
        }
        // And the two runs really differ at a shared position: the switch changes every position.
        Assert.True((shortRun[0][Original - 1] - longRun[0][Original - 1]).abs().max().item<float>() > 1e-3);
    }
}
