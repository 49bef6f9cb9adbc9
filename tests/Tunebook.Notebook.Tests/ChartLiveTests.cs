using Tunebook.Interactive;
using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

public sealed class ChartLiveTests
{
    sealed class ManualClock : TimeProvider
    {
        public long Ticks;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => Ticks;
        public void Advance(TimeSpan by) => Ticks += by.Ticks;
    }

    sealed class RecordingHost : INotebookHost
    {
        public readonly List<(string Id, object? Value)> Calls = [];
        public CancellationToken Cancellation => CancellationToken.None;
        public void ClearOutput(bool wait = false) { }
        public IDisplayHandle Display(object? value)
        {
            var handle = new Handle(this, $"d{Calls.Count}");
            Calls.Add(("display " + handle.DisplayId, value));
            return handle;
        }
        sealed class Handle(RecordingHost host, string id) : IDisplayHandle
        {
            public string DisplayId => id;
            public void Update(object? value) => host.Calls.Add(("update " + id, value));
            public void Clear() { }
        }
    }

    [Fact]
    public void Refreshes_are_throttled_and_the_last_state_is_drawn_on_completion()
    {
        var clock = new ManualClock();
        var host = new RecordingHost();
        var losses = new List<double>();
        var live = new LiveChart(() => Figure.Create().AddLine("loss", losses), TimeSpan.FromSeconds(1), host, clock);

        for (int step = 0; step < 100; step++)
        {
            losses.Add(1.0 / (step + 1));
            live.Refresh();
            clock.Advance(TimeSpan.FromMilliseconds(100)); // ten steps a second
        }
        // Drawn at steps 0, 10, 20 ... 90: once a second, in one output area.
        Assert.Equal(10, live.Renders);
        Assert.Equal("display d0", host.Calls[0].Id);
        Assert.All(host.Calls.Skip(1), c => Assert.Equal("update d0", c.Id));
        Assert.Equal(91, ((Figure)host.Calls[^1].Value!).Traces[0].Count);

        live.Complete();
        Assert.Equal(11, live.Renders);
        Assert.Equal(100, ((Figure)host.Calls[^1].Value!).Traces[0].Count);
        live.Complete(); // nothing new: no redraw
        Assert.Equal(11, live.Renders);
    }

    [Fact]
    public void A_figure_with_a_NaN_loss_still_draws()
    {
        var host = new RecordingHost();
        var live = new LiveChart(() => Figure.Create().AddLine("loss", new[] { 1.0, double.NaN, double.PositiveInfinity }), host: host);
        live.Complete();
        var bundle = Formatters.Format(host.Calls.Single().Value);
        Assert.NotNull(bundle[Figure.SvgMimeType]);
        Assert.NotNull(bundle[Figure.PlotlyMimeType]);
    }
}
