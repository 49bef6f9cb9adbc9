using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Tunebook.Starter;

// The specification of a command-line tool: the domain tool in datasets/<tool>/spec.yaml, and the random
// tools the starter corpus invents. Manuals and question/answer datasets are both rendered from it, so a
// fact exists in exactly one place.

/// <summary>A command-line tool: its commands, options, configuration, environment and exit codes.</summary>
public sealed class CliSpec
{
    public string Name { get; set; } = "";
    public string Version { get; set; } = "1.0.0";
    /// <summary>One lower-case phrase: "schedule and sync garden irrigation zones".</summary>
    public string Summary { get; set; } = "";
    public string Description { get; set; } = "";
    public List<CliOption> GlobalOptions { get; set; } = [];
    public List<CliCommand> Commands { get; set; } = [];
    public CliConfig? Config { get; set; }
    public List<CliEnvVar> Environment { get; set; } = [];
    public List<CliExitCode> ExitCodes { get; set; } = [];
    /// <summary>Values for the {slot} placeholders of task phrasings and command templates.</summary>
    public Dictionary<string, List<SlotValue>> Slots { get; set; } = [];

    /// <summary>The command whose name is the longest prefix of <paramref name="words"/> (the words after the
    /// tool name), or null.</summary>
    public CliCommand? FindCommand(IReadOnlyList<string> words)
    {
        CliCommand? best = null;
        foreach (var c in Commands)
        {
            var parts = c.Name.Split(' ');
            if (parts.Length <= words.Count && parts.Select((p, i) => p == words[i]).All(x => x)
                && (best is null || parts.Length > best.Name.Split(' ').Length))
                best = c;
        }
        return best;
    }

    /// <summary>Reads and validates a spec from YAML. Errors name the file, line and field.</summary>
    public static CliSpec Load(string path) => Parse(File.ReadAllText(path), path);

    /// <summary>Parses and validates a spec from YAML text; <paramref name="source"/> names it in errors.</summary>
    public static CliSpec Parse(string yaml, string source = "spec.yaml")
    {
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .WithTypeConverter(new SlotValueConverter())
            .Build();
        CliSpec? spec;
        try { spec = deserializer.Deserialize<CliSpec>(yaml); }
        catch (YamlException e)
        {
            var inner = e.InnerException is null ? "" : $" ({e.InnerException.Message})";
            throw new InvalidDataException($"{source}({e.Start.Line},{e.Start.Column}): {e.Message}{inner}", e);
        }
        if (spec is null) throw new InvalidDataException($"{source}: the file is empty; expected a tool specification");
        spec.Validate(source);
        return spec;
    }

    static readonly Regex Placeholder = new(@"\{([a-z0-9_]+)\}", RegexOptions.Compiled);

    /// <summary>The {slot} names used in a template.</summary>
    public static IEnumerable<string> PlaceholdersOf(string template) =>
        Placeholder.Matches(template).Select(m => m.Groups[1].Value);

    /// <summary>Checks the facts the generators rely on; throws <see cref="InvalidDataException"/> naming the
    /// first problem found.</summary>
    public void Validate(string source = "spec")
    {
        void Fail(string where, string what) => throw new InvalidDataException($"{source}: {where}: {what}");
        if (!Regex.IsMatch(Name, "^[a-z][a-z0-9-]*$")) Fail("name", $"'{Name}' must be one lower-case word");
        if (string.IsNullOrWhiteSpace(Summary)) Fail("summary", "missing");
        if (Commands.Count == 0) Fail("commands", "a tool needs at least one command");
        foreach (var (slot, values) in Slots)
            if (values.Count == 0) Fail($"slots.{slot}", "needs at least one value");
        var seen = new HashSet<string>();
        foreach (var o in GlobalOptions)
        {
            if (!o.Name.StartsWith("--")) Fail($"global_options.{o.Name}", "option names start with --");
            if (o.Example is null || !o.Example.StartsWith(Name + " ")) Fail($"global_options.{o.Name}.example", $"must be a command starting with '{Name} '");
        }
        foreach (var c in Commands)
        {
            var where = $"commands.'{c.Name}'";
            if (!seen.Add(c.Name)) Fail(where, "defined twice");
            if (string.IsNullOrWhiteSpace(c.Summary)) Fail(where + ".summary", "missing");
            if (string.IsNullOrWhiteSpace(c.Description)) Fail(where + ".description", "missing");
            if (c.Tasks.Count == 0) Fail(where + ".tasks", "every command needs at least one task phrasing");
            foreach (var o in c.Options)
            {
                if (!o.Name.StartsWith("--")) Fail($"{where}.options.{o.Name}", "option names start with --");
                if (!c.Tasks.Any(t => CommandLine.Split(t.Run).Contains(o.Name)))
                    Fail($"{where}.options.{o.Name}", "no task uses this option, so no example can show it");
            }
            for (int i = 0; i < c.Tasks.Count; i++)
            {
                var t = c.Tasks[i];
                var tw = $"{where}.tasks[{i}]";
                if (!t.Run.StartsWith($"{Name} {c.Name}")) Fail(tw + ".run", $"'{t.Run}' must start with '{Name} {c.Name}'");
                foreach (var p in PlaceholdersOf(t.Ask).Concat(PlaceholdersOf(t.Run)))
                    if (!Slots.ContainsKey(p)) Fail(tw, $"unknown slot {{{p}}}; add it under slots");
                if (!PlaceholdersOf(t.Run).ToHashSet().SetEquals(PlaceholdersOf(t.Ask)))
                    Fail(tw, "the phrasing and the command must use the same slots");
            }
        }
        foreach (var e in Environment)
            if (!e.Example.Contains(Name + " ")) Fail($"environment.{e.Name}.example", $"must run {Name}");
        foreach (var x in ExitCodes)
            if (!x.Hint.StartsWith(Name + " ")) Fail($"exit_codes.{x.Code}.hint", $"must be a {Name} command");
    }

    /// <summary>The synopsis of a command: "puddle zone add NAME --valve N [--flow LPM] [--soil TYPE]".</summary>
    public string Usage(CliCommand c)
    {
        var parts = new List<string> { Name, c.Name };
        foreach (var a in c.Arguments) parts.Add(a.Required ? a.Name : $"[{a.Name}]");
        foreach (var o in c.Options)
        {
            var text = o.Value is null ? o.Name : $"{o.Name} {o.Value}";
            parts.Add(o.Required ? text : $"[{text}]");
        }
        return string.Join(' ', parts);
    }

    /// <summary>Checks that a command line (optionally preceded by VAR=value assignments) is valid for this
    /// tool: a known command, known options, values where an option takes one, and a plausible number of
    /// positional arguments. Returns null when valid, otherwise what is wrong.</summary>
    public string? CheckCommandLine(string commandLine)
    {
        var words = CommandLine.Split(commandLine);
        int i = 0;
        while (i < words.Count && Regex.IsMatch(words[i], "^[A-Z_][A-Z0-9_]*=")) i++;
        if (i >= words.Count || words[i] != Name) return $"'{commandLine}' does not run {Name}";
        i++;
        var globals = GlobalOptions.ToDictionary(o => o.Name);
        while (i < words.Count && words[i].StartsWith('-'))
        {
            if (!globals.TryGetValue(words[i], out var g)) return $"unknown global option {words[i]}";
            i += g.Value is null ? 1 : 2;
        }
        var rest = words.Skip(i).ToList();
        var command = FindCommand(rest);
        if (command is null) return $"no command '{string.Join(' ', rest)}' in {Name}";
        int positional = 0;
        var used = new HashSet<string>();
        for (int k = command.Name.Split(' ').Length; k < rest.Count; k++)
        {
            var w = rest[k];
            if (w == "--help") continue;
            if (w.StartsWith("--"))
            {
                var option = command.Options.FirstOrDefault(o => o.Name == w) ?? globals.GetValueOrDefault(w);
                if (option is null) return $"{Name} {command.Name} has no option {w}";
                if (!used.Add(w)) return $"option {w} given twice";
                if (option.Value is not null)
                {
                    if (k + 1 >= rest.Count || rest[k + 1].StartsWith("--")) return $"option {w} needs a value";
                    var value = rest[++k];
                    if (option.Choices is { Count: > 0 } && !option.Choices.Contains(value))
                        return $"{w} must be one of {string.Join(", ", option.Choices)}, not '{value}'";
                }
            }
            else positional++;
        }
        if (rest.Contains("--help")) return null;
        if (positional > command.Arguments.Count) return $"{Name} {command.Name} takes at most {command.Arguments.Count} arguments, got {positional}";
        if (positional < command.Arguments.Count(a => a.Required)) return $"{Name} {command.Name} needs {command.Arguments.Count(a => a.Required)} arguments, got {positional}";
        foreach (var o in command.Options.Where(o => o.Required))
            if (!used.Contains(o.Name)) return $"{Name} {command.Name} requires {o.Name}";
        return null;
    }
}

/// <summary>A command or subcommand such as "zone add".</summary>
public sealed class CliCommand
{
    /// <summary>The words after the tool name: "water", "zone add".</summary>
    public string Name { get; set; } = "";
    /// <summary>A short lower-case phrase: "add a zone wired to a valve".</summary>
    public string Summary { get; set; } = "";
    /// <summary>Full sentences; the first starts with a verb in the third person ("Adds a zone ...").</summary>
    public string Description { get; set; } = "";
    public List<CliArgument> Arguments { get; set; } = [];
    public List<CliOption> Options { get; set; } = [];
    /// <summary>What a user might want to do with this command, and the command line that does it.</summary>
    public List<CliTask> Tasks { get; set; } = [];
    public List<CliExample> Examples { get; set; } = [];
}

/// <summary>A positional argument.</summary>
public sealed class CliArgument
{
    public string Name { get; set; } = "";
    public bool Required { get; set; } = true;
    public string Description { get; set; } = "";
}

/// <summary>A named option; a flag when <see cref="Value"/> is null.</summary>
public sealed class CliOption
{
    public string Name { get; set; } = "";
    public string? Short { get; set; }
    /// <summary>The value's placeholder ("N", "PATH"), or null for a flag.</summary>
    public string? Value { get; set; }
    public string? Default { get; set; }
    public bool Required { get; set; }
    public List<string>? Choices { get; set; }
    public string Description { get; set; } = "";
    /// <summary>For global options: a full command line that uses it.</summary>
    public string? Example { get; set; }
}

/// <summary>A task phrasing ("water the {zone} zone") and the command template that does it.</summary>
public sealed class CliTask
{
    public string Ask { get; set; } = "";
    public string Run { get; set; } = "";
}

/// <summary>A literal example command line shown in the manual.</summary>
public sealed class CliExample
{
    public string Run { get; set; } = "";
}

/// <summary>The configuration file and its keys.</summary>
public sealed class CliConfig
{
    public string File { get; set; } = "";
    public string Description { get; set; } = "";
    public List<CliConfigKey> Keys { get; set; } = [];
}

/// <summary>One configuration key.</summary>
public sealed class CliConfigKey
{
    public string Name { get; set; } = "";
    public string Default { get; set; } = "";
    public string Example { get; set; } = "";
    /// <summary>A noun phrase that reads after "NAME is": "The name shown in reports."</summary>
    public string Description { get; set; } = "";
}

/// <summary>An environment variable the tool reads.</summary>
public sealed class CliEnvVar
{
    public string Name { get; set; } = "";
    /// <summary>A sentence starting with a verb in the third person: "Sets the path of ...".</summary>
    public string Description { get; set; } = "";
    /// <summary>A task phrasing answered by <see cref="Example"/>.</summary>
    public string Ask { get; set; } = "";
    public string Example { get; set; } = "";
}

/// <summary>An exit status and what it means.</summary>
public sealed class CliExitCode
{
    public int Code { get; set; }
    /// <summary>A noun phrase: "the controller could not be reached".</summary>
    public string Meaning { get; set; } = "";
    /// <summary>A command that helps in that case.</summary>
    public string Hint { get; set; } = "";
}

/// <summary>A slot value: how a question says it and how a command line spells it.</summary>
public sealed record SlotValue(string Say, string Run)
{
    /// <summary>A value spelled the same in both places.</summary>
    public static SlotValue Same(string text) => new(text, text);
}

/// <summary>Reads a slot value written either as a plain scalar or as a {say, run} mapping.</summary>
sealed class SlotValueConverter : IYamlTypeConverter
{
    public bool Accepts(Type type) => type == typeof(SlotValue);

    public object? ReadYaml(IParser parser, Type type, ObjectDeserializer rootDeserializer)
    {
        if (parser.TryConsume<Scalar>(out var scalar)) return SlotValue.Same(scalar.Value);
        var start = parser.Consume<MappingStart>();
        string? say = null, run = null;
        while (!parser.TryConsume<MappingEnd>(out _))
        {
            var key = parser.Consume<Scalar>();
            var value = parser.Consume<Scalar>();
            switch (key.Value)
            {
                case "say": say = value.Value; break;
                case "run": run = value.Value; break;
                default: throw new YamlException(key.Start, key.End, $"a slot value has keys 'say' and 'run', not '{key.Value}'");
            }
        }
        if (say is null || run is null) throw new YamlException(start.Start, start.End, "a slot value mapping needs both 'say' and 'run'");
        return new SlotValue(say, run);
    }

    public void WriteYaml(IEmitter emitter, object? value, Type type, ObjectSerializer serializer) =>
        throw new NotSupportedException("specs are read, never written");
}

/// <summary>Splits command lines the way a POSIX shell splits simple words (double quotes group).</summary>
public static class CommandLine
{
    /// <summary>The words of <paramref name="line"/>; "a \"b c\"" gives [a, b c].</summary>
    public static List<string> Split(string line)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false, any = false;
        foreach (var ch in line)
        {
            if (ch == '"') { quoted = !quoted; any = true; }
            else if (ch == ' ' && !quoted) { if (any) words.Add(current.ToString()); current.Clear(); any = false; }
            else { current.Append(ch); any = true; }
        }
        if (any) words.Add(current.ToString());
        return words;
    }

    /// <summary>Quotes a value for a command line when it contains a space.</summary>
    public static string Quote(string value) => value.Contains(' ') ? $"\"{value}\"" : value;
}
