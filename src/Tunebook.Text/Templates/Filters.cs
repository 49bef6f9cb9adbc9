using System.Text;

namespace Tunebook.Text.Templates;

/// <summary>
/// Filters (<c>value | name</c> and <c>value | name(args)</c>). The reference engine's filters keep its exact
/// behaviour (which filters exist for which type, what they return); Jinja filters it lacks are added where it would
/// only fail: count, d, e/escape, round, select/reject, map('filter'), sum/min/max, format, attr, first/last on strings.
/// </summary>
static class Filters
{
    public static Value Apply(Interpreter interp, Value operand, Node filterNode, Scope scope)
    {
        if (filterNode is IdentifierNode id) return ApplyNamed(interp, operand, id.Name, scope);
        if (filterNode is CallNode { Callee: IdentifierNode callee } call) return ApplyCall(interp, operand, callee.Name, call.Args, scope);
        throw new JinjaError("a filter must be a name, optionally with arguments");
    }

    static JinjaError Unknown(string name, Value operand) =>
        new(operand is UndefinedValue
            ? $"cannot apply filter '{name}' to an undefined value"
            : $"unknown filter '{name}' for a {Describe(operand)}");

    static string Describe(Value v) => v switch
    {
        ArrayValue => "list",
        StringValue => "string",
        IntegerValue or FloatValue => "number",
        ObjectValue => "dict",
        BooleanValue => "boolean",
        NullValue => "none value",
        _ => v.TypeName,
    };

    // ---- filters without arguments -------------------------------------------------------------------------

    static Value ApplyNamed(Interpreter interp, Value operand, string name, Scope scope)
    {
        switch (name)
        {
            case "safe": return operand;
            case "tojson": return new StringValue(Json.Serialize(operand, new JsonOptions()));
            // Jinja filters the reference lacks (it fails on them for every type).
            case "d" or "default": return operand is UndefinedValue ? new StringValue("") : operand;
            case "e" or "escape": return new StringValue(HtmlEscape(operand is StringValue es ? es.Value : operand.Render()));
            case "count" when operand is not (ArrayValue or StringValue or ObjectValue):
                throw Unknown(name, operand);
            case "count": return ApplyNamed(interp, operand, "length", scope);
            case "round" when operand is IntegerValue or FloatValue: return Round(Operators.Num(operand), 0, "common");
        }

        switch (operand)
        {
            case ArrayValue arr:
                switch (name)
                {
                    case "list": return operand;
                    case "first": return arr.Value.Count > 0 ? arr.Value[0] : UndefinedValue.Instance;
                    case "last": return arr.Value.Count > 0 ? arr.Value[^1] : UndefinedValue.Instance;
                    case "length": return new IntegerValue(arr.Value.Count);
                    case "reverse": return new ArrayValue(Enumerable.Reverse(arr.Value).ToList());
                    case "sort": return new ArrayValue(Operators.StableSort(arr.Value, (a, b) => Operators.Compare(a, b, false)));
                    case "join": return new StringValue(string.Concat(arr.Value.Select(JsFormat.JoinString)));
                    case "string": return new StringValue(Json.Serialize(operand, new JsonOptions(), 0, undefinedAsNull: false));
                    case "unique":
                    {
                        var output = new List<Value>();
                        foreach (var item in arr.Value)
                            if (!output.Any(o => JsFormat.SameValueZero(o, item))) output.Add(item);
                        return new ArrayValue(output);
                    }
                    case "select" or "reject":
                        return new ArrayValue(arr.Value.Where(x => x.IsTruthy == (name == "select")).ToList());
                    case "sum": return Sum(arr.Value, null, new IntegerValue(0));
                    case "min" or "max":
                    {
                        if (arr.Value.Count == 0) return UndefinedValue.Instance;
                        var sorted = Operators.StableSort(arr.Value, (a, b) => Operators.Compare(a, b, false));
                        return name == "min" ? sorted[0] : sorted[^1];
                    }
                }
                break;
            case StringValue str:
                switch (name)
                {
                    case "length": return new IntegerValue(str.Value.Length);
                    case "upper": return new StringValue(Methods.JsUpper(str.Value));
                    case "lower": return new StringValue(Methods.JsLower(str.Value));
                    case "title": return new StringValue(Methods.Title(str.Value));
                    case "capitalize": return new StringValue(Methods.Capitalize(str.Value));
                    case "trim": return new StringValue(str.Value.Trim(Lexer.JsTrimChars));
                    case "indent": return new StringValue(Indent(str.Value, "    ", first: false, blank: false));
                    case "join" or "string": return operand;
                    case "int":
                    {
                        double v = JsFormat.ParseInt(str.Value);
                        return new IntegerValue(double.IsNaN(v) ? 0 : v);
                    }
                    case "float":
                    {
                        double v = JsFormat.ParseFloat(str.Value);
                        return new FloatValue(double.IsNaN(v) ? 0 : v);
                    }
                    // Jinja semantics where the reference has none.
                    case "first": return str.Value.Length > 0 ? new StringValue(Slicing.CodePoints(str.Value)[0]) : UndefinedValue.Instance;
                    case "last": return str.Value.Length > 0 ? new StringValue(Slicing.CodePoints(str.Value)[^1]) : UndefinedValue.Instance;
                    case "list": return new ArrayValue(Slicing.CodePoints(str.Value).Select(c => (Value)new StringValue(c)).ToList());
                    case "reverse":
                    {
                        var points = Slicing.CodePoints(str.Value);
                        points.Reverse();
                        return new StringValue(string.Concat(points));
                    }
                    case "wordcount": return new IntegerValue(str.Value.Split(Lexer.JsTrimChars, StringSplitOptions.RemoveEmptyEntries).Length);
                }
                break;
            case IntegerValue or FloatValue:
                switch (name)
                {
                    case "abs": return operand is IntegerValue i ? new IntegerValue(Math.Abs(i.Value)) : new FloatValue(Math.Abs(((FloatValue)operand).Value));
                    case "int": return new IntegerValue(Math.Floor(Operators.Num(operand)));
                    case "float": return new FloatValue(Operators.Num(operand));
                    case "string": return new StringValue(operand.Render());
                }
                break;
            case ObjectValue obj:
                switch (name)
                {
                    case "items": return obj.Items();
                    case "length": return new IntegerValue(obj.Value.Count);
                    case "list": return obj.Keys();
                }
                var builtin = Methods.Of(obj, name);
                if (builtin is FunctionValue fn) return fn.Call([], scope);
                if (builtin is not null) return builtin;
                break;
            case BooleanValue b:
                switch (name)
                {
                    case "bool": return b;
                    case "int": return new IntegerValue(b.Value ? 1 : 0);
                    case "float": return new FloatValue(b.Value ? 1 : 0);
                    case "string": return new StringValue(b.Value ? "true" : "false");
                }
                break;
        }
        throw Unknown(name, operand);
    }

    // ---- filters with arguments ----------------------------------------------------------------------------

    static Value ApplyCall(Interpreter interp, Value operand, string name, List<Node> argNodes, Scope scope)
    {
        var (args, kwargs) = interp.EvaluateArguments(argNodes, scope);
        Value? Kw(string key) => kwargs.GetValueOrDefault(key);
        switch (name)
        {
            case "tojson":
            {
                var indent = Kw("indent") ?? NullValue.Instance;
                if (indent is not (IntegerValue or NullValue)) throw new JinjaError("tojson: indent must be an integer");
                var ensureAscii = Kw("ensure_ascii") ?? BooleanValue.False;
                if (ensureAscii is not BooleanValue ea) throw new JinjaError("tojson: ensure_ascii must be a boolean");
                var sortKeys = Kw("sort_keys") ?? BooleanValue.False;
                if (sortKeys is not BooleanValue sk) throw new JinjaError("tojson: sort_keys must be a boolean");
                var separatorsArg = Kw("separators") ?? NullValue.Instance;
                (string, string)? separators = null;
                if (separatorsArg is ArrayValue sep)
                {
                    if (sep.Value is not [StringValue item, StringValue key]) throw new JinjaError("tojson: separators must be a pair of strings");
                    separators = (item.Value, key.Value);
                }
                else if (separatorsArg is not NullValue) throw new JinjaError("tojson: separators must be a pair of strings");
                int? width = indent is IntegerValue iv ? (int)Math.Clamp(iv.Value, -1, 64) : null;
                if (width < 0) throw new JinjaError("tojson: indent must not be negative");
                return new StringValue(Json.Serialize(operand, new JsonOptions(width, ea.Value, separators, sk.Value)));
            }
            case "join":
            {
                IEnumerable<string> parts = operand switch
                {
                    StringValue s => Slicing.CodePoints(s.Value),
                    ArrayValue a => Kw("attribute") is StringValue attr
                        ? a.Value.Select(x => JsFormat.JoinString(AttributePath(x, attr.Value)))
                        : a.Value.Select(JsFormat.JoinString),
                    _ => throw Unknown(name, operand),
                };
                var separator = args.ElementAtOrDefault(0) ?? Kw("separator") ?? new StringValue("");
                if (separator is not StringValue sepValue) throw new JinjaError("join: separator must be a string");
                return new StringValue(string.Join(sepValue.Value, parts));
            }
            case "int" or "float":
            {
                Value fallback = args.ElementAtOrDefault(0) ?? Kw("default") ?? (name == "int" ? new IntegerValue(0) : new FloatValue(0));
                switch (operand)
                {
                    case StringValue s:
                    {
                        double v = name == "int" ? JsFormat.ParseInt(s.Value) : JsFormat.ParseFloat(s.Value);
                        return double.IsNaN(v) ? fallback : name == "int" ? new IntegerValue(v) : new FloatValue(v);
                    }
                    case IntegerValue or FloatValue: return operand;
                    case BooleanValue b: return name == "int" ? new IntegerValue(b.Value ? 1 : 0) : new FloatValue(b.Value ? 1 : 0);
                    default: throw Unknown(name, operand);
                }
            }
            case "default" or "d":
            {
                var fallback = args.ElementAtOrDefault(0) ?? new StringValue("");
                var boolean = args.ElementAtOrDefault(1) ?? Kw("boolean") ?? BooleanValue.False;
                if (boolean is not BooleanValue bv) throw new JinjaError("default: the boolean flag must be true or false");
                return operand is UndefinedValue || (bv.Value && !operand.IsTruthy) ? fallback : operand;
            }
            case "round" when operand is IntegerValue or FloatValue:
            {
                var precision = args.ElementAtOrDefault(0) ?? Kw("precision") ?? new IntegerValue(0);
                var method = args.ElementAtOrDefault(1) ?? Kw("method") ?? new StringValue("common");
                if (precision is not IntegerValue p) throw new JinjaError("round: precision must be an integer");
                if (method is not StringValue { Value: "common" or "ceil" or "floor" } m) throw new JinjaError("round: method must be 'common', 'ceil' or 'floor'");
                return Round(Operators.Num(operand), (int)p.Value, m.Value);
            }
            case "attr":
            {
                if (args.ElementAtOrDefault(0) is not StringValue attrName) throw new JinjaError("attr: expects an attribute name");
                return operand is ObjectValue o ? o.Get(attrName.Value) ?? UndefinedValue.Instance
                    : operand is NamespaceValue ns ? ns.Value.GetValueOrDefault(attrName.Value) ?? UndefinedValue.Instance
                    : UndefinedValue.Instance;
            }
        }

        switch (operand)
        {
            case ArrayValue arr:
                switch (name)
                {
                    case "sort":
                    {
                        var reverse = args.ElementAtOrDefault(0) ?? Kw("reverse") ?? BooleanValue.False;
                        if (reverse is not BooleanValue rev) throw new JinjaError("sort: reverse must be a boolean");
                        var caseSensitive = args.ElementAtOrDefault(1) ?? Kw("case_sensitive") ?? BooleanValue.False;
                        if (caseSensitive is not BooleanValue cs) throw new JinjaError("sort: case_sensitive must be a boolean");
                        var attribute = args.ElementAtOrDefault(2) ?? Kw("attribute") ?? NullValue.Instance;
                        if (attribute is not (StringValue or IntegerValue or NullValue)) throw new JinjaError("sort: attribute must be a string, an integer or none");
                        Value Key(Value item) => attribute switch
                        {
                            NullValue => item,
                            IntegerValue i => AttributePath(item, JsFormat.Number(i.Value)),
                            _ => AttributePath(item, ((StringValue)attribute).Value),
                        };
                        return new ArrayValue(Operators.StableSort(arr.Value, (a, b) =>
                        {
                            int r = Operators.Compare(Key(a), Key(b), cs.Value);
                            return rev.Value ? -r : r;
                        }));
                    }
                    case "selectattr" or "rejectattr":
                    {
                        bool select = name == "selectattr";
                        if (arr.Value.Any(x => x is not (ObjectValue or NamespaceValue)))
                            throw new JinjaError($"{name} can only be applied to a list of dicts");
                        if (args.ElementAtOrDefault(0) is not StringValue attr) throw new JinjaError($"{name} needs an attribute name");
                        Func<Value, bool> test;
                        if (args.Count > 1)
                        {
                            if (args[1] is not StringValue testName) throw new JinjaError($"{name}: the test name must be a string");
                            if (!TestFunctions.Exists(testName.Value)) throw new JinjaError($"unknown test '{testName.Value}'");
                            var testArgs = args.Skip(2).ToList();
                            test = v => TestFunctions.Run(testName.Value, v, testArgs, requireKnown: true)!.Value;
                        }
                        else test = v => v.IsTruthy;
                        return new ArrayValue(arr.Value.Where(item =>
                        {
                            var map = item is ObjectValue o ? o.Value : ((NamespaceValue)item).Value;
                            bool result = map.TryGetValue(attr.Value, out var a) && test(a);
                            return select ? result : !result;
                        }).ToList());
                    }
                    case "select" or "reject":
                    {
                        bool select = name == "select";
                        if (args.ElementAtOrDefault(0) is not StringValue testName) throw new JinjaError($"{name} needs a test name");
                        if (!TestFunctions.Exists(testName.Value)) throw new JinjaError($"unknown test '{testName.Value}'");
                        var testArgs = args.Skip(1).ToList();
                        return new ArrayValue(arr.Value.Where(item =>
                            TestFunctions.Run(testName.Value, item, testArgs, requireKnown: true)!.Value == select).ToList());
                    }
                    case "map":
                    {
                        if (kwargs.ContainsKey("attribute"))
                        {
                            if (Kw("attribute") is not StringValue attr) throw new JinjaError("map: attribute must be a string");
                            var fallback = Kw("default");
                            return new ArrayValue(arr.Value.Select(item =>
                            {
                                if (item is not (ObjectValue or NamespaceValue)) throw new JinjaError("map(attribute=...) needs a list of dicts");
                                var v = AttributePath(item, attr.Value);
                                return v is UndefinedValue ? fallback ?? UndefinedValue.Instance : v;
                            }).ToList());
                        }
                        // Jinja's map('filter', args...): apply a filter to every item.
                        if (args.ElementAtOrDefault(0) is StringValue filterName)
                        {
                            var rest = argNodes.Skip(1).ToList();
                            Node filter = rest.Count == 0
                                ? new IdentifierNode(SourcePos.None, filterName.Value)
                                : new CallNode(SourcePos.None, new IdentifierNode(SourcePos.None, filterName.Value), rest);
                            return new ArrayValue(arr.Value.Select(item => Apply(interp, item, filter, scope)).ToList());
                        }
                        throw new JinjaError("map needs attribute='name' or the name of a filter");
                    }
                    case "sum":
                        return Sum(arr.Value, Kw("attribute") is StringValue a ? a.Value : null,
                            args.ElementAtOrDefault(1) ?? Kw("start") ?? new IntegerValue(0));
                    case "unique":
                    {
                        var attribute = Kw("attribute") is StringValue ua ? ua.Value : null;
                        var output = new List<Value>();
                        var keys = new List<Value>();
                        foreach (var item in arr.Value)
                        {
                            var key = attribute is null ? item : AttributePath(item, attribute);
                            if (keys.Any(k => JsFormat.SameValueZero(k, key))) continue;
                            keys.Add(key);
                            output.Add(item);
                        }
                        return new ArrayValue(output);
                    }
                }
                break;
            case StringValue str:
                switch (name)
                {
                    case "indent":
                    {
                        var width = args.ElementAtOrDefault(0) ?? Kw("width") ?? new IntegerValue(4);
                        string indent = width switch
                        {
                            IntegerValue w => new string(' ', (int)Math.Clamp(w.Value, 0, 1000)),
                            StringValue s => s.Value, // Jinja accepts a string to indent with
                            _ => throw new JinjaError("indent: width must be a number"),
                        };
                        var first = args.ElementAtOrDefault(1) ?? Kw("first") ?? BooleanValue.False;
                        var blank = args.ElementAtOrDefault(2) ?? Kw("blank") ?? BooleanValue.False;
                        return new StringValue(Indent(str.Value, indent, first.IsTruthy, blank.IsTruthy));
                    }
                    case "replace":
                    {
                        var all = args.ToList();
                        all.Add(new KeywordArgumentsValue(kwargs));
                        return Methods.Replace(str.Value, all);
                    }
                    case "format": return new StringValue(PrintfFormat(str.Value, args));
                    case "truncate":
                    {
                        int length = (int)Operators.Num(args.ElementAtOrDefault(0) ?? Kw("length") ?? new IntegerValue(255));
                        bool killwords = (args.ElementAtOrDefault(1) ?? Kw("killwords") ?? BooleanValue.False).IsTruthy;
                        string end = (args.ElementAtOrDefault(2) ?? Kw("end") ?? new StringValue("...")).Render();
                        return new StringValue(Truncate(str.Value, length, killwords, end));
                    }
                }
                break;
            case ObjectValue obj:
            {
                var builtin = Methods.Of(obj, name);
                if (builtin is FunctionValue fn)
                {
                    if (kwargs.Count > 0) args.Add(new KeywordArgumentsValue(kwargs));
                    return fn.Call(args, scope);
                }
                break;
            }
        }
        throw Unknown(name, operand);
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    /// <summary>Looks up "a.b.0" through dicts and lists; undefined when any step is missing.</summary>
    public static Value AttributePath(Value item, string path)
    {
        var value = item;
        foreach (var part in path.Split('.'))
        {
            switch (value)
            {
                case ObjectValue o: value = o.Get(part) ?? UndefinedValue.Instance; break;
                case NamespaceValue ns: value = ns.Value.GetValueOrDefault(part) ?? UndefinedValue.Instance; break;
                case ArrayValue a:
                    double index = JsFormat.ParseInt(part);
                    if (double.IsNaN(index) || index < 0 || index >= a.Value.Count) return UndefinedValue.Instance;
                    value = a.Value[(int)index];
                    break;
                default: return UndefinedValue.Instance;
            }
        }
        return value;
    }

    static string Indent(string text, string indent, bool first, bool blank)
    {
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if ((!first && i == 0) || (!blank && lines[i].Length == 0)) continue;
            lines[i] = indent + lines[i];
        }
        return string.Join("\n", lines);
    }

    static Value Round(double value, int precision, string method)
    {
        double factor = Math.Pow(10, precision);
        double scaled = value * factor;
        double rounded = method switch
        {
            "ceil" => Math.Ceiling(scaled),
            "floor" => Math.Floor(scaled),
            _ => Math.Round(scaled, MidpointRounding.AwayFromZero),
        };
        return new FloatValue(rounded / factor);
    }

    static Value Sum(List<Value> items, string? attribute, Value start)
    {
        double total = Operators.Num(start);
        bool isFloat = start is FloatValue;
        foreach (var item in items)
        {
            var v = attribute is null ? item : AttributePath(item, attribute);
            if (v is not (IntegerValue or FloatValue or BooleanValue)) throw new JinjaError($"sum: cannot add a {v.TypeName}");
            isFloat |= v is FloatValue;
            total += Operators.Num(v);
        }
        return isFloat ? new FloatValue(total) : new IntegerValue(total);
    }

    static string HtmlEscape(string s) => s
        .Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&#34;").Replace("'", "&#39;");

    /// <summary>Jinja's format filter: printf-style %s, %d, %i, %f, %r and %%.</summary>
    static string PrintfFormat(string template, List<Value> args)
    {
        var sb = new StringBuilder();
        int next = 0;
        for (int i = 0; i < template.Length; i++)
        {
            if (template[i] != '%' || i + 1 >= template.Length) { sb.Append(template[i]); continue; }
            char spec = template[++i];
            if (spec == '%') { sb.Append('%'); continue; }
            var v = args.ElementAtOrDefault(next++) ?? throw new JinjaError("format: not enough arguments for format string");
            sb.Append(spec switch
            {
                's' or 'r' => v is NullValue ? "None" : v is BooleanValue b ? (b.Value ? "True" : "False") : v.Render(),
                'd' or 'i' => JsFormat.Number(Math.Truncate(Operators.Num(v))),
                'f' => Operators.Num(v).ToString("F6", System.Globalization.CultureInfo.InvariantCulture),
                _ => throw new JinjaError($"format: unsupported conversion '%{spec}'"),
            });
        }
        return sb.ToString();
    }

    static string Truncate(string s, int length, bool killwords, string end)
    {
        if (s.Length <= length) return s;
        int keep = Math.Max(0, length - end.Length);
        if (killwords) return s[..keep] + end;
        string cut = s[..keep];
        int space = cut.LastIndexOf(' ');
        return (space > 0 ? cut[..space] : cut) + end;
    }
}
