using System.Globalization;

namespace Tunebook.Text.Templates;

/// <summary>The global names every template sees: true/false/none (and True/False/None), namespace, range,
/// raise_exception and strftime_now.</summary>
static class Builtins
{
    public static readonly FunctionValue Namespace = new((args, _) =>
    {
        var positional = args.ToList();
        KeywordArgumentsValue? kwargs = null;
        if (positional.Count > 0 && positional[^1] is KeywordArgumentsValue kw)
        {
            kwargs = kw;
            positional.RemoveAt(positional.Count - 1);
        }
        if (positional.Count > 1) throw new JinjaError($"namespace() takes at most 1 positional argument, got {positional.Count}");
        var entries = new OrderedDictionary<string, Value>();
        if (positional.Count == 1)
        {
            switch (positional[0])
            {
                case ObjectValue o:
                    foreach (var (k, v) in o.Value) entries[k] = v;
                    break;
                case ArrayValue a:
                    foreach (var pair in a.Value)
                    {
                        List<Value>? kv = pair switch
                        {
                            ArrayValue pa => pa.Value,
                            StringValue ps => Slicing.CodePoints(ps.Value).Select(c => (Value)new StringValue(c)).ToList(),
                            _ => null,
                        };
                        if (kv is not [StringValue key, var value]) throw new JinjaError("namespace() expects a dict or a list of [key, value] pairs with string keys");
                        entries[key.Value] = value;
                    }
                    break;
                default:
                    throw new JinjaError($"namespace() cannot take a {positional[0].TypeName}");
            }
        }
        if (kwargs is not null)
            foreach (var (k, v) in kwargs.Value) entries[k] = v;
        return new NamespaceValue(entries);
    }, "namespace");

    public static void Install(Scope globals, TimeProvider clock)
    {
        globals.Set("false", BooleanValue.False);
        globals.Set("true", BooleanValue.True);
        globals.Set("none", NullValue.Instance);
        globals.Set("False", BooleanValue.False);
        globals.Set("True", BooleanValue.True);
        globals.Set("None", NullValue.Instance);
        globals.Set("raise_exception", new FunctionValue((args, _) =>
            throw new JinjaError(args.Count > 0 ? JsFormat.RawString(args[0]) : "", raisedByTemplate: true), "raise_exception"));
        globals.Set("range", new FunctionValue((args, _) => Range(args), "range"));
        globals.Set("strftime_now", new FunctionValue((args, _) =>
        {
            if (args.ElementAtOrDefault(0) is not StringValue format) throw new JinjaError("strftime_now() takes a format string");
            return new StringValue(Strftime(clock.GetLocalNow().DateTime, format.Value));
        }, "strftime_now"));
    }

    static Value Range(List<Value> args)
    {
        var numbers = args.Where(a => a is not KeywordArgumentsValue).Select(a => a switch
        {
            IntegerValue i => i.Value,
            FloatValue f => f.Value,
            _ => throw new JinjaError($"range() takes integers, got {a.TypeName}"),
        }).ToList();
        if (numbers.Count is 0 or > 3) throw new JinjaError("range() takes 1 to 3 arguments");
        double start = 0, stop, step = 1;
        if (numbers.Count == 1) stop = numbers[0];
        else { start = numbers[0]; stop = numbers[1]; if (numbers.Count == 3) step = numbers[2]; }
        if (step == 0) throw new JinjaError("range() step must not be zero");
        if (Math.Abs((stop - start) / step) > 10_000_000) throw new JinjaError("range() is too long");
        var result = new List<Value>();
        if (step > 0) for (double i = start; i < stop; i += step) result.Add(Convert(i));
        else for (double i = start; i > stop; i += step) result.Add(Convert(i));
        return new ArrayValue(result);

        static Value Convert(double d) => d % 1 == 0 ? new IntegerValue(d) : new FloatValue(d);
    }

    static readonly string[] MonthLong = CultureInfo.InvariantCulture.DateTimeFormat.MonthNames;
    static readonly string[] MonthShort = CultureInfo.InvariantCulture.DateTimeFormat.AbbreviatedMonthNames;

    /// <summary>The reference's strftime: %Y %m %d %b %B %H %M %% (English month names); other codes stay as written.</summary>
    public static string Strftime(DateTime date, string format)
    {
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length) { sb.Append(format[i]); continue; }
            char code = format[i + 1];
            string? piece = code switch
            {
                'Y' => date.Year.ToString(CultureInfo.InvariantCulture),
                'm' => date.Month.ToString("00", CultureInfo.InvariantCulture),
                'd' => date.Day.ToString("00", CultureInfo.InvariantCulture),
                'b' => MonthShort[date.Month - 1],
                'B' => MonthLong[date.Month - 1],
                'H' => date.Hour.ToString("00", CultureInfo.InvariantCulture),
                'M' => date.Minute.ToString("00", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => null,
            };
            if (piece is null) { sb.Append('%'); continue; }
            sb.Append(piece);
            i++;
        }
        return sb.ToString();
    }
}
