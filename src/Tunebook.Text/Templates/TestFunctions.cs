namespace Tunebook.Text.Templates;

/// <summary>
/// The <c>is</c> tests: defined, undefined, none, string, number, integer, boolean, mapping, iterable, sequence,
/// callable, true, false, odd, even, lower, upper, equalto/eq — as the reference defines them — plus the Jinja tests
/// that take an argument, which the reference lacks: divisibleby, in, sameas, ne, gt, ge, lt, le.
/// </summary>
static class TestFunctions
{
    public static Value Evaluate(Interpreter interp, TestNode node, Scope scope)
    {
        var operand = interp.Evaluate(node.Operand, scope);
        var args = node.Args is null ? [] : interp.EvaluateArguments(node.Args, scope).Args;
        bool result = Run(node.Test.Name, operand, args, requireKnown: true)!.Value;
        return BooleanValue.Of(node.Negate ? !result : result);
    }

    static readonly HashSet<string> Known =
    [
        "boolean", "callable", "odd", "even", "false", "true", "none", "string", "number", "integer", "float",
        "iterable", "mapping", "sequence", "lower", "upper", "defined", "undefined", "truthy", "falsy",
        "equalto", "eq", "==", "sameas", "ne", "!=", "divisibleby", "in", "gt", "greaterthan", ">", "ge", ">=",
        "lt", "lessthan", "<", "le", "<=",
    ];

    public static bool Exists(string name) => Known.Contains(name);

    /// <summary>Runs a named test; null when unknown (and requireKnown is false).</summary>
    public static bool? Run(string name, Value operand, List<Value> args, bool requireKnown)
    {
        Value Arg()
        {
            if (args.Count == 0) throw new JinjaError($"test '{name}' needs an argument, e.g. is {name}(x)");
            return args[0];
        }
        switch (name)
        {
            case "boolean": return operand is BooleanValue;
            case "callable": return operand is FunctionValue;
            case "odd":
                if (operand is not IntegerValue oi) throw new JinjaError($"cannot test odd on {operand.TypeName}");
                return oi.Value % 2 != 0;
            case "even":
                if (operand is not IntegerValue ei) throw new JinjaError($"cannot test even on {operand.TypeName}");
                return ei.Value % 2 == 0;
            case "false": return operand is BooleanValue { Value: false };
            case "true": return operand is BooleanValue { Value: true };
            case "none": return operand is NullValue;
            case "string": return operand is StringValue;
            case "number": return operand is IntegerValue or FloatValue;
            case "integer": return operand is IntegerValue;
            case "float": return operand is FloatValue;
            case "iterable": return operand.TypeName is "ArrayValue" or "StringValue";
            case "mapping": return operand is ObjectValue;
            case "sequence": return operand is ArrayValue or ObjectValue or StringValue;
            case "lower": return operand is StringValue ls && ls.Value == Methods.JsLower(ls.Value);
            case "upper": return operand is StringValue us && us.Value == Methods.JsUpper(us.Value);
            case "defined": return operand is not UndefinedValue;
            case "undefined": return operand is UndefinedValue;
            case "truthy": return operand.IsTruthy;
            case "falsy": return !operand.IsTruthy;
            case "equalto" or "eq" or "==": return JsFormat.StrictEquals(operand, Arg());
            case "sameas": return JsFormat.StrictEquals(operand, Arg());
            case "ne" or "!=": return !JsFormat.StrictEquals(operand, Arg());
            case "divisibleby":
            {
                double d = Operators.Num(Arg());
                if (d == 0) throw new JinjaError("divisibleby(0): division by zero");
                return Operators.Num(operand) % d == 0;
            }
            case "in":
                return Arg() switch
                {
                    ArrayValue list => list.Value.Any(x => JsFormat.StrictEquals(x, operand)),
                    StringValue s when operand is StringValue sub => s.Value.Contains(sub.Value, StringComparison.Ordinal),
                    ObjectValue o when operand is StringValue key => o.Value.ContainsKey(key.Value),
                    var other => throw new JinjaError($"cannot test membership in {other.TypeName}"),
                };
            case "gt" or "greaterthan" or ">": return Order(operand, Arg()) > 0;
            case "ge" or ">=": return Order(operand, Arg()) >= 0;
            case "lt" or "lessthan" or "<": return Order(operand, Arg()) < 0;
            case "le" or "<=": return Order(operand, Arg()) <= 0;
            default:
                if (requireKnown) throw new JinjaError($"unknown test '{name}'");
                return null;
        }
    }

    static int Order(Value a, Value b) => Operators.Compare(a, b, caseSensitive: true);
}
