namespace Tunebook.Notebook.Charts;

/// <summary>Tick positions for one axis: the axis runs from <see cref="Min"/> to <see cref="Max"/> and is labelled at <see cref="Values"/>.</summary>
/// <param name="Min">Lower end of the axis (a tick when the axis was "niced").</param>
/// <param name="Max">Upper end of the axis.</param>
/// <param name="Step">Distance between ticks: data units on a linear axis, decades on a log axis.</param>
/// <param name="Values">Tick values in data units, ascending.</param>
public sealed record TickSet(double Min, double Max, double Step, IReadOnlyList<double> Values);

/// <summary>
/// "Nice numbers for graph labels" (Heckbert, Graphics Gems 1990): ticks at 1, 2 or 5 times a power of ten,
/// with the axis widened to the enclosing ticks, so a range of 0.13..9.7 reads 0, 2, 4, 6, 8, 10.
/// Log axes get decade ticks (1, 10, 100...), with 2 and 5 in between when the range spans few decades.
/// </summary>
public static class NiceTicks
{
    /// <summary>
    /// The nice number near <paramref name="x"/>: 1, 2, 5 or 10 times a power of ten. With <paramref name="round"/>
    /// the nearest one; without, the smallest one that is at least <paramref name="x"/>.
    /// </summary>
    public static double NiceNumber(double x, bool round)
    {
        if (!(x > 0) || double.IsInfinity(x)) return 1;
        int exponent = (int)Math.Floor(Math.Log10(x));
        double fraction = x / Pow10(exponent);
        double nice = round
            ? fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
            : fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10;
        return Scaled(nice, exponent);
    }

    /// <summary>
    /// Loose linear ticks for data between <paramref name="min"/> and <paramref name="max"/>, about
    /// <paramref name="targetCount"/> of them. Bad input (NaN, infinities, min above max, an empty range) never throws:
    /// the range is repaired so that a chart of a constant or missing series still has an axis.
    /// </summary>
    public static TickSet Linear(double min, double max, int targetCount = 5)
    {
        (min, max) = Repair(min, max);
        targetCount = Math.Max(2, targetCount);
        // The step is the nice number nearest an even split of the range (Heckbert nices the range first, which
        // can halve the tick count: 0.5..3.1 would get 1, 2, 3 instead of 0.5, 1, 1.5 ... 3).
        double step = NiceNumber((max - min) / (targetCount - 1), round: true);
        // Work in integer multiples of a mantissa times a power of ten, so ticks print as 0.3, not 0.30000000000000004.
        int exponent = (int)Math.Floor(Math.Log10(step));
        double mantissa = Math.Round(step / Pow10(exponent));
        long first = (long)Math.Floor(min / step + 1e-9), last = (long)Math.Ceiling(max / step - 1e-9);
        if (last <= first) last = first + 1;
        // Float trouble at the edges of the double range can leave the step far too small; never make thousands of ticks.
        if (last - first > 1000) return Linear(min, max, 2) is var coarse && coarse.Values.Count <= 1000 ? coarse : new TickSet(min, max, max - min, [min, max]);
        var values = new List<double>((int)(last - first + 1));
        for (long k = first; k <= last; k++) values.Add(Scaled(k * mantissa, exponent));
        return new TickSet(values[0], values[^1], Scaled(mantissa, exponent), values);
    }

    /// <summary>
    /// Ticks for a log axis over positive data between <paramref name="min"/> and <paramref name="max"/>: the axis
    /// spans whole decades; spans of up to two decades also get ticks at 2 and 5; long spans skip decades to keep
    /// about <paramref name="targetCount"/> labels. Non-positive bounds are repaired (a log axis cannot show them).
    /// </summary>
    public static TickSet Log(double min, double max, int targetCount = 5)
    {
        if (!(min > 0) || double.IsInfinity(min)) min = max > 0 && !double.IsInfinity(max) ? max / 10 : 1;
        if (!(max > 0) || double.IsInfinity(max)) max = min * 10;
        if (min > max) (min, max) = (max, min);
        int lo = (int)Math.Floor(Math.Log10(min) + 1e-9), hi = (int)Math.Ceiling(Math.Log10(max) - 1e-9);
        if (hi <= lo) hi = lo + 1;
        int decades = hi - lo;
        var values = new List<double>();
        if (decades <= 2)
        {
            // Within a decade or two, intermediate ticks: 1, 2, 5 for two decades, every integer mantissa for one.
            double[] mantissas = decades == 1 ? [1, 2, 3, 4, 5, 6, 7, 8, 9] : [1, 2, 5];
            for (int e = lo; e < hi; e++)
                foreach (var m in mantissas) values.Add(Scaled(m, e));
            values.Add(Pow10(hi));
            return new TickSet(Pow10(lo), Pow10(hi), 1, values);
        }
        int every = Math.Max(1, (int)Math.Ceiling(decades / (double)Math.Max(2, targetCount)));
        // Align skipped decades to multiples of `every` (1e-6, 1e-3, 1, 1e3 rather than 1e-5, 1e-2, 10).
        lo = (int)Math.Floor(lo / (double)every) * every;
        hi = (int)Math.Ceiling(hi / (double)every) * every;
        for (int e = lo; e <= hi; e += every) values.Add(Pow10(e));
        return new TickSet(Pow10(lo), Pow10(hi), every, values);
    }

    /// <summary>The double nearest 10^<paramref name="exponent"/> (parsed, not multiplied, so 1e-7 prints as 1E-07).</summary>
    public static double Pow10(int exponent) =>
        exponent is >= -MaxExponent and <= MaxExponent ? Powers[exponent + MaxExponent] : Math.Pow(10, exponent);

    const int MaxExponent = 300;
    static readonly double[] Powers = Enumerable.Range(-MaxExponent, 2 * MaxExponent + 1)
        .Select(e => double.Parse($"1e{e}", System.Globalization.CultureInfo.InvariantCulture)).ToArray();

    // m × 10^e as the double nearest the decimal value: dividing by an exact power of ten for e < 0
    // (0.1 × 3 is 0.30000000000000004, but 3 / 10 is 0.3).
    static double Scaled(double mantissa, int exponent) =>
        exponent >= 0 ? mantissa * Pow10(exponent) : exponent >= -22 ? mantissa / Pow10(-exponent) : mantissa * Pow10(exponent);

    const double Limit = 1e300, Tiny = 1e-300;

    static (double, double) Repair(double min, double max)
    {
        bool minOk = double.IsFinite(min), maxOk = double.IsFinite(max);
        if (!minOk && !maxOk) return (0, 1);
        if (!minOk) min = max;
        if (!maxOk) max = min;
        if (min > max) (min, max) = (max, min);
        // Beyond ±1e300 the arithmetic below overflows; no chart needs those values labelled.
        min = Math.Clamp(min, -Limit, Limit);
        max = Math.Clamp(max, -Limit, Limit);
        if (Math.Abs(min) < Tiny) min = 0;
        if (Math.Abs(max) < Tiny) max = 0;
        if (max - min <= Math.Max(Math.Abs(max), Math.Abs(min)) * 1e-12)
        {
            // A constant series: centre it in a window a tenth of its size (or ±1 around zero).
            double half = min == 0 ? 1 : Math.Abs(min) * 0.1;
            return (min - half, max + half);
        }
        return (min, max);
    }
}
