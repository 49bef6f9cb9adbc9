using System.Globalization;

namespace Tunebook.Text.Templates;

/// <summary>
/// Builds the syntax tree from tokens with the grammar and operator precedence of @huggingface/jinja
/// (ternary &lt; or &lt; and &lt; not &lt; comparison/in &lt; + - ~ &lt; * / // % &lt; ** &lt; is-tests &lt; filters
/// &lt; unary sign &lt; call/member). One extension: tests take arguments, as in Jinja
/// (<c>x is divisibleby(3)</c>, <c>x is in [1, 2]</c>, <c>x is eq 'a'</c>).
/// </summary>
sealed class Parser
{
    static readonly HashSet<string> TestsWithArgument =
        ["divisibleby", "in", "eq", "equalto", "sameas", "ne", "gt", "ge", "lt", "le", "greaterthan", "lessthan"];

    readonly List<Token> _tokens;
    readonly SourcePos _end;
    int _current;

    Parser(List<Token> tokens, SourcePos end)
    {
        _tokens = tokens;
        _end = end;
    }

    public static ProgramNode Parse(List<Token> tokens, int sourceLength)
    {
        var parser = new Parser(tokens, new SourcePos(Math.Max(0, sourceLength - 1)));
        var program = new ProgramNode([]);
        while (parser._current < tokens.Count) program.Body.Add(parser.ParseAny());
        return program;
    }

    Token? Peek(int ahead = 0) => _current + ahead < _tokens.Count ? _tokens[_current + ahead] : null;
    SourcePos PosHere => Peek()?.Pos ?? _end;

    JinjaErrorAt Error(string message) => new(message, PosHere);

    static string Describe(Token? t) => t is null ? "the end of the template" : t.Type switch
    {
        TokenType.Text => "text",
        TokenType.Identifier => $"'{t.Value}'",
        TokenType.StringLiteral => $"string '{t.Value}'",
        TokenType.NumericLiteral => $"number {t.Value}",
        _ => $"'{t.Value}'",
    };

    Token Expect(TokenType type, string what)
    {
        var t = Peek();
        if (t is null || t.Type != type) throw Error($"expected {what} but found {Describe(t)}");
        _current++;
        return t;
    }

    void ExpectIdentifier(string name)
    {
        if (!IsIdentifier(name)) throw Error($"expected '{name}' but found {Describe(Peek())}");
        ++_current;
    }

    bool Is(params TokenType[] types)
    {
        if (_current + types.Length > _tokens.Count) return false;
        for (int i = 0; i < types.Length; i++)
            if (_tokens[_current + i].Type != types[i]) return false;
        return true;
    }

    bool IsStatement(params string[] names) =>
        Peek()?.Type == TokenType.OpenStatement && Peek(1) is { Type: TokenType.Identifier } t && names.Contains(t.Value);

    bool IsIdentifier(params string[] names)
    {
        if (_current + names.Length > _tokens.Count) return false;
        for (int i = 0; i < names.Length; i++)
            if (_tokens[_current + i].Type != TokenType.Identifier || _tokens[_current + i].Value != names[i]) return false;
        return true;
    }

    /// <summary>Parses a block body until one of the closing statements; a missing end tag names its opener.</summary>
    List<Node> ParseUntil(string opener, SourcePos openerPos, params string[] enders)
    {
        var body = new List<Node>();
        while (!IsStatement(enders))
        {
            if (Peek() is null)
                throw new JinjaErrorAt($"'{{% {opener} %}}' is never closed: expected {string.Join(" or ", enders.Select(e => $"'{{% {e} %}}'"))}", openerPos);
            body.Add(ParseAny());
        }
        return body;
    }

    Node ParseAny()
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        var t = Peek()!;
        switch (t.Type)
        {
            case TokenType.Comment: _current++; return new CommentNode(t.Pos);
            case TokenType.Text: _current++; return new StringLiteralNode(t.Pos, t.Value);
            case TokenType.OpenStatement: return ParseStatement();
            case TokenType.OpenExpression: return ParseOutputExpression();
            default: throw Error($"unexpected {Describe(t)} outside of a tag");
        }
    }

    Node ParseStatement()
    {
        var open = Expect(TokenType.OpenStatement, "'{%'");
        var nameToken = Peek();
        if (nameToken is not { Type: TokenType.Identifier }) throw Error($"expected a statement name after '{{%' but found {Describe(nameToken)}");
        var pos = nameToken.Pos;
        switch (nameToken.Value)
        {
            case "set":
                ++_current;
                return ParseSet(pos);
            case "if":
            {
                ++_current;
                var result = ParseIf(pos);
                Expect(TokenType.OpenStatement, "'{% endif %}'");
                ExpectIdentifier("endif");
                Expect(TokenType.CloseStatement, "'%}'");
                return result;
            }
            case "macro":
            {
                ++_current;
                var result = ParseMacro(pos);
                Expect(TokenType.OpenStatement, "'{% endmacro %}'");
                ExpectIdentifier("endmacro");
                Expect(TokenType.CloseStatement, "'%}'");
                return result;
            }
            case "for":
            {
                ++_current;
                var result = ParseFor(pos);
                Expect(TokenType.OpenStatement, "'{% endfor %}'");
                ExpectIdentifier("endfor");
                Expect(TokenType.CloseStatement, "'%}'");
                return result;
            }
            case "call":
            {
                ++_current;
                List<Node>? callerArgs = null;
                if (Is(TokenType.OpenParen)) callerArgs = ParseArgs(parameters: true);
                var callee = ParsePrimary();
                if (callee is not IdentifierNode) throw new JinjaErrorAt("expected a macro name after 'call'", callee.Pos);
                var callArgs = ParseArgs(parameters: false);
                Expect(TokenType.CloseStatement, "'%}'");
                var body = ParseUntil("call", pos, "endcall");
                Expect(TokenType.OpenStatement, "'{%'");
                ExpectIdentifier("endcall");
                Expect(TokenType.CloseStatement, "'%}'");
                return new CallStatementNode(pos, new CallNode(callee.Pos, callee, callArgs), callerArgs, body);
            }
            case "break":
                ++_current;
                Expect(TokenType.CloseStatement, "'%}'");
                return new BreakNode(pos);
            case "continue":
                ++_current;
                Expect(TokenType.CloseStatement, "'%}'");
                return new ContinueNode(pos);
            case "filter":
            {
                ++_current;
                var filter = ParsePrimary();
                if (filter is IdentifierNode && Is(TokenType.OpenParen)) filter = ParseCall(filter);
                Expect(TokenType.CloseStatement, "'%}'");
                var body = ParseUntil("filter", pos, "endfilter");
                Expect(TokenType.OpenStatement, "'{%'");
                ExpectIdentifier("endfilter");
                Expect(TokenType.CloseStatement, "'%}'");
                return new FilterStatementNode(pos, filter, body);
            }
            default:
                throw new JinjaErrorAt($"unknown statement '{nameToken.Value}'", pos);
        }
    }

    Node ParseOutputExpression()
    {
        Expect(TokenType.OpenExpression, "'{{'");
        var result = ParseExpression();
        Expect(TokenType.CloseExpression, "'}}'");
        return result;
    }

    Node ParseSet(SourcePos pos)
    {
        var left = ParseExpressionSequence();
        Node? value = null;
        var body = new List<Node>();
        if (Is(TokenType.Equals))
        {
            ++_current;
            value = ParseExpressionSequence();
        }
        else
        {
            Expect(TokenType.CloseStatement, "'=' or '%}'");
            body = ParseUntil("set", pos, "endset");
            Expect(TokenType.OpenStatement, "'{%'");
            ExpectIdentifier("endset");
        }
        Expect(TokenType.CloseStatement, "'%}'");
        return new SetNode(pos, left, value, body);
    }

    IfNode ParseIf(SourcePos pos)
    {
        var test = ParseExpression();
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseUntil("if", pos, "elif", "else", "endif");
        var alternate = new List<Node>();
        if (IsStatement("elif"))
        {
            var elifPos = Peek(1)!.Pos;
            _current += 2;
            alternate.Add(ParseIf(elifPos));
        }
        else if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "'%}'");
            alternate = ParseUntil("if", pos, "endif");
        }
        return new IfNode(pos, test, body, alternate);
    }

    MacroNode ParseMacro(SourcePos pos)
    {
        var name = ParsePrimary();
        if (name is not IdentifierNode id) throw new JinjaErrorAt("expected a macro name after 'macro'", name.Pos);
        var args = ParseArgs(parameters: true);
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseUntil("macro", pos, "endmacro");
        return new MacroNode(pos, id, args, body);
    }

    Node ParseExpressionSequence(bool primary = false)
    {
        var start = PosHere;
        var expressions = new List<Node> { primary ? ParsePrimary() : ParseExpression() };
        bool isTuple = Is(TokenType.Comma);
        while (isTuple)
        {
            ++_current;
            expressions.Add(primary ? ParsePrimary() : ParseExpression());
            if (!Is(TokenType.Comma)) break;
        }
        return isTuple ? new TupleLiteralNode(start, expressions) : expressions[0];
    }

    ForNode ParseFor(SourcePos pos)
    {
        var loopVar = ParseExpressionSequence(primary: true);
        if (loopVar is not (IdentifierNode or TupleLiteralNode))
            throw new JinjaErrorAt("expected a loop variable name (or names separated by commas) after 'for'", loopVar.Pos);
        if (!IsIdentifier("in")) throw Error($"expected 'in' after the loop variable but found {Describe(Peek())}");
        ++_current;
        var iterable = ParseExpression();
        Expect(TokenType.CloseStatement, "'%}'");
        var body = ParseUntil("for", pos, "endfor", "else");
        var alternative = new List<Node>();
        if (IsStatement("else"))
        {
            _current += 2;
            Expect(TokenType.CloseStatement, "'%}'");
            alternative = ParseUntil("for", pos, "endfor");
        }
        return new ForNode(pos, loopVar, iterable, body, alternative);
    }

    Node ParseExpression()
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        return ParseIfExpression();
    }

    Node ParseIfExpression()
    {
        var a = ParseLogicalOr();
        if (IsIdentifier("if"))
        {
            var pos = Peek()!.Pos;
            ++_current;
            var test = ParseLogicalOr();
            if (IsIdentifier("else"))
            {
                ++_current;
                var falseExpr = ParseIfExpression();
                return new TernaryNode(pos, test, a, falseExpr);
            }
            return new SelectNode(pos, a, test);
        }
        return a;
    }

    Node ParseLogicalOr()
    {
        var left = ParseLogicalAnd();
        while (IsIdentifier("or"))
        {
            var op = _tokens[_current++];
            left = new BinaryNode(op.Pos, "or", left, ParseLogicalAnd());
        }
        return left;
    }

    Node ParseLogicalAnd()
    {
        var left = ParseLogicalNot();
        while (IsIdentifier("and"))
        {
            var op = _tokens[_current++];
            left = new BinaryNode(op.Pos, "and", left, ParseLogicalNot());
        }
        return left;
    }

    Node ParseLogicalNot()
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        UnaryNode? right = null;
        while (IsIdentifier("not"))
        {
            var op = _tokens[_current++];
            var arg = ParseLogicalNot();
            right = new UnaryNode(op.Pos, "not", arg);
        }
        return right ?? ParseComparison();
    }

    Node ParseComparison()
    {
        var left = ParseAdditive();
        while (true)
        {
            string op;
            SourcePos pos = PosHere;
            if (IsIdentifier("not", "in")) { op = "not in"; _current += 2; }
            else if (IsIdentifier("in")) { op = "in"; _current++; }
            else if (Is(TokenType.ComparisonBinaryOperator)) op = _tokens[_current++].Value;
            else break;
            left = new BinaryNode(pos, op, left, ParseAdditive());
        }
        return left;
    }

    Node ParseAdditive()
    {
        var left = ParseMultiplicative();
        while (Is(TokenType.AdditiveBinaryOperator))
        {
            var op = _tokens[_current++];
            left = new BinaryNode(op.Pos, op.Value, left, ParseMultiplicative());
        }
        return left;
    }

    Node ParseCallMember()
    {
        var member = ParseMember(ParsePrimary());
        return Is(TokenType.OpenParen) ? ParseCall(member) : member;
    }

    Node ParseCall(Node callee)
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        Node expression = new CallNode(callee.Pos, callee, ParseArgs(parameters: false));
        expression = ParseMember(expression);
        if (Is(TokenType.OpenParen)) expression = ParseCall(expression);
        return expression;
    }

    List<Node> ParseArgs(bool parameters)
    {
        Expect(TokenType.OpenParen, "'('");
        var args = ParseArgumentList(parameters);
        Expect(TokenType.CloseParen, "')' or ','");
        return args;
    }

    List<Node> ParseArgumentList(bool parameters)
    {
        var args = new List<Node>();
        var names = new HashSet<string>();
        bool sawKeyword = false, sawSpread = false;
        while (!Is(TokenType.CloseParen))
        {
            if (Peek() is null) throw Error("expected ')' to close the argument list");
            var start = PosHere;
            bool isKeywordSpread = Is(TokenType.ExponentiationBinaryOperator);
            bool isSpread = Is(TokenType.MultiplicativeBinaryOperator) && Peek()!.Value == "*";
            if (parameters && (isKeywordSpread || isSpread)) throw Error("argument unpacking is not allowed in parameter declarations");
            if (isKeywordSpread)
            {
                ++_current;
                args.Add(new KeywordSpreadNode(start, ParseExpression()));
                if (Is(TokenType.Comma)) ++_current;
                if (!Is(TokenType.CloseParen)) throw Error("'**' must be applied to the final argument");
                break;
            }
            Node argument;
            if (isSpread)
            {
                if (sawSpread) throw Error("only one '*' argument unpacking is allowed");
                sawSpread = true;
                ++_current;
                argument = new SpreadNode(start, ParseExpression());
            }
            else
            {
                argument = ParseExpression();
                if (Is(TokenType.Equals))
                {
                    ++_current;
                    if (argument is not IdentifierNode key)
                        throw new JinjaErrorAt(parameters ? "expected a parameter name before '='" : "expected a keyword argument name before '='", argument.Pos);
                    argument = new KeywordArgumentNode(key.Pos, key, ParseExpression());
                }
                if (parameters)
                {
                    string name = argument switch
                    {
                        IdentifierNode i => i.Name,
                        KeywordArgumentNode k => k.Key.Name,
                        _ => throw new JinjaErrorAt("expected a parameter name", argument.Pos),
                    };
                    if (!names.Add(name)) throw new JinjaErrorAt($"duplicate parameter name '{name}'", argument.Pos);
                }
                if (argument is KeywordArgumentNode) sawKeyword = true;
                else if (sawKeyword)
                    throw new JinjaErrorAt(parameters ? "a parameter without a default follows one with a default" : "positional arguments must come before keyword arguments", argument.Pos);
                else if (sawSpread) throw new JinjaErrorAt("positional arguments must not follow '*' argument unpacking", argument.Pos);
            }
            args.Add(argument);
            if (Is(TokenType.Comma)) ++_current;
        }
        return args;
    }

    Node ParseMemberArguments(SourcePos pos)
    {
        var slices = new List<Node?>();
        bool isSlice = false;
        while (!Is(TokenType.CloseSquareBracket))
        {
            if (Peek() is null) throw Error("expected ']'");
            if (Is(TokenType.Colon))
            {
                slices.Add(null);
                ++_current;
                isSlice = true;
            }
            else
            {
                slices.Add(ParseExpression());
                if (Is(TokenType.Colon))
                {
                    ++_current;
                    isSlice = true;
                }
            }
        }
        if (slices.Count == 0) throw Error("expected an index or a slice inside '[]'");
        if (isSlice)
        {
            if (slices.Count > 3) throw new JinjaErrorAt("a slice takes at most three parts (start:stop:step)", pos);
            return new SliceNode(pos, slices[0], slices.ElementAtOrDefault(1), slices.ElementAtOrDefault(2));
        }
        return slices[0]!;
    }

    Node ParseMember(Node obj)
    {
        while (Is(TokenType.Dot) || Is(TokenType.OpenSquareBracket))
        {
            var op = _tokens[_current++];
            bool computed = op.Type == TokenType.OpenSquareBracket;
            Node property;
            if (computed)
            {
                property = ParseMemberArguments(op.Pos);
                Expect(TokenType.CloseSquareBracket, "']'");
            }
            else
            {
                property = ParsePrimary();
                if (property is not (IdentifierNode or IntegerLiteralNode))
                    throw new JinjaErrorAt("expected an attribute name after '.'", property.Pos);
            }
            obj = new MemberNode(op.Pos, obj, property, computed);
        }
        return obj;
    }

    Node ParseMultiplicative()
    {
        var left = ParsePower();
        while (Is(TokenType.MultiplicativeBinaryOperator))
        {
            var op = _tokens[_current++];
            left = new BinaryNode(op.Pos, op.Value, left, ParsePower());
        }
        return left;
    }

    Node ParsePower()
    {
        var left = ParseTest();
        while (Is(TokenType.ExponentiationBinaryOperator))
        {
            var op = _tokens[_current++];
            left = new BinaryNode(op.Pos, op.Value, left, ParseTest());
        }
        return left;
    }

    Node ParseTest()
    {
        var operand = ParseFilter();
        while (IsIdentifier("is"))
        {
            var pos = Peek()!.Pos;
            ++_current;
            bool negate = IsIdentifier("not");
            if (negate) ++_current;
            var test = ParsePrimary();
            if (test is not IdentifierNode id) throw new JinjaErrorAt("expected a test name after 'is'", test.Pos);
            List<Node>? args = null;
            if (TestsWithArgument.Contains(id.Name))
            {
                if (Is(TokenType.OpenParen)) args = ParseArgs(parameters: false);
                else if (Peek()?.Type is TokenType.StringLiteral or TokenType.NumericLiteral or TokenType.OpenSquareBracket
                         or TokenType.OpenCurlyBracket)
                    args = [ParseCallMember()];
                else if (Peek() is { Type: TokenType.Identifier } t && t.Value is not ("and" or "or" or "else" or "if" or "is" or "not" or "in"))
                    args = [ParseCallMember()];
            }
            operand = new TestNode(pos, operand, negate, id, args);
        }
        return operand;
    }

    Node ParseFilter()
    {
        var operand = ParseUnarySign();
        while (Is(TokenType.Pipe))
        {
            ++_current;
            var filter = ParsePrimary();
            if (filter is not IdentifierNode) throw new JinjaErrorAt("expected a filter name after '|'", filter.Pos);
            if (Is(TokenType.OpenParen)) filter = ParseCall(filter);
            operand = new FilterNode(filter.Pos, operand, filter);
        }
        return operand;
    }

    Node ParseUnarySign()
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        var t = Peek();
        if (t is not null && t.Type is TokenType.UnaryOperator or TokenType.AdditiveBinaryOperator && t.Value is "-" or "+")
        {
            ++_current;
            return new UnaryNode(t.Pos, t.Value, ParseUnarySign());
        }
        return ParseCallMember();
    }

    Node ParsePrimary()
    {
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        var t = Peek() ?? throw Error("unexpected end of template inside an expression");
        _current++;
        switch (t.Type)
        {
            case TokenType.NumericLiteral:
            {
                double value = double.Parse(t.Value, NumberStyles.Float, CultureInfo.InvariantCulture);
                return t.Value.Contains('.') ? new FloatLiteralNode(t.Pos, value) : new IntegerLiteralNode(t.Pos, value);
            }
            case TokenType.StringLiteral:
            {
                string value = t.Value;
                while (Is(TokenType.StringLiteral)) value += _tokens[_current++].Value;
                return new StringLiteralNode(t.Pos, value);
            }
            case TokenType.Identifier:
                return new IdentifierNode(t.Pos, t.Value);
            case TokenType.OpenParen:
            {
                var expression = ParseExpressionSequence();
                Expect(TokenType.CloseParen, "')'");
                return expression;
            }
            case TokenType.OpenSquareBracket:
            {
                var values = new List<Node>();
                while (!Is(TokenType.CloseSquareBracket))
                {
                    if (Peek() is null) throw new JinjaErrorAt("list literal is never closed with ']'", t.Pos);
                    values.Add(ParseExpression());
                    if (Is(TokenType.Comma)) ++_current;
                }
                ++_current;
                return new ArrayLiteralNode(t.Pos, values);
            }
            case TokenType.OpenCurlyBracket:
            {
                var entries = new List<(Node, Node)>();
                while (!Is(TokenType.CloseCurlyBracket))
                {
                    if (Peek() is null) throw new JinjaErrorAt("dict literal is never closed with '}'", t.Pos);
                    var key = ParseExpression();
                    Expect(TokenType.Colon, "':' between key and value in a dict literal");
                    var value = ParseExpression();
                    entries.Add((key, value));
                    if (Is(TokenType.Comma)) ++_current;
                }
                ++_current;
                return new ObjectLiteralNode(t.Pos, entries);
            }
            default:
                throw new JinjaErrorAt($"unexpected {Describe(t)} in an expression", t.Pos);
        }
    }
}
