using System.Globalization;
using System.Text;

namespace Tunebook.Interactive;

/// <summary>The usage text of a magic command ("#!name --help"), built from its options class.</summary>
public static class MagicHelp
{
    public static string Usage(MagicCommand command) =>
        Usage(command.Name, command.OptionsType, command.Summary, command.Examples);

    public static string Usage(string name, Type optionsType, string? summary = null, IReadOnlyList<string>? examples = null)
    {
        var spec = MagicSpec.Of(optionsType);
        object? defaults = null;
        try { defaults = Activator.CreateInstance(optionsType); } catch { /* no defaults to show */ }

        var line = new StringBuilder($"Usage: #!{name}");
        foreach (var a in spec.Arguments)
        {
            string n = a.Property.PropertyType == typeof(string[]) ? $"{a.Attribute.Name}..." : a.Attribute.Name;
            line.Append(a.Attribute.Required ? $" <{n}>" : $" [{n}]");
        }
        foreach (var o in spec.Options.Where(o => o.Attribute.Required))
            line.Append($" {o.Attribute.Name} <{ValueName(o.Property.PropertyType)}>");
        if (spec.Options.Any(o => !o.Attribute.Required)) line.Append(" [options]");

        var text = new StringBuilder();
        text.AppendLine(line.ToString());
        if (!string.IsNullOrWhiteSpace(summary)) text.AppendLine().AppendLine("  " + summary);

        var rows = new List<(string Left, string Right)>();
        if (spec.Arguments.Count > 0)
        {
            text.AppendLine().AppendLine("Arguments:");
            AppendRows(text, spec.Arguments.Select(a => (a.Attribute.Name,
                Describe(a.Attribute.Help, a.Attribute.Choices, null, a.Attribute.Required))).ToList());
        }
        text.AppendLine().AppendLine("Options:");
        var optionRows = spec.Options.Select(o =>
        {
            string names = string.Join(", ", o.Names);
            string left = IsBool(o.Property.PropertyType) ? names : $"{names} <{ValueName(o.Property.PropertyType)}>";
            object? def = defaults is null ? null : o.Property.GetValue(defaults);
            // Nothing to show for a required option, an unset flag or an empty text.
            string? shownDefault = o.Attribute.Required || def is null || def is false || def is "" ? null : FormatDefault(def);
            return (left, Describe(o.Attribute.Help, o.Attribute.Choices ?? EnumChoices(o.Property.PropertyType), shownDefault, o.Attribute.Required));
        }).ToList();
        optionRows.Add(("-h, --help", "Show this help"));
        AppendRows(text, optionRows);

        if (examples is { Count: > 0 })
        {
            text.AppendLine().AppendLine("Examples:");
            foreach (var e in examples) text.AppendLine("  " + e);
        }
        return text.ToString().TrimEnd();
    }

    static void AppendRows(StringBuilder text, List<(string Left, string Right)> rows)
    {
        int width = rows.Count == 0 ? 0 : rows.Max(r => r.Left.Length) + 2;
        foreach (var (left, right) in rows)
            text.AppendLine(("  " + left.PadRight(width) + right).TrimEnd());
    }

    static string Describe(string help, string[]? choices, string? shownDefault, bool required)
    {
        var parts = new List<string>();
        if (!string.IsNullOrWhiteSpace(help)) parts.Add(help);
        if (choices is { Length: > 0 }) parts.Add($"(one of: {string.Join(", ", choices)})");
        if (shownDefault is not null) parts.Add($"[default: {shownDefault}]");
        if (required) parts.Add("[required]");
        return string.Join(" ", parts);
    }

    static string[]? EnumChoices(Type t)
    {
        var e = Nullable.GetUnderlyingType(t) ?? t;
        return e.IsEnum ? Enum.GetNames(e).Select(n => n.ToLowerInvariant()).ToArray() : null;
    }

    static bool IsBool(Type t) => (Nullable.GetUnderlyingType(t) ?? t) == typeof(bool);

    static string ValueName(Type t)
    {
        var e = Nullable.GetUnderlyingType(t) ?? t;
        if (e == typeof(int) || e == typeof(long)) return "int";
        if (e == typeof(double) || e == typeof(float)) return "number";
        if (e == typeof(string[])) return "list";
        if (e.IsEnum) return e.Name.ToLowerInvariant();
        return "text";
    }

    static string FormatDefault(object value) => value switch
    {
        string s => s.Length == 0 ? "\"\"" : s,
        string[] a => string.Join(",", a),
        Enum e => e.ToString().ToLowerInvariant(),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
