using Tunebook.Torch;
using Tunebook.Tuning.Data;

namespace Tunebook.Tuning.Training;

/// <summary>
/// One micro-batch as the trainer consumes it, in Hugging Face's convention: labels are aligned with
/// the input ids (the model shifts them), −100 marks tokens that are not predicted (prompt, padding).
/// Owns its tensors.
/// </summary>
public sealed class TrainingBatch : IDisposable
{
    /// <summary>
    /// Creates a batch; the tensors become owned by it. <paramref name="targetTokensPerRow"/> and
    /// <paramref name="tokens"/> are the host-side counts when the caller has them (the collator does); otherwise
    /// they are counted once here from the tensors.
    /// </summary>
    public TrainingBatch(Tensor inputIds, Tensor labels, Tensor? attentionMask = null, Tensor? segmentIds = null, Tensor? positionIds = null,
        IReadOnlyList<int>? exampleIndices = null, long[]? targetTokensPerRow = null, long? tokens = null)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(labels);
        if (inputIds.dim() != 2) throw new ArgumentException($"TrainingBatch: input_ids must be [batch, length], got {inputIds.Describe()}");
        if (!labels.shape.SequenceEqual(inputIds.shape)) throw new ArgumentException($"TrainingBatch: labels {labels.Describe()} must have the shape of input_ids {inputIds.Describe()}");
        if (attentionMask is not null && !attentionMask.shape.SequenceEqual(inputIds.shape)) throw new ArgumentException($"TrainingBatch: attention_mask {attentionMask.Describe()} must have the shape of input_ids {inputIds.Describe()}");
        if (targetTokensPerRow is not null && targetTokensPerRow.Length != inputIds.size(0))
            throw new ArgumentException($"TrainingBatch: {targetTokensPerRow.Length} target-token counts for {inputIds.size(0)} rows");
        InputIds = inputIds.DetachFromDisposeScope();
        Labels = labels.DetachFromDisposeScope();
        AttentionMask = attentionMask?.DetachFromDisposeScope();
        SegmentIds = segmentIds?.DetachFromDisposeScope();
        PositionIds = positionIds?.DetachFromDisposeScope();
        ExampleIndices = exampleIndices ?? [];
        TargetTokensPerRow = targetTokensPerRow ?? CountTargetTokensPerRow(Labels);
        TargetTokens = TargetTokensPerRow.Sum();
        Tokens = tokens ?? CountTokens(InputIds, AttentionMask);
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
    public long TargetTokens { get; }

    /// <summary>Target tokens per row, for finding examples whose labels are all masked.</summary>
    public long[] TargetTokensPerRow { get; }

    /// <summary>Input tokens that are not padding.</summary>
    public long Tokens { get; }

    /// <summary>Target tokens per row of a [B, T] label tensor: labels at positions 1..T−1 that are not −100.</summary>
    public static long[] CountTargetTokensPerRow(Tensor labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        using var scope = torch.NewDisposeScope();
        long t = labels.size(1);
        if (t < 2) return new long[labels.size(0)];
        return labels.narrow(1, 1, t - 1).ne(-100).sum(1, dtype: ScalarType.Int64).data<long>().ToArray();
    }

    static long CountTokens(Tensor inputIds, Tensor? attentionMask)
    {
        if (attentionMask is null) return inputIds.numel();
        using var scope = torch.NewDisposeScope();
        return attentionMask.ne(0).sum().item<long>();
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
/// Tokenized examples held in memory, padded per batch by the same <see cref="DataCollator"/> as prepared data
/// (right padding to the longest example, labels −100 and attention mask 0 on padding). For tests and small
/// experiments; files go through Tunebook.Tuning.Data.
/// </summary>
public sealed class InMemoryTrainingData : ITrainingData
{
    readonly IReadOnlyList<TrainingRow> _rows;
    readonly DataCollator _collator;

    /// <summary>Examples as (input ids, labels) pairs of equal length; <paramref name="padTokenId"/> fills padding.</summary>
    public InMemoryTrainingData(IReadOnlyList<(long[] InputIds, long[] Labels)> examples, long padTokenId = 0)
    {
        ArgumentNullException.ThrowIfNull(examples);
        var list = new List<TrainingRow>(examples.Count);
        for (int i = 0; i < examples.Count; i++)
        {
            var (ids, labels) = examples[i];
            if (ids is null || labels is null || ids.Length != labels.Length)
                throw new ArgumentException($"example {i}: input ids and labels must be arrays of the same length");
            if (ids.Length == 0) throw new ArgumentException($"example {i}: no tokens");
            list.Add(new TrainingRow(ToInt(ids, i, "input id"), ToInt(labels, i, "label"), null, null, [i]));
        }
        _rows = list;
        _collator = new DataCollator(checked((int)padTokenId));
    }

    static int[] ToInt(long[] values, int example, string what)
    {
        var result = new int[values.Length];
        for (int t = 0; t < values.Length; t++)
            result[t] = values[t] is >= int.MinValue and <= int.MaxValue ? (int)values[t] : throw new ArgumentException($"example {example}: {what} {values[t]} at position {t} does not fit a 32-bit token id");
        return result;
    }

    /// <summary>Examples whose labels are the input ids themselves (plain language modelling).</summary>
    public static InMemoryTrainingData FromSequences(IEnumerable<long[]> sequences, long padTokenId = 0) =>
        new(sequences.Select(s => (s, (long[])s.Clone())).ToList(), padTokenId);

    public int Count => _rows.Count;

    public TrainingBatch Collate(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (indices.Count == 0) throw new ArgumentException("Collate: no indices");
        return _collator.Collate(indices.Select(i => _rows[i]).ToList(), indices).ToTensors();
    }
}
