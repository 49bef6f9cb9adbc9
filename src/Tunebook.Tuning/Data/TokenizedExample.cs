namespace Tunebook.Tuning.Data;

/// <summary>
/// One example as token ids, in Hugging Face's convention: <see cref="Labels"/> is aligned with
/// <see cref="InputIds"/> (the model shifts them), and −100 marks a token whose prediction is not trained.
/// </summary>
public sealed record TokenizedExample
{
    /// <summary>The label of a token that gets no loss.</summary>
    public const int Ignore = -100;

    /// <summary>Token ids (after truncation).</summary>
    public required int[] InputIds { get; init; }
    /// <summary>Labels, −100 where no loss is taken.</summary>
    public required int[] Labels { get; init; }
    /// <summary>Index of the example in its <see cref="RawDataset"/>.</summary>
    public required int SourceIndex { get; init; }
    /// <summary>Where the example is in its file.</summary>
    public required RowLocation Location { get; init; }
    /// <summary>The rendered text that was tokenized (before truncation).</summary>
    public required string Text { get; init; }
    /// <summary>Length in tokens before truncation.</summary>
    public required int OriginalLength { get; init; }

    /// <summary>Whether tokens were cut off to fit the maximum length.</summary>
    public bool Truncated => OriginalLength > InputIds.Length;

    /// <summary>Number of tokens.</summary>
    public int Length => InputIds.Length;

    /// <summary>
    /// Tokens whose prediction is trained: labels at positions 1.. that are not −100 (position 0 has nothing before it
    /// to predict from). This is what the token-normalised loss divides by.
    /// </summary>
    public int TargetTokens
    {
        get
        {
            int n = 0;
            for (int i = 1; i < Labels.Length; i++) if (Labels[i] != Ignore) n++;
            return n;
        }
    }

    /// <summary>Each token with its text and whether it is trained, for checking the masking by eye
    /// (<c>ToString()</c> brackets the trained text; <c>ToHtml()</c> colours it).</summary>
    public TokenView Explain(Tunebook.Text.Tokenizers.Tokenizer tokenizer) => TokenView.Of(InputIds, Labels, tokenizer);
}
