using System.Text;
using System.Text.RegularExpressions;

namespace Tunebook.Text.Templates;

/// <summary>
/// Attributes and methods reachable with a dot: <c>text.strip()</c>, <c>d.get('k')</c>, <c>d.items()</c>, <c>xs.length</c>.
/// The reference engine's set, plus a few Python str methods it lacks (format, count, find, join, isdigit...).
/// </summary>
static class Methods
{
    public static Value? Of(Value obj, string name) => obj switch
    {
        StringValue s => StringMethod(s.Value, name),
        ObjectValue o => DictMethod(o, name),
        ArrayValue a => name == "length" ? new IntegerValue(a.Value.Count) : null,
        _ => null,
    };

    static FunctionValue Fn(string name, Func<List<Value>, Value> f) => new((args, _) => f(args), name);

    public static string JsLower(string s) => JsCase.ToLower(s);
    public static string JsUpper(string s) => JsCase.ToUpper(s);

    static readonly Regex NonSpaceRun = new($@"[^{Lexer.JsSpaceClass[1..^1]}]+", RegexOptions.CultureInvariant);

    /// <summary>Title case as the reference does it (JavaScript's /\b\w/g): an ASCII letter that follows no ASCII word
    /// character is upper-cased; nothing else changes.</summary>
    public static string Title(string s)
    {
        static bool IsWord(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';
        var chars = s.ToCharArray();
        for (int i = 0; i < chars.Length; i++)
            if (char.IsAsciiLetterLower(chars[i]) && (i == 0 || !IsWord(chars[i - 1]))) chars[i] = char.ToUpperInvariant(chars[i]);
        return new string(chars);
    }

    public static string Capitalize(string s) => s.Length == 0 ? s : JsUpper(s[..1]) + s[1..];

    static Value? StringMethod(string value, string name) => name switch
    {
        "upper" => Fn(name, _ => new StringValue(JsUpper(value))),
        "lower" => Fn(name, _ => new StringValue(JsLower(value))),
        // The reference ignores strip's argument and always strips whitespace; templates are written against that.
        "strip" => Fn(name, _ => new StringValue(value.Trim(Lexer.JsTrimChars))),
        "lstrip" => Fn(name, _ => new StringValue(value.TrimStart(Lexer.JsTrimChars))),
        "rstrip" => Fn(name, _ => new StringValue(value.TrimEnd(Lexer.JsTrimChars))),
        "title" => Fn(name, _ => new StringValue(Title(value))),
        "capitalize" => Fn(name, _ => new StringValue(Capitalize(value))),
        "length" => new IntegerValue(value.Length),
        "startswith" => Fn(name, args => Affix(value, args, name, (s, p) => s.StartsWith(p, StringComparison.Ordinal))),
        "endswith" => Fn(name, args => Affix(value, args, name, (s, p) => s.EndsWith(p, StringComparison.Ordinal))),
        "split" => Fn(name, args => Split(value, args)),
        "replace" => Fn(name, args => Replace(value, args)),
        // Python str methods the reference lacks.
        "format" => Fn(name, args => new StringValue(PythonFormat(value, args))),
        "count" => Fn(name, args => new IntegerValue(Count(value, StringArg(args, 0, "count")))),
        "find" => Fn(name, args => new IntegerValue(value.IndexOf(StringArg(args, 0, "find"), StringComparison.Ordinal))),
        "join" => Fn(name, args => new StringValue(string.Join(value,
            (args.FirstOrDefault() as ArrayValue ?? throw new JinjaError("join() takes a list")).Value.Select(JsFormat.JoinString)))),
        "isdigit" => Fn(name, _ => BooleanValue.Of(value.Length > 0 && value.All(char.IsDigit))),
        "isalpha" => Fn(name, _ => BooleanValue.Of(value.Length > 0 && value.All(char.IsLetter))),
        "isspace" => Fn(name, _ => BooleanValue.Of(value.Length > 0 && value.All(Lexer.IsJsSpace))),
        "islower" => Fn(name, _ => BooleanValue.Of(value.Any(char.IsLetter) && value == JsLower(value))),
        "isupper" => Fn(name, _ => BooleanValue.Of(value.Any(char.IsLetter) && value == JsUpper(value))),
        _ => null,
    };

    static string StringArg(List<Value> args, int i, string method) =>
        args.ElementAtOrDefault(i) is StringValue s ? s.Value : throw new JinjaError($"{method}() takes a string argument");

    static int Count(string s, string sub)
    {
        if (sub.Length == 0) return s.Length + 1;
        int count = 0;
        for (int i = s.IndexOf(sub, StringComparison.Ordinal); i >= 0; i = s.IndexOf(sub, i + sub.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    static Value Affix(string value, List<Value> args, string name, Func<string, string, bool> test)
    {
        if (args.Count == 0) throw new JinjaError($"{name}() requires at least one argument");
        switch (args[0])
        {
            case StringValue p: return BooleanValue.Of(test(value, p.Value));
            case ArrayValue list:
                foreach (var item in list.Value)
                {
                    if (item is not StringValue s) throw new JinjaError($"{name}() tuple elements must be strings");
                    if (test(value, s.Value)) return BooleanValue.True;
                }
                return BooleanValue.False;
            default: throw new JinjaError($"{name}() argument must be a string or a tuple of strings");
        }
    }

    /// <summary>Python's str.split(sep=None, maxsplit=-1).</summary>
    static Value Split(string value, List<Value> args)
    {
        var sep = args.ElementAtOrDefault(0) ?? NullValue.Instance;
        if (sep is not (StringValue or NullValue)) throw new JinjaError("split() separator must be a string or none");
        var maxArg = args.ElementAtOrDefault(1) ?? new IntegerValue(-1);
        if (maxArg is not IntegerValue maxsplit) throw new JinjaError("split() maxsplit must be an integer");
        var result = new List<string>();
        if (sep is NullValue)
        {
            string text = value.TrimStart(Lexer.JsTrimChars);
            foreach (Match m in NonSpaceRun.Matches(text))
            {
                if (maxsplit.Value != -1 && result.Count >= maxsplit.Value)
                {
                    result.Add(m.Value + text[(m.Index + m.Length)..]);
                    break;
                }
                result.Add(m.Value);
            }
        }
        else
        {
            string s = ((StringValue)sep).Value;
            if (s.Length == 0) throw new JinjaError("split() separator is empty");
            result = value.Split(s).ToList();
            if (maxsplit.Value != -1 && result.Count > maxsplit.Value)
            {
                int keep = (int)Math.Max(0, maxsplit.Value);
                string rest = string.Join(s, result.Skip(keep));
                result = result.Take(keep).Append(rest).ToList();
            }
        }
        return new ArrayValue(result.Select(p => (Value)new StringValue(p)).ToList());
    }

    /// <summary>Python's str.replace(old, new, count=-1).</summary>
    public static Value Replace(string value, List<Value> args)
    {
        if (args.Count < 2) throw new JinjaError("replace() requires at least two arguments");
        if (args[0] is not StringValue oldValue || args[1] is not StringValue newValue) throw new JinjaError("replace() arguments must be strings");
        Value count = args.Count > 2
            ? args[2] is KeywordArgumentsValue kw ? kw.Get("count") ?? NullValue.Instance : args[2]
            : NullValue.Instance;
        if (count is not (IntegerValue or NullValue)) throw new JinjaError("replace() count must be an integer or none");
        double remaining = count is IntegerValue c ? (c.Value < 0 ? double.PositiveInfinity : c.Value) : double.PositiveInfinity;
        if (remaining == 0) return new StringValue(value);
        var sb = new StringBuilder();
        if (oldValue.Value.Length == 0)
        {
            // An empty pattern matches before every code point and at the end.
            var points = Slicing.CodePoints(value);
            for (int i = 0; i <= points.Count; i++)
            {
                if (remaining > 0) { sb.Append(newValue.Value); remaining--; }
                if (i < points.Count) sb.Append(points[i]);
            }
            return new StringValue(sb.ToString());
        }
        int pos = 0;
        while (remaining > 0)
        {
            int at = value.IndexOf(oldValue.Value, pos, StringComparison.Ordinal);
            if (at < 0) break;
            sb.Append(value, pos, at - pos).Append(newValue.Value);
            pos = at + oldValue.Value.Length;
            remaining--;
        }
        sb.Append(value, pos, value.Length - pos);
        return new StringValue(sb.ToString());
    }

    /// <summary>Python's str.format with {} / {0} / {name} fields (no format specs beyond plain conversion).</summary>
    static string PythonFormat(string template, List<Value> args)
    {
        var positional = args.Where(a => a is not KeywordArgumentsValue).ToList();
        var keywords = args.OfType<KeywordArgumentsValue>().FirstOrDefault();
        var sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < template.Length; i++)
        {
            char c = template[i];
            if (c == '{' && i + 1 < template.Length && template[i + 1] == '{') { sb.Append('{'); i++; continue; }
            if (c == '}' && i + 1 < template.Length && template[i + 1] == '}') { sb.Append('}'); i++; continue; }
            if (c != '{') { sb.Append(c); continue; }
            int close = template.IndexOf('}', i);
            if (close < 0) throw new JinjaError("format(): single '{' encountered in format string");
            string field = template[(i + 1)..close];
            int colon = field.IndexOf(':');
            if (colon >= 0) field = field[..colon];
            Value v;
            if (field.Length == 0) v = positional.ElementAtOrDefault(auto++) ?? throw new JinjaError("format(): not enough arguments");
            else if (int.TryParse(field, out int idx)) v = positional.ElementAtOrDefault(idx) ?? throw new JinjaError($"format(): no argument {idx}");
            else v = keywords?.Get(field) ?? throw new JinjaError($"format(): no argument named '{field}'");
            sb.Append(v is NullValue ? "None" : v is BooleanValue b ? (b.Value ? "True" : "False") : v.Render());
            i = close;
        }
        return sb.ToString();
    }

    static Value? DictMethod(ObjectValue o, string name) => name switch
    {
        "get" => Fn(name, args =>
        {
            var key = args.ElementAtOrDefault(0) ?? UndefinedValue.Instance;
            if (key is not StringValue k) throw new JinjaError($"dict keys are strings, got {key.TypeName}");
            return o.Get(k.Value) ?? args.ElementAtOrDefault(1) ?? NullValue.Instance;
        }),
        "items" => Fn(name, _ => o.Items()),
        "keys" => Fn(name, _ => o.Keys()),
        "values" => Fn(name, _ => o.Values()),
        "dictsort" => Fn(name, args => DictSort(o, args)),
        _ => null,
    };

    /// <summary>dictsort(case_sensitive=false, by='key', reverse=false): (key, value) pairs in order.</summary>
    public static Value DictSort(ObjectValue o, List<Value> args)
    {
        var kwargs = new OrderedDictionary<string, Value>();
        var positional = new List<Value>();
        foreach (var a in args)
            if (a is KeywordArgumentsValue kw) kwargs = kw.Value;
            else positional.Add(a);
        var caseSensitive = positional.ElementAtOrDefault(0) ?? kwargs.GetValueOrDefault("case_sensitive") ?? BooleanValue.False;
        if (caseSensitive is not BooleanValue cs) throw new JinjaError("case_sensitive must be a boolean");
        var by = positional.ElementAtOrDefault(1) ?? kwargs.GetValueOrDefault("by") ?? new StringValue("key");
        if (by is not StringValue { Value: "key" or "value" } b) throw new JinjaError("by must be either 'key' or 'value'");
        var reverse = positional.ElementAtOrDefault(2) ?? kwargs.GetValueOrDefault("reverse") ?? BooleanValue.False;
        if (reverse is not BooleanValue rev) throw new JinjaError("reverse must be a boolean");
        int index = b.Value == "key" ? 0 : 1;
        var items = o.Items().Value;
        var sorted = Operators.StableSort(items, (x, y) =>
        {
            int r = Operators.Compare(((ArrayValue)x).Value[index], ((ArrayValue)y).Value[index], cs.Value);
            return rev.Value ? -r : r;
        });
        return new ArrayValue(sorted);
    }
}
