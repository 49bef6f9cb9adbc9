using System.Globalization;
using System.Reflection;
using System.Text;

namespace Tunebook.Interactive;

/// <summary>
/// Turns the text after "#!name" into a typed options object: tokenizes it like a shell (single or double
/// quotes, backslash escapes inside double quotes), binds positional tokens to [Argument] properties and
/// "--name value" / "--name=value" / "-a value" / bare "--flag" tokens to [Option] properties, converts
/// each value to the property's type, applies choices and required checks, and keeps the defaults the
/// options class initializes. Every problem throws <see cref="MagicUsageException"/> whose message names
/// the problem and carries the command's usage.
/// </summary>
public static class MagicParser
{
    /// <summary>Splits an argument string into tokens. Quotes group words; an unterminated quote is an error.</summary>
    public static IReadOnlyList<string> Tokenize(string text)
    {
        var tokens = new List<string>();
        var current = new StringBuilder();
        bool inToken = false;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inToken) { tokens.Add(current.ToString()); current.Clear(); inToken = false; }
                continue;
            }
            inToken = true;
            if (c is '"' or '\'')
            {
                char quote = c;
                int start = i++;
                while (i < text.Length && text[i] != quote)
                {
                    if (quote == '"' && text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\') i++;
                    current.Append(text[i++]);
                }
                if (i >= text.Length)
                    throw new MagicUsageException($"unterminated {(quote == '"' ? "double" : "single")} quote starting at column {start + 1}");
                continue;
            }
            current.Append(c);
        }
        if (inToken) tokens.Add(current.ToString());
        return tokens;
    }

    /// <summary>True when the tokens ask for help ("--help", "-h" or "-?").</summary>
    public static bool IsHelpRequest(IReadOnlyList<string> tokens) => tokens.Any(t => t is "--help" or "-h" or "-?");

    /// <summary>Parses <paramref name="argumentText"/> into a new options object of the magic's options type.</summary>
    public static object Parse(MagicCommand command, string argumentText)
    {
        try { return Bind(command.OptionsType, Tokenize(argumentText)); }
        catch (MagicUsageException e) { throw WithUsage(command, e.Message); }
    }

    /// <summary>Parses argument text into <typeparamref name="TOptions"/> for a command named <paramref name="name"/>.</summary>
    public static TOptions Parse<TOptions>(string name, string argumentText) where TOptions : new()
    {
        try { return (TOptions)Bind(typeof(TOptions), Tokenize(argumentText)); }
        catch (MagicUsageException e) { throw new MagicUsageException($"#!{name}: {e.Message}\n\n{MagicHelp.Usage(name, typeof(TOptions))}"); }
    }

    /// <summary>A usage error for <paramref name="command"/>: the problem, then the usage text.</summary>
    public static MagicUsageException WithUsage(MagicCommand command, string problem) =>
        new($"#!{command.Name}: {problem}\n\n{MagicHelp.Usage(command)}");

    /// <summary>Binds tokens to a new instance of <paramref name="optionsType"/>. Errors carry no usage text.</summary>
    public static object Bind(Type optionsType, IReadOnlyList<string> tokens)
    {
        var options = Activator.CreateInstance(optionsType)
            ?? throw new MagicUsageException($"cannot create {optionsType.Name}");
        var spec = MagicSpec.Of(optionsType);
        var positional = new List<string>();
        var seen = new HashSet<PropertyInfo>();
        var arrays = new Dictionary<PropertyInfo, List<string>>();

        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (token == "--") { positional.AddRange(tokens.Skip(i + 1)); break; }
            if (!LooksLikeOption(token)) { positional.Add(token); continue; }

            string name = token; string? inline = null;
            int eq = token.IndexOf('=');
            if (eq > 0) { name = token[..eq]; inline = token[(eq + 1)..]; }
            var option = spec.Options.FirstOrDefault(o => o.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
                ?? throw new MagicUsageException($"unknown option {name}{Suggest(name, spec)}");

            string value;
            if (IsBool(option.Property.PropertyType))
            {
                value = inline ?? "true";
            }
            else if (inline is not null) value = inline;
            else if (i + 1 < tokens.Count && !(LooksLikeOption(tokens[i + 1]) && !IsNumber(tokens[i + 1]))) value = tokens[++i];
            else throw new MagicUsageException($"option {option.Attribute.Name} expects a value ({TypeLabel(option.Property.PropertyType)})");

            if (option.Property.PropertyType == typeof(string[]))
            {
                if (!arrays.TryGetValue(option.Property, out var list)) arrays[option.Property] = list = [];
                foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    list.Add(CheckChoice(part, option.Attribute.Choices, option.Attribute.Name));
            }
            else
            {
                if (!seen.Add(option.Property)) throw new MagicUsageException($"option {option.Attribute.Name} is given more than once");
                Assign(options, option.Property, CheckChoice(value, option.Attribute.Choices, option.Attribute.Name), option.Attribute.Name);
            }
            seen.Add(option.Property);
        }
        foreach (var (property, values) in arrays) property.SetValue(options, values.ToArray());

        int p = 0;
        foreach (var argument in spec.Arguments)
        {
            if (argument.Property.PropertyType == typeof(string[]))
            {
                var rest = positional.Skip(p).Select(v => CheckChoice(v, argument.Attribute.Choices, argument.Attribute.Name)).ToArray();
                p = positional.Count;
                if (rest.Length > 0) argument.Property.SetValue(options, rest);
                else if (argument.Attribute.Required) throw new MagicUsageException($"missing argument <{argument.Attribute.Name}>");
                continue;
            }
            if (p < positional.Count)
            {
                Assign(options, argument.Property, CheckChoice(positional[p++], argument.Attribute.Choices, argument.Attribute.Name), $"<{argument.Attribute.Name}>");
            }
            else if (argument.Attribute.Required) throw new MagicUsageException($"missing argument <{argument.Attribute.Name}>");
        }
        if (p < positional.Count)
            throw new MagicUsageException($"unexpected argument \"{positional[p]}\"" +
                (spec.Arguments.Count == 0 ? " (this command takes no positional arguments)" : ""));

        foreach (var option in spec.Options)
            if (option.Attribute.Required && !seen.Contains(option.Property))
                throw new MagicUsageException($"missing required option {option.Attribute.Name}");
        return options;
    }

    static bool LooksLikeOption(string token) => token.Length > 1 && token[0] == '-' && !IsNumber(token);

    static bool IsNumber(string token) => double.TryParse(token, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    static bool IsBool(Type t) => (Nullable.GetUnderlyingType(t) ?? t) == typeof(bool);

    static string Suggest(string name, MagicSpec spec)
    {
        var best = spec.Options.SelectMany(o => o.Names)
            .Select(n => (n, d: EditDistance(n.TrimStart('-'), name.TrimStart('-'))))
            .OrderBy(x => x.d).FirstOrDefault();
        return best.n is not null && best.d <= 2 ? $" (did you mean {best.n}?)" : "";
    }

    static int EditDistance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1),
                    d[i - 1, j - 1] + (char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1));
        return d[a.Length, b.Length];
    }

    static string CheckChoice(string value, string[]? choices, string what)
    {
        if (choices is null || choices.Length == 0) return value;
        var match = choices.FirstOrDefault(c => string.Equals(c, value, StringComparison.OrdinalIgnoreCase));
        return match ?? throw new MagicUsageException($"{what} must be one of {string.Join(", ", choices)}; got \"{value}\"");
    }

    static void Assign(object options, PropertyInfo property, string text, string what) =>
        property.SetValue(options, Convert(text, property.PropertyType, what));

    /// <summary>Converts one token to <paramref name="type"/>, with an error that names the option and the expected type.</summary>
    public static object? Convert(string text, Type type, string what)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        var inv = CultureInfo.InvariantCulture;
        bool ok;
        object? value;
        if (target == typeof(string)) return text;
        if (target == typeof(string[])) return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (target == typeof(bool))
        {
            ok = bool.TryParse(text, out var b) || text is "1" or "0" or "yes" or "no";
            value = ok && (b || text is "1" or "yes");
        }
        else if (target == typeof(int)) { ok = int.TryParse(text.Replace("_", ""), NumberStyles.Integer, inv, out var v); value = v; }
        else if (target == typeof(long)) { ok = long.TryParse(text.Replace("_", ""), NumberStyles.Integer, inv, out var v); value = v; }
        else if (target == typeof(double)) { ok = double.TryParse(text, NumberStyles.Float, inv, out var v); value = v; }
        else if (target == typeof(float)) { ok = float.TryParse(text, NumberStyles.Float, inv, out var v); value = v; }
        else if (target.IsEnum)
        {
            string normalized = text.Replace("-", "").Replace("_", "");
            var name = Enum.GetNames(target).FirstOrDefault(n => string.Equals(n, normalized, StringComparison.OrdinalIgnoreCase));
            ok = name is not null;
            value = ok ? Enum.Parse(target, name!) : null;
            if (!ok) throw new MagicUsageException($"{what} must be one of {string.Join(", ", Enum.GetNames(target).Select(n => n.ToLowerInvariant()))}; got \"{text}\"");
        }
        else throw new MagicUsageException($"{what} has unsupported type {type.Name}");
        if (!ok) throw new MagicUsageException($"{what} expects {TypeLabel(type)}; got \"{text}\"");
        return value;
    }

    internal static string TypeLabel(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(int) || t == typeof(long)) return "an integer";
        if (t == typeof(double) || t == typeof(float)) return "a number";
        if (t == typeof(bool)) return "true or false";
        if (t == typeof(string[])) return "a list";
        if (t.IsEnum) return "one of " + string.Join(", ", Enum.GetNames(t).Select(n => n.ToLowerInvariant()));
        return "a text";
    }
}

/// <summary>The [Argument] and [Option] properties of an options type, in declaration order.</summary>
public sealed class MagicSpec
{
    public sealed record Arg(PropertyInfo Property, ArgumentAttribute Attribute);
    public sealed record Opt(PropertyInfo Property, OptionAttribute Attribute)
    {
        public IEnumerable<string> Names => Attribute.Aliases.Prepend(Attribute.Name);
    }

    public IReadOnlyList<Arg> Arguments { get; }
    public IReadOnlyList<Opt> Options { get; }

    MagicSpec(IReadOnlyList<Arg> arguments, IReadOnlyList<Opt> options) { Arguments = arguments; Options = options; }

    public static MagicSpec Of(Type optionsType)
    {
        var properties = optionsType.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).ToList();
        var arguments = properties
            .Select(p => (p, a: p.GetCustomAttribute<ArgumentAttribute>()))
            .Where(x => x.a is not null).OrderBy(x => x.a!.Position).Select(x => new Arg(x.p, x.a!)).ToList();
        var options = properties
            .Select(p => (p, o: p.GetCustomAttribute<OptionAttribute>()))
            .Where(x => x.o is not null).Select(x => new Opt(x.p, x.o!)).ToList();
        return new MagicSpec(arguments, options);
    }
}
