namespace Tunebook.Tuning.Data;

/// <summary>
/// One row the trainer batches: a single example, or several packed examples. Arrays are aligned token by token.
/// </summary>
/// <param name="InputIds">Token ids.</param>
/// <param name="Labels">Labels, −100 where no loss is taken.</param>
/// <param name="SegmentIds">For packed rows, 1, 1, ..., 2, 2, ...: which example each token belongs to (attention never
/// crosses segments); null for a single example.</param>
/// <param name="PositionIds">For packed rows, 0, 1, ... restarting at every segment; null for a single example.</param>
/// <param name="Examples">Indices (into <see cref="TrainingSet.Examples"/>) of the examples in the row, in order.</param>
public sealed record TrainingRow(int[] InputIds, int[] Labels, int[]? SegmentIds, int[]? PositionIds, int[] Examples)
{
    /// <summary>Number of tokens.</summary>
    public int Length => InputIds.Length;
}

/// <summary>
/// Packs examples into rows of at most <c>maxLength</c> tokens by best-fit decreasing (longest first, each into the
/// fullest row it still fits), which wastes little space and is deterministic. An example is never split across
/// rows: examples longer than <c>maxLength</c> were truncated before packing and fill a row of their own.
/// <para>In a packed row every example is a segment: segment ids count 1, 2, ... so that attention stays inside each
/// example (block-diagonal causal attention), and position ids restart at 0 at every segment, as if each example were
/// alone. The first token of every segment gets label −100: it would otherwise be predicted from the last token of the
/// previous example. That costs nothing, since an unpacked example's first token is never predicted either, so the
/// trained tokens are the same with and without packing.</para>
/// </summary>
public static class Packing
{
    /// <summary>The rows for <paramref name="examples"/>.</summary>
    public static List<TrainingRow> Pack(IReadOnlyList<TokenizedExample> examples, int maxLength)
    {
        if (maxLength < 1) throw new ArgumentOutOfRangeException(nameof(maxLength), "maxLength must be at least 1");
        var bins = new List<List<int>>();
        var used = new List<int>();
        // Rows by remaining space, then row number: the best fit is the first row with room ≥ the example's length.
        var open = new SortedSet<(int Room, int Row)>();
        var order = Enumerable.Range(0, examples.Count).OrderByDescending(i => examples[i].Length).ThenBy(i => i);
        foreach (int i in order)
        {
            int length = Math.Min(examples[i].Length, maxLength);
            var fits = open.GetViewBetween((length, -1), (int.MaxValue, int.MaxValue));
            int row;
            if (fits.Count > 0)
            {
                var best = fits.Min;
                open.Remove(best);
                row = best.Row;
            }
            else
            {
                row = bins.Count;
                bins.Add([]);
                used.Add(0);
            }
            bins[row].Add(i);
            used[row] += length;
            if (maxLength - used[row] > 0) open.Add((maxLength - used[row], row));
        }
        return bins.Select(b => Row(examples, b.Order().ToArray())).ToList();
    }

    /// <summary>One packed row of the given examples, in that order.</summary>
    public static TrainingRow Row(IReadOnlyList<TokenizedExample> examples, int[] members)
    {
        int total = members.Sum(i => examples[i].Length);
        var ids = new int[total];
        var labels = new int[total];
        var segments = new int[total];
        var positions = new int[total];
        int t = 0;
        for (int s = 0; s < members.Length; s++)
        {
            var e = examples[members[s]];
            for (int k = 0; k < e.Length; k++, t++)
            {
                ids[t] = e.InputIds[k];
                labels[t] = k == 0 ? TokenizedExample.Ignore : e.Labels[k];
                segments[t] = s + 1;
                positions[t] = k;
            }
        }
        return new TrainingRow(ids, labels, segments, positions, members);
    }
}
