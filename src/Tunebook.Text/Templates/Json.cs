using System.Text;

namespace Tunebook.Text.Templates;

/// <summary>Options of the <c>tojson</c> filter (Python json.dumps names).</summary>
sealed record JsonOptions(int? Indent = null, bool EnsureAscii = false, (string Item, string Key)? Separators = null, bool SortKeys = false);

/// <summary>
/// The <c>tojson</c> filter: Python json.dumps spacing (", " and ": "; "," between items when indenting), non-ASCII
/// kept unless ensure_ascii, empty containers as [] and {} even when indenting — matching @huggingface/jinja.
/// </summary>
static class Json
{
    public static string Serialize(Value input, JsonOptions options, int depth = 0, bool undefinedAsNull = true)
    {
        var sb = new StringBuilder();
        Write(sb, input, options, depth, undefinedAsNull);
        return sb.ToString();
    }

    static void Write(StringBuilder sb, Value input, JsonOptions o, int depth, bool undefinedAsNull)
    {
        if (depth > 512) throw new JinjaError("value nests too deeply to convert to JSON");
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        string itemSep, keySep;
        if (o.Separators is { } s) (itemSep, keySep) = s;
        else if (o.Indent is > 0) (itemSep, keySep) = (",", ": ");
        else (itemSep, keySep) = (", ", ": ");
        bool indenting = o.Indent is > 0;

        switch (input)
        {
            case NullValue: sb.Append("null"); return;
            case UndefinedValue: sb.Append(undefinedAsNull ? "null" : "undefined"); return;
            case IntegerValue i: sb.Append(NumberJson(i.Value)); return;
            case FloatValue f: sb.Append(NumberJson(f.Value)); return;
            case BooleanValue b: sb.Append(b.Value ? "true" : "false"); return;
            case StringValue str: WriteString(sb, str.Value, o.EnsureAscii); return;
            case ArrayValue or ObjectValue or NamespaceValue:
            {
                string indent = indenting ? new string(' ', o.Indent!.Value) : "";
                string basePadding = "\n" + string.Concat(Enumerable.Repeat(indent, depth));
                string childPadding = basePadding + indent;
                if (input is ArrayValue arr)
                {
                    sb.Append('[');
                    for (int k = 0; k < arr.Value.Count; k++)
                    {
                        if (k > 0) sb.Append(itemSep);
                        if (indenting) sb.Append(childPadding);
                        Write(sb, arr.Value[k], o, depth + 1, undefinedAsNull);
                    }
                    if (indenting && arr.Value.Count > 0) sb.Append(basePadding);
                    sb.Append(']');
                    return;
                }
                var map = input is ObjectValue ov ? ov.Value : ((NamespaceValue)input).Value;
                IEnumerable<KeyValuePair<string, Value>> entries = map;
                if (o.SortKeys) entries = entries.OrderBy(kv => kv.Key, Comparer<string>.Create(JsFormat.LocaleCompare));
                sb.Append('{');
                bool first = true;
                foreach (var (key, value) in entries)
                {
                    if (!first) sb.Append(itemSep);
                    first = false;
                    if (indenting) sb.Append(childPadding);
                    WriteString(sb, key, o.EnsureAscii);
                    sb.Append(keySep);
                    Write(sb, value, o, depth + 1, undefinedAsNull);
                }
                if (indenting && map.Count > 0) sb.Append(basePadding);
                sb.Append('}');
                return;
            }
            default:
                throw new JinjaError($"cannot convert {input.TypeName} to JSON");
        }
    }

    static string NumberJson(double d) => double.IsFinite(d) ? JsFormat.Number(d) : "null";

    /// <summary>JSON.stringify of a string (well-formed: lone surrogates escaped), then optional ASCII escaping.</summary>
    public static void WriteString(StringBuilder sb, string s, bool ensureAscii)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            switch (c)
            {
                case '"': sb.Append("\\\""); continue;
                case '\\': sb.Append("\\\\"); continue;
                case '\b': sb.Append("\\b"); continue;
                case '\f': sb.Append("\\f"); continue;
                case '\n': sb.Append("\\n"); continue;
                case '\r': sb.Append("\\r"); continue;
                case '\t': sb.Append("\\t"); continue;
            }
            if (c < 0x20) { sb.Append("\\u").Append(((int)c).ToString("x4")); continue; }
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                if (ensureAscii) sb.Append("\\u").Append(((int)c).ToString("x4")).Append("\\u").Append(((int)s[i + 1]).ToString("x4"));
                else sb.Append(c).Append(s[i + 1]);
                i++;
                continue;
            }
            if (char.IsSurrogate(c) || (ensureAscii && c >= 0x7f)) { sb.Append("\\u").Append(((int)c).ToString("x4")); continue; }
            sb.Append(c);
        }
        sb.Append('"');
    }
}
