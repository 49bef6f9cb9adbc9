namespace Tunebook.Text.Tokenizers;

/// <summary>Tokens of one sequence while an encoding is being assembled.</summary>
internal sealed class TokenSequence
{
    public readonly List<int> Ids = new();
    public readonly List<(int Start, int End)> Offsets = new();
    public readonly List<int> Special = new();
    public readonly List<int> TypeIds = new();

    public void Add(int id, (int, int) offsets, bool special, int typeId = 0)
    {
        Ids.Add(id);
        Offsets.Add(offsets);
        Special.Add(special ? 1 : 0);
        TypeIds.Add(typeId);
    }

    public void AddAll(TokenSequence other, int typeId)
    {
        for (int i = 0; i < other.Ids.Count; i++) Add(other.Ids[i], other.Offsets[i], other.Special[i] == 1, typeId);
    }
}

/// <summary>
/// A post-processor wraps the encoded text in the model's special tokens (Llama's BOS, BERT's [CLS] ... [SEP])
/// and may adjust offsets. It runs last in encoding, on one sequence or a pair.
/// </summary>
internal abstract class PostProcessor
{
    /// <summary>
    /// Processes the sequences (one, or two for a pair). Processors that add special tokens merge them into
    /// one; others (ByteLevel) return them separately so that a following step still sees the pair.
    /// </summary>
    public abstract List<TokenSequence> Process(List<TokenSequence> sequences, bool addSpecialTokens, Func<int, string> tokenOf);

    /// <summary>Joins what is left into one sequence: type id 0 for the first, 1 for the second.</summary>
    public static TokenSequence Merge(List<TokenSequence> sequences)
    {
        if (sequences.Count == 1) return sequences[0];
        var result = new TokenSequence();
        for (int i = 0; i < sequences.Count; i++) result.AddAll(sequences[i], i);
        return result;
    }
}

internal sealed class SequencePostProcessor(IReadOnlyList<PostProcessor> steps) : PostProcessor
{
    public override List<TokenSequence> Process(List<TokenSequence> sequences, bool addSpecialTokens, Func<int, string> tokenOf)
    {
        foreach (var step in steps) sequences = step.Process(sequences, addSpecialTokens, tokenOf);
        return sequences;
    }
}

/// <summary>One item of a template: a special token or the placeholder for sequence A or B.</summary>
internal readonly record struct TemplatePiece(bool IsSequence, string Name, int TypeId);

/// <summary>Hugging Face's TemplateProcessing: e.g. single = "&lt;s&gt; $A", pair = "&lt;s&gt; $A &lt;s&gt; $B".</summary>
internal sealed class TemplatePostProcessor(IReadOnlyList<TemplatePiece> single, IReadOnlyList<TemplatePiece> pair,
    IReadOnlyDictionary<string, int[]> specialTokens) : PostProcessor
{
    public override List<TokenSequence> Process(List<TokenSequence> sequences, bool addSpecialTokens, Func<int, string> tokenOf)
    {
        var template = sequences.Count == 1 ? single : pair;
        var result = new TokenSequence();
        foreach (var piece in template)
        {
            if (piece.IsSequence)
            {
                int index = piece.Name == "B" ? 1 : 0;
                if (index < sequences.Count) result.AddAll(sequences[index], piece.TypeId);
            }
            else if (addSpecialTokens)
            {
                foreach (var id in specialTokens[piece.Name]) result.Add(id, (0, 0), special: true, piece.TypeId);
            }
        }
        return [result];
    }
}

/// <summary>BERT and RoBERTa style: [CLS] A [SEP] (pair: [CLS] A [SEP] B [SEP]; RoBERTa doubles the middle separator).</summary>
internal sealed class ClsSepPostProcessor(int clsId, int sepId, bool doubleSeparator, ByteLevelPostProcessor? trimOffsets) : PostProcessor
{
    public override List<TokenSequence> Process(List<TokenSequence> sequences, bool addSpecialTokens, Func<int, string> tokenOf)
    {
        if (trimOffsets is not null) sequences = trimOffsets.Process(sequences, addSpecialTokens, tokenOf);
        if (!addSpecialTokens) return [Merge(sequences)];
        var result = new TokenSequence();
        result.Add(clsId, (0, 0), true);
        result.AddAll(sequences[0], 0);
        result.Add(sepId, (0, 0), true);
        if (sequences.Count == 1) return [result];
        if (doubleSeparator) result.Add(sepId, (0, 0), true, 1);
        result.AddAll(sequences[1], 1);
        result.Add(sepId, (0, 0), true, 1);
        return [result];
    }
}

/// <summary>
/// Byte-level post-processing adds no tokens; with trim_offsets it narrows offsets so that a token like
/// "Ġworld" points at "world", not at the space before it.
/// </summary>
internal sealed class ByteLevelPostProcessor(bool trimOffsets, bool addPrefixSpace) : PostProcessor
{
    public override List<TokenSequence> Process(List<TokenSequence> sequences, bool addSpecialTokens, Func<int, string> tokenOf)
    {
        if (trimOffsets) foreach (var s in sequences) Trim(s, tokenOf);
        return sequences;
    }

    void Trim(TokenSequence seq, Func<int, string> tokenOf)
    {
        char space = ByteLevelAlphabet.ByteToChar[' '];
        for (int i = 0; i < seq.Ids.Count; i++)
        {
            var token = tokenOf(seq.Ids[i]);
            var (start, end) = seq.Offsets[i];
            int leading = 0, trailing = 0;
            while (leading < token.Length && (token[leading] == space || char.IsWhiteSpace(token[leading]))) leading++;
            while (trailing < token.Length - leading && (token[^(trailing + 1)] == space || char.IsWhiteSpace(token[^(trailing + 1)]))) trailing++;
            if (leading > 0)
            {
                bool isFirst = i == 0 || start == 0;
                if (isFirst && addPrefixSpace && leading == 1) leading = 0;
                start = Math.Min(start + leading, end);
            }
            if (trailing > 0 && end >= trailing) end = Math.Max(end - trailing, start);
            seq.Offsets[i] = (start, end);
        }
    }
}
