using System.Text;
using System.Text.RegularExpressions;

namespace Tunebook.Text.Templates;

enum TokenType
{
    Text, NumericLiteral, StringLiteral, Identifier, Equals, OpenParen, CloseParen,
    OpenStatement, CloseStatement, OpenExpression, CloseExpression,
    OpenSquareBracket, CloseSquareBracket, OpenCurlyBracket, CloseCurlyBracket,
    Comma, Dot, Colon, Pipe, AdditiveBinaryOperator, MultiplicativeBinaryOperator,
    ExponentiationBinaryOperator, ComparisonBinaryOperator, UnaryOperator, Comment,
}

sealed class Token(string value, TokenType type, SourcePos pos)
{
    public string Value { get; set; } = value;
    public TokenType Type { get; } = type;
    public SourcePos Pos { get; } = pos;
    public override string ToString() => $"{Type} '{Value}'";
}

/// <summary>
/// Splits template source into tokens the way @huggingface/jinja does (the engine transformers.js uses), so that
/// whitespace handling matches byte for byte: trim_blocks and lstrip_blocks on, one trailing newline dropped,
/// <c>{%-</c>/<c>-%}</c> strip, and transformers' <c>{% generation %}</c> markers removed.
/// Every character keeps its offset in the original source so errors can name the line and column.
/// </summary>
static class Lexer
{
    // JavaScript's \s: what the reference engine treats as whitespace everywhere (trim, split, tag stripping).
    public const string JsSpaceClass = @"[\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]";

    public static bool IsJsSpace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00a0' or '\u1680' or '\u2028' or '\u2029'
            or '\u202f' or '\u205f' or '\u3000' or '\ufeff' => true,
        >= '\u2000' and <= '\u200a' => true,
        _ => false,
    };

    static bool IsWord(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';
    static bool IsDigit(char c) => c is >= '0' and <= '9';

    static readonly Regex RawOpen = new($@"\G\{{%-?{JsSpaceClass}*raw{JsSpaceClass}*-?%\}}", RegexOptions.CultureInvariant);
    static readonly Regex RawClose = new($@"\{{%-?{JsSpaceClass}*endraw{JsSpaceClass}*-?%\}}", RegexOptions.CultureInvariant);
    static readonly Regex LstripBlocks = new(@"(?<=^|[\n\r\u2028\u2029])[ \t]*(\{[#%-])", RegexOptions.CultureInvariant);
    static readonly Regex TrimBlocks = new(@"([#%-]\})\n", RegexOptions.CultureInvariant);
    static readonly Regex GenerationTag = new(
        $@"({JsSpaceClass}*)\{{%(-?){JsSpaceClass}*(?:end)?generation{JsSpaceClass}*(-?)%\}}({JsSpaceClass}*)",
        RegexOptions.CultureInvariant | RegexOptions.Singleline | RegexOptions.NonBacktracking);

    /// <summary>Text plus, for every character, its offset in the original source.</summary>
    sealed class Mapped(string text, int[] offsets)
    {
        public string Text = text;
        public int[] Offsets = offsets;

        /// <summary>Replaces each match by some of its groups (each kept span keeps its original offsets).</summary>
        public void Replace(Regex regex, Func<Match, IEnumerable<Group>> keep)
        {
            var sb = new StringBuilder(Text.Length);
            var map = new List<int>(Text.Length);
            int last = 0;
            foreach (Match m in regex.Matches(Text))
            {
                Append(last, m.Index - last);
                foreach (var g in keep(m)) Append(g.Index, g.Length);
                last = m.Index + m.Length;
            }
            Append(last, Text.Length - last);
            Text = sb.ToString();
            Offsets = map.ToArray();

            void Append(int start, int length)
            {
                sb.Append(Text, start, length);
                for (int i = 0; i < length; i++) map.Add(Offsets[start + i]);
            }
        }
    }

    static Mapped Preprocess(string template)
    {
        var offsets = new int[template.Length];
        for (int i = 0; i < offsets.Length; i++) offsets[i] = i;
        var m = new Mapped(template, offsets);
        if (template.EndsWith('\n'))
        {
            m.Text = template[..^1];
            m.Offsets = offsets[..^1];
        }
        m.Replace(LstripBlocks, x => [x.Groups[1]]);
        m.Replace(TrimBlocks, x => [x.Groups[1]]);
        if (m.Text.Contains("generation", StringComparison.Ordinal))
        {
            m.Replace(GenerationTag, x =>
            {
                var kept = new List<Group>();
                if (x.Groups[2].Length == 0) kept.Add(x.Groups[1]);
                if (x.Groups[3].Length == 0) kept.Add(x.Groups[4]);
                return kept;
            });
        }
        return m;
    }

    static readonly (string Seq, TokenType Type)[] Table =
    [
        ("{%", TokenType.OpenStatement), ("%}", TokenType.CloseStatement),
        ("{{", TokenType.OpenExpression), ("}}", TokenType.CloseExpression),
        ("(", TokenType.OpenParen), (")", TokenType.CloseParen),
        ("{", TokenType.OpenCurlyBracket), ("}", TokenType.CloseCurlyBracket),
        ("[", TokenType.OpenSquareBracket), ("]", TokenType.CloseSquareBracket),
        (",", TokenType.Comma), (".", TokenType.Dot), (":", TokenType.Colon), ("|", TokenType.Pipe),
        ("<=", TokenType.ComparisonBinaryOperator), (">=", TokenType.ComparisonBinaryOperator),
        ("==", TokenType.ComparisonBinaryOperator), ("!=", TokenType.ComparisonBinaryOperator),
        ("<", TokenType.ComparisonBinaryOperator), (">", TokenType.ComparisonBinaryOperator),
        ("+", TokenType.AdditiveBinaryOperator), ("-", TokenType.AdditiveBinaryOperator),
        ("~", TokenType.AdditiveBinaryOperator),
        ("**", TokenType.ExponentiationBinaryOperator),
        ("*", TokenType.MultiplicativeBinaryOperator), ("//", TokenType.MultiplicativeBinaryOperator),
        ("/", TokenType.MultiplicativeBinaryOperator), ("%", TokenType.MultiplicativeBinaryOperator),
        ("=", TokenType.Equals),
    ];

    public static List<Token> Tokenize(string source)
    {
        var pre = Preprocess(source);
        string src = pre.Text;
        var tokens = new List<Token>();
        int cursor = 0;
        int curlyDepth = 0;

        SourcePos At(int i) => new(src.Length == 0 ? 0 : pre.Offsets[Math.Clamp(i, 0, src.Length - 1)]);
        JinjaErrorAt Fail(string message, int i) => new(message, At(i));
        char Ch(int i) => i < src.Length ? src[i] : '\0';
        bool StartsAt(int i, string s) => string.CompareOrdinal(src, i, s, 0, s.Length) == 0 && i + s.Length <= src.Length;
        Token? Last() => tokens.Count > 0 ? tokens[^1] : null;

        // Mirrors the reference's consumeWhile, including its escapes and its end-of-input rule.
        string ConsumeWhile(Func<char, bool> predicate)
        {
            var sb = new StringBuilder();
            while (cursor < src.Length && predicate(src[cursor]))
            {
                if (src[cursor] == '\\')
                {
                    int at = cursor;
                    ++cursor;
                    if (cursor >= src.Length) throw Fail("unexpected end of template inside a string", at);
                    char escaped = src[cursor++];
                    if (escaped is 'x' or 'u')
                    {
                        int length = escaped == 'x' ? 2 : 4;
                        string hex = cursor + length <= src.Length ? src.Substring(cursor, length) : src[cursor..];
                        if (hex.Length != length || !hex.All(Uri.IsHexDigit))
                            throw Fail($"invalid hexadecimal escape sequence: \\{escaped}{hex}", at);
                        sb.Append((char)Convert.ToInt32(hex, 16));
                        cursor += length;
                        continue;
                    }
                    char? unescaped = escaped switch
                    {
                        'n' => '\n', 't' => '\t', 'r' => '\r', 'b' => '\b', 'f' => '\f', 'v' => '\v',
                        '\'' => '\'', '"' => '"', '\\' => '\\', _ => null,
                    };
                    if (unescaped is null) throw Fail($"unexpected escaped character: \\{escaped}", at);
                    sb.Append(unescaped.Value);
                    continue;
                }
                sb.Append(src[cursor++]);
                if (cursor >= src.Length) throw Fail("unexpected end of template (unclosed tag or string)", cursor - 1);
            }
            return sb.ToString();
        }

        void StripTrailingWhitespace()
        {
            var last = Last();
            if (last is { Type: TokenType.Text })
            {
                last.Value = last.Value.TrimEnd(JsTrimChars);
                if (last.Value.Length == 0) tokens.RemoveAt(tokens.Count - 1);
            }
        }

        void SkipLeadingWhitespace()
        {
            while (cursor < src.Length && IsJsSpace(src[cursor])) ++cursor;
        }

        bool afterRaw = false;
        while (cursor < src.Length)
        {
            var lastType = Last()?.Type;
            if (lastType is null or TokenType.CloseStatement or TokenType.CloseExpression or TokenType.Comment || afterRaw)
            {
                afterRaw = false;
                int start = cursor;
                while (cursor < src.Length && !(src[cursor] == '{' && Ch(cursor + 1) is '%' or '{' or '#')) cursor++;
                if (cursor > start)
                {
                    tokens.Add(new Token(src[start..cursor], TokenType.Text, At(start)));
                    continue;
                }
            }

            if (src[cursor] == '{' && Ch(cursor + 1) == '#')
            {
                int start = cursor;
                cursor += 2;
                bool stripBefore = Ch(cursor) == '-';
                if (stripBefore) ++cursor;
                int bodyStart = cursor;
                while (Ch(cursor) != '#' || Ch(cursor + 1) != '}')
                {
                    if (cursor + 2 >= src.Length) throw Fail("comment opened with '{#' is never closed with '#}'", start);
                    cursor++;
                }
                string comment = src[bodyStart..cursor];
                bool stripAfter = comment.EndsWith('-');
                if (stripAfter) comment = comment[..^1];
                if (stripBefore) StripTrailingWhitespace();
                tokens.Add(new Token(comment, TokenType.Comment, At(start)));
                cursor += 2;
                if (stripAfter) SkipLeadingWhitespace();
                continue;
            }

            // {% raw %}...{% endraw %}: Jinja's verbatim block (the reference engine lacks it).
            if (src[cursor] == '{' && Ch(cursor + 1) == '%' && RawOpen.Match(src, cursor) is { Success: true } open)
            {
                var close = RawClose.Match(src, open.Index + open.Length);
                if (!close.Success) throw Fail("'{% raw %}' is never closed with '{% endraw %}'", cursor);
                if (open.Value.StartsWith("{%-")) StripTrailingWhitespace();
                int contentStart = open.Index + open.Length;
                string content = src[contentStart..close.Index];
                if (open.Value.EndsWith("-%}")) content = content.TrimStart(JsTrimChars);
                if (close.Value.StartsWith("{%-")) content = content.TrimEnd(JsTrimChars);
                if (content.Length > 0) tokens.Add(new Token(content, TokenType.Text, At(contentStart)));
                cursor = close.Index + close.Length;
                if (close.Value.EndsWith("-%}")) SkipLeadingWhitespace();
                afterRaw = true;
                continue;
            }

            if (StartsAt(cursor, "{%-"))
            {
                StripTrailingWhitespace();
                tokens.Add(new Token("{%", TokenType.OpenStatement, At(cursor)));
                cursor += 3;
                continue;
            }
            if (StartsAt(cursor, "{{-"))
            {
                StripTrailingWhitespace();
                tokens.Add(new Token("{{", TokenType.OpenExpression, At(cursor)));
                curlyDepth = 0;
                cursor += 3;
                continue;
            }

            ConsumeWhile(IsJsSpace);

            if (StartsAt(cursor, "-%}"))
            {
                tokens.Add(new Token("%}", TokenType.CloseStatement, At(cursor)));
                cursor += 3;
                SkipLeadingWhitespace();
                continue;
            }
            if (StartsAt(cursor, "-}}"))
            {
                tokens.Add(new Token("}}", TokenType.CloseExpression, At(cursor)));
                cursor += 3;
                SkipLeadingWhitespace();
                continue;
            }

            char ch = Ch(cursor);
            if (ch is '-' or '+')
            {
                var lt = Last()?.Type;
                if (lt is null or TokenType.Text) throw Fail($"unexpected character '{ch}'", cursor);
                if (lt is not (TokenType.Identifier or TokenType.NumericLiteral or TokenType.StringLiteral
                    or TokenType.CloseParen or TokenType.CloseSquareBracket))
                {
                    int start = cursor;
                    ++cursor;
                    string num = ConsumeWhile(IsDigit);
                    if (num.Length > 0 && Ch(cursor) == '.' && IsDigit(Ch(cursor + 1)))
                    {
                        ++cursor;
                        num = num + "." + ConsumeWhile(IsDigit);
                    }
                    tokens.Add(new Token(ch + num, num.Length > 0 ? TokenType.NumericLiteral : TokenType.UnaryOperator, At(start)));
                    continue;
                }
            }

            bool matched = false;
            foreach (var (seq, type) in Table)
            {
                if (seq == "}}" && curlyDepth > 0) continue;
                if (!StartsAt(cursor, seq)) continue;
                tokens.Add(new Token(seq, type, At(cursor)));
                if (type == TokenType.OpenExpression) curlyDepth = 0;
                else if (type == TokenType.OpenCurlyBracket) ++curlyDepth;
                else if (type == TokenType.CloseCurlyBracket) --curlyDepth;
                cursor += seq.Length;
                matched = true;
                break;
            }
            if (matched) continue;

            if (ch is '\'' or '"')
            {
                int start = cursor;
                ++cursor;
                string str;
                try { str = ConsumeWhile(c => c != ch); }
                catch (JinjaErrorAt e) when (e.Message.StartsWith("unexpected end")) { throw Fail("string literal is never closed", start); }
                if (cursor >= src.Length) throw Fail("string literal is never closed", start);
                tokens.Add(new Token(str, TokenType.StringLiteral, At(start)));
                ++cursor;
                continue;
            }

            if (IsDigit(ch))
            {
                int start = cursor;
                string num = ConsumeWhile(IsDigit);
                if (Last()?.Type != TokenType.Dot && Ch(cursor) == '.' && IsDigit(Ch(cursor + 1)))
                {
                    ++cursor;
                    num = num + "." + ConsumeWhile(IsDigit);
                }
                tokens.Add(new Token(num, TokenType.NumericLiteral, At(start)));
                continue;
            }
            if (IsWord(ch))
            {
                int start = cursor;
                string word = ConsumeWhile(IsWord);
                tokens.Add(new Token(word, TokenType.Identifier, At(start)));
                continue;
            }
            if (cursor >= src.Length) break;
            throw Fail($"unexpected character '{ch}'", cursor);
        }
        return tokens;
    }

    /// <summary>Characters JavaScript's trim() removes.</summary>
    public static readonly char[] JsTrimChars =
    [
        '\t', '\n', '\v', '\f', '\r', ' ', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004',
        '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000', '\ufeff',
    ];
}

/// <summary>A parse-time error that already knows where it happened.</summary>
sealed class JinjaErrorAt(string message, SourcePos pos) : Exception(message)
{
    public SourcePos Pos { get; } = pos;
}
