using System.Text;

namespace Tunebook.Starter;

/// <summary>
/// Renders a tool's manual from its <see cref="CliSpec"/>: Markdown for people (datasets/&lt;tool&gt;/README.md)
/// and plain text for language-model training and perplexity (docs.txt). Both carry the same facts, with the
/// same filled examples, so a model that read docs.txt has seen every answer of the dataset.
/// </summary>
public static class CliManual
{
    /// <summary>The handbook-style Markdown manual.</summary>
    public static string Markdown(CliSpec spec, ulong seed = 7)
    {
        var rng = new DeterministicRandom(seed);
        var md = new StringBuilder();
        md.Append($"# {spec.Name} {spec.Version} — {spec.Summary}\n\n");
        md.Append($"> `{spec.Name}` is a fictional tool, invented so that a language model can be taught documentation it has " +
                  "never seen. This manual is generated from [spec.yaml](spec.yaml); edit that file and regenerate instead of editing this one.\n\n");
        md.Append(spec.Description.Trim()).Append("\n\n");

        md.Append("## Contents\n\n");
        foreach (var group in Groups(spec))
            md.Append($"- [{spec.Name} {group.Key}](#{Anchor(spec.Name + " " + group.Key)})\n");
        md.Append("- [Global options](#global-options)\n");
        if (spec.Config is not null) md.Append("- [Configuration](#configuration)\n");
        if (spec.Environment.Count > 0) md.Append("- [Environment](#environment)\n");
        if (spec.ExitCodes.Count > 0) md.Append("- [Exit codes](#exit-codes)\n");
        md.Append('\n');

        foreach (var group in Groups(spec))
        {
            md.Append($"## {spec.Name} {group.Key}\n\n");
            foreach (var c in group)
            {
                if (group.Count() > 1 || c.Name != group.Key) md.Append($"### {spec.Name} {c.Name}\n\n");
                md.Append($"{CliQa.UpperFirst(c.Summary)}.\n\n```\n{spec.Usage(c)}\n```\n\n{c.Description.Trim()}\n\n");
                if (c.Arguments.Count > 0)
                {
                    md.Append("| Argument | Description |\n|---|---|\n");
                    foreach (var a in c.Arguments)
                        md.Append($"| `{a.Name}`{(a.Required ? "" : " (optional)")} | {Cell(a.Description)} |\n");
                    md.Append('\n');
                }
                if (c.Options.Count > 0)
                {
                    md.Append("| Option | Default | Description |\n|---|---|---|\n");
                    foreach (var o in c.Options)
                        md.Append($"| `{OptionText(o)}` | {DefaultText(o)} | {Cell(OptionDescription(o))} |\n");
                    md.Append('\n');
                }
                md.Append("Examples:\n\n");
                foreach (var (say, run) in Examples(spec, c, rng))
                    md.Append($"- {say}:\n  ```\n  {run}\n  ```\n");
                md.Append('\n');
            }
        }

        md.Append("## Global options\n\nThese go before the command, and every command accepts them.\n\n");
        md.Append("| Option | Default | Description |\n|---|---|---|\n");
        foreach (var o in spec.GlobalOptions)
            md.Append($"| `{OptionText(o)}`{(o.Short is null ? "" : $", `{o.Short}`")} | {DefaultText(o)} | {Cell(o.Description)} Example: `{o.Example}` |\n");
        md.Append('\n');

        if (spec.Config is { } config)
        {
            md.Append($"## Configuration\n\nFile: `{config.File}`\n\n{config.Description.Trim()}\n\n");
            md.Append("| Key | Default | Description |\n|---|---|---|\n");
            foreach (var k in config.Keys) md.Append($"| `{k.Name}` | {Cell(k.Default)} | {Cell(k.Description)} |\n");
            if (config.Keys.Count > 0)
                md.Append($"\nExample: `{spec.Name} config set {config.Keys[0].Name} {CommandLine.Quote(config.Keys[0].Example)}`\n");
            md.Append('\n');
        }
        if (spec.Environment.Count > 0)
        {
            md.Append("## Environment\n\n| Variable | Description | Example |\n|---|---|---|\n");
            foreach (var e in spec.Environment) md.Append($"| `{e.Name}` | {Cell(e.Description)} | `{e.Example}` |\n");
            md.Append('\n');
        }
        if (spec.ExitCodes.Count > 0)
        {
            md.Append("## Exit codes\n\n| Code | Meaning | What to run next |\n|---|---|---|\n");
            foreach (var x in spec.ExitCodes) md.Append($"| {x.Code} | {CliQa.UpperFirst(x.Meaning)} | `{x.Hint}` |\n");
        }
        return md.ToString();
    }

    /// <summary>The same manual as plain text: no markup, one fact per line where possible.</summary>
    public static string PlainText(CliSpec spec, ulong seed = 7)
    {
        var rng = new DeterministicRandom(seed);
        var t = new StringBuilder();
        t.Append($"{spec.Name} {spec.Version}: {spec.Summary}\n\n{spec.Description.Trim()}\n\n");
        foreach (var c in spec.Commands)
        {
            t.Append($"{spec.Name} {c.Name}: {c.Summary}.\n");
            t.Append($"Usage: {spec.Usage(c)}\n{c.Description.Trim()}\n");
            foreach (var a in c.Arguments)
                t.Append($"  {a.Name}: {CliQa.EndSentence(a.Description)}{(a.Required ? "" : " Optional.")}\n");
            foreach (var o in c.Options)
                t.Append($"  {OptionText(o)}: {OptionDescription(o)}{(o.Default is null ? "" : $" Default: {o.Default}.")}\n");
            t.Append("Examples:\n");
            foreach (var (say, run) in Examples(spec, c, rng))
                t.Append($"  {say}: {run}\n");
            t.Append('\n');
        }
        t.Append($"Global options of {spec.Name}, given before the command:\n");
        foreach (var o in spec.GlobalOptions)
            t.Append($"  {OptionText(o)}: {CliQa.EndSentence(o.Description)}{(o.Default is null ? "" : $" Default: {o.Default}.")} Example: {o.Example}\n");
        t.Append('\n');
        if (spec.Config is { } config)
        {
            t.Append($"Configuration file: {config.File}\n{config.Description.Trim()}\n");
            foreach (var k in config.Keys)
                t.Append($"  {k.Name}: {CliQa.EndSentence(k.Description)} Default: {k.Default}. Example: {spec.Name} config set {k.Name} {CommandLine.Quote(k.Example)}\n");
            t.Append('\n');
        }
        if (spec.Environment.Count > 0)
        {
            t.Append("Environment variables:\n");
            foreach (var e in spec.Environment) t.Append($"  {e.Name}: {CliQa.EndSentence(e.Description)} Example: {e.Example}\n");
            t.Append('\n');
        }
        if (spec.ExitCodes.Count > 0)
        {
            t.Append("Exit codes:\n");
            foreach (var x in spec.ExitCodes) t.Append($"  {x.Code}: {CliQa.UpperFirst(x.Meaning)}. Next, try: {x.Hint}\n");
        }
        return t.ToString();
    }

    /// <summary>Commands grouped by their first word ("zone add", "zone list" → "zone"), in spec order.</summary>
    static IEnumerable<IGrouping<string, CliCommand>> Groups(CliSpec spec) => spec.Commands.GroupBy(c => c.Name.Split(' ')[0]);

    /// <summary>The spec's literal examples, then every task filled once.</summary>
    static IEnumerable<(string Say, string Run)> Examples(CliSpec spec, CliCommand c, DeterministicRandom rng)
    {
        foreach (var e in c.Examples) yield return ("Typical use", e.Run);
        foreach (var task in c.Tasks)
        {
            var (ask, run) = CliQa.Fill(spec, task, rng);
            yield return (CliQa.UpperFirst(ask), run);
        }
    }

    static string OptionText(CliOption o) => o.Value is null ? o.Name : $"{o.Name} {o.Value}";
    static string DefaultText(CliOption o) => o.Required ? "required" : o.Default is null ? "" : Cell(o.Default);
    static string OptionDescription(CliOption o) =>
        CliQa.EndSentence(o.Description)
        + (o.Choices is { Count: > 0 } ? $" One of: {string.Join(", ", o.Choices)}." : "")
        + (o.Required ? " Required." : "");
    static string Cell(string text) => text.Replace("|", "\\|").Replace("\n", " ");
    static string Anchor(string heading) => heading.ToLowerInvariant().Replace(' ', '-');
}
