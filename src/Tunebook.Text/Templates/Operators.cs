namespace Tunebook.Text.Templates;

/// <summary>Binary operators, with the reference engine's rules: and/or return an operand, == is JavaScript's
/// loose equality, arithmetic keeps integers integral, <c>~</c> concatenates string forms, <c>in</c> works on
/// lists, strings and dict keys.</summary>
static class Operators
{
    public static Value Binary(Interpreter interp, BinaryNode node, Scope scope)
    {
        var left = interp.Evaluate(node.Left, scope);
        string op = node.Operator;
        switch (op)
        {
            case "and": return left.IsTruthy ? interp.Evaluate(node.Right, scope) : left;
            case "or": return left.IsTruthy ? left : interp.Evaluate(node.Right, scope);
        }
        var right = interp.Evaluate(node.Right, scope);
        switch (op)
        {
            case "==": return BooleanValue.Of(JsFormat.LooseEquals(left, right));
            case "!=": return BooleanValue.Of(!JsFormat.LooseEquals(left, right));
        }

        if (left is UndefinedValue || right is UndefinedValue)
        {
            if (right is UndefinedValue && op is "in" or "not in") return BooleanValue.Of(op == "not in");
            throw new JinjaError($"cannot apply '{op}' to an undefined value{Hint(left is UndefinedValue ? node.Left : node.Right)}");
        }
        if (left is NullValue || right is NullValue) throw new JinjaError($"cannot apply '{op}' to none");
        if (op == "~") return new StringValue(JsFormat.RawString(left) + JsFormat.RawString(right));

        if (op == "**" && NumericLike(left, out var pa) && NumericLike(right, out var pb))
        {
            if (pa == 0 && pb < 0) throw new JinjaError("0.0 cannot be raised to a negative power");
            double result = Math.Pow(pa, pb);
            if (!double.IsFinite(result)) throw new JinjaError("exponentiation result is not a finite real number");
            bool isFloat = left is FloatValue || right is FloatValue || pb < 0;
            return isFloat ? new FloatValue(result) : new IntegerValue(result);
        }
        if (left is IntegerValue or FloatValue && right is IntegerValue or FloatValue)
        {
            double a = Num(left), b = Num(right);
            bool isFloat = left is FloatValue || right is FloatValue;
            switch (op)
            {
                case "+": return Number(a + b, isFloat);
                case "-": return Number(a - b, isFloat);
                case "*": return Number(a * b, isFloat);
                case "/": return new FloatValue(a / b);
                case "//": return Number(Math.Floor(a / b), isFloat);
                case "%": return Number(a % b, isFloat);
                case "<": return BooleanValue.Of(a < b);
                case ">": return BooleanValue.Of(a > b);
                case ">=": return BooleanValue.Of(a >= b);
                case "<=": return BooleanValue.Of(a <= b);
            }
        }
        else if (left is ArrayValue la && right is ArrayValue ra)
        {
            if (op == "+") return new ArrayValue([.. la.Value, .. ra.Value]);
        }
        else if (right is ArrayValue list)
        {
            bool member = list.Value.Any(x => JsFormat.StrictEquals(x, left));
            switch (op)
            {
                case "in": return BooleanValue.Of(member);
                case "not in": return BooleanValue.Of(!member);
            }
        }

        if ((left is StringValue || right is StringValue) && op == "+")
            return new StringValue(JsFormat.RawString(left) + JsFormat.RawString(right));

        if (left is StringValue ls && right is StringValue rs)
        {
            switch (op)
            {
                case "in": return BooleanValue.Of(rs.Value.Contains(ls.Value, StringComparison.Ordinal));
                case "not in": return BooleanValue.Of(!rs.Value.Contains(ls.Value, StringComparison.Ordinal));
            }
        }
        if (left is StringValue key && right is ObjectValue dict)
        {
            switch (op)
            {
                case "in": return BooleanValue.Of(dict.Value.ContainsKey(key.Value));
                case "not in": return BooleanValue.Of(!dict.Value.ContainsKey(key.Value));
            }
        }
        throw new JinjaError($"unsupported operator '{op}' between {left.TypeName} and {right.TypeName}");
    }

    static string Hint(Node n) => n switch
    {
        IdentifierNode id => $" ('{id.Name}' is not defined)",
        MemberNode { Computed: false, Property: IdentifierNode p } => $" (no attribute '{p.Name}')",
        MemberNode { Computed: true, Property: StringLiteralNode s } => $" (no key '{s.Value}')",
        _ => "",
    };

    static Value Number(double v, bool isFloat) => isFloat ? new FloatValue(v) : new IntegerValue(v);

    public static double Num(Value v) => v switch
    {
        IntegerValue i => i.Value,
        FloatValue f => f.Value,
        BooleanValue b => b.Value ? 1 : 0,
        _ => throw new JinjaError($"expected a number, got {v.TypeName}"),
    };

    public static bool NumericLike(Value v, out double d)
    {
        switch (v)
        {
            case IntegerValue or FloatValue or BooleanValue: d = Num(v); return true;
            default: d = 0; return false;
        }
    }

    /// <summary>Ordering used by sort and dictsort: numbers (and booleans) together, strings with each other,
    /// none with none; anything else cannot be compared.</summary>
    public static int Compare(Value a, Value b, bool caseSensitive)
    {
        if (a is NullValue && b is NullValue) return 0;
        if (a is NullValue || b is NullValue) throw new JinjaError($"cannot compare {a.TypeName} with {b.TypeName}");
        if (a is UndefinedValue && b is UndefinedValue) return 0;
        if (a is UndefinedValue || b is UndefinedValue) throw new JinjaError($"cannot compare {a.TypeName} with {b.TypeName}");
        if (NumericLike(a, out var x) && NumericLike(b, out var y)) return x < y ? -1 : x > y ? 1 : 0;
        if (a.TypeName != b.TypeName) throw new JinjaError($"cannot compare different types: {a.TypeName} and {b.TypeName}");
        if (a is StringValue sa && b is StringValue sb)
        {
            string p = sa.Value, q = sb.Value;
            if (!caseSensitive) { p = Methods.JsLower(p); q = Methods.JsLower(q); }
            return Math.Sign(string.CompareOrdinal(p, q));
        }
        throw new JinjaError($"cannot compare values of type {a.TypeName}");
    }

    /// <summary>A stable sort (JavaScript's Array.prototype.sort is stable; List.Sort is not).</summary>
    public static List<Value> StableSort(List<Value> items, Comparison<Value> comparison) =>
        items.Select((v, i) => (v, i)).OrderBy(x => x, Comparer<(Value v, int i)>.Create((p, q) =>
        {
            int c = comparison(p.v, q.v);
            return c != 0 ? c : p.i.CompareTo(q.i);
        })).Select(x => x.v).ToList();
}
