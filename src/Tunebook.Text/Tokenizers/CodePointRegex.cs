using System.Globalization;
using System.Text.RegularExpressions;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// A .NET regex that sees one character per Unicode code point, as Oniguruma (Hugging Face's tokenizers),
/// JavaScript's <c>u</c> flag (tokenizers.js) and llama.cpp do.
/// <para>
/// .NET's engine reads UTF-16 code units, so a character above U+FFFF (the digit 𝟘 U+1D7D8, emoji, CJK
/// Extension B, Gothic letters) reaches it as two surrogates of category Cs: <c>\p{N}</c> misses 𝟘,
/// <c>[^\s\p{L}\p{N}]</c> takes it, and <c>\p{N}{1,3}</c> would count halves. Text holding such characters is
/// therefore matched as a stand-in string in which each one becomes a BMP character of the same general
/// category, and the match bounds are mapped back to the original string. The category comes from
/// <see cref="CharUnicodeInfo"/>, the same Unicode data the engine uses for <c>\p{..}</c> on BMP characters,
/// so every plane is classified from one table. Every construct the tokenizer patterns use (<c>\p{..}</c>,
/// <c>\s</c>, <c>\w</c>, <c>\d</c>, <c>.</c>, negated classes) depends on the category alone; the stand-ins are
/// chosen outside ASCII, Latin-1 and CJK so that literal characters and ranges in a pattern do not meet them.
/// </para>
/// Text without surrogates (nearly all text) is matched as it is, after one vectorized scan.
/// </summary>
internal sealed class CodePointRegex
{
    public Regex Regex { get; }

    public CodePointRegex(Regex regex) => Regex = regex;

    /// <summary>Non-empty matches, left to right, as [start, end) in <paramref name="text"/>; allocates nothing for BMP-only text.</summary>
    public MatchEnumerator EnumerateMatches(string text)
    {
        int first = text.AsSpan().IndexOfAnyInRange('\uD800', '\uDFFF');
        if (first < 0) return new MatchEnumerator(Regex.EnumerateMatches(text), null);
        var standIn = StandIn(text, first, out var offsets);
        return new MatchEnumerator(Regex.EnumerateMatches(standIn), offsets);
    }

    public ref struct MatchEnumerator
    {
        Regex.ValueMatchEnumerator _inner;
        readonly int[]? _offsets; // stand-in index → original index (null: the text is matched as is)

        internal MatchEnumerator(Regex.ValueMatchEnumerator inner, int[]? offsets)
        {
            _inner = inner;
            _offsets = offsets;
        }

        public (int Start, int End) Current { get; private set; }

        public bool MoveNext()
        {
            while (_inner.MoveNext())
            {
                var m = _inner.Current;
                if (m.Length == 0) continue;
                Current = _offsets is null ? (m.Index, m.Index + m.Length) : (_offsets[m.Index], _offsets[m.Index + m.Length]);
                return true;
            }
            return false;
        }

        public readonly MatchEnumerator GetEnumerator() => this;
    }

    /// <summary>
    /// <paramref name="text"/> with each surrogate pair replaced by its stand-in; <paramref name="offsets"/>[i] is
    /// where stand-in character i starts in the text (one extra entry: the text's length). A lone surrogate stays
    /// as it is (category Cs, as JavaScript sees it).
    /// </summary>
    internal static string StandIn(string text, int first, out int[] offsets)
    {
        var chars = new char[text.Length];
        offsets = new int[text.Length + 1];
        text.AsSpan(0, first).CopyTo(chars);
        for (int k = 0; k < first; k++) offsets[k] = k;
        int n = first;
        for (int i = first; i < text.Length; n++)
        {
            offsets[n] = i;
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                chars[n] = StandInFor(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(c, text[i + 1])));
                i += 2;
            }
            else
            {
                chars[n] = c;
                i++;
            }
        }
        offsets[n] = text.Length;
        return new string(chars, 0, n);
    }

    internal static char StandInFor(UnicodeCategory category) => StandIns[(int)category];

    /// <summary>
    /// One BMP character per <see cref="UnicodeCategory"/> (in the enum's order). None is ASCII, Latin-1, CJK, a
    /// case partner of an ASCII letter (ſ, K, Å) or one of the joiners .NET's <c>\w</c> adds.
    /// </summary>
    internal static readonly char[] StandIns = CheckedStandIns(
    [
        '\u0181', // Lu  Ɓ
        '\u0138', // Ll  ĸ
        '\u01C5', // Lt  ǅ
        '\u02B0', // Lm  ʰ
        '\u01BB', // Lo  ƻ
        '\u0591', // Mn  Hebrew accent etnahta
        '\u0903', // Mc  Devanagari sign visarga
        '\u0488', // Me  combining Cyrillic hundred thousands sign
        '\u0660', // Nd  Arabic-Indic digit zero
        '\u16EE', // Nl  Runic arlaug symbol
        '\u09F4', // No  Bengali currency numerator one
        '\u2000', // Zs  en quad (no character above U+FFFF is a separator)
        '\u2028', // Zl  line separator
        '\u2029', // Zp  paragraph separator
        '\u009F', // Cc  (controls are all below U+00A0)
        '\u0600', // Cf  Arabic number sign
        '\uD800', // Cs  (a code point is never a surrogate)
        '\uE000', // Co  private use
        '\u203F', // Pc  undertie
        '\u058A', // Pd  Armenian hyphen
        '\u0F3A', // Ps  Tibetan mark gug rtags gyon
        '\u0F3B', // Pe  Tibetan mark gug rtags gyas
        '\u2E02', // Pi  left substitution bracket
        '\u2E03', // Pf  right substitution bracket
        '\u055C', // Po  Armenian exclamation mark
        '\u2A00', // Sm  n-ary circled dot operator
        '\u20A0', // Sc  euro-currency sign
        '\u02C2', // Sk  modifier letter left arrowhead
        '\u0482', // So  Cyrillic thousands sign
        '\uFDD0', // Cn  a noncharacter: unassigned in every Unicode version
    ]);

    static char[] CheckedStandIns(char[] standIns)
    {
        for (int i = 0; i < standIns.Length; i++)
            if ((int)char.GetUnicodeCategory(standIns[i]) != i)
                throw new InvalidOperationException($"stand-in U+{(int)standIns[i]:X4} for {(UnicodeCategory)i} has category {char.GetUnicodeCategory(standIns[i])} in this runtime's Unicode data");
        return standIns;
    }
}
