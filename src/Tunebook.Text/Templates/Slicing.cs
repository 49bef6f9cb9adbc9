namespace Tunebook.Text.Templates;

/// <summary>Python slices <c>x[start:stop:step]</c> on lists and strings (strings by code point, like the reference).</summary>
static class Slicing
{
    public static Value Slice(Interpreter interp, Value obj, SliceNode node, Scope scope)
    {
        if (obj is not (ArrayValue or StringValue)) throw new JinjaError($"only lists and strings can be sliced, not {obj.TypeName}");
        int? start = Bound(interp.Evaluate(node.Start, scope), "start");
        int? stop = Bound(interp.Evaluate(node.Stop, scope), "stop");
        int? step = Bound(interp.Evaluate(node.Step, scope), "step");
        if (obj is ArrayValue arr) return new ArrayValue(Take(arr.Value, start, stop, step ?? 1));
        return new StringValue(string.Concat(Take(CodePoints(((StringValue)obj).Value), start, stop, step ?? 1)));
    }

    static int? Bound(Value v, string what) => v switch
    {
        UndefinedValue => null,
        IntegerValue i => (int)Math.Clamp(i.Value, int.MinValue / 2, int.MaxValue / 2),
        _ => throw new JinjaError($"slice {what} must be an integer, not {v.TypeName}"),
    };

    public static List<T> Take<T>(IReadOnlyList<T> array, int? startArg, int? stopArg, int step)
    {
        if (step == 0) throw new JinjaError("slice step cannot be zero");
        int n = array.Count;
        int start, stop;
        if (step > 0)
        {
            start = startArg ?? 0;
            start = start < 0 ? Math.Max(n + start, 0) : Math.Min(start, n);
            stop = stopArg ?? n;
            stop = stop < 0 ? Math.Max(n + stop, 0) : Math.Min(stop, n);
        }
        else
        {
            start = startArg ?? n - 1;
            start = start < 0 ? Math.Max(n + start, -1) : Math.Min(start, n - 1);
            stop = stopArg ?? -1;
            stop = stop < -1 ? Math.Max(n + stop, -1) : Math.Min(stop, n - 1);
        }
        var result = new List<T>();
        int dir = Math.Sign(step);
        for (long i = start; dir * i < dir * (long)stop; i += step) result.Add(array[(int)i]);
        return result;
    }

    /// <summary>A string split into code points (surrogate pairs kept together), like JavaScript's Array.from.</summary>
    public static List<string> CodePoints(string s)
    {
        var result = new List<string>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                result.Add(s.Substring(i, 2));
                i++;
            }
            else result.Add(s[i].ToString());
        }
        return result;
    }
}
