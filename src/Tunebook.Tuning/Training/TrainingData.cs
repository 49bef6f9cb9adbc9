using Tunebook.Torch;

namespace Tunebook.Tuning.Training;

/// <summary>
/// One micro-batch as the trainer consumes it, in Hugging Face's convention: labels are aligned with
/// the input ids (the model shifts them), −100 marks tokens that are not predicted (prompt, padding).
/// Owns its tensors.
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    /// <summary>Creates a batch; the tensors become owned by it.</summary>
    public TrainingBatch(Tensor inputIds, Tensor labels, Tensor? attentionMask = null, Tensor? segmentIds = null, Tensor? positionIds = null, IReadOnlyList<int>? exampleIndices = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(labels);
        if (inputIds.dim() != 2) throw new ArgumentException($"TrainingBatch: input_ids must be [batch, length], got {inputIds.Describe()}");
        if (!labels.shape.SequenceEqual(inputIds.shape)) throw new ArgumentException($"TrainingBatch: labels {labels.Describe()} must have the shape of input_ids {inputIds.Describe()}");
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(inputIds.shape)) throw new ArgumentException($"TrainingBatch: attention_mask {attentionMask.Describe()} must have the shape of input_ids {inputIds.Describe()}");
        InputIds = inputIds.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        AttentionMask = attentionMask?.DetachFromDisposeScope();
        SegmentIds = segmentIds?.DetachFromDisposeScope();
        PositionIds = positionIds?.DetachFromDisposeScope();
        ExampleIndices = exampleIndices ?? [];
    }

    /// <summary>[B, T] int64 token ids.</summary>
    public Tensor InputIds { get; }
    /// <summary>[B, T] int64 labels, −100 where no loss is taken.</summary>
    public Tensor Labels { get; }
    /// <summary>[B, T] 1 = token, 0 = padding; null when there is no padding.</summary>
    public Tensor? AttentionMask { get; }
    /// <summary>[B, T] ids of packed examples (block-diagonal attention), or null.</summary>
    public Tensor? SegmentIds { get; }
    /// <summary>[B, T] positions (restarting per packed example), or null to derive them.</summary>
    public Tensor? PositionIds { get; }
    /// <summary>Dataset indices of the examples in this batch (for messages), when known.</summary>
    public IReadOnlyList<int> ExampleIndices { get; }

    /// <summary>
    /// Tokens that are predicted: labels at positions 1..T−1 (after the causal shift) that are not −100.
    /// This is the denominator of the token-normalised loss.
    /// </summary>
    public long TargetTokens()
    {
        using var scope = torch.NewDisposeScope();
        long t = Labels.size(1);
        return t < 2 ? 0 : Labels.narrow(1, 1, t - 1).ne(-100).sum().item<long>();
    }

    /// <summary>Target tokens per row, for finding examples whose labels are all masked.</summary>
    public long[] TargetTokensPerRow()
    {
        using var scope = torch.NewDisposeScope();
        long t = Labels.size(1);
        if (t < 2) return new long[Labels.size(0)];
        return Labels.narrow(1, 1, t - 1).ne(-100).sum(1, dtype: ScalarType.Int64).data<long>();
    }

    /// <summary>Input tokens that are not padding.</summary>
    public long Tokens()
    {
        if (AttentionMask is null) return InputIds.numel();
        using var scope = torch.NewDisposeScope();
        return AttentionMask.ne(0).sum().item<long>();
    }

    public void Dispose()
    {
        InputIds.Dispose();
        Labels.Dispose();
        AttentionMask?.Dispose();
        SegmentIds?.Dispose();
        PositionIds?.Dispose();
    }
}

/// <summary>
/// What the trainer needs from a dataset: how many examples there are, and a batch made of chosen
/// examples. The trainer owns the order (seeded shuffles per epoch), which is what makes a resumed run
/// see the same batches.
/// </summary>
public interface ITrainingData
{
    /// <summary>Number of examples (or packed rows).</summary>
    int Count { get; }

    /// <summary>A batch of the examples at <paramref name="indices"/>, in that order.</summary>
    TrainingBatch Collate(IReadOnlyList<int> indices);
}

/// <summary>
/// Tokenized examples held in memory, right-padded per batch to the longest example with an attention
/// mask (labels of padding are −100). For tests and small experiments; files go through Tunebook.Tuning.Data.
/// </summary>
public sealed class InMemoryTrainingData : ITrainingData
{
    readonly IReadOnlyList<(long[] InputIds, long[] Labels)> examples;
    readonly long padTokenId;

    /// <summary>Examples as (input ids, labels) pairs of equal length; <paramref name="padTokenId"/> fills padding.</summary>
    public InMemoryTrainingData(IReadOnlyList<(long[] InputIds, long[] Labels)> examples, long padTokenId = 0)
    {
        ArgumentNullException.ThrowIfNull(examples);
        for (int i = 0; i < examples.Count; i++)
        {
            var (ids, labels) = examples[i];
            if (ids is null || labels is null || ids.Length != labels.Length)
                throw new ArgumentException($"example {i}: input ids and labels must be arrays of the same length");
            if (ids.Length == 0) throw new ArgumentException($"example {i}: no tokens");
        }
        this.examples = examples;
        this.padTokenId = padTokenId;
    }

    /// <summary>Examples whose labels are the input ids themselves (plain language modelling).</summary>
    public static InMemoryTrainingData FromSequences(IEnumerable<long[]> sequences, long padTokenId = 0) =>
        new(sequences.Select(s => (s, (long[])s.Clone())).ToList(), padTokenId);

    public int Count => examples.Count;

    public TrainingBatch Collate(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Count == 0) throw new ArgumentException("Collate: no indices");
        int length = indices.Max(i => examples[i].InputIds.Length);
        int b = indices.Count;
        var ids = new long[b * length];
        var labels = new long[b * length];
        var mask = new long[b * length];
        bool padded = false;
        for (int row = 0; row < b; row++)
        {
            var (x, y) = examples[indices[row]];
            for (int t = 0; t < length; t++)
            {
                int k = row * length + t;
                bool real = t < x.Length;
                ids[k] = real ? x[t] : padTokenId;
                labels[k] = real ? y[t] : -100;
                mask[k] = real ? 1 : 0;
                padded |= !real;
            }
        }
        using var scope = torch.NewDisposeScope();
        return new TrainingBatch(torch.tensor(ids, [b, length]), torch.tensor(labels, [b, length]),
            padded ? torch.tensor(mask, [b, length]) : null, exampleIndices: indices.ToArray());
    }
}
