namespace Tunebook.Text.Tokenizers;

/// <summary>
/// A normalizer rewrites text before it is split into words: Unicode normalization, lowercasing,
/// SentencePiece's "replace spaces with ▁ and prepend one". Each returns a new <see cref="NormalizedText"/>
/// whose offset map still points into the caller's string.
/// </summary>
internal abstract class Normalizer
{
    public abstract NormalizedText Apply(NormalizedText text);

    /// <summary>Normalizes a bare string (used for added tokens with normalized = true).</summary>
    public string Apply(string text) => Apply(new NormalizedText(text, 0)).Text;
}

internal sealed class SequenceNormalizer(IReadOnlyList<Normalizer> steps) : Normalizer
{
    public IReadOnlyList<Normalizer> Steps { get; } = steps;

    public override NormalizedText Apply(NormalizedText text)
    {
        foreach (var step in Steps) text = step.Apply(text);
        return text;
    }
}

/// <summary>NFC, NFD, NFKC, NFKD. Works chunk by chunk so that offsets stay as precise as the composition allows.</summary>
internal sealed class UnicodeFormNormalizer(UnicodeForm form) : Normalizer
{
    public override NormalizedText Apply(NormalizedText text)
    {
        var s = text.Text;
        if (UnicodeNormalization.IsTriviallyNormalized(s, form)) return text;
        var whole = UnicodeNormalization.Normalize(s, form);
        if (whole == s) return text;
        var b = text.Rewrite();
        var assembled = new System.Text.StringBuilder(whole.Length);
        // Chunks start at characters below U+0300: those never combine with what precedes them, so each
        // chunk normalizes independently and its output can be attributed to its own source span.
        int start = 0;
        for (int i = 1; i <= s.Length; i++)
        {
            if (i < s.Length && s[i] >= '\u0300') continue;
            var chunk = s.AsSpan(start, i - start);
            var normalized = UnicodeNormalization.Normalize(chunk.ToString(), form);
            if (chunk.SequenceEqual(normalized)) b.Copy(start, i);
            else b.Replace(normalized, start, i);
            assembled.Append(normalized);
            start = i;
        }
        if (assembled.ToString() != whole)
            return text.Rewrite().Replace(whole, 0, s.Length).Build(); // cannot happen for valid Unicode; keep text exact anyway
        return b.Build();
    }
}

internal sealed class LowercaseNormalizer : Normalizer
{
    public override NormalizedText Apply(NormalizedText text)
    {
        var s = text.Text;
        int i = 0;
        while (i < s.Length && char.ToLowerInvariant(s[i]) == s[i]) i++;
        if (i == s.Length) return text;
        var lower = s.ToLowerInvariant(); // same length: simple case mapping per UTF-16 unit
        var b = text.Rewrite();
        for (int k = 0; k < s.Length; k++)
        {
            if (lower[k] == s[k]) b.Copy(k, k + 1);
            else b.Replace(lower[k].ToString(), k, k + 1);
        }
        return b.Build();
    }
}

internal sealed class StripNormalizer(bool left, bool right) : Normalizer
{
    public override NormalizedText Apply(NormalizedText text)
    {
        int start = 0, end = text.Length;
        if (left) while (start < end && char.IsWhiteSpace(text.Text[start])) start++;
        if (right) while (end > start && char.IsWhiteSpace(text.Text[end - 1])) end--;
        return text.Slice(start, end);
    }
}

/// <summary>Removes combining marks (use after NFD, as Hugging Face's StripAccents expects).</summary>
internal sealed class StripAccentsNormalizer : Normalizer
{
    public override NormalizedText Apply(NormalizedText text)
    {
        var s = text.Text;
        if (!s.Any(IsMark)) return text;
        var b = text.Rewrite();
        for (int i = 0; i < s.Length; i++)
            if (!IsMark(s[i])) b.Copy(i, i + 1);
        return b.Build();
    }

    static bool IsMark(char c) => char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.NonSpacingMark;
}

/// <summary>Prepends a string to non-empty text (SentencePiece's leading '▁').</summary>
internal sealed class PrependNormalizer(string prefix) : Normalizer
{
    public string Prefix { get; } = prefix;

    public override NormalizedText Apply(NormalizedText text)
    {
        if (text.Length == 0) return text;
        return text.Rewrite().Replace(Prefix, 0, 0).Copy(0, text.Length).Build();
    }
}

/// <summary>Replaces every match of a literal string or regex with fixed content.</summary>
internal sealed class ReplaceNormalizer(Pattern pattern, string content) : Normalizer
{
    public override NormalizedText Apply(NormalizedText text)
    {
        var matches = pattern.Matches(text.Text);
        if (matches.Count == 0) return text;
        var b = text.Rewrite();
        int last = 0;
        foreach (var (start, end) in matches)
        {
            b.Copy(last, start).Replace(content, start, end);
            last = end;
        }
        return b.Copy(last, text.Length).Build();
    }
}

/// <summary>A tokenizer.json pattern: <c>{"String": "..."}</c> (literal) or <c>{"Regex": "..."}</c> (Oniguruma syntax).</summary>
internal sealed class Pattern
{
    readonly string? _literal;
    readonly CodePointRegex? _regex;

    public string Source { get; }
    public bool IsRegex => _regex is not null;

    Pattern(string source, string? literal, CodePointRegex? regex)
    {
        Source = source;
        _literal = literal;
        _regex = regex;
    }

    public static Pattern Literal(string s) => new(s, s, null);

    public static Pattern FromRegex(string oniguruma) => new(oniguruma, null, OnigurumaRegex.Compile(oniguruma));

    /// <summary>Non-overlapping matches, left to right, as [start, end) pairs; empty matches are skipped.</summary>
    public List<(int Start, int End)> Matches(string text)
    {
        var result = new List<(int, int)>();
        if (_literal is not null)
        {
            if (_literal.Length == 0) return result;
            int at = 0;
            while ((at = text.IndexOf(_literal, at, StringComparison.Ordinal)) >= 0)
            {
                result.Add((at, at + _literal.Length));
                at += _literal.Length;
            }
            return result;
        }
        foreach (var m in _regex!.EnumerateMatches(text)) result.Add(m);
        return result;
    }

    public CodePointRegex? Regex => _regex;
}
