using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

public sealed class ChartDownsampleTests
{
    [Fact]
    public void Lttb_picks_the_point_of_largest_triangle_worked_by_hand()
    {
        // Three buckets: [0], [1, 2, 3], [4]. With a = (0, 0) and the next bucket's average (4, 0), a point's doubled
        // triangle area is 4·y, so (3, 5) wins.
        Assert.Equal([0, 3, 4], Downsample.Lttb([0, 1, 2, 3, 4], [0, 1, 0, 5, 0], 3));
    }

    [Fact]
    public void Lttb_keeps_the_ends_and_a_lone_spike()
    {
        int n = 10_000;
        var x = Enumerable.Range(0, n).Select(i => (double)i).ToArray();
        var y = x.Select(v => Math.Sin(v / 500)).ToArray();
        y[4321] = 40; // a loss spike must survive downsampling
        var kept = Downsample.Lttb(x, y, 300);
        Assert.Equal(300, kept.Length);
        Assert.Equal(0, kept[0]);
        Assert.Equal(n - 1, kept[^1]);
        Assert.Contains(4321, kept);
        Assert.True(kept.Zip(kept.Skip(1)).All(p => p.First < p.Second), "indices ascend");
    }

    [Fact]
    public void Short_series_are_kept_whole()
    {
        Assert.Equal([0, 1, 2, 3], Downsample.Lttb([0, 1, 2, 3], [5, 4, 3, 2], 10));
        Assert.Empty(Downsample.Lttb([], [], 10));
        Assert.Throws<ArgumentException>(() => Downsample.Lttb([0, 1], [0], 10));
    }
}
