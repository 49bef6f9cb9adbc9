using System.Diagnostics;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Tests.Starter;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>
/// llama.cpp (node-llama-cpp 3.21.1, installed into tests/reference by scripts/setup-reference.sh) run on
/// a GGUF through tests/reference/llamacpp_eval.mjs: token ids, next-token distributions, greedy continuations.
/// </summary>
static class LlamaCpp
{
    public static string ReferenceFolder => Path.Combine(StarterTestSupport.RepoRoot, "tests", "reference");
    public static bool Installed => Directory.Exists(Path.Combine(ReferenceFolder, "node_modules", "node-llama-cpp"));
    public const string NotInstalled = "node-llama-cpp is not installed in tests/reference (run scripts/setup-reference.sh, as make test does)";

    public sealed record Answer(int[][] Tokens, double[][][] Probabilities, int[][] Greedy);

    /// <summary>What to ask llama.cpp about one GGUF file.</summary>
    public sealed record Job(string Gguf, int Vocabulary, IReadOnlyList<string>? Tokenize = null, IReadOnlyList<long[]>? Probabilities = null,
        IReadOnlyList<long[]>? GreedyPrompts = null, int GreedyTokens = 32, bool VocabOnly = false, int ContextSize = 256)
    {
        public JsonObject ToJson()
        {
            var request = new JsonObject
            {
                ["model"] = Path.GetFullPath(Gguf), ["vocabOnly"] = VocabOnly, ["vocabulary"] = Vocabulary, ["contextSize"] = ContextSize,
            };
            if (Tokenize is not null) request["tokenize"] = new JsonArray(Tokenize.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray());
            if (Probabilities is not null) request["probabilities"] = new JsonArray(Probabilities.Select(Ids).ToArray());
            if (GreedyPrompts is not null)
                request["greedy"] = new JsonArray(GreedyPrompts.Select(p => (JsonNode)new JsonObject { ["ids"] = Ids(p), ["max"] = GreedyTokens }).ToArray());
            return request;
        }
    }

    /// <summary>One file in one llama.cpp process.</summary>
    public static Answer Run(Job job) => RunAll([job])[0];

    /// <summary>Many files in one llama.cpp process (starting one takes seconds; a tiny model runs in milliseconds).</summary>
    public static Answer[] RunAll(IReadOnlyList<Job> jobs)
    {
        var request = new JsonObject { ["jobs"] = new JsonArray(jobs.Select(j => (JsonNode)j.ToJson()).ToArray()) };
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = ReferenceFolder,
            StandardInputEncoding = new System.Text.UTF8Encoding(false), StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        psi.ArgumentList.Add("llamacpp_eval.mjs");
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        p.StandardInput.Write(request.ToJsonString());
        p.StandardInput.Close();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new Xunit.Sdk.XunitException($"llamacpp_eval.mjs on {string.Join(", ", jobs.Select(j => j.Gguf))} failed ({p.ExitCode}):\n{stderr.Result}");
        return JsonNode.Parse(stdout.Result)!["results"]!.AsArray().Select(ParseAnswer).ToArray();
    }

    static Answer ParseAnswer(JsonNode? answer)
    {
        int[][] IntRows(JsonNode? n) => n?.AsArray().Select(r => r!.AsArray().Select(v => (int)v!).ToArray()).ToArray() ?? [];
        var probs = answer!["probabilities"]?.AsArray()
            .Select(prompt => prompt!.AsArray().Select(pos => pos!.AsArray().Select(v => (double)v!).ToArray()).ToArray()).ToArray() ?? [];
        return new Answer(IntRows(answer["tokens"]), probs, IntRows(answer["greedy"]));
    }

    static JsonNode Ids(long[] ids) => new JsonArray(ids.Select(i => (JsonNode)JsonValue.Create(i)).ToArray());

    /// <summary>Tunebook's next-token distribution at every position of one prompt (float32 logits, softmax in float64).</summary>
    public static double[][] TunebookProbabilities(CausalLM model, long[] ids)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var logits = model.Forward(torch.tensor(ids, [1, ids.Length])).to(ScalarType.Float64);
        var probs = functional_softmax(logits[0]);
        var flat = probs.contiguous().data<double>();
        long v = probs.shape[1];
        return Enumerable.Range(0, ids.Length).Select(t => flat.AsSpan((int)(t * v), (int)v).ToArray()).ToArray();
    }

    static Tensor functional_softmax(Tensor logits) => Tunebook.Torch.nn.functional.softmax(logits, -1);

    /// <summary>Greedy continuation by full recomputation (end-of-sequence tokens are not special here, as in the llama.cpp script).</summary>
    public static int[] TunebookGreedy(CausalLM model, long[] prompt, int tokens)
    {
        var ids = prompt.ToList();
        var result = new List<int>();
        for (int i = 0; i < tokens; i++)
        {
            var p = TunebookProbabilities(model, ids.ToArray());
            int best = ArgMax(p[^1]);
            result.Add(best);
            ids.Add(best);
        }
        return result.ToArray();
    }

    /// <summary>KL(p‖q) with q renormalised in float64 (llama.cpp normalises in float32).</summary>
    public static double KL(double[] p, double[] q)
    {
        double sq = q.Sum(), sp = p.Sum(), kl = 0;
        for (int i = 0; i < p.Length; i++)
        {
            double pi = p[i] / sp, qi = Math.Max(q[i] / sq, 1e-30);
            if (pi > 0) kl += pi * Math.Log(pi / qi);
        }
        return kl;
    }

    /// <summary>Largest |Δp| between two prompts' next-token distributions, over every position and token.</summary>
    public static double MaxDiff(double[][] ours, double[][] theirs)
    {
        Xunit.Assert.Equal(ours.Length, theirs.Length);
        double max = 0;
        for (int t = 0; t < ours.Length; t++)
            for (int v = 0; v < ours[t].Length; v++) max = Math.Max(max, Math.Abs(ours[t][v] - theirs[t][v]));
        return max;
    }

    public static int ArgMax(double[] p)
    {
        int best = 0;
        for (int j = 1; j < p.Length; j++) if (p[j] > p[best]) best = j;
        return best;
    }
}

/// <summary>A fact that needs llama.cpp: skipped, saying why, when node-llama-cpp is not installed.</summary>
public sealed class LlamaCppFactAttribute : FactAttribute
{
    public LlamaCppFactAttribute() { if (!LlamaCpp.Installed) Skip = LlamaCpp.NotInstalled; }
}

/// <summary>A theory that needs llama.cpp: skipped, saying why, when node-llama-cpp is not installed.</summary>
public sealed class LlamaCppTheoryAttribute : TheoryAttribute
{
    public LlamaCppTheoryAttribute() { if (!LlamaCpp.Installed) Skip = LlamaCpp.NotInstalled; }
}
