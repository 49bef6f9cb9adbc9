namespace Tunebook.Text.Tokenizers;

/// <summary>
/// A pre-tokenizer cuts normalized text into "words"; the BPE model then works inside each word and
/// never merges across them. Pieces may also be rewritten (Metaspace turns spaces into '▁').
/// </summary>
internal abstract class PreTokenizer
{
    /// <summary>Splits one piece, appending the results (in order) to <paramref name="output"/>.</summary>
    public abstract void Split(NormalizedText piece, List<NormalizedText> output);

    /// <summary>True when this step (or a nested one) maps text to GPT-2's byte alphabet.</summary>
    public virtual bool IsByteLevel => false;

    /// <summary>
    /// When this pre-tokenizer only cuts text at the matches of one regex (keeping matches and gaps, rewriting
    /// nothing), that regex; with <paramref name="identity"/> true when it does not even cut. Lets the
    /// tokenizer run the common GPT-2/Llama 3/Qwen case without building intermediate pieces.
    /// </summary>
    public virtual bool TryGetPlainSplit(out CodePointRegex? regex, out bool identity)
    {
        regex = null;
        identity = false;
        return false;
    }

    public void SplitAll(List<NormalizedText> pieces, List<NormalizedText> scratch)
    {
        scratch.Clear();
        foreach (var p in pieces) Split(p, scratch);
        pieces.Clear();
        pieces.AddRange(scratch);
    }
}

internal sealed class SequencePreTokenizer(IReadOnlyList<PreTokenizer> steps) : PreTokenizer
{
    public IReadOnlyList<PreTokenizer> Steps { get; } = steps;

    public override bool IsByteLevel => Steps.Any(s => s.IsByteLevel);

    public override bool TryGetPlainSplit(out CodePointRegex? regex, out bool identity)
    {
        regex = null;
        identity = true;
        foreach (var step in Steps)
        {
            if (!step.TryGetPlainSplit(out var r, out var id)) return false;
            if (id) continue;
            if (regex is not null) return false; // two successive splits: take the general path
            regex = r;
            identity = false;
        }
        return true;
    }

    public override void Split(NormalizedText piece, List<NormalizedText> output)
    {
        var pieces = new List<NormalizedText> { piece };
        var scratch = new List<NormalizedText>();
        foreach (var step in Steps) step.SplitAll(pieces, scratch);
        output.AddRange(pieces);
    }
}

/// <summary>How a split keeps the delimiters it finds (Hugging Face's SplitDelimiterBehavior).</summary>
internal enum SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous }

/// <summary>Splits on a literal or regex pattern; the workhorse behind GPT-2/Llama 3/Qwen word splitting.</summary>
internal sealed class SplitPreTokenizer(Pattern pattern, SplitBehavior behavior, bool invert) : PreTokenizer
{
    public Pattern Pattern { get; } = pattern;

    public override void Split(NormalizedText piece, List<NormalizedText> output) =>
        SplitBy(piece, Pattern.Matches(piece.Text), behavior, invert, output);

    public override bool TryGetPlainSplit(out CodePointRegex? regex, out bool identity)
    {
        regex = Pattern.Regex;
        identity = false;
        return regex is not null && behavior == SplitBehavior.Isolated && !invert;
    }

    /// <summary>Turns pattern matches into pieces according to <paramref name="behavior"/>.</summary>
    public static void SplitBy(NormalizedText piece, List<(int Start, int End)> matches, SplitBehavior behavior, bool invert, List<NormalizedText> output)
    {
        if (matches.Count == 0 && !invert)
        {
            if (piece.Length > 0) output.Add(piece);
            return;
        }
        // Cover the whole text with (span, isDelimiter) runs.
        var runs = new List<(int Start, int End, bool Delim)>(matches.Count * 2 + 1);
        int last = 0;
        foreach (var (s, e) in matches)
        {
            if (s > last) runs.Add((last, s, invert));
            runs.Add((s, e, !invert));
            last = e;
        }
        if (last < piece.Length) runs.Add((last, piece.Length, invert));

        var spans = new List<(int Start, int End)>(runs.Count);
        switch (behavior)
        {
            case SplitBehavior.Removed:
                foreach (var r in runs) if (!r.Delim) spans.Add((r.Start, r.End));
                break;
            case SplitBehavior.Isolated:
                foreach (var r in runs) spans.Add((r.Start, r.End));
                break;
            case SplitBehavior.Contiguous:
                // Adjacent runs of the same kind fuse (in practice: consecutive delimiters).
                for (int i = 0; i < runs.Count; i++)
                {
                    if (i > 0 && runs[i].Delim == runs[i - 1].Delim) spans[^1] = (spans[^1].Start, runs[i].End);
                    else spans.Add((runs[i].Start, runs[i].End));
                }
                break;
            case SplitBehavior.MergedWithPrevious:
                for (int i = 0; i < runs.Count; i++)
                {
                    if (runs[i].Delim && i > 0 && !runs[i - 1].Delim) spans[^1] = (spans[^1].Start, runs[i].End);
                    else spans.Add((runs[i].Start, runs[i].End));
                }
                break;
            case SplitBehavior.MergedWithNext:
                // Walk backwards so that a delimiter can join the text that follows it.
                for (int i = runs.Count - 1; i >= 0; i--)
                {
                    if (runs[i].Delim && i < runs.Count - 1 && !runs[i + 1].Delim) spans[^1] = (runs[i].Start, spans[^1].End);
                    else spans.Add((runs[i].Start, runs[i].End));
                }
                spans.Reverse();
                break;
        }
        foreach (var (s, e) in spans)
            if (e > s) output.Add(piece.Slice(s, e));
    }
}

/// <summary>
/// GPT-2's byte-level step: optionally adds a leading space, optionally splits with GPT-2's regex, and
/// marks the text for byte-level BPE (each UTF-8 byte becomes one printable character).
/// </summary>
internal sealed class ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex) : PreTokenizer
{
    /// <summary>The split pattern GPT-2 used; Hugging Face's ByteLevel applies it when use_regex is true.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    static readonly Pattern Gpt2 = Pattern.FromRegex(Gpt2Pattern);

    public bool AddPrefixSpace { get; } = addPrefixSpace;
    public override bool IsByteLevel => true;

    public override bool TryGetPlainSplit(out CodePointRegex? regex, out bool identity)
    {
        regex = useRegex ? Gpt2.Regex : null;
        identity = !useRegex;
        return !AddPrefixSpace;
    }

    public override void Split(NormalizedText piece, List<NormalizedText> output)
    {
        if (AddPrefixSpace && !piece.Text.StartsWith(' '))
            piece = piece.Rewrite().Replace(" ", 0, 0).Copy(0, piece.Length).Build();
        if (useRegex) SplitPreTokenizer.SplitBy(piece, Gpt2.Matches(piece.Text), SplitBehavior.Isolated, false, output);
        else if (piece.Length > 0) output.Add(piece);
    }
}

/// <summary>How Metaspace adds its leading '▁'.</summary>
internal enum PrependScheme { Always, First, Never }

/// <summary>SentencePiece's view of spaces: replace ' ' with '▁', prepend one, split before each '▁'.</summary>
internal sealed class MetaspacePreTokenizer(char replacement, PrependScheme scheme, bool split) : PreTokenizer
{
    public char Replacement { get; } = replacement;
    public PrependScheme Scheme { get; } = scheme;

    public override void Split(NormalizedText piece, List<NormalizedText> output)
    {
        var text = piece.Text;
        var b = piece.Rewrite();
        bool prepend = Scheme switch
        {
            PrependScheme.Always => true,
            PrependScheme.First => piece.Length > 0 && piece.OriginalStart(0) == 0,
            _ => false,
        };
        if (prepend && text.Length > 0 && text[0] != ' ' && text[0] != Replacement) b.Replace(Replacement.ToString(), 0, 0);
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] == ' ') b.Replace(Replacement.ToString(), i, i + 1);
            else b.Copy(i, i + 1);
        }
        var replaced = b.Build();
        if (!split)
        {
            if (replaced.Length > 0) output.Add(replaced);
            return;
        }
        int start = 0;
        for (int i = 1; i < replaced.Length; i++)
        {
            if (replaced.Text[i] != Replacement) continue;
            output.Add(replaced.Slice(start, i));
            start = i;
        }
        if (replaced.Length > start) output.Add(replaced.Slice(start, replaced.Length));
    }
}

/// <summary>Regex-defined splitters from Hugging Face: Whitespace, WhitespaceSplit, Digits, Punctuation, BertPreTokenizer.</summary>
internal static class SimplePreTokenizers
{
    public static PreTokenizer Whitespace() => new SplitPreTokenizer(Pattern.FromRegex(@"\w+|[^\w\s]+"), SplitBehavior.Removed, invert: true);
    public static PreTokenizer WhitespaceSplit() => new SplitPreTokenizer(Pattern.FromRegex(@"\s+"), SplitBehavior.Removed, invert: false);
    public static PreTokenizer Digits(bool individual) => new SplitPreTokenizer(Pattern.FromRegex(individual ? @"\p{N}" : @"\p{N}+"), individual ? SplitBehavior.Isolated : SplitBehavior.Contiguous, invert: false);
    public static PreTokenizer Punctuation(SplitBehavior behavior) => new SplitPreTokenizer(Pattern.FromRegex(@"\p{P}|[$+<=>^`|~]"), behavior, invert: false);
    public static PreTokenizer Bert() => new SequencePreTokenizer([WhitespaceSplit(), Punctuation(SplitBehavior.Isolated)]);
    public static PreTokenizer CharDelimiter(char delimiter) => new SplitPreTokenizer(Pattern.Literal(delimiter.ToString()), SplitBehavior.Removed, invert: false);
}
