using System.Text.RegularExpressions;

namespace Tunebook.Starter;

/// <summary>A question, its short answer, and the command line the answer contains.</summary>
public sealed record QaPair(QaKind Kind, string Question, string Answer, string Command);

/// <summary>
/// One thing a tool's manual says that a question can ask about: a task, an option, an environment variable...
/// A fact is realized into a question/answer pair with a phrasing template and a random fill of its slots.
/// </summary>
public sealed class QaFact
{
    internal QaFact(QaKind kind, string id, Func<string, DeterministicRandom, QaPair> realize)
    {
        Kind = kind; Id = id; _realize = realize;
    }

    readonly Func<string, DeterministicRandom, QaPair> _realize;

    public QaKind Kind { get; }
    /// <summary>Identifies the fact, e.g. "option:water:--minutes".</summary>
    public string Id { get; }
    /// <summary>True when realizations differ by slot values, not only by phrasing.</summary>
    public bool HasSlots { get; internal init; }

    /// <summary>The pair for one phrasing template, with slots filled from <paramref name="rng"/>.</summary>
    public QaPair Realize(string template, DeterministicRandom rng) => _realize(template, rng);
}

/// <summary>Turns a <see cref="CliSpec"/> into the facts questions can ask about, with short answers that
/// always contain an exact, valid command line in backticks.</summary>
public static class CliQa
{
    /// <summary>Every fact of the tool, in spec order.</summary>
    public static List<QaFact> Facts(CliSpec spec)
    {
        var facts = new List<QaFact>();
        string tool = spec.Name;

        foreach (var c in spec.Commands)
        {
            for (int i = 0; i < c.Tasks.Count; i++)
            {
                var task = c.Tasks[i];
                facts.Add(new QaFact(QaKind.Task, $"task:{c.Name}:{i}", (template, rng) =>
                {
                    var (ask, run) = Fill(spec, task, rng);
                    return Pair(QaKind.Task, template, tool, new() { ["task"] = ask }, $"Run `{run}`.", run);
                }) { HasSlots = CliSpec.PlaceholdersOf(task.Run).Any() });
            }

            facts.Add(new QaFact(QaKind.CommandPurpose, $"purpose:{c.Name}", (template, rng) =>
            {
                var example = ExampleFor(spec, c, null, rng);
                var answer = $"It {LowerFirst(FirstSentence(c.Description))} For example: `{example}`.";
                return Pair(QaKind.CommandPurpose, template, tool, new() { ["cmd"] = c.Name }, answer, example);
            }));

            foreach (var o in c.Options)
            {
                facts.Add(new QaFact(QaKind.OptionMeaning, $"option:{c.Name}:{o.Name}", (template, rng) =>
                {
                    var example = ExampleFor(spec, c, o, rng);
                    var required = o.Required ? " It is required." : "";
                    return Pair(QaKind.OptionMeaning, template, tool, new() { ["cmd"] = c.Name, ["opt"] = o.Name },
                        $"{EndSentence(o.Description)}{required} For example: `{example}`.", example);
                }));
                if (o.Default is not null)
                    facts.Add(new QaFact(QaKind.OptionDefault, $"default:{c.Name}:{o.Name}", (template, rng) =>
                    {
                        var example = ExampleFor(spec, c, o, rng);
                        return Pair(QaKind.OptionDefault, template, tool, new() { ["cmd"] = c.Name, ["opt"] = o.Name },
                            $"The default is {o.Default}. To set it yourself: `{example}`.", example);
                    }));
            }
        }

        foreach (var o in spec.GlobalOptions)
            facts.Add(new QaFact(QaKind.GlobalOption, $"global:{o.Name}", (template, _) =>
                Pair(QaKind.GlobalOption, template, tool, new() { ["opt"] = o.Name },
                    $"{EndSentence(o.Description)} For example: `{o.Example}`.", o.Example!)));

        foreach (var e in spec.Environment)
        {
            facts.Add(new QaFact(QaKind.EnvVar, $"env:{e.Name}", (template, _) =>
                Pair(QaKind.EnvVar, template, tool, new() { ["env"] = e.Name },
                    $"It {LowerFirst(EndSentence(e.Description))} For example: `{e.Example}`.", e.Example)));
            if (e.Ask.Length > 0)
                facts.Add(new QaFact(QaKind.Task, $"envtask:{e.Name}", (template, _) =>
                    Pair(QaKind.Task, template, tool, new() { ["task"] = e.Ask },
                        $"Set the {e.Name} environment variable: `{e.Example}`.", e.Example)));
        }

        foreach (var x in spec.ExitCodes.Where(x => x.Code != 0))
            facts.Add(new QaFact(QaKind.ExitCode, $"exit:{x.Code}", (template, _) =>
                Pair(QaKind.ExitCode, template, tool, new() { ["code"] = x.Code.ToString() },
                    $"Exit code {x.Code} means {x.Meaning}. Next, try `{x.Hint}`.", x.Hint)));

        var set = spec.FindCommand(["config", "set"]);
        if (spec.Config is not null && set is not null)
            foreach (var k in spec.Config.Keys)
            {
                var command = $"{tool} config set {k.Name} {CommandLine.Quote(k.Example)}";
                facts.Add(new QaFact(QaKind.ConfigKey, $"config:{k.Name}", (template, _) =>
                    Pair(QaKind.ConfigKey, template, tool, new() { ["key"] = k.Name },
                        $"{k.Name} is {LowerFirst(TrimPeriod(k.Description))}. Change it with `{command}`.", command)));
                facts.Add(new QaFact(QaKind.ConfigDefault, $"configdefault:{k.Name}", (template, _) =>
                    Pair(QaKind.ConfigDefault, template, tool, new() { ["key"] = k.Name },
                        $"{k.Name} defaults to {k.Default}. Change it with `{command}`.", command)));
            }
        return facts;
    }

    /// <summary>A task's phrasing and command with every slot filled by one random value.</summary>
    public static (string Ask, string Run) Fill(CliSpec spec, CliTask task, DeterministicRandom rng)
    {
        string ask = task.Ask, run = task.Run;
        foreach (var slot in CliSpec.PlaceholdersOf(task.Run).Distinct().ToList())
        {
            var value = rng.Pick(spec.Slots[slot]);
            ask = ask.Replace($"{{{slot}}}", value.Say);
            run = run.Replace($"{{{slot}}}", CommandLine.Quote(value.Run));
        }
        return (ask, run);
    }

    /// <summary>A command line for <paramref name="c"/> that uses <paramref name="option"/> (or any, when
    /// null): one of the command's tasks, filled.</summary>
    public static string ExampleFor(CliSpec spec, CliCommand c, CliOption? option, DeterministicRandom rng)
    {
        var candidates = option is null
            ? c.Tasks
            : c.Tasks.Where(t => CommandLine.Split(t.Run).Contains(option.Name)).ToList();
        return Fill(spec, rng.Pick(candidates), rng).Run;
    }

    static QaPair Pair(QaKind kind, string template, string tool, Dictionary<string, string> vars, string answer, string command)
    {
        var question = template.Replace("{tool}", tool);
        foreach (var (k, v) in vars) question = question.Replace($"{{{k}}}", v);
        return new QaPair(kind, UpperFirst(question), answer, command);
    }

    static readonly Regex Sentence = new(@"^.*?[.!?](?=\s|$)", RegexOptions.Singleline | RegexOptions.Compiled);

    internal static string FirstSentence(string text)
    {
        var m = Sentence.Match(text.Trim());
        return m.Success ? m.Value : EndSentence(text.Trim());
    }

    internal static string EndSentence(string text) => text.TrimEnd().EndsWith('.') ? text.TrimEnd() : text.TrimEnd() + ".";
    internal static string TrimPeriod(string text) => text.TrimEnd().TrimEnd('.');
    internal static string LowerFirst(string s) =>
        s.Length > 1 && char.IsUpper(s[0]) && !char.IsUpper(s[1]) ? char.ToLowerInvariant(s[0]) + s[1..] : s;
    internal static string UpperFirst(string s) => s.Length > 0 ? char.ToUpperInvariant(s[0]) + s[1..] : s;

    static readonly Regex Backticked = new("`([^`]+)`", RegexOptions.Compiled);

    /// <summary>The backticked spans of an answer that run <paramref name="tool"/> (optionally after
    /// VAR=value assignments) — the command lines an answer gives.</summary>
    public static IEnumerable<string> CommandsIn(string answer, string tool) =>
        Backticked.Matches(answer).Select(m => m.Groups[1].Value)
            .Where(s => Regex.IsMatch(s, $@"^([A-Z_][A-Z0-9_]*=\S*\s+)*{Regex.Escape(tool)}(\s|$)"));
}
