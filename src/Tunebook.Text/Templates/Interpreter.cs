namespace Tunebook.Text.Templates;

/// <summary>
/// Walks the syntax tree and produces the rendered text, with the semantics of @huggingface/jinja
/// (the engine transformers.js applies chat templates with). Errors carry the line and column of the node that failed.
/// </summary>
sealed class Interpreter(string source, TimeProvider clock)
{
    const int MaxCallDepth = 200;
    int _callDepth;

    public TimeProvider Clock { get; } = clock;

    sealed class BreakSignal : Exception;
    sealed class ContinueSignal : Exception;

    public string Run(ProgramNode program, Scope globals)
    {
        try
        {
            return EvaluateBlock(program.Body, globals).Value;
        }
        catch (BreakSignal) { throw new TemplateException("'break' outside of a for loop", 0, 0); }
        catch (ContinueSignal) { throw new TemplateException("'continue' outside of a for loop", 0, 0); }
    }

    public TemplateException Locate(string reason, SourcePos pos, bool raised = false, Exception? inner = null)
    {
        var (line, col) = LineColumn(source, pos.Offset);
        return new TemplateException(reason, line, col, raised, inner);
    }

    public static (int Line, int Column) LineColumn(string source, int offset)
    {
        if (offset < 0) return (0, 0);
        int line = 1, col = 1;
        for (int i = 0; i < offset && i < source.Length; i++)
        {
            if (source[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return (line, col);
    }

    public Value Evaluate(Node? node, Scope scope)
    {
        if (node is null) return UndefinedValue.Instance;
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        try
        {
            return EvaluateCore(node, scope);
        }
        catch (JinjaError e)
        {
            throw Locate(e.Message, node.Pos, e.RaisedByTemplate, e);
        }
        catch (Exception e) when (e is not (TemplateException or BreakSignal or ContinueSignal or InsufficientExecutionStackException))
        {
            throw Locate($"{e.GetType().Name}: {e.Message}", node.Pos, inner: e);
        }
    }

    Value EvaluateCore(Node node, Scope scope)
    {
        switch (node)
        {
            case SetNode s: return EvaluateSet(s, scope);
            case IfNode i: return EvaluateBlock(Evaluate(i.Test, scope).IsTruthy ? i.Body : i.Alternate, scope);
            case ForNode f: return EvaluateFor(f, scope);
            case MacroNode m: return EvaluateMacro(m, scope);
            case CallStatementNode c: return EvaluateCallStatement(c, scope);
            case FilterStatementNode fs: return Filters.Apply(this, EvaluateBlock(fs.Body, scope), fs.Filter, scope);
            case BreakNode: throw new BreakSignal();
            case ContinueNode: throw new ContinueSignal();
            case CommentNode: return NullValue.Instance;
            case IntegerLiteralNode n: return new IntegerValue(n.Value);
            case FloatLiteralNode n: return new FloatValue(n.Value);
            case StringLiteralNode n: return new StringValue(n.Value);
            case ArrayLiteralNode a: return new ArrayValue(a.Items.Select(x => Evaluate(x, scope)).ToList());
            case TupleLiteralNode t: return new TupleValue(t.Items.Select(x => Evaluate(x, scope)).ToList());
            case ObjectLiteralNode o:
            {
                var map = new OrderedDictionary<string, Value>();
                foreach (var (k, v) in o.Entries)
                {
                    var key = Evaluate(k, scope);
                    if (key is not StringValue ks) throw new JinjaError($"dict keys must be strings, got {key.TypeName}");
                    map[ks.Value] = Evaluate(v, scope);
                }
                return new ObjectValue(map);
            }
            case IdentifierNode id: return scope.Lookup(id.Name);
            case CallNode call: return EvaluateCall(call, scope);
            case MemberNode m: return EvaluateMember(m, scope);
            case UnaryNode u: return EvaluateUnary(u, scope);
            case BinaryNode b: return Operators.Binary(this, b, scope);
            case FilterNode f: return Filters.Apply(this, Evaluate(f.Operand, scope), f.Filter, scope);
            case TestNode t: return TestFunctions.Evaluate(this, t, scope);
            case SelectNode s: return Evaluate(s.Test, scope).IsTruthy ? Evaluate(s.Lhs, scope) : UndefinedValue.Instance;
            case TernaryNode t: return Evaluate(t.Condition, scope).IsTruthy ? Evaluate(t.TrueExpr, scope) : Evaluate(t.FalseExpr, scope);
            case KeywordArgumentNode or SpreadNode or KeywordSpreadNode or SliceNode:
                throw new JinjaError("this expression is only allowed inside a call or subscript");
            default:
                throw new JinjaError($"unknown node {node.GetType().Name}");
        }
    }

    public StringValue EvaluateBlock(List<Node> statements, Scope scope)
    {
        if (statements.Count == 1 && statements[0] is StringLiteralNode only) return new StringValue(only.Value);
        var sb = new System.Text.StringBuilder();
        foreach (var statement in statements)
        {
            var value = Evaluate(statement, scope);
            if (value is not (NullValue or UndefinedValue)) sb.Append(value.Render());
        }
        return new StringValue(sb.ToString());
    }

    /// <summary>Evaluates call arguments: positionals (with *spread) first, then keywords (with **spread).</summary>
    public (List<Value> Args, OrderedDictionary<string, Value> Kwargs) EvaluateArguments(List<Node> args, Scope scope)
    {
        var positional = new List<Value>();
        var keywords = new OrderedDictionary<string, Value>();
        foreach (var a in args)
        {
            if (a is SpreadNode spread)
            {
                var v = Evaluate(spread.Argument, scope);
                if (v is not ArrayValue arr) throw new JinjaError($"cannot unpack non-iterable {v.TypeName} with '*'");
                positional.AddRange(arr.Value);
            }
            else if (a is not (KeywordArgumentNode or KeywordSpreadNode)) positional.Add(Evaluate(a, scope));
        }
        foreach (var a in args)
        {
            if (a is KeywordArgumentNode kw)
            {
                if (keywords.ContainsKey(kw.Key.Name)) throw new JinjaError($"got multiple values for keyword argument '{kw.Key.Name}'");
                keywords[kw.Key.Name] = Evaluate(kw.Value, scope);
            }
            else if (a is KeywordSpreadNode ks)
            {
                var v = Evaluate(ks.Argument, scope);
                if (v is not ObjectValue o) throw new JinjaError($"argument after ** must be a mapping, not {v.TypeName}");
                foreach (var (k, val) in o.Value)
                {
                    if (keywords.ContainsKey(k)) throw new JinjaError($"got multiple values for keyword argument '{k}'");
                    keywords[k] = val;
                }
            }
        }
        return (positional, keywords);
    }

    Value EvaluateCall(CallNode call, Scope scope)
    {
        var (args, kwargs) = EvaluateArguments(call.Args, scope);
        if (kwargs.Count > 0) args.Add(new KeywordArgumentsValue(kwargs));
        var fn = Evaluate(call.Callee, scope);
        if (fn is not FunctionValue f)
        {
            string what = call.Callee is IdentifierNode id ? $"'{id.Name}'"
                : call.Callee is MemberNode { Computed: false, Property: IdentifierNode p } ? $"'{p.Name}'" : "this value";
            throw new JinjaError(fn is UndefinedValue
                ? $"{what} is undefined, so it cannot be called"
                : $"{what} is not callable (it is {fn.TypeName})");
        }
        return f.Call(args, scope);
    }

    Value EvaluateMember(MemberNode expr, Scope scope)
    {
        var obj = Evaluate(expr.Object, scope);
        Value property;
        if (expr.Computed)
        {
            if (expr.Property is SliceNode slice) return Slicing.Slice(this, obj, slice, scope);
            property = Evaluate(expr.Property, scope);
        }
        else if (expr.Property is IntegerLiteralNode il) property = new IntegerValue(il.Value);
        else property = new StringValue(((IdentifierNode)expr.Property).Name);

        Value? value;
        switch (obj)
        {
            case ObjectValue or NamespaceValue:
            {
                if (property is not StringValue key) throw new JinjaError($"cannot look up a dict key with a {property.TypeName}; keys are strings");
                if (obj is ObjectValue o) value = o.Get(key.Value) ?? Methods.Of(obj, key.Value);
                else value = ((NamespaceValue)obj).Value.GetValueOrDefault(key.Value);
                break;
            }
            case ArrayValue or StringValue:
                if (property is IntegerValue index)
                {
                    if (obj is StringValue str)
                    {
                        int i = JsIndex(index.Value, str.Value.Length);
                        value = i < 0 ? null : new StringValue(str.Value[i].ToString());
                    }
                    else
                    {
                        var list = ((ArrayValue)obj).Value;
                        int i = JsIndex(index.Value, list.Count);
                        value = i < 0 ? null : list[i];
                    }
                }
                else if (property is StringValue name) value = Methods.Of(obj, name.Value);
                else throw new JinjaError($"list and string indices must be integers, not {property.TypeName}");
                break;
            default:
                if (property is not StringValue n) throw new JinjaError($"cannot index a {obj.TypeName} with a {property.TypeName}");
                value = Methods.Of(obj, n.Value);
                break;
        }
        return value ?? UndefinedValue.Instance;
    }

    /// <summary>Array.prototype.at: negative counts from the end; -1 when out of range.</summary>
    static int JsIndex(double index, int length)
    {
        double i = Math.Truncate(index);
        if (i < 0) i += length;
        return i < 0 || i >= length ? -1 : (int)i;
    }

    Value EvaluateUnary(UnaryNode node, Scope scope)
    {
        var arg = Evaluate(node.Argument, scope);
        if (node.Operator == "not") return BooleanValue.Of(!arg.IsTruthy);
        int sign = node.Operator == "-" ? -1 : 1;
        return arg switch
        {
            IntegerValue i => new IntegerValue(sign * i.Value),
            FloatValue f => new FloatValue(sign * f.Value),
            BooleanValue b => new IntegerValue(sign * (b.Value ? 1 : 0)),
            _ => throw new JinjaError($"bad operand type for unary {node.Operator}: {arg.TypeName}"),
        };
    }

    Value EvaluateSet(SetNode node, Scope scope)
    {
        var rhs = node.Value is not null ? Evaluate(node.Value, scope) : EvaluateBlock(node.Body, scope);
        switch (node.Assignee)
        {
            case IdentifierNode id:
                scope.Set(id.Name, rhs);
                break;
            case TupleLiteralNode tuple:
            {
                if (rhs is not ArrayValue arr) throw new JinjaError($"cannot unpack non-iterable {rhs.TypeName} in set");
                if (arr.Value.Count != tuple.Items.Count)
                    throw new JinjaError($"too {(tuple.Items.Count > arr.Value.Count ? "few" : "many")} values to unpack in set (expected {tuple.Items.Count}, got {arr.Value.Count})");
                for (int i = 0; i < tuple.Items.Count; i++)
                {
                    if (tuple.Items[i] is not IdentifierNode name) throw new JinjaError("can only unpack into plain names in set");
                    scope.Set(name.Name, arr.Value[i]);
                }
                break;
            }
            case MemberNode member:
            {
                var obj = Evaluate(member.Object, scope);
                if (obj is not NamespaceValue ns) throw new JinjaError("cannot assign an attribute of something that is not a namespace(); use namespace() for values changed inside loops");
                if (member.Property is not IdentifierNode prop) throw new JinjaError("can only assign a plain attribute name");
                ns.Value[prop.Name] = rhs;
                break;
            }
            default:
                throw new JinjaError("invalid target of set");
        }
        return NullValue.Instance;
    }

    Value EvaluateFor(ForNode node, Scope environment)
    {
        var scope = new Scope(environment);
        Node? test = null;
        Value iterable;
        if (node.Iterable is SelectNode select)
        {
            iterable = Evaluate(select.Lhs, scope);
            test = select.Test;
        }
        else iterable = Evaluate(node.Iterable, scope);

        List<Value> source = iterable switch
        {
            ArrayValue a => a.Value,
            ObjectValue o => o.Keys().Value,
            // Jinja iterates strings by character; the reference engine refuses them.
            StringValue s => Slicing.CodePoints(s.Value).Select(c => (Value)new StringValue(c)).ToList(),
            _ => throw new JinjaError(iterable is UndefinedValue
                ? $"cannot loop over an undefined value{DescribeNode(node.Iterable is SelectNode sn ? sn.Lhs : node.Iterable)}"
                : $"cannot loop over a {iterable.TypeName}; expected a list or a dict"),
        };

        var items = new List<Value>();
        foreach (var current in source)
        {
            if (test is not null)
            {
                var loopScope = new Scope(scope);
                BindLoopVariable(node.LoopVar, current, loopScope);
                if (!Evaluate(test, loopScope).IsTruthy) continue;
            }
            items.Add(current);
        }

        var result = new System.Text.StringBuilder();
        bool noIteration = true;
        for (int i = 0; i < items.Count; i++)
        {
            var loop = new OrderedDictionary<string, Value>
            {
                ["index"] = new IntegerValue(i + 1),
                ["index0"] = new IntegerValue(i),
                ["revindex"] = new IntegerValue(items.Count - i),
                ["revindex0"] = new IntegerValue(items.Count - i - 1),
                ["first"] = BooleanValue.Of(i == 0),
                ["last"] = BooleanValue.Of(i == items.Count - 1),
                ["length"] = new IntegerValue(items.Count),
                ["previtem"] = i > 0 ? items[i - 1] : UndefinedValue.Instance,
                ["nextitem"] = i < items.Count - 1 ? items[i + 1] : UndefinedValue.Instance,
            };
            scope.Set("loop", new ObjectValue(loop));
            BindLoopVariable(node.LoopVar, items[i], scope);
            try
            {
                result.Append(EvaluateBlock(node.Body, scope).Value);
            }
            catch (ContinueSignal) { continue; }
            catch (BreakSignal) { break; }
            noIteration = false;
        }
        if (noIteration) result.Append(EvaluateBlock(node.DefaultBlock, scope).Value);
        return new StringValue(result.ToString());
    }

    static string DescribeNode(Node n) => n switch
    {
        IdentifierNode id => $" ('{id.Name}')",
        MemberNode { Computed: false, Property: IdentifierNode p } => $" ('.{p.Name}')",
        _ => "",
    };

    void BindLoopVariable(Node loopVar, Value current, Scope scope)
    {
        if (loopVar is IdentifierNode id)
        {
            scope.Set(id.Name, current);
            return;
        }
        var tuple = (TupleLiteralNode)loopVar;
        if (current is not ArrayValue arr) throw new JinjaError($"cannot unpack a {current.TypeName} into {tuple.Items.Count} loop variables");
        if (arr.Value.Count != tuple.Items.Count)
            throw new JinjaError($"too {(tuple.Items.Count > arr.Value.Count ? "few" : "many")} values to unpack (expected {tuple.Items.Count}, got {arr.Value.Count})");
        for (int j = 0; j < tuple.Items.Count; j++)
        {
            if (tuple.Items[j] is not IdentifierNode name) throw new JinjaError("loop variables must be plain names");
            scope.Set(name.Name, arr.Value[j]);
        }
    }

    Value EvaluateMacro(MacroNode node, Scope environment)
    {
        var special = MacroArguments.FindAccessedSpecial(node.Args, node.Body);
        environment.Set(node.Name.Name, new FunctionValue((args, callerScope) =>
        {
            var macroScope = new Scope(callerScope);
            BindMacroArguments($"'{node.Name.Name}'", node.Args, special, args, macroScope);
            return CallBody(node.Body, macroScope);
        }, node.Name.Name));
        return NullValue.Instance;
    }

    StringValue CallBody(List<Node> body, Scope scope)
    {
        if (++_callDepth > MaxCallDepth)
        {
            _callDepth = 0;
            throw new JinjaError($"macro calls nested deeper than {MaxCallDepth} levels (runaway recursion?)");
        }
        try { return EvaluateBlock(body, scope); }
        finally { if (_callDepth > 0) _callDepth--; }
    }

    Value EvaluateCallStatement(CallStatementNode node, Scope environment)
    {
        var parameters = node.CallerArgs ?? [];
        var special = MacroArguments.FindAccessedSpecial(parameters, node.Body);
        var caller = new FunctionValue((callerArgs, _) =>
        {
            var callScope = new Scope(environment);
            BindMacroArguments("None", parameters, special, callerArgs, callScope);
            return CallBody(node.Body, callScope);
        }, "caller");
        var (args, kwargs) = EvaluateArguments(node.Call.Args, environment);
        args.Add(new KeywordArgumentsValue(kwargs));
        var fn = Evaluate(node.Call.Callee, environment);
        if (fn is not FunctionValue f) throw new JinjaError($"cannot call a {fn.TypeName}");
        var newScope = new Scope(environment);
        newScope.Set("caller", caller);
        return f.Call(args, newScope);
    }

    void BindMacroArguments(string displayName, List<Node> parameters, HashSet<string> special, List<Value> args, Scope scope)
    {
        var positional = args.ToList();
        var keywords = new OrderedDictionary<string, Value>();
        if (positional.Count > 0 && positional[^1] is KeywordArgumentsValue kw)
        {
            keywords = new OrderedDictionary<string, Value>(kw.Value);
            positional.RemoveAt(positional.Count - 1);
        }
        var pending = new List<(string, Node)>();
        for (int i = 0; i < parameters.Count; i++)
        {
            var (name, defaultValue) = MacroArguments.Describe(parameters[i]);
            Value? value = i < positional.Count ? positional[i] : null;
            if (value is null && keywords.Remove(name, out var fromKeyword)) value = fromKeyword;
            if (value is null && defaultValue is not null) pending.Add((name, defaultValue));
            scope.Set(name, value ?? UndefinedValue.Instance);
        }
        if (special.Contains("kwargs")) scope.Set("kwargs", new ObjectValue(keywords));
        else if (keywords.Count > 0) throw new JinjaError($"macro {displayName} takes no keyword argument '{keywords.GetAt(0).Key}'");
        if (special.Contains("varargs")) scope.Set("varargs", new ArrayValue(positional.Skip(parameters.Count).ToList()));
        else if (positional.Count > parameters.Count) throw new JinjaError($"macro {displayName} takes not more than {parameters.Count} argument(s)");
        foreach (var (name, defaultValue) in pending) scope.Set(name, Evaluate(defaultValue, scope));
    }
}

/// <summary>Which of a macro's special names (kwargs, varargs) its body reads, so calls may pass extra arguments.</summary>
static class MacroArguments
{
    public static (string Name, Node? Default) Describe(Node parameter) => parameter switch
    {
        IdentifierNode id => (id.Name, null),
        KeywordArgumentNode kw => (kw.Key.Name, kw.Value),
        _ => throw new JinjaError("invalid macro parameter"),
    };

    public static HashSet<string> FindAccessedSpecial(List<Node> parameters, List<Node> body)
    {
        var declared = new HashSet<string>();
        var accessed = new HashSet<string>();
        foreach (var p in parameters) Declare(Describe(p).Name);
        foreach (var n in body) Visit(n);
        return accessed;

        void Declare(string name)
        {
            if (name is "kwargs" or "varargs") declared.Add(name);
        }
        void DeclareTarget(Node target)
        {
            if (target is IdentifierNode id) Declare(id.Name);
            else if (target is TupleLiteralNode t) foreach (var i in t.Items) DeclareTarget(i);
        }
        void VisitAll(IEnumerable<Node?> nodes)
        {
            foreach (var n in nodes) Visit(n);
        }
        void Visit(Node? node)
        {
            switch (node)
            {
                case null: return;
                case IdentifierNode id:
                    if (id.Name is "kwargs" or "varargs" && !declared.Contains(id.Name)) accessed.Add(id.Name);
                    return;
                case ForNode f:
                    DeclareTarget(f.LoopVar);
                    Visit(f.Iterable); VisitAll(f.Body); VisitAll(f.DefaultBlock);
                    return;
                case SetNode s:
                    DeclareTarget(s.Assignee); Visit(s.Value); VisitAll(s.Body);
                    return;
                case MacroNode m:
                    foreach (var a in m.Args) Declare(Describe(a).Name);
                    foreach (var a in m.Args) Visit(Describe(a).Default);
                    VisitAll(m.Body);
                    return;
                case CallStatementNode c:
                    VisitAll(c.Call.Args);
                    foreach (var a in c.CallerArgs ?? []) Declare(Describe(a).Name);
                    VisitAll(c.Body);
                    return;
                case FilterStatementNode fs:
                    VisitAll(fs.Body);
                    if (fs.Filter is CallNode fc) VisitAll(fc.Args);
                    return;
                case FilterNode fn:
                    Visit(fn.Operand);
                    if (fn.Filter is CallNode call) VisitAll(call.Args);
                    return;
                case MemberNode mem:
                    Visit(mem.Object);
                    if (mem.Computed) Visit(mem.Property);
                    return;
                case TestNode t: Visit(t.Operand); VisitAll(t.Args ?? []); return;
                case SelectNode sel: Visit(sel.Test); Visit(sel.Lhs); return;
                case KeywordArgumentNode kw: Visit(kw.Value); return;
                case IfNode i: Visit(i.Test); VisitAll(i.Body); VisitAll(i.Alternate); return;
                case CallNode call2: Visit(call2.Callee); VisitAll(call2.Args); return;
                case BinaryNode b: Visit(b.Left); Visit(b.Right); return;
                case UnaryNode u: Visit(u.Argument); return;
                case TernaryNode t: Visit(t.Condition); Visit(t.TrueExpr); Visit(t.FalseExpr); return;
                case ArrayLiteralNode a: VisitAll(a.Items); return;
                case TupleLiteralNode t: VisitAll(t.Items); return;
                case ObjectLiteralNode o: foreach (var (k, v) in o.Entries) { Visit(k); Visit(v); } return;
                case SliceNode sl: Visit(sl.Start); Visit(sl.Stop); Visit(sl.Step); return;
                case SpreadNode sp: Visit(sp.Argument); return;
                case KeywordSpreadNode ks: Visit(ks.Argument); return;
                default: return;
            }
        }
    }
}
