namespace Tunebook.Tuning.Data;

/// <summary>
/// A micro-batch as plain row-major arrays [BatchSize × Length], right-padded to the longest row.
/// </summary>
public sealed record CollatedBatch
{
    /// <summary>Rows in the batch.</summary>
    public required int BatchSize { get; init; }
    /// <summary>Tokens per row after padding.</summary>
    public required int Length { get; init; }
    /// <summary>Token ids; padding is the pad id.</summary>
    public required long[] InputIds { get; init; }
    /// <summary>Labels; −100 on padding and untrained tokens.</summary>
    public required long[] Labels { get; init; }
    /// <summary>1 for tokens, 0 for padding.</summary>
    public required long[] AttentionMask { get; init; }
    /// <summary>Segment ids of packed rows (0 on padding), or null when no row is packed.</summary>
    public long[]? SegmentIds { get; init; }
    /// <summary>Position ids restarting per segment (0 on padding), or null when no row is packed.</summary>
    public long[]? PositionIds { get; init; }
    /// <summary>Row indices (in the training set) of the batch's rows.</summary>
    public required int[] RowIndices { get; init; }
    /// <summary>Trained tokens per row: labels at positions 1.. that are not −100.</summary>
    public required long[] TargetTokensPerRow { get; init; }
    /// <summary>Trained tokens in the batch: the denominator of the token-normalised loss (sum over accumulated
    /// micro-batches for the step's loss).</summary>
    public long TargetTokens => TargetTokensPerRow.Sum();
    /// <summary>Input tokens that are not padding.</summary>
    public long Tokens => AttentionMask.LongCount(m => m != 0);
    /// <summary>Whether any row is padded.</summary>
    public bool Padded => AttentionMask.Any(m => m == 0);
}

/// <summary>
/// The one collator of the project (prepared data and <see cref="Training.InMemoryTrainingData"/> alike): pads rows to the longest in the batch (right padding with the tokenizer's pad id, labels −100, attention mask 0;
/// packed rows also get segment and position ids, 0 on padding), and orders rows into per-epoch batches.
/// </summary>
public sealed class DataCollator(int padTokenId)
{
    /// <summary>The id written into padding positions.</summary>
    public int PadTokenId { get; } = padTokenId;

    /// <summary>Trained tokens of one row: labels at positions 1.. that are not −100 (after the causal shift the first
    /// label is never predicted). The batch counts them here, on the host, once.</summary>
    public static int TargetTokens(IReadOnlyList<int> labels)
    {
        int n = 0;
        for (int i = 1; i < labels.Count; i++) if (labels[i] != TokenizedExample.Ignore) n++;
        return n;
    }

    /// <summary>Pads <paramref name="rows"/> into one batch; <paramref name="rowIndices"/> records where they came from.</summary>
    public CollatedBatch Collate(IReadOnlyList<TrainingRow> rows, IReadOnlyList<int>? rowIndices = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("Collate: no rows");
        int b = rows.Count, length = rows.Max(r => r.Length);
        bool packed = rows.Any(r => r.SegmentIds is not null);
        var ids = new long[b * length];
        var labels = new long[b * length];
        var mask = new long[b * length];
        var segments = packed ? new long[b * length] : null;
        var positions = packed ? new long[b * length] : null;
        var targets = new long[b];
        for (int r = 0; r < b; r++)
        {
            var row = rows[r];
            for (int t = 0; t < length; t++)
            {
                int at = r * length + t;
                bool real = t < row.Length;
                ids[at] = real ? row.InputIds[t] : PadTokenId;
                labels[at] = real ? row.Labels[t] : TokenizedExample.Ignore;
                mask[at] = real ? 1 : 0;
                if (packed)
                {
                    // An unpacked row in a packed batch is one segment with positions 0..n−1.
                    segments![at] = real ? row.SegmentIds?[t] ?? 1 : 0;
                    positions![at] = real ? row.PositionIds?[t] ?? t : 0;
                }
            }
            targets[r] = TargetTokens(row.Labels);
        }
        return new CollatedBatch
        {
            BatchSize = b, Length = length, InputIds = ids, Labels = labels, AttentionMask = mask,
            SegmentIds = segments, PositionIds = positions,
            RowIndices = rowIndices?.ToArray() ?? Enumerable.Range(0, b).ToArray(), TargetTokensPerRow = targets,
        };
    }

    /// <summary>
    /// The row indices of each micro-batch of one epoch: a permutation from (seed, epoch) (the trainer's
    /// <see cref="Training.DataOrder"/>), cut into batches of <paramref name="batchSize"/>. Deterministic, so
    /// saving (epoch, batch number) is enough to resume exactly.
    /// </summary>
    public static IEnumerable<int[]> EpochBatches(int count, int batchSize, long seed, int epoch, bool shuffle = true, bool dropLast = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), "batch size must be at least 1");
        var order = Training.DataOrder.ForEpoch(count, seed, epoch, shuffle);
        for (int start = 0; start < order.Length; start += batchSize)
        {
            int n = Math.Min(batchSize, order.Length - start);
            if (n < batchSize && dropLast) yield break;
            yield return order[start..(start + n)];
        }
    }
}
