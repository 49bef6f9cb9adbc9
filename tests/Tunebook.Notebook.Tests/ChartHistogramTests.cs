using System.Diagnostics;
using System.Text.Json;
using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

public sealed class ChartHistogramTests
{
    [Fact]
    public void Counts_match_a_hand_worked_example()
    {
        // Width 2 from floor(1 / 2) · 2 = 0: [0,2) {1}, [2,4) {2,2,3,3,3}, [4,6) [6,8) [8,10) empty, [10,12] {10}.
        var bins = HistogramBins.Compute([1, 2, 2, 3, 3, 3, 10, double.NaN], binWidth: 2);
        Assert.Equal([0.0, 2, 4, 6, 8, 10, 12], bins.Edges);
        Assert.Equal([1L, 5, 0, 0, 0, 1], bins.Counts);
        Assert.Equal(1, bins.Skipped);
        Assert.Equal(7, bins.Total);
    }

    [Fact]
    public void The_last_edge_belongs_to_the_last_bin_and_outside_values_are_counted_apart()
    {
        var bins = HistogramBins.FromEdges([0, 0.5, 1, 1, 1.5, -1], [0, 1]);
        Assert.Equal([4L], bins.Counts);
        Assert.Equal(2, bins.OutOfRange);
    }

    [Fact]
    public void Bad_edges_and_widths_say_what_is_wrong()
    {
        var e = Assert.Throws<ArgumentException>(() => HistogramBins.FromEdges([1], [0, 2, 2]));
        Assert.Contains("edge 2", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => HistogramBins.Compute([1.0], binWidth: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => HistogramBins.Compute([1.0], binCount: 0));
    }

    [Fact]
    public void Empty_or_all_NaN_input_gives_one_empty_bin()
    {
        var bins = HistogramBins.Compute([double.NaN, double.PositiveInfinity]);
        Assert.Equal([0L], bins.Counts);
        Assert.Equal(2, bins.Skipped);
    }

    [Fact]
    public void Automatic_bins_for_token_lengths_are_whole_numbers_and_cover_every_value()
    {
        var rng = new Random(11);
        var lengths = Enumerable.Range(0, 3000).Select(_ => (double)rng.Next(5, 900)).ToArray();
        var bins = HistogramBins.Compute(lengths);
        double width = bins.Edges[1] - bins.Edges[0];
        Assert.Equal(Math.Round(width), width);
        Assert.InRange(bins.Counts.Count, 5, 200);
        Assert.Equal(3000, bins.Total);
        Assert.Equal(0, bins.OutOfRange);
    }

    [Fact]
    public void Counts_and_equal_width_edges_match_numpy()
    {
        var rng = new Random(5);
        // Log-normal lengths, with exact edge hits (multiples of 25) and NaN mixed in.
        var values = Enumerable.Range(0, 4000).Select(i => i % 97 == 0 ? double.NaN
            : i % 13 == 0 ? 25.0 * rng.Next(0, 30) : Math.Exp(4 + rng.NextDouble() * 2.5)).ToArray();
        var auto = HistogramBins.Compute(values, binWidth: 25);
        var equal = HistogramBins.Compute(values, binCount: 17);

        var reference = RunNumpy(values, auto.Edges, 17);
        Assert.Equal(reference.GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()), auto.Counts);
        var numpyEdges = reference.GetProperty("edges_n").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(numpyEdges.Length, equal.Edges.Count);
        for (int i = 0; i < numpyEdges.Length; i++) Assert.Equal(numpyEdges[i], equal.Edges[i], 1e-9);
    }

    static JsonElement RunNumpy(double[] values, IReadOnlyList<double> edges, int bins)
    {
        string script = Path.Combine(ChartPaths.RepoRoot, "tests", "Tunebook.Notebook.Tests", "ChartHistogramReference.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = Process.Start(psi)!;
        process.StandardInput.Write(JsonSerializer.Serialize(new
        {
            values = values.Select(v => double.IsFinite(v) ? (double?)v : null),
            edges,
            bins,
        }, Tunebook.Tests.TestJson.Options));
        process.StandardInput.Close();
        string output = process.StandardOutput.ReadToEnd();
        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"numpy reference failed (needs /usr/bin/python3 with numpy: scripts/setup-deps.sh test): {errors}");
        return JsonDocument.Parse(output).RootElement.Clone();
    }
}
