namespace Tunebook.Tuning.Training;

/// <summary>
/// The order in which examples are visited in each epoch: a Fisher–Yates shuffle driven by SplitMix64
/// seeded from (seed, epoch). A pure function of its inputs, so a resumed run only needs the epoch and
/// the position in it to see exactly the batches the uninterrupted run would have seen.
/// </summary>
public static class DataOrder
{
    /// <summary>The permutation of 0..count−1 for <paramref name="epoch"/> (identity when not shuffling).</summary>
    public static int[] ForEpoch(int count, long seed, int epoch, bool shuffle)
    {
        var order = Enumerable.Range(0, count).ToArray();
        if (!shuffle) return order;
        ulong state = unchecked((ulong)seed * 0x9E3779B97F4A7C15UL + (ulong)epoch * 0xD1B54A32D192ED03UL + 0x632BE59BD9B4E019UL);
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)(SplitMix64.Next(ref state) % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
