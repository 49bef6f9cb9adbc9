using Tunebook.Torch;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Data;

// The only place where data preparation meets tensors: the trainer asks for batches through ITrainingData.
public sealed partial class TrainingSet : ITrainingData
{
    /// <inheritdoc/>
    public TrainingBatch Collate(IReadOnlyList<int> indices) => CollateArrays(indices).ToTensors();
}

/// <summary>Turns plain-array batches into the trainer's tensors.</summary>
public static class CollatedBatchTensors
{
    /// <summary>
    /// The batch as int64 tensors [B, T], carrying the host-side counts (target tokens, tokens) so nobody counts them
    /// again on tensors; the attention mask is left out when nothing is padded and no row is packed.
    /// </summary>
    public static TrainingBatch ToTensors(this CollatedBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        long[] shape = [batch.BatchSize, batch.Length];
        using var scope = torch.NewDisposeScope();
        bool needMask = batch.Padded || batch.SegmentIds is not null;
        return new TrainingBatch(
            torch.tensor(batch.InputIds, shape), torch.tensor(batch.Labels, shape),
            needMask ? torch.tensor(batch.AttentionMask, shape) : null,
            batch.SegmentIds is { } s ? torch.tensor(s, shape) : null,
            batch.PositionIds is { } p ? torch.tensor(p, shape) : null,
            batch.RowIndices, batch.TargetTokensPerRow, batch.Tokens);
    }
}
