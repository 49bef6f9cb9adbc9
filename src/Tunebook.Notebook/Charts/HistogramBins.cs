namespace Tunebook.Notebook.Charts;

/// <summary>
/// Counts of values in consecutive bins, computed here rather than by Plotly so that the static SVG and the
/// interactive chart show the same bars. Bins follow numpy.histogram: each is [left, right) except the last,
/// which also holds its right edge. NaN and infinite values are left out and counted in <see cref="Skipped"/>.
/// </summary>
public sealed class HistogramBins
{
    /// <summary>Bin edges, one more than <see cref="Counts"/>, strictly increasing.</summary>
    public IReadOnlyList<double> Edges { get; }
    /// <summary>How many values fell into each bin.</summary>
    public IReadOnlyList<long> Counts { get; }
    /// <summary>NaN or infinite values, which belong to no bin.</summary>
    public long Skipped { get; }
    /// <summary>Finite values outside the first and last edge.</summary>
    public long OutOfRange { get; }

    /// <summary>Number of values counted in some bin.</summary>
    public long Total => Counts.Sum();

    HistogramBins(double[] edges, long[] counts, long skipped, long outOfRange)
    {
        Edges = edges; Counts = counts; Skipped = skipped; OutOfRange = outOfRange;
    }

    /// <summary>
    /// Bins chosen for the data: <paramref name="binCount"/> equal bins over the data range, or bins of
    /// <paramref name="binWidth"/> starting at a multiple of it; with neither, a nice width (1, 2 or 5 × 10^k) near
    /// numpy's "auto" rule (the finer of Sturges and Freedman–Diaconis). Integer data (token lengths) never gets bins
    /// narrower than 1. Empty input gives one empty bin [0, 1).
    /// </summary>
    public static HistogramBins Compute(IEnumerable<double> values, int? binCount = null, double? binWidth = null)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (binCount is <= 0) throw new ArgumentOutOfRangeException(nameof(binCount), binCount, "The number of bins must be at least 1.");
        if (binWidth is not null && !(binWidth > 0 && double.IsFinite(binWidth.Value)))
            throw new ArgumentOutOfRangeException(nameof(binWidth), binWidth, "The bin width must be a positive finite number.");

        var all = values as IReadOnlyList<double> ?? values.ToArray(); // enumerated twice: once to choose bins, once to count
        var finite = all.Where(double.IsFinite).ToArray();
        if (finite.Length == 0) return FromEdges(all, [0, 1]);
        Array.Sort(finite);
        double min = finite[0], max = finite[^1];
        bool integers = finite.All(v => v == Math.Floor(v));

        // A range too wide for double arithmetic (an overflowed value among the data) falls back to ten equal bins.
        if (!double.IsFinite(max - min) && binCount is null) binCount = 10;
        if (binCount is int count)
        {
            if (count > 100_000) throw new ArgumentOutOfRangeException(nameof(binCount), binCount, "At most 100,000 bins.");
            if (min == max)
            {
                // One distinct value: a bin around it (wide enough to differ from it even at 1e308).
                double half = Math.Max(0.5, Math.Abs(min) * 1e-3);
                (min, max) = double.IsFinite(max + half) && double.IsFinite(min - half) ? (min - half, max + half)
                    : double.IsFinite(max + half) ? (min, max + 2 * half) : (min - 2 * half, max);
            }
            var edges = new double[count + 1];
            for (int i = 0; i <= count; i++) { double t = (double)i / count; edges[i] = min * (1 - t) + max * t; }
            edges[0] = min; edges[count] = max;
            for (int i = 1; i <= count; i++)
                if (!(edges[i] > edges[i - 1])) return FromEdges(all, [min, max]); // a range too narrow to split
            return FromEdges(all, edges);
        }

        double width = binWidth ?? AutoWidth(finite, integers);
        // At most 10,000 bins: a tiny explicit width over a long range would otherwise allocate without bound.
        if ((max - min) / width > 10_000) width = NiceTicks.NiceNumber((max - min) / 10_000, round: false);
        double start = Math.Floor(min / width) * width;
        double binsNeeded = Math.Floor((max - start) / width) + 1;
        if (!(binsNeeded <= 10_001) || start + width <= start) return Compute(all, binCount: 10); // float trouble: equal bins instead
        int bins = Math.Max(1, (int)binsNeeded);
        var uniform = new double[bins + 1];
        for (int i = 0; i <= bins; i++) uniform[i] = start + i * width;
        if (!double.IsFinite(uniform[^1])) return Compute(all, binCount: 10); // the last edge overflowed
        return FromEdges(all, uniform);
    }

    /// <summary>Counts <paramref name="values"/> into the bins between the given <paramref name="edges"/> (strictly increasing, at least two).</summary>
    public static HistogramBins FromEdges(IEnumerable<double> values, IReadOnlyList<double> edges)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(edges);
        if (edges.Count < 2) throw new ArgumentException($"A histogram needs at least two bin edges; got {edges.Count}.", nameof(edges));
        for (int i = 0; i < edges.Count; i++)
        {
            if (!double.IsFinite(edges[i])) throw new ArgumentException($"Bin edge {i} is {edges[i]}; edges must be finite.", nameof(edges));
            if (i > 0 && !(edges[i] > edges[i - 1]))
                throw new ArgumentException($"Bin edges must increase: edge {i} ({edges[i]}) is not above edge {i - 1} ({edges[i - 1]}).", nameof(edges));
        }
        var e = edges.ToArray();
        var counts = new long[e.Length - 1];
        long skipped = 0, outside = 0;
        foreach (var v in values)
        {
            if (!double.IsFinite(v)) { skipped++; continue; }
            if (v < e[0] || v > e[^1]) { outside++; continue; }
            // The last edge belongs to the last bin; otherwise the bin whose left edge is the largest one <= v.
            int bin = v == e[^1] ? counts.Length - 1 : UpperBound(e, v) - 1;
            counts[bin]++;
        }
        return new HistogramBins(e, counts, skipped, outside);
    }

    // The index of the first edge greater than v.
    static int UpperBound(double[] edges, double v)
    {
        int lo = 0, hi = edges.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (edges[mid] <= v) lo = mid + 1; else hi = mid;
        }
        return lo;
    }

    static double AutoWidth(double[] sorted, bool integers)
    {
        int n = sorted.Length;
        double range = sorted[^1] - sorted[0];
        if (range == 0) return integers ? 1 : NiceTicks.NiceNumber(Math.Max(Math.Abs(sorted[0]) * 0.1, 1e-9), round: true);
        double sturges = range / (Math.Log2(n) + 1);
        double iqr = Quantile(sorted, 0.75) - Quantile(sorted, 0.25);
        double fd = iqr > 0 ? 2 * iqr / Math.Cbrt(n) : double.PositiveInfinity;
        double width = NiceTicks.NiceNumber(Math.Min(sturges, fd), round: true);
        // No more than 200 bars: the chart stays readable and its SVG small.
        if (range / width > 200) width = NiceTicks.NiceNumber(range / 200, round: false);
        return integers ? Math.Max(1, Math.Round(width)) : width;
    }

    static double Quantile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }
}
