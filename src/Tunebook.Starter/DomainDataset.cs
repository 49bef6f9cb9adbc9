using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Starter;

/// <summary>
/// The domain fine-tuning dataset: short questions about a tool, answered with the exact command, built
/// deterministically from its <see cref="CliSpec"/>. Training questions use <see cref="QuestionTemplates.Train"/>;
/// held-out questions use only <see cref="QuestionTemplates.HeldOut"/> phrasings, so they test whether the
/// tuned model learned the tool rather than the sentences.
/// </summary>
public sealed class DomainDataset
{
    /// <summary>The seed the committed files were generated with.</summary>
    public const int DefaultSeed = 20250601;

    public required CliSpec Spec { get; init; }
    public required IReadOnlyList<QaPair> Train { get; init; }
    public required IReadOnlyList<QaPair> HeldOut { get; init; }

    /// <summary>How many held-out questions of each kind (tasks: one per command, see <see cref="Build"/>).</summary>
    static readonly (QaKind Kind, int Count)[] HeldOutMix =
    [
        (QaKind.CommandPurpose, 3), (QaKind.OptionMeaning, 6), (QaKind.OptionDefault, 4), (QaKind.GlobalOption, 1),
        (QaKind.EnvVar, 2), (QaKind.ExitCode, 2), (QaKind.ConfigKey, 2), (QaKind.ConfigDefault, 1),
    ];

    /// <summary>Builds the training and held-out sets for <paramref name="spec"/>.</summary>
    /// <remarks>Training: every fact once per training phrasing (facts with slots get a fresh random fill each
    /// time), shuffled. Held-out: one task of every command plus a fixed mix of the other kinds, each asked with
    /// a held-out phrasing; a held-out question that happens to equal a training question is skipped.</remarks>
    public static DomainDataset Build(CliSpec spec, int seed = DefaultSeed)
    {
        var rng = new DeterministicRandom((uint)seed);
        var facts = CliQa.Facts(spec);

        var trainRng = rng.Fork();
        var train = new List<QaPair>();
        var questions = new HashSet<string>();
        foreach (var fact in facts)
            foreach (var template in QuestionTemplates.Train.For(fact.Kind))
            {
                var pair = fact.Realize(template, trainRng);
                if (questions.Add(pair.Question)) train.Add(pair);
            }
        train = trainRng.Shuffle(train);

        var heldRng = rng.Fork();
        var chosen = new List<QaFact>();
        foreach (var group in facts.Where(f => f.Kind == QaKind.Task && f.Id.StartsWith("task:")).GroupBy(f => f.Id.Split(':')[1]))
            chosen.Add(heldRng.Pick(group.ToList()));
        foreach (var (kind, count) in HeldOutMix)
            chosen.AddRange(heldRng.Shuffle(facts.Where(f => f.Kind == kind)).Take(count));

        var heldOut = new List<QaPair>();
        var counters = new Dictionary<QaKind, int>();
        foreach (var fact in chosen)
        {
            var templates = QuestionTemplates.HeldOut.For(fact.Kind);
            int n = counters.GetValueOrDefault(fact.Kind);
            counters[fact.Kind] = n + 1;
            var pair = fact.Realize(templates[n % templates.Length], heldRng);
            if (!questions.Contains(pair.Question) && heldOut.All(h => h.Question != pair.Question)) heldOut.Add(pair);
        }
        return new DomainDataset { Spec = spec, Train = train, HeldOut = heldOut };
    }

    /// <summary>Every file of datasets/&lt;tool&gt;/ except spec.yaml, by file name, exactly as committed.</summary>
    public IReadOnlyDictionary<string, string> RenderFiles() => new SortedDictionary<string, string>(StringComparer.Ordinal)
    {
        ["README.md"] = CliManual.Markdown(Spec),
        ["docs.txt"] = CliManual.PlainText(Spec),
        ["train.jsonl"] = Jsonl(Train, ChatRecord),
        ["train.alpaca.jsonl"] = Jsonl(Train, p => new JsonObject { ["instruction"] = p.Question, ["input"] = "", ["output"] = p.Answer }),
        ["train.completion.jsonl"] = Jsonl(Train, p => new JsonObject { ["prompt"] = CompletionPrompt(p.Question), ["completion"] = " " + p.Answer }),
        ["heldout.jsonl"] = Jsonl(HeldOut, ChatRecord),
    };

    /// <summary>The prompt of the prompt/completion format: "Question: ...\nAnswer:" (the completion starts
    /// with a space). The starter corpus uses the same layout for its Q&amp;A text.</summary>
    public static string CompletionPrompt(string question) => $"Question: {question}\nAnswer:";

    // JSON objects rather than anonymous types: those would need reflection, which file-based apps turn off.
    static JsonNode ChatRecord(QaPair p) => new JsonObject
    {
        ["messages"] = new JsonArray(
            new JsonObject { ["role"] = "user", ["content"] = p.Question },
            new JsonObject { ["role"] = "assistant", ["content"] = p.Answer }),
    };

    /// <summary>JSON as people write it: non-ASCII letters and quotes kept readable, one record per line.</summary>
    static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    static string Jsonl(IEnumerable<QaPair> pairs, Func<QaPair, JsonNode> record)
    {
        var sb = new StringBuilder();
        foreach (var p in pairs) sb.Append(record(p).ToJsonString(JsonOptions)).Append('\n');
        return sb.ToString();
    }

    /// <summary>Loads <paramref name="specPath"/>, builds the dataset and writes every rendered file beside the
    /// spec (each through a temporary file and a rename). Returns the paths written.</summary>
    public static IReadOnlyList<string> Generate(string specPath, int seed = DefaultSeed)
    {
        var dataset = Build(CliSpec.Load(specPath), seed);
        var dir = Path.GetDirectoryName(Path.GetFullPath(specPath))!;
        return dataset.RenderFiles().Select(f => Tunebook.IO.AtomicFile.WriteAllText(Path.Combine(dir, f.Key), f.Value)).ToList();
    }
}
