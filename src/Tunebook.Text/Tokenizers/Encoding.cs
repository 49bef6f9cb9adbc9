namespace Tunebook.Text.Tokenizers;

/// <summary>
/// The result of encoding one text: token ids and, aligned with them, the token strings, where each
/// token came from, and the masks a model needs.
/// </summary>
/// <remarks>
/// <see cref="Offsets"/> are UTF-16 index ranges [Start, End) into the string passed to
/// <see cref="Tokenizer.Encode(string, bool)"/> (C# string indices, so <c>text[o.Start..o.End]</c> is the
/// token's source text). Special tokens added by the post-processor have (0, 0). When a byte-level
/// token holds only part of a character's UTF-8 bytes, it reports the whole character.
/// </remarks>
public sealed class Encoding
{
    public Encoding(int[] ids, string[] tokens, (int Start, int End)[] offsets, int[] specialTokensMask, int[] typeIds)
    {
        Ids = ids;
        Tokens = tokens;
        Offsets = offsets;
        SpecialTokensMask = specialTokensMask;
        TypeIds = typeIds;
        AttentionMask = new int[ids.Length];
        Array.Fill(AttentionMask, 1);
    }

    /// <summary>Token ids.</summary>
    public int[] Ids { get; }

    /// <summary>Vocabulary strings of the tokens (byte-level tokens show GPT-2's alphabet, e.g. "Ġworld").</summary>
    public string[] Tokens { get; }

    /// <summary>[Start, End) UTF-16 offsets of each token in the input string.</summary>
    public (int Start, int End)[] Offsets { get; }

    /// <summary>1 for every real token (all ones until padding is added by a collator).</summary>
    public int[] AttentionMask { get; }

    /// <summary>1 where the post-processor added a special token (BOS, EOS, CLS, ...), else 0.</summary>
    public int[] SpecialTokensMask { get; }

    /// <summary>Segment ids: 0 for the first text, 1 for the second of a pair (as the template says).</summary>
    public int[] TypeIds { get; }

    /// <summary>Number of tokens.</summary>
    public int Count => Ids.Length;

    public override string ToString() => "[" + string.Join(", ", Ids) + "]";
}
