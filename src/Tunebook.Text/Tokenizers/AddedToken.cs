namespace Tunebook.Text.Tokenizers;

/// <summary>
/// A token added on top of the model's vocabulary (tokenizer.json's <c>added_tokens</c>): chat markers,
/// BOS/EOS, tool-call tags. It is matched in the text before any splitting, so it is never broken up.
/// </summary>
/// <param name="Content">The token's text, e.g. <c>&lt;|im_start|&gt;</c>.</param>
/// <param name="SingleWord">Match only when not inside a word (no word character right before or after).</param>
/// <param name="LStrip">Also swallow whitespace to the left of the match.</param>
/// <param name="RStrip">Also swallow whitespace to the right of the match.</param>
/// <param name="Normalized">Match against normalized text instead of the raw input.</param>
/// <param name="Special">A control token: skipped by <c>Decode(ids, skipSpecialTokens: true)</c> and not matched when special tokens are parsed as plain text.</param>
public sealed record AddedToken(int Id, string Content, bool SingleWord = false, bool LStrip = false, bool RStrip = false,
    bool Normalized = false, bool Special = true);

/// <summary>Finds added tokens in text: leftmost match first, the longest token when several start there.</summary>
internal sealed class AddedTokenMatcher
{
    readonly Dictionary<char, AddedToken[]> _byFirstChar = new();
    readonly Dictionary<AddedToken, string> _content = new(ReferenceEqualityComparer.Instance);

    public bool IsEmpty => _byFirstChar.Count == 0;

    /// <param name="tokens">Tokens to find.</param>
    /// <param name="contentOf">The text to look for (the normalized content for normalized tokens).</param>
    public AddedTokenMatcher(IEnumerable<AddedToken> tokens, Func<AddedToken, string> contentOf)
    {
        foreach (var group in tokens.Select(t => (Token: t, Text: contentOf(t))).Where(p => p.Text.Length > 0).GroupBy(p => p.Text[0]))
        {
            _byFirstChar[group.Key] = group.OrderByDescending(p => p.Text.Length).Select(p => p.Token).ToArray();
            foreach (var p in group) _content[p.Token] = p.Text;
        }
    }

    public readonly record struct Match(AddedToken Token, int Start, int End);

    /// <summary>All matches in <paramref name="text"/>, non-overlapping, left to right.</summary>
    /// <param name="skipSpecial">Treat special tokens as plain text (they then hide nothing: the search resumes after them).</param>
    public List<Match> Find(string text, bool skipSpecial)
    {
        var found = new List<Match>();
        if (IsEmpty) return found;
        int floor = 0;
        for (int i = 0; i < text.Length; i++)
        {
            if (!_byFirstChar.TryGetValue(text[i], out var candidates)) continue;
            AddedToken? hit = null;
            foreach (var t in candidates)
                if (string.CompareOrdinal(text, i, _content[t], 0, _content[t].Length) == 0) { hit = t; break; }
            if (hit is null) continue;
            int start = i, end = i + _content[hit].Length;
            i = end - 1; // matches never overlap: the search resumes after this one
            if (skipSpecial && hit.Special) continue;
            if (hit.SingleWord && ((start > 0 && IsWordChar(text, start - 1)) || (end < text.Length && IsWordChar(text, end)))) continue;
            if (hit.LStrip) while (start > floor && char.IsWhiteSpace(text[start - 1])) start--;
            if (hit.RStrip) while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
            found.Add(new Match(hit, start, end));
            floor = end;
            i = end - 1;
        }
        return found;
    }

    static bool IsWordChar(string s, int i) => char.IsLetterOrDigit(s[i]) || s[i] == '_' || char.GetUnicodeCategory(s[i]) is System.Globalization.UnicodeCategory.NonSpacingMark;
}
