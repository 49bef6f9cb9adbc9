using System.Reflection;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>Tiny randomly initialised models, toy datasets and temp folders for the tuning tests.</summary>
static class Tiny
{
    public static string RepoRoot { get; } = typeof(Tiny).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public static ModelConfig LlamaConfig(bool tied = false) => ModelConfig.FromJson(new JsonObject
    {
        ["architectures"] = new JsonArray("LlamaForCausalLM"),
        ["model_type"] = "llama",
        ["vocab_size"] = 61,
        ["hidden_size"] = 32,
        ["intermediate_size"] = 48,
        ["num_hidden_layers"] = 2,
        ["num_attention_heads"] = 4,
        ["num_key_value_heads"] = 2,
        ["max_position_embeddings"] = 64,
        ["rms_norm_eps"] = 1e-6,
        ["rope_theta"] = 10000.0,
        ["tie_word_embeddings"] = tied,
        ["initializer_range"] = 0.1,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
        ["torch_dtype"] = "float32",
    });

    public static ModelConfig Gpt2Config() => ModelConfig.FromJson(new JsonObject
    {
        ["architectures"] = new JsonArray("GPT2LMHeadModel"),
        ["model_type"] = "gpt2",
        ["vocab_size"] = 61,
        ["n_embd"] = 32,
        ["n_layer"] = 2,
        ["n_head"] = 4,
        ["n_positions"] = 64,
        ["n_inner"] = null,
        ["activation_function"] = "gelu_new",
        ["layer_norm_epsilon"] = 1e-5,
        ["initializer_range"] = 0.1,
        ["bos_token_id"] = 1,
        ["eos_token_id"] = 2,
        ["torch_dtype"] = "float32",
    });

    /// <summary>A fresh model with weights fixed by <paramref name="seed"/>.</summary>
    public static CausalLM Llama(long seed = 1, bool tied = false)
    {
        torch.manual_seed(seed);
        return CausalLM.FromConfig(LlamaConfig(tied));
    }

    public static CausalLM Gpt2(long seed = 1)
    {
        torch.manual_seed(seed);
        return CausalLM.FromConfig(Gpt2Config());
    }

    /// <summary>Random token ids [b, t] in [3, vocab).</summary>
    public static Tensor Ids(long b, long t, long seed = 7)
    {
        torch.manual_seed(seed);
        return torch.randint(3, 61, [b, t]);
    }

    /// <summary>
    /// Examples of different lengths whose first <c>prompt</c> labels are masked (−100), like
    /// completion-only training: a deterministic pseudo-random "language".
    /// </summary>
    public static InMemoryTrainingData Examples(int count, int seed = 3, int minLength = 5, int maxLength = 12, int prompt = 2)
    {
        var random = new Random(seed);
        var list = new List<(long[], long[])>();
        for (int i = 0; i < count; i++)
        {
            int n = random.Next(minLength, maxLength + 1);
            var ids = Enumerable.Range(0, n).Select(_ => (long)random.Next(3, 61)).ToArray();
            var labels = ids.Select((x, k) => k < prompt ? -100L : x).ToArray();
            list.Add((ids, labels));
        }
        return new InMemoryTrainingData(list);
    }

    public static string TempDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "tunebook-tuning-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static float[] Values(Tensor t)
    {
        using var scope = torch.NewDisposeScope();
        return t.detach().to(ScalarType.Float32).contiguous().data<float>();
    }

    public static double MaxAbsDiff(Tensor a, Tensor b)
    {
        using var scope = torch.NewDisposeScope();
        return (a.detach().to(ScalarType.Float64) - b.detach().to(ScalarType.Float64)).abs().max().item<double>();
    }
}

/// <summary>
/// Tests that use torch's global random generator (seeding, dropout, random init) run one at a time: in
/// parallel they would draw from each other's stream, and resume-exactness tests compare bit patterns.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchCollection
{
    public const string Name = "torch (global RNG)";
}
