using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

/// <summary>Tick positions against examples worked by hand (step = the 1/2/5 × 10^k nearest range / (count − 1)).</summary>
public sealed class ChartNiceTicksTests
{
    [Theory]
    // 9.57 / 4 = 2.39 → 2; floor(0.13 / 2) = 0, ceil(9.7 / 2) = 5 → 0..10 by 2.
    [InlineData(0.13, 9.7, 5, new[] { 0.0, 2, 4, 6, 8, 10 })]
    // 1 / 4 = 0.25 → 0.2.
    [InlineData(0.0, 1.0, 5, new[] { 0.0, 0.2, 0.4, 0.6, 0.8, 1.0 })]
    // 11.1 / 4 = 2.78 → 2; floor(-1.6) = -2, ceil(3.95) = 4.
    [InlineData(-3.2, 7.9, 5, new[] { -4.0, -2, 0, 2, 4, 6, 8 })]
    // 0.2 / 2 = 0.1: the ticks are the decimals 0.1, 0.2, 0.3, not 0.30000000000000004.
    [InlineData(0.1, 0.3, 3, new[] { 0.1, 0.2, 0.3 })]
    // 46800 / 4 = 11700 → 10000.
    [InlineData(1200.0, 48000.0, 5, new[] { 0.0, 10000, 20000, 30000, 40000, 50000 })]
    // A loss curve: 2.6 / 5 = 0.52 → 0.5.
    [InlineData(0.52, 3.1, 6, new[] { 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5 })]
    // Learning rates: 3e-4 / 3 = 1e-4.
    [InlineData(0.0, 3e-4, 4, new[] { 0.0, 1e-4, 2e-4, 3e-4 })]
    public void Linear_ticks_match_hand_worked_examples(double min, double max, int count, double[] expected)
    {
        var ticks = NiceTicks.Linear(min, max, count);
        Assert.Equal(expected, ticks.Values);
        Assert.Equal(expected[0], ticks.Min);
        Assert.Equal(expected[^1], ticks.Max);
    }

    [Fact]
    public void A_constant_series_gets_a_window_around_its_value()
    {
        // 2.5 ± 0.25 → 0.5 / 4 = 0.125 → 0.1; floor(22.5) = 22, ceil(27.5) = 28.
        Assert.Equal([2.2, 2.3, 2.4, 2.5, 2.6, 2.7, 2.8], NiceTicks.Linear(2.5, 2.5, 5).Values);
        Assert.Equal([-1.0, -0.5, 0, 0.5, 1.0], NiceTicks.Linear(0, 0, 5).Values);
    }

    [Theory]
    [InlineData(double.NaN, double.NaN)]
    [InlineData(double.NegativeInfinity, double.PositiveInfinity)]
    [InlineData(double.NaN, 4.0)]
    [InlineData(9.0, 1.0)]
    public void Bad_ranges_are_repaired_not_thrown(double min, double max)
    {
        var ticks = NiceTicks.Linear(min, max, 5);
        Assert.True(ticks.Values.Count >= 2);
        Assert.All(ticks.Values, v => Assert.True(double.IsFinite(v)));
        Assert.True(ticks.Values.SequenceEqual(ticks.Values.Order()));
    }

    [Theory]
    // log10(0.3) = -0.52 → 10^-1; log10(2000) = 3.3 → 10^4; five decades, one tick each.
    [InlineData(0.3, 2000, 5, new[] { 0.1, 1, 10, 100, 1000, 10000 })]
    // Two decades get 1, 2, 5.
    [InlineData(2.0, 50.0, 5, new[] { 1.0, 2, 5, 10, 20, 50, 100 })]
    // Nine decades at four ticks: every third decade, aligned to multiples of three.
    [InlineData(1e-6, 1e3, 4, new[] { 1e-6, 1e-3, 1, 1e3 })]
    // One decade: every integer mantissa.
    [InlineData(3.0, 7.0, 5, new[] { 1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10 })]
    public void Log_ticks_fall_on_decades(double min, double max, int count, double[] expected)
    {
        Assert.Equal(expected, NiceTicks.Log(min, max, count).Values);
    }

    [Fact]
    public void Log_ticks_repair_non_positive_bounds()
    {
        var ticks = NiceTicks.Log(0, 100, 5);
        Assert.All(ticks.Values, v => Assert.True(v > 0));
        Assert.Equal(100, ticks.Max);
    }

    [Theory]
    [InlineData(2.39, true, 2.0)]
    [InlineData(2.39, false, 5.0)]
    [InlineData(0.0071, true, 0.01)]
    [InlineData(1.2e5, false, 2e5)]
    [InlineData(1.0, false, 1.0)]
    public void Nice_numbers(double x, bool round, double expected) => Assert.Equal(expected, NiceTicks.NiceNumber(x, round));
}
