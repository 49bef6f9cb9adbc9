namespace Tunebook.Notebook.Charts;

/// <summary>
/// One axis of the SVG: its range (in log10 units for a log axis, category indices for a categorical one), the
/// pixels it maps to, and its labelled ticks. The range fits the data the way Plotly's autorange does: lines
/// exactly, a 5% margin on y, bars from zero.
/// </summary>
sealed class AxisScale
{
    public bool Log { get; }
    public bool Category { get; }
    /// <summary>Axis ends in transformed units (log10 for log axes).</summary>
    public double Lo { get; }
    public double Hi { get; }
    public double P0 { get; private set; }
    public double P1 { get; private set; }
    /// <summary>Labelled ticks, in data units.</summary>
    public List<(double Value, string Label)> Ticks { get; } = [];
    /// <summary>False when no data reached this axis (it still draws, over a default range).</summary>
    public bool HasData { get; }

    AxisScale(bool log, bool category, double lo, double hi, bool hasData)
    {
        Log = log; Category = category; Lo = lo; Hi = hi; HasData = hasData;
    }

    /// <summary>Pixel position of a data value, or NaN when it cannot be shown (NaN, ∞, or not positive on a log axis).</summary>
    public double Map(double v)
    {
        if (Log) { if (!(v > 0)) return double.NaN; v = Math.Log10(v); }
        if (!double.IsFinite(v)) return double.NaN;
        // Far-off points are pinned a long way outside the plot (the clip path hides them), keeping the SVG's numbers short.
        return Math.Clamp(P0 + (v - Lo) / (Hi - Lo) * (P1 - P0), -1e5, 1e5);
    }

    /// <summary>True when <paramref name="v"/> lies inside the axis range.</summary>
    public bool Contains(double v)
    {
        if (Log) { if (!(v > 0)) return false; v = Math.Log10(v); }
        double eps = (Hi - Lo) * 1e-9;
        return v >= Lo - eps && v <= Hi + eps;
    }

    /// <summary>Places the axis on screen: <paramref name="p0"/> is where <see cref="Lo"/> goes.</summary>
    public void Place(double p0, double p1) { P0 = p0; P1 = p1; }

    /// <summary>A categorical axis with one slot per category, centred on integer positions.</summary>
    public static AxisScale ForCategories(IReadOnlyList<string> categories)
    {
        var scale = new AxisScale(false, true, -0.5, Math.Max(1, categories.Count) - 0.5, categories.Count > 0);
        for (int i = 0; i < categories.Count; i++) scale.Ticks.Add((i, categories[i]));
        return scale;
    }

    /// <summary>
    /// A numeric axis over <paramref name="values"/> (already filtered to what the axis can show).
    /// <paramref name="pad"/> widens each end by that fraction of the range unless the end is pinned by
    /// <paramref name="zeroBase"/> (bars); user limits in <paramref name="axis"/> win over both.
    /// </summary>
    public static AxisScale ForValues(Axis axis, IReadOnlyCollection<double> values, double pad, bool zeroBase, double pixelLength, double tickSpacing)
    {
        bool log = axis.Log;
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var raw in values)
        {
            double v = log ? (raw > 0 ? Math.Log10(raw) : double.NaN) : raw;
            // Values beyond ±1e300 (an overflowed loss) are left off the axis; they would make its range infinite.
            if (!double.IsFinite(v) || Math.Abs(v) > 1e300) continue;
            if (v < lo) lo = v;
            if (v > hi) hi = v;
        }
        bool hasData = lo <= hi;
        if (!hasData) { lo = 0; hi = 1; }
        bool pinLow = false, pinHigh = false;
        if (zeroBase && !log)
        {
            if (lo >= 0) { lo = 0; pinLow = true; }
            if (hi <= 0) { hi = 0; pinHigh = true; }
        }
        if (hi - lo <= Math.Max(Math.Abs(hi), 1) * 1e-12)
        {
            // A single value or a constant series: give it room, like Plotly does.
            double half = log ? 0.5 : lo == 0 ? 1 : Math.Abs(lo) * 0.1;
            if (!pinLow) lo -= half;
            if (!pinHigh) hi += half;
        }
        double span = hi - lo;
        if (!pinLow) lo -= span * pad;
        if (!pinHigh) hi += span * pad;

        if (axis.Min is double min) lo = log ? Math.Log10(min) : min;
        if (axis.Max is double max) hi = log ? Math.Log10(max) : max;
        if (!(hi > lo)) { if (axis.Max is null) hi = lo + (log ? 1 : Math.Max(1, Math.Abs(lo))); else lo = hi - (log ? 1 : Math.Max(1, Math.Abs(hi))); }

        var scale = new AxisScale(log, false, lo, hi, hasData);
        scale.MakeTicks(axis, pixelLength, tickSpacing);
        return scale;
    }

    static readonly double[][] LogMantissas = [[1], [1, 2, 5], [1, 2, 3, 5, 7], [1, 2, 3, 4, 5, 6, 7, 8, 9]];

    void MakeTicks(Axis axis, double pixelLength, double spacing)
    {
        int target = Math.Clamp((int)Math.Round(pixelLength / spacing), 2, 10);
        var values = new List<double>();
        double step = 0;
        if (Log)
        {
            // The densest of these mantissa sets that still fits about `target` labels: decades alone, then
            // 1-2-5, then 1-2-3-5-7, then every integer. Long ranges fall back to NiceTicks.Log, which skips decades.
            int lo = (int)Math.Floor(Lo), hi = (int)Math.Ceiling(Hi);
            foreach (var mantissas in LogMantissas)
            {
                var candidates = new List<double>();
                for (int e = lo; e <= hi; e++)
                    foreach (var m in mantissas)
                        if (NiceTicks.Pow10(e) * m is var v && Contains(v)) candidates.Add(v);
                // Log spacing is uneven (8 and 9 sit close together): judge crowding by the smallest gap in pixels.
                double minGap = double.PositiveInfinity;
                for (int i = 1; i < candidates.Count; i++)
                    minGap = Math.Min(minGap, (Math.Log10(candidates[i]) - Math.Log10(candidates[i - 1])) / (Hi - Lo) * pixelLength);
                bool crowded = candidates.Count > target + 1 || minGap < spacing * 0.6;
                if (crowded && values.Count > 0) break;
                values = candidates;
                if (crowded) break;
            }
            if (values.Count > target + 1)
                values = NiceTicks.Log(Math.Pow(10, Lo), Math.Pow(10, Hi), target).Values.Where(Contains).ToList();
        }
        if (values.Count < 2)
        {
            // A linear axis, or a log axis spanning less than a decade: ticks at 1, 2, 5 × 10^k.
            values.Clear();
            double a = Log ? Math.Pow(10, Lo) : Lo, b = Log ? Math.Pow(10, Hi) : Hi;
            for (int t = target; t <= 40 && values.Count < 2; t *= 2)
            {
                var set = NiceTicks.Linear(a, b, t);
                step = set.Step;
                values.Clear();
                values.AddRange(set.Values.Where(Contains));
            }
        }
        double maxAbs = values.Count == 0 ? 0 : values.Max(Math.Abs);
        foreach (var v in values)
        {
            string label = axis.TickFormat is { } f ? NumberFormat.D3(f, v)
                : Log && step == 0 ? NumberFormat.LogTick(v)
                : NumberFormat.LinearTick(v, step, maxAbs);
            Ticks.Add((v, label));
        }
    }
}
