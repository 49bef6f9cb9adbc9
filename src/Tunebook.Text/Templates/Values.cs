using System.Globalization;

namespace Tunebook.Text.Templates;

// Runtime values. They follow @huggingface/jinja's model (numbers are doubles tagged integer or float; objects keep
// insertion order; none and undefined are distinct) because chat templates are tuned against that engine's output.

abstract class Value
{
    public abstract string TypeName { get; }

    /// <summary>Python truthiness: empty strings, lists and dicts are false.</summary>
    public virtual bool IsTruthy => true;

    /// <summary>How the value prints inside <c>{{ }}</c>.</summary>
    public abstract string Render();

    public override string ToString() => Render();
}

sealed class IntegerValue(double value) : Value
{
    public double Value { get; } = value;
    public override string TypeName => "IntegerValue";
    public override bool IsTruthy => Value != 0 && !double.IsNaN(Value);
    public override string Render() => JsFormat.Number(Value);
}

sealed class FloatValue(double value) : Value
{
    public double Value { get; } = value;
    public override string TypeName => "FloatValue";
    public override bool IsTruthy => Value != 0 && !double.IsNaN(Value);

    // Floats keep Python's look when whole: 2.0 renders "2.0", not "2".
    public override string Render()
    {
        if (Value == 0 && double.IsNegative(Value)) return "-0.0";
        if (double.IsFinite(Value) && Value % 1 == 0)
            return Math.Abs(Value) < 1e21 ? Value.ToString("F1", CultureInfo.InvariantCulture) : JsFormat.Number(Value);
        return JsFormat.Number(Value);
    }
}

sealed class StringValue(string value) : Value
{
    public string Value { get; } = value;
    public override string TypeName => "StringValue";
    public override bool IsTruthy => Value.Length > 0;
    public override string Render() => Value;
}

sealed class BooleanValue : Value
{
    public static readonly BooleanValue True = new(true), False = new(false);
    BooleanValue(bool value) => Value = value;
    public static BooleanValue Of(bool b) => b ? True : False;
    public bool Value { get; }
    public override string TypeName => "BooleanValue";
    public override bool IsTruthy => Value;
    public override string Render() => Value ? "true" : "false";
}

/// <summary>A dict (JSON object). Attribute access falls back to the dict methods get/items/keys/values/dictsort.</summary>
class ObjectValue(OrderedDictionary<string, Value> value) : Value
{
    public OrderedDictionary<string, Value> Value { get; } = value;
    public ObjectValue() : this(new OrderedDictionary<string, Value>()) { }
    public override string TypeName => "ObjectValue";
    public override bool IsTruthy => Value.Count > 0;
    public override string Render() => Json.Serialize(this, new JsonOptions(), 0, undefinedAsNull: false);

    public Value? Get(string key) => Value.TryGetValue(key, out var v) ? v : null;
    public ArrayValue Items() => new(Value.Select(kv => (Value)new ArrayValue([new StringValue(kv.Key), kv.Value])).ToList());
    public ArrayValue Keys() => new(Value.Keys.Select(k => (Value)new StringValue(k)).ToList());
    public ArrayValue Values() => new(Value.Values.ToList());
}

/// <summary>The keyword arguments of a call, passed to the callee as its last positional value.</summary>
sealed class KeywordArgumentsValue(OrderedDictionary<string, Value> value) : ObjectValue(value)
{
    public override string TypeName => "KeywordArgumentsValue";
}

/// <summary><c>namespace(...)</c>: a mutable bag that <c>{% set ns.x = ... %}</c> can write to from inside loops.</summary>
sealed class NamespaceValue(OrderedDictionary<string, Value> value) : Value
{
    public OrderedDictionary<string, Value> Value { get; } = value;
    public override string TypeName => "NamespaceValue";
    public override string Render() => Json.Serialize(this, new JsonOptions(), 0, undefinedAsNull: false);
}

class ArrayValue(List<Value> value) : Value
{
    public List<Value> Value { get; } = value;
    public override string TypeName => "ArrayValue";
    public override bool IsTruthy => Value.Count > 0;
    public override string Render() => Json.Serialize(this, new JsonOptions(), 0, undefinedAsNull: false);
}

sealed class TupleValue(List<Value> value) : ArrayValue(value)
{
    public override string TypeName => "TupleValue";
}

/// <summary>A callable: macros, built-in globals, bound string and dict methods.</summary>
sealed class FunctionValue(Func<List<Value>, Scope, Value> call, string name = "function") : Value
{
    public Func<List<Value>, Scope, Value> Call { get; } = call;
    public string Name { get; } = name;
    public override string TypeName => "FunctionValue";
    public override string Render() => $"function {Name}";
}

sealed class NullValue : Value
{
    public static readonly NullValue Instance = new();
    public override string TypeName => "NullValue";
    public override bool IsTruthy => false;
    public override string Render() => "null";
}

sealed class UndefinedValue : Value
{
    public static readonly UndefinedValue Instance = new();
    public override string TypeName => "UndefinedValue";
    public override bool IsTruthy => false;
    public override string Render() => "undefined";
}

/// <summary>JavaScript's conversions and comparisons, which the reference engine inherits.</summary>
static class JsFormat
{
    /// <summary>Number.prototype.toString(): shortest round-trip digits, exponent form outside 1e-7..1e21.</summary>
    public static string Number(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsPositiveInfinity(d)) return "Infinity";
        if (double.IsNegativeInfinity(d)) return "-Infinity";
        if (d == 0) return "0";
        // Shortest digits: "R" gives them, but its layout varies; take the digits and exponent from it.
        string shortest = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        string mantissa = shortest, expPart = "0";
        int e = shortest.IndexOfAny(['E', 'e']);
        if (e >= 0) { mantissa = shortest[..e]; expPart = shortest[(e + 1)..]; }
        int exp10 = int.Parse(expPart, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.');
        string intPart = dot >= 0 ? mantissa[..dot] : mantissa;
        string fracPart = dot >= 0 ? mantissa[(dot + 1)..] : "";
        string digits = (intPart + fracPart).TrimStart('0');
        int leadingZeros = (intPart + fracPart).Length - digits.Length;
        int n = intPart.Length + exp10 - leadingZeros; // value = 0.digits × 10^n
        digits = digits.TrimEnd('0');
        int k = digits.Length;
        string sign = d < 0 ? "-" : "";
        if (k <= n && n <= 21) return sign + digits + new string('0', n - k);
        if (0 < n && n <= 21) return sign + digits[..n] + "." + digits[n..];
        if (-6 < n && n <= 0) return sign + "0." + new string('0', -n) + digits;
        string expSign = n - 1 >= 0 ? "+" : "-";
        string m = k == 1 ? digits : digits[0] + "." + digits[1..];
        return sign + m + "e" + expSign + Math.Abs(n - 1);
    }

    /// <summary>JavaScript's String(value) of the raw value inside a runtime value (what <c>~</c> and <c>+</c> use).</summary>
    public static string RawString(Value v) => v switch
    {
        StringValue s => s.Value,
        IntegerValue i => Number(i.Value),
        FloatValue f => Number(f.Value),
        BooleanValue b => b.Value ? "true" : "false",
        ArrayValue a => string.Join(",", a.Value.Select(x => x.Render())),
        ObjectValue or NamespaceValue => "[object Map]",
        NullValue => "null",
        UndefinedValue => "undefined",
        FunctionValue fn => fn.Render(),
        _ => v.Render(),
    };

    /// <summary>Array.prototype.join's view of a raw value: null and undefined become empty.</summary>
    public static string JoinString(Value v) => v is NullValue or UndefinedValue ? "" : RawString(v);

    static bool IsNumber(Value v, out double d)
    {
        switch (v)
        {
            case IntegerValue i: d = i.Value; return true;
            case FloatValue f: d = f.Value; return true;
            default: d = 0; return false;
        }
    }

    static object? RefOf(Value v) => v switch
    {
        ArrayValue a => a.Value,
        ObjectValue o => o.Value,
        NamespaceValue n => n.Value,
        FunctionValue f => f,
        _ => null,
    };

    /// <summary>JavaScript's <c>===</c> on raw values (list membership, unique, equalto).</summary>
    public static bool StrictEquals(Value a, Value b)
    {
        if (IsNumber(a, out var x) && IsNumber(b, out var y)) return x == y;
        return (a, b) switch
        {
            (StringValue s, StringValue t) => s.Value == t.Value,
            (BooleanValue p, BooleanValue q) => p.Value == q.Value,
            (NullValue, NullValue) or (UndefinedValue, UndefinedValue) => true,
            _ => RefOf(a) is { } ra && ReferenceEquals(ra, RefOf(b)),
        };
    }

    /// <summary>SameValueZero, the equality of JavaScript's Set (unique filter): like === but NaN equals NaN.</summary>
    public static bool SameValueZero(Value a, Value b) =>
        StrictEquals(a, b) || (IsNumber(a, out var x) && IsNumber(b, out var y) && double.IsNaN(x) && double.IsNaN(y));

    /// <summary>JavaScript's <c>==</c> on raw values, which is what the reference's <c>==</c> and <c>!=</c> do.</summary>
    public static bool LooseEquals(Value a, Value b)
    {
        while (true)
        {
            bool aNullish = a is NullValue or UndefinedValue, bNullish = b is NullValue or UndefinedValue;
            if (aNullish || bNullish) return aNullish && bNullish;
            if (IsNumber(a, out var x) && IsNumber(b, out var y)) return x == y;
            if (a is StringValue s && b is StringValue t) return s.Value == t.Value;
            if (a is BooleanValue p && b is BooleanValue q) return p.Value == q.Value;
            if (RefOf(a) is { } ra && RefOf(b) is { } rb) return ReferenceEquals(ra, rb);
            if (a is BooleanValue ab) { a = new IntegerValue(ab.Value ? 1 : 0); continue; }
            if (b is BooleanValue bb) { b = new IntegerValue(bb.Value ? 1 : 0); continue; }
            if (RefOf(a) is not null) { a = new StringValue(RawString(a)); continue; }
            if (RefOf(b) is not null) { b = new StringValue(RawString(b)); continue; }
            if (IsNumber(a, out x) && b is StringValue bs) return x == ToNumber(bs.Value);
            if (a is StringValue @as && IsNumber(b, out y)) return ToNumber(@as.Value) == y;
            return false;
        }
    }

    /// <summary>JavaScript's Number(string).</summary>
    public static double ToNumber(string s)
    {
        s = s.Trim(Lexer.JsTrimChars);
        if (s.Length == 0) return 0;
        if (s is "Infinity" or "+Infinity") return double.PositiveInfinity;
        if (s == "-Infinity") return double.NegativeInfinity;
        if (s.Length > 2 && s[0] == '0' && (s[1] | 0x20) is 'x' or 'o' or 'b')
        {
            int radix = (s[1] | 0x20) switch { 'x' => 16, 'o' => 8, _ => 2 };
            double acc = 0;
            foreach (char c in s[2..])
            {
                int digit = Uri.IsHexDigit(c) ? Convert.ToInt32(c.ToString(), 16) : 99;
                if (digit >= radix) return double.NaN;
                acc = acc * radix + digit;
            }
            return acc;
        }
        foreach (char c in s)
            if (!(char.IsAsciiDigit(c) || c is '.' or 'e' or 'E' or '+' or '-')) return double.NaN;
        return double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? d : double.NaN;
    }

    /// <summary>JavaScript's parseInt(s, 10): leading integer prefix, NaN when there is none.</summary>
    public static double ParseInt(string s)
    {
        s = s.TrimStart(Lexer.JsTrimChars);
        int i = 0;
        bool negative = false;
        if (i < s.Length && s[i] is '+' or '-') { negative = s[i] == '-'; i++; }
        int start = i;
        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        if (i == start) return double.NaN;
        double v = double.Parse(s[start..i], CultureInfo.InvariantCulture);
        return negative ? -v : v;
    }

    /// <summary>JavaScript's parseFloat: longest decimal prefix, NaN when there is none.</summary>
    public static double ParseFloat(string s)
    {
        s = s.TrimStart(Lexer.JsTrimChars);
        int i = 0;
        if (i < s.Length && s[i] is '+' or '-') i++;
        if (string.CompareOrdinal(s, i, "Infinity", 0, 8) == 0)
            return s[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        int digitsStart = i;
        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        if (i < s.Length && s[i] == '.') { i++; while (i < s.Length && char.IsAsciiDigit(s[i])) i++; }
        if (i == digitsStart || (i == digitsStart + 1 && s[digitsStart] == '.')) return double.NaN;
        int mantissaEnd = i;
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            int j = i + 1;
            if (j < s.Length && s[j] is '+' or '-') j++;
            int expDigits = j;
            while (j < s.Length && char.IsAsciiDigit(s[j])) j++;
            if (j > expDigits) mantissaEnd = j;
        }
        return double.Parse(s[..mantissaEnd], NumberStyles.Float, CultureInfo.InvariantCulture);
    }

    /// <summary>String.prototype.localeCompare in the root locale, approximated: punctuation &lt; digits &lt; letters,
    /// case-insensitive first, lower case before upper case on ties.</summary>
    public static int LocaleCompare(string a, string b)
    {
        static (int, char) Key(char c) => char.IsLetter(c) ? (2, char.ToLowerInvariant(c)) : char.IsDigit(c) ? (1, c) : (0, c);
        int n = Math.Min(a.Length, b.Length);
        for (int i = 0; i < n; i++)
        {
            var (ka, ca) = Key(a[i]);
            var (kb, cb) = Key(b[i]);
            if (ka != kb) return ka.CompareTo(kb);
            if (ca != cb) return ca.CompareTo(cb);
        }
        if (a.Length != b.Length) return a.Length.CompareTo(b.Length);
        for (int i = 0; i < n; i++)
            if (a[i] != b[i]) return char.IsLower(a[i]) ? -1 : 1;
        return 0;
    }
}
