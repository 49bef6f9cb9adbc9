using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// Compiles the regexes found in tokenizer.json (written for Oniguruma, which the Rust tokenizers use)
/// with .NET's engine. The split patterns of GPT-2, Llama 3 and Qwen need no change: .NET supports
/// <c>\p{L}</c>, <c>\p{N}</c>, <c>(?i:...)</c> and <c>(?!\S)</c>, and its <c>\s</c> is Unicode White_Space.
/// The compiled regex is wrapped in a <see cref="CodePointRegex"/>, which makes it see characters above U+FFFF
/// as one character of their own category, as Oniguruma does.
/// Possessive quantifiers (<c>x++</c>, <c>x*+</c>, <c>x?+</c>, <c>x{n}+</c>), which .NET lacks, become atomic
/// groups, which mean the same thing.
/// </summary>
internal static class OnigurumaRegex
{
    static readonly ConcurrentDictionary<string, CodePointRegex> Compiled = new();

    /// <summary>Compiled regexes are shared: loading several tokenizers with the same split pattern compiles it once.</summary>
    public static CodePointRegex Compile(string pattern) =>
        Compiled.GetOrAdd(pattern, p => new CodePointRegex(new Regex(Translate(p), RegexOptions.Compiled | RegexOptions.CultureInvariant)));

    public static string Translate(string pattern)
    {
        var o = new StringBuilder(pattern.Length + 8);
        var groupStarts = new Stack<int>();
        int atomStart = -1, i = 0;
        while (i < pattern.Length)
        {
            char c = pattern[i];
            if (c == '\\')
            {
                atomStart = o.Length;
                int end = EscapeEnd(pattern, i);
                o.Append(pattern, i, end - i);
                i = end;
            }
            else if (c == '[')
            {
                atomStart = o.Length;
                int end = ClassEnd(pattern, i);
                o.Append(pattern, i, end - i);
                i = end;
            }
            else if (c == '(')
            {
                groupStarts.Push(o.Length);
                o.Append(c);
                i++;
            }
            else if (c == ')')
            {
                atomStart = groupStarts.Count > 0 ? groupStarts.Pop() : o.Length;
                o.Append(c);
                i++;
            }
            else if (c is '*' or '+' or '?' or '{' && atomStart >= 0 && IsQuantifier(pattern, i, out int qEnd))
            {
                o.Append(pattern, i, qEnd - i);
                i = qEnd;
                if (i < pattern.Length && pattern[i] == '+')
                {
                    o.Insert(atomStart, "(?>").Append(')');
                    i++;
                }
                else if (i < pattern.Length && pattern[i] == '?')
                {
                    o.Append('?');
                    i++;
                }
                atomStart = -1;
            }
            else
            {
                atomStart = c is '|' or '^' or '$' ? -1 : o.Length;
                o.Append(c);
                i++;
            }
        }
        return o.ToString();
    }

    static bool IsQuantifier(string p, int i, out int end)
    {
        end = i + 1;
        if (p[i] != '{') return true;
        int j = i + 1;
        while (j < p.Length && (char.IsAsciiDigit(p[j]) || p[j] == ',')) j++;
        if (j < p.Length && p[j] == '}' && j > i + 1) { end = j + 1; return true; }
        return false;
    }

    static int EscapeEnd(string p, int i)
    {
        int j = i + 2;
        if (j > p.Length) return p.Length;
        char k = p[i + 1];
        if (k is 'p' or 'P' or 'x' or 'k' or 'u' && j < p.Length && p[j] == '{')
        {
            int close = p.IndexOf('}', j);
            return close < 0 ? p.Length : close + 1;
        }
        if (k == 'x') return Math.Min(p.Length, j + 2);
        if (k == 'u') return Math.Min(p.Length, j + 4);
        return j;
    }

    static int ClassEnd(string p, int i)
    {
        int depth = 0, j = i;
        while (j < p.Length)
        {
            char c = p[j];
            if (c == '\\') { j = EscapeEnd(p, j); continue; }
            if (c == '[')
            {
                depth++;
                j++;
                if (j < p.Length && p[j] == '^') j++;
                if (j < p.Length && p[j] == ']') j++; // a leading ']' is literal
                continue;
            }
            if (c == ']' && --depth == 0) return j + 1;
            j++;
        }
        return p.Length;
    }
}
