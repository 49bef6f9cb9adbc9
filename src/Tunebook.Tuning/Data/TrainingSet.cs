namespace Tunebook.Tuning.Data;

/// <summary>
/// Prepared examples ready for the trainer: the tokenized examples and the rows built from them (one per example, or
/// packed). Rows are the unit the trainer shuffles and batches; <see cref="Collate(IReadOnlyList{int})"/> pads the
/// chosen rows into a micro-batch (its <c>ITrainingData</c> side is in TrainingSet.Tensors.cs).
/// </summary>
public sealed partial class TrainingSet
{
    /// <summary>Wraps examples and their rows; <paramref name="padTokenId"/> fills padding.</summary>
    public TrainingSet(IReadOnlyList<TokenizedExample> examples, IReadOnlyList<TrainingRow> rows, int padTokenId, bool packed)
    {
        Examples = examples;
        Rows = rows;
        Packed = packed;
        Collator = new DataCollator(padTokenId);
    }

    /// <summary>Unpacked rows: one per example.</summary>
    public static TrainingSet Unpacked(IReadOnlyList<TokenizedExample> examples, int padTokenId) =>
        new(examples, examples.Select((e, i) => new TrainingRow(e.InputIds, e.Labels, null, null, [i])).ToList(), padTokenId, packed: false);

    /// <summary>The tokenized examples.</summary>
    public IReadOnlyList<TokenizedExample> Examples { get; }

    /// <summary>The rows the trainer batches.</summary>
    public IReadOnlyList<TrainingRow> Rows { get; }

    /// <summary>Whether rows hold several packed examples.</summary>
    public bool Packed { get; }

    /// <summary>The collator padding rows into batches.</summary>
    public DataCollator Collator { get; }

    /// <summary>Number of rows (the trainer's unit).</summary>
    public int Count => Rows.Count;

    /// <summary>Trained tokens over all rows.</summary>
    public long TargetTokens => Rows.Sum(r => (long)DataCollator.TargetTokens(r.Labels));

    /// <summary>A padded micro-batch of the rows at <paramref name="indices"/>, as plain arrays.</summary>
    public CollatedBatch CollateArrays(IReadOnlyList<int> indices) => Collator.Collate(indices.Select(i => Rows[i]).ToList(), indices);

    /// <summary>
    /// The micro-batches of one epoch as plain arrays, in the order the trainer would use: rows shuffled by
    /// <see cref="Training.DataOrder.ForEpoch"/> from (seed, epoch), so batch <paramref name="startBatch"/> of epoch
    /// <paramref name="epoch"/> is all a resumed run needs to continue exactly.
    /// </summary>
    public IEnumerable<CollatedBatch> Batches(int batchSize, long seed, int epoch, int startBatch = 0, bool shuffle = true, bool dropLast = false)
    {
        foreach (var indices in DataCollator.EpochBatches(Count, batchSize, seed, epoch, shuffle, dropLast).Skip(startBatch))
            yield return CollateArrays(indices);
    }

    /// <summary>"TrainingSet: 280 examples in 41 packed rows, 18,432 trained tokens".</summary>
    public override string ToString() =>
        Packed ? $"TrainingSet: {Examples.Count} examples in {Count} packed rows, {TargetTokens:N0} trained tokens"
               : $"TrainingSet: {Count} examples, {TargetTokens:N0} trained tokens";
}
