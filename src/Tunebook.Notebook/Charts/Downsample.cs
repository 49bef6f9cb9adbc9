namespace Tunebook.Notebook.Charts;

/// <summary>
/// Largest-Triangle-Three-Buckets downsampling (Steinarsson, 2013). A line of 50,000 training steps drawn
/// into 700 pixels needs no more than about two points per pixel; LTTB picks the points that keep the
/// line's shape, spikes included, where taking every n-th point would drop a loss spike. The SVG uses it;
/// the Plotly JSON always carries every point, so zooming in the interactive view shows the full data.
/// </summary>
public static class Downsample
{
    /// <summary>
    /// The indices (ascending) of at most <paramref name="threshold"/> points that best preserve the shape of
    /// the line through (<paramref name="x"/>, <paramref name="y"/>). The first and last points are always kept.
    /// Every value must be finite (split a series at gaps first); fewer points than the threshold are all kept.
    /// </summary>
    public static int[] Lttb(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int threshold)
    {
        if (x.Length != y.Length) throw new ArgumentException($"x has {x.Length} values but y has {y.Length}.");
        int n = x.Length;
        if (threshold >= n || n <= 2) return Enumerable.Range(0, n).ToArray();
        threshold = Math.Max(threshold, 3);

        var keep = new int[threshold];
        keep[0] = 0;
        // The n - 2 inner points fall into threshold - 2 buckets of (fractional) size `every`.
        double every = (double)(n - 2) / (threshold - 2);
        int a = 0;
        for (int bucket = 0; bucket < threshold - 2; bucket++)
        {
            int start = (int)Math.Floor(bucket * every) + 1;
            int end = Math.Min((int)Math.Floor((bucket + 1) * every) + 1, n - 1);

            // The third corner of the triangle is the average point of the next bucket (the last point at the end).
            int nextStart = end, nextEnd = Math.Min((int)Math.Floor((bucket + 2) * every) + 1, n);
            double avgX = 0, avgY = 0;
            for (int i = nextStart; i < nextEnd; i++) { avgX += x[i]; avgY += y[i]; }
            int count = nextEnd - nextStart;
            if (count > 0) { avgX /= count; avgY /= count; } else { avgX = x[n - 1]; avgY = y[n - 1]; }

            double best = -1; int chosen = start;
            for (int i = start; i < end; i++)
            {
                // Twice the triangle's area; the factor does not change which point wins.
                double area = Math.Abs((x[a] - avgX) * (y[i] - y[a]) - (x[a] - x[i]) * (avgY - y[a]));
                if (area > best) { best = area; chosen = i; }
            }
            keep[bucket + 1] = chosen;
            a = chosen;
        }
        keep[threshold - 1] = n - 1;
        return keep;
    }
}
