using System.Text.Json.Nodes;
using Tunebook.Torch;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Training;
using static Tunebook.Tuning.Tests.DataFixtures;

namespace Tunebook.Tuning.Tests;

public class DataBatchingTests
{
    static PreparedData Varied(bool packing, int maxLength = 48, int count = 30) => Dataset.FromRecords(
        Enumerable.Range(0, count).Select(i => new JsonObject
        {
            ["prompt"] = $"Question {i}: " + string.Join(" ", Enumerable.Repeat("why", i % 7)) + "\n",
            ["completion"] = "Because " + string.Join(" ", Enumerable.Repeat("so", (i * 5) % 11)) + ".",
        }).ToArray()).Prepare(Qwen, options: new PrepareOptions { Packing = packing, MaxLength = maxLength });

    [Fact]
    public void Packing_keeps_examples_whole_in_their_own_segments_with_restarting_positions()
    {
        var unpacked = Varied(packing: false);
        var packed = Varied(packing: true);
        var examples = packed.Train.Examples;
        Assert.True(packed.Train.Packed);
        Assert.True(packed.Train.Count < examples.Count);
        Assert.True(packed.Train.Count >= (int)Math.Ceiling(examples.Sum(e => e.Length) / 48.0));
        // Every example in exactly one row.
        Assert.Equal(Enumerable.Range(0, examples.Count), packed.Train.Rows.SelectMany(r => r.Examples).Order());
        foreach (var row in packed.Train.Rows)
        {
            Assert.True(row.Length <= 48);
            int t = 0;
            for (int s = 0; s < row.Examples.Length; s++)
            {
                var e = examples[row.Examples[s]];
                for (int k = 0; k < e.Length; k++, t++)
                {
                    Assert.Equal(e.InputIds[k], row.InputIds[t]);
                    Assert.Equal(s + 1, row.SegmentIds![t]);
                    Assert.Equal(k, row.PositionIds![t]);
                    // The first token of a segment is not predicted from the previous example.
                    Assert.Equal(k == 0 ? TokenizedExample.Ignore : e.Labels[k], row.Labels[t]);
                }
            }
            Assert.Equal(row.Length, t);
        }
        // Packing does not change what is trained.
        Assert.Equal(unpacked.Train.TargetTokens, packed.Train.TargetTokens);
        Assert.Equal(examples.Sum(e => (long)e.TargetTokens), packed.Train.TargetTokens);
        Assert.NotNull(packed.Report.PackingEfficiency);
        Assert.Equal(examples.Sum(e => (double)e.Length) / (packed.Train.Count * 48), packed.Report.PackingEfficiency!.Value, 12);
    }

    [Fact]
    public void An_example_longer_than_a_row_is_truncated_and_packed_alone()
    {
        var data = Dataset.FromRecords(
        [
            new JsonObject { ["text"] = string.Join(" ", Enumerable.Range(0, 60).Select(i => $"word{i}")) },
            new JsonObject { ["text"] = "short one" },
            new JsonObject { ["text"] = "short two" },
        ]);
        var prepared = data.Prepare(Qwen, options: new PrepareOptions { Packing = true, MaxLength = 16 });
        Assert.Equal(1, prepared.Report.Truncated);
        var rows = prepared.Train.Rows;
        Assert.Equal(2, rows.Count);
        Assert.Equal([0], rows[0].Examples);
        Assert.Equal(16, rows[0].Length);
        Assert.Equal([1, 2], rows[1].Examples);
    }

    [Fact]
    public void Collation_pads_with_the_pad_id_and_masks_padding()
    {
        var prepared = Varied(packing: false);
        var set = prepared.Train;
        int[] indices = [3, 0, 12];
        var batch = set.CollateArrays(indices);
        int length = indices.Max(i => set.Rows[i].Length);
        Assert.Equal(3, batch.BatchSize);
        Assert.Equal(length, batch.Length);
        Assert.Equal(Qwen.PadTokenId, set.Collator.PadTokenId);
        Assert.Equal(Qwen.TokenToId("<|endoftext|>"), set.Collator.PadTokenId);
        long expectedTargets = 0;
        for (int r = 0; r < 3; r++)
        {
            var row = set.Rows[indices[r]];
            for (int t = 0; t < length; t++)
            {
                int at = r * length + t;
                if (t < row.Length)
                {
                    Assert.Equal(row.InputIds[t], batch.InputIds[at]);
                    Assert.Equal(row.Labels[t], batch.Labels[at]);
                    Assert.Equal(1, batch.AttentionMask[at]);
                    if (t > 0 && row.Labels[t] != -100) expectedTargets++;
                }
                else
                {
                    Assert.Equal(set.Collator.PadTokenId, batch.InputIds[at]);
                    Assert.Equal(-100, batch.Labels[at]);
                    Assert.Equal(0, batch.AttentionMask[at]);
                }
            }
        }
        Assert.Equal(expectedTargets, batch.TargetTokens);
        Assert.Null(batch.SegmentIds);
        Assert.Equal(indices, batch.RowIndices);

        // The trainer's tensors count the same target tokens.
        using var tensors = ((ITrainingData)set).Collate(indices);
        Assert.Equal(expectedTargets, tensors.TargetTokens);
        Assert.Equal(batch.TargetTokensPerRow, tensors.TargetTokensPerRow);
        // The host-side counts the batch carries agree with a count on its label tensor.
        Assert.Equal(batch.TargetTokensPerRow, TrainingBatch.CountTargetTokensPerRow(tensors.Labels));
        Assert.Equal(tensors.AttentionMask is null ? tensors.InputIds.numel() : tensors.AttentionMask.sum().item<long>(), tensors.Tokens);
        Assert.Equal(new long[] { 3, length }, tensors.InputIds.shape);
    }

    [Fact]
    public void Packed_batches_carry_segments_and_positions_to_the_model()
    {
        var set = Varied(packing: true).Train;
        var batch = set.CollateArrays([0, set.Count - 1]);
        Assert.NotNull(batch.SegmentIds);
        Assert.NotNull(batch.PositionIds);
        var last = set.Rows[^1];
        for (int t = last.Length; t < batch.Length; t++)
        {
            Assert.Equal(0, batch.SegmentIds![batch.Length + t]);
            Assert.Equal(0, batch.AttentionMask[batch.Length + t]);
        }
        using var tensors = batch.ToTensors();
        Assert.NotNull(tensors.SegmentIds);
        Assert.NotNull(tensors.PositionIds);
        Assert.Equal(batch.PositionIds, tensors.PositionIds!.data<long>().ToArray());
        // The model derives the same positions from the segments.
        var derived = Tunebook.Models.AttentionMask.PositionIds(2, batch.Length, 0, null, tensors.SegmentIds, Device.CPU);
        var real = batch.AttentionMask;
        var d = derived.data<long>().ToArray();
        for (int i = 0; i < d.Length; i++) if (real[i] == 1) Assert.Equal(batch.PositionIds![i], d[i]);
    }

    [Fact]
    public void Epoch_order_is_a_function_of_seed_and_epoch_so_resuming_is_exact()
    {
        var set = Varied(packing: false).Train;
        var epoch1 = set.Batches(batchSize: 4, seed: 5, epoch: 1).ToList();
        Assert.Equal(Enumerable.Range(0, set.Count), epoch1.SelectMany(b => b.RowIndices).Order());
        Assert.Equal(epoch1.Select(b => b.RowIndices), set.Batches(4, 5, 1).Select(b => b.RowIndices));
        Assert.NotEqual(epoch1.Select(b => b.RowIndices), set.Batches(4, 5, 2).Select(b => b.RowIndices));
        // Resuming at batch 3 of epoch 1 gives exactly the rest of the epoch.
        var resumed = set.Batches(4, 5, 1, startBatch: 3).ToList();
        Assert.Equal(epoch1.Skip(3).Select(b => b.InputIds), resumed.Select(b => b.InputIds));
        // The trainer's own order.
        Assert.Equal(DataOrder.ForEpoch(set.Count, 5, 1, shuffle: true), epoch1.SelectMany(b => b.RowIndices));
        Assert.Equal(set.Count / 4, set.Batches(4, 5, 1, dropLast: true).Count());
    }
}
