using System.Text;

namespace Tunebook.Starter;

/// <summary>
/// The pretraining corpus of the starter model, generated rather than downloaded so the model can be rebuilt
/// offline, byte for byte, from a seed. It mixes simple English (stories, facts, instructions, questions) with
/// manuals of and questions about many invented command-line tools, in two layouts: ChatML conversations and
/// "Question: ... / Answer: ..." text. The model thus learns to answer a question about a tool with a command
/// in backticks — but never meets the domain tool (puddle) that fine-tuning then teaches it.
/// </summary>
/// <remarks>
/// Documents are separated by <see cref="EndOfText"/>, which the tokenizer must treat as a special token, as
/// must <see cref="ImStart"/> and <see cref="ImEnd"/>. About 2.5 MB a second on one core.
/// </remarks>
public static class StarterCorpus
{
    /// <summary>Ends every document (GPT-2 convention); also the padding token of the starter model.</summary>
    public const string EndOfText = "<|endoftext|>";
    /// <summary>Opens a ChatML message: "&lt;|im_start|&gt;user\n".</summary>
    public const string ImStart = "<|im_start|>";
    /// <summary>Closes a ChatML message.</summary>
    public const string ImEnd = "<|im_end|>";

    /// <summary>The kinds of document and their share of the corpus, in characters.</summary>
    public enum Part { Story, Facts, Instructions, GeneralQa, GeneralChat, ToolManual, ToolQa, ToolChat }

    static readonly (Part Part, double Share)[] Mix =
    [
        (Part.Story, 0.25), (Part.Facts, 0.05), (Part.Instructions, 0.05), (Part.GeneralQa, 0.05), (Part.GeneralChat, 0.08),
        (Part.ToolManual, 0.17), (Part.ToolQa, 0.12), (Part.ToolChat, 0.23),
    ];

    static readonly QuestionTemplates AllTemplates =
        QuestionTemplates.Union(QuestionTemplates.Train, QuestionTemplates.HeldOut, QuestionTemplates.Extra);

    static readonly string[] SystemPrompts =
    [
        "You are a helpful assistant.", "You are a helpful assistant. Answer briefly.",
        "You answer questions about command-line tools with the exact command.",
    ];

    /// <summary>
    /// A corpus of at least <paramref name="sizeInChars"/> characters (it ends on a document boundary, so at
    /// most one document more), identical for identical arguments on every machine and runtime.
    /// </summary>
    public static string Generate(int seed, int sizeInChars)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sizeInChars);
        var sb = new StringBuilder(sizeInChars + 16_384);
        foreach (var (_, text) in Documents(seed, sizeInChars))
        {
            if (sb.Length >= sizeInChars) break;
            sb.Append(text).Append(EndOfText);
        }
        return sb.ToString();
    }

    /// <summary>Writes <see cref="Generate"/>'s text to <paramref name="path"/> (through a temporary file).</summary>
    public static string Write(string path, int seed, int sizeInChars) =>
        Tunebook.IO.AtomicFile.WriteAllText(path, Generate(seed, sizeInChars));

    /// <summary>
    /// The endless stream of documents behind <see cref="Generate"/>, each with its <see cref="Part"/>. The
    /// next part is always the one furthest below its share, so every prefix has the intended mix. The planned
    /// size sets how many invented tools there are (one per ~100 kB, 8 to 200), so larger corpora show more
    /// tools rather than the same few more often.
    /// </summary>
    public static IEnumerable<(Part Part, string Text)> Documents(int seed, int plannedSizeInChars)
    {
        var rng = new DeterministicRandom((ulong)(uint)seed ^ 0x5EEDC0DE00000000UL);
        var toolRng = rng.Fork();
        int toolCount = Math.Clamp(plannedSizeInChars / 100_000, 8, 200);
        var tools = new List<(CliSpec Spec, List<QaFact> Facts)>();
        (CliSpec Spec, List<QaFact> Facts) Tool()
        {
            int i = rng.Next(toolCount);
            while (tools.Count <= i)
            {
                var spec = RandomTools.Invent(toolRng);
                if (tools.Any(t => t.Spec.Name == spec.Name)) continue;
                tools.Add((spec, CliQa.Facts(spec)));
            }
            return tools[i];
        }

        var produced = new double[Mix.Length];
        double total = 0;
        while (true)
        {
            int next = 0;
            double worst = double.MaxValue;
            for (int i = 0; i < Mix.Length; i++)
            {
                double relative = produced[i] - Mix[i].Share * total;
                if (relative < worst) { worst = relative; next = i; }
            }
            var part = Mix[next].Part;
            string text = part switch
            {
                Part.Story => EnglishText.Story(rng),
                Part.Facts => EnglishText.Facts(rng),
                Part.Instructions => EnglishText.Instructions(rng),
                Part.GeneralQa => QaText(Enumerable.Range(0, rng.Next(1, 4)).Select(_ => GeneralQa(rng)).ToList()),
                Part.GeneralChat => GeneralChat(rng),
                Part.ToolManual => ToolManual(Tool().Spec, rng),
                Part.ToolQa => QaText(ToolQuestions(Tool(), rng)),
                _ => ToolChat(Tool(), rng),
            };
            produced[next] += text.Length;
            total += text.Length;
            yield return (part, text);
        }
    }

    static (string Question, string Answer) GeneralQa(DeterministicRandom rng)
    {
        var qa = rng.Chance(0.2) ? EnglishText.HowTo(rng) : EnglishText.QuestionAnswer(rng);
        return (qa.Question, qa.Answer);
    }

    static string GeneralChat(DeterministicRandom rng)
    {
        var messages = new List<(string, string)>();
        if (rng.Chance(0.25)) messages.Add(("system", rng.Pick(SystemPrompts[..2])));
        int turns = rng.Next(1, 4);
        for (int i = 0; i < turns; i++)
        {
            if (rng.Chance(0.15))
            {
                messages.Add(("user", rng.Pick(new[] { "Tell me a short story.", "Can you tell me a story?", "Write a short story for a child." })));
                messages.Add(("assistant", EnglishText.Story(rng).TrimEnd()));
            }
            else
            {
                var (q, a) = GeneralQa(rng);
                messages.Add(("user", q));
                messages.Add(("assistant", a));
            }
        }
        return Chat(messages);
    }

    static string ToolManual(CliSpec spec, DeterministicRandom rng) =>
        rng.Chance(0.3) ? CliManual.Markdown(spec, rng.NextUInt64()) : CliManual.PlainText(spec, rng.NextUInt64());

    static List<(string Question, string Answer)> ToolQuestions((CliSpec Spec, List<QaFact> Facts) tool, DeterministicRandom rng)
    {
        var pairs = new List<(string, string)>();
        int n = rng.Next(1, 5);
        for (int i = 0; i < n; i++)
        {
            // Task questions are most of what users ask, so they are most of the corpus too.
            var pool = rng.Chance(0.6) ? tool.Facts.Where(f => f.Kind == QaKind.Task).ToList() : tool.Facts;
            var fact = rng.Pick(pool);
            var pair = fact.Realize(rng.Pick(AllTemplates.For(fact.Kind)), rng);
            pairs.Add((pair.Question, pair.Answer));
        }
        return pairs;
    }

    static string ToolChat((CliSpec Spec, List<QaFact> Facts) tool, DeterministicRandom rng)
    {
        var messages = new List<(string, string)>();
        if (rng.Chance(0.25))
            messages.Add(("system", rng.Chance(0.5) ? rng.Pick(SystemPrompts)
                : $"You answer questions about {tool.Spec.Name}, a tool to {tool.Spec.Summary}."));
        foreach (var (q, a) in ToolQuestions(tool, rng))
        {
            messages.Add(("user", q));
            messages.Add(("assistant", a));
        }
        return Chat(messages);
    }

    static string QaText(IEnumerable<(string Question, string Answer)> pairs)
    {
        var sb = new StringBuilder();
        foreach (var (q, a) in pairs) sb.Append(DomainDataset.CompletionPrompt(q)).Append(' ').Append(a).Append("\n\n");
        return sb.ToString();
    }

    /// <summary>Renders messages in ChatML, exactly as <see cref="StarterModel.ChatTemplate"/> does.</summary>
    public static string Chat(IEnumerable<(string Role, string Content)> messages)
    {
        var sb = new StringBuilder();
        foreach (var (role, content) in messages) sb.Append(ImStart).Append(role).Append('\n').Append(content).Append(ImEnd).Append('\n');
        return sb.ToString();
    }
}
