using System.Text.Json;
using System.Xml.Linq;
using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

/// <summary>
/// Whatever numbers a training run produces (NaN, ±∞, 1e308, denormals, constant series, duplicate steps),
/// building, rendering and serialising a figure must not throw and must give well-formed output.
/// </summary>
public sealed class ChartRobustnessTests
{
    static readonly double[] Nasty =
    [
        double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0, -0.0, 1e308, -1e308, double.Epsilon,
        -double.Epsilon, 1e-300, 5e-324, double.MaxValue, double.MinValue, 1, -1, 0.5, 1e15, 123456789.123,
    ];

    [Fact]
    public void Random_figures_with_hostile_values_render_and_serialise()
    {
        var rng = new Random(20240601);
        for (int round = 0; round < 300; round++)
        {
            var figure = Figure.Create().WithTitle(round % 7 == 0 ? null : $"round {round} <&>");
            int traces = rng.Next(0, 4);
            bool bars = rng.Next(4) == 0;
            for (int t = 0; t < traces; t++)
            {
                int n = rng.Next(0, 40);
                var x = Enumerable.Range(0, n).Select(_ => Pick(rng, integers: true)).ToArray();
                var y = Enumerable.Range(0, n).Select(_ => Pick(rng, integers: false)).ToArray();
                if (bars)
                    figure.AddBar($"bars {t}", Enumerable.Range(0, n).Select(i => $"c{i}"), y);
                else if (rng.Next(5) == 0)
                    figure.AddHistogram($"hist {t}", y, bins: rng.Next(2) == 0 ? null : rng.Next(1, 30));
                else
                    figure.AddLine($"line {t}", x, y, markers: rng.Next(2) == 0, row: rng.Next(1, 3), secondaryY: rng.Next(3) == 0);
            }
            if (rng.Next(3) == 0) figure.AddVerticalLine(Pick(rng, integers: true), "marker");
            if (rng.Next(3) == 0) figure.AddHorizontalLine(Pick(rng, integers: false), "target");
            if (rng.Next(4) == 0) figure.Annotate(Pick(rng, true), Pick(rng, false), "note");
            if (!bars && rng.Next(3) == 0) figure.WithXAxis("x", log: rng.Next(2) == 0);
            if (rng.Next(3) == 0) figure.WithYAxis("y", log: rng.Next(2) == 0, tickFormat: rng.Next(2) == 0 ? "~s" : null);
            if (rng.Next(4) == 0) figure.WithBarMode((BarMode)rng.Next(3));

            string context = $"round {round}: {figure}";
            try
            {
                XDocument.Parse(figure.ToSvg(rng.Next(200, 1200), rng.Next(150, 800)));
                JsonDocument.Parse(figure.ToPlotlyJson());
                Assert.NotEmpty(figure.ToString());
            }
            catch (Exception e) when (e is not Xunit.Sdk.XunitException)
            {
                Assert.Fail($"{context}\n{e}");
            }
        }
    }

    [Theory]
    [InlineData(-1e308, 1e308)]
    [InlineData(double.MinValue, double.MaxValue)]
    [InlineData(0, 5e-324)]
    [InlineData(1e15, 1e15 + 2)]
    public void Extreme_ranges_give_a_handful_of_ticks(double min, double max)
    {
        var ticks = NiceTicks.Linear(min, max, 5);
        Assert.InRange(ticks.Values.Count, 2, 100);
        Assert.All(ticks.Values, v => Assert.True(double.IsFinite(v)));
        Assert.InRange(NiceTicks.Log(5e-324, double.MaxValue, 5).Values.Count, 2, 100);
    }

    static double Pick(Random rng, bool integers) => rng.Next(4) switch
    {
        0 => Nasty[rng.Next(Nasty.Length)],
        _ => integers ? rng.Next(-5, 1000) : Math.Exp(rng.NextDouble() * 10 - 5) * (rng.Next(6) == 0 ? -1 : 1),
    };
}
