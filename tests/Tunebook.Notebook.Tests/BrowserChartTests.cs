using System.Text.Json;
using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

/// <summary>
/// Checks the charts with real renderers: the Plotly JSON with plotly.js itself (Plotly.validate and Plotly.newPlot),
/// the SVG with Chromium's layout engine (real font metrics: nothing overlaps, nothing leaves the picture).
/// Screenshots go to build/screenshots/.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserChartTests(BrowserFixture browser)
{
    public static TheoryData<string> SampleNames => new(ChartSamples.All().Select(s => s.Name));

    static Figure Sample(string name) => ChartSamples.All().Single(s => s.Name == name).Figure;

    [Theory]
    [MemberData(nameof(SampleNames))]
    public async Task PlotlyJs_validates_and_draws_every_trace(string name)
    {
        var figure = Sample(name);
        await using var page = await OpenPlotlyPage(name);
        var result = await Plot(page, figure.ToPlotlyJson());

        Assert.Empty(result.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(figure.Traces.Count(t => t is LineTrace), result.GetProperty("scatter").GetInt32());
        Assert.Equal(figure.Traces.Count(t => t is BarTrace), result.GetProperty("bars").GetInt32());
        // Every drawn line has geometry (a NaN gap must not blank the whole trace).
        Assert.All(result.GetProperty("linePathLengths").EnumerateArray(), len => Assert.True(len.GetInt32() > 10));
        Assert.Equal(figure.Traces.Count(t => t.ShowInLegend) >= 2, result.GetProperty("legendItems").GetInt32() > 0);
        Assert.Empty(page.Errors);
        await page.ScreenshotAsync($"plotly-{name}");
    }

    [Fact]
    public async Task PlotlyJs_shows_markup_characters_in_titles_literally()
    {
        string title = "loss < 0.5 & \"ppl\" <b>not bold</b>";
        var figure = Figure.Create().AddLine("a<b & c", new[] { 1, 2, 3 }, new[] { 3.0, double.NaN, 1.0 })
            .AddLine("second", new[] { 1, 2, 3 }, new[] { 2.0, 2.5, 1.5 }).WithTitle(title);
        await using var page = await OpenPlotlyPage("escaping");
        var result = await Plot(page, figure.ToPlotlyJson());

        Assert.Empty(result.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(title, result.GetProperty("title").GetString());
        Assert.Contains("a<b & c", result.GetProperty("legendTexts").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task PlotlyJs_accepts_fixed_and_half_fixed_axis_ranges()
    {
        var figure = Figure.Create().AddLine("loss", new[] { 1, 10, 100, 1000 }, new[] { 4.0, 2.0, 1.0, 0.5 })
            .WithXAxis("step", log: true, min: 1, max: 1000).WithYAxis("loss", min: 0);
        await using var page = await OpenPlotlyPage("ranges");
        var result = await Plot(page, figure.ToPlotlyJson());

        Assert.Empty(result.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        var xRange = result.GetProperty("xRange").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal([0.0, 3.0], xRange.Select(v => Math.Round(v, 6)));  // decades of 1..1000
        var yRange = result.GetProperty("yRange").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(0, yRange[0]);
        Assert.True(yRange[1] >= 4, $"autoranged maximum {yRange[1]} should cover the data");
    }

    [Theory]
    [MemberData(nameof(SampleNames))]
    public async Task Svg_lays_out_without_overlaps_in_chromium(string name)
    {
        var figure = Sample(name);
        string svg = figure.ToSvg();
        await using var page = await browser.OpenHtmlAsync($"svg-{name}",
            $"<!DOCTYPE html><html><body style=\"margin:0;background:#fff\">{svg}</body></html>", 800, 480);
        var g = await page.Page.EvaluateAsync<JsonElement>(SvgGeometryScript);
        await page.ScreenshotAsync($"svg-{name}");

        Assert.Equal(Figure.DefaultWidth, g.GetProperty("width").GetDouble());
        Assert.Equal(Figure.DefaultHeight, g.GetProperty("height").GetDouble());
        var texts = g.GetProperty("texts").EnumerateArray().Select(Box.Of).ToList();
        Assert.NotEmpty(texts);
        foreach (var t in texts)
            Assert.True(t.X >= -0.5 && t.Y >= -0.5 && t.Right <= Figure.DefaultWidth + 0.5 && t.Bottom <= Figure.DefaultHeight + 0.5,
                $"{name}: text '{t.Text}' ({t}) leaves the {Figure.DefaultWidth}x{Figure.DefaultHeight} picture");

        var plots = g.GetProperty("plots").EnumerateArray().Select(Box.Of).ToList();
        if (g.GetProperty("legend").ValueKind == JsonValueKind.Object)
        {
            var legend = Box.Of(g.GetProperty("legend"));
            foreach (var plot in plots) Assert.False(legend.Overlaps(plot), $"{name}: legend {legend} overlaps the plot area {plot}");
            foreach (var t in texts.Where(t => t.Class is "title" or "ytitle" or "y2title" or "y2tick" or "ytick"))
                Assert.False(legend.Overlaps(t), $"{name}: legend {legend} overlaps '{t.Text}' {t}");
        }
        foreach (var cls in new[] { "xtick", "ytick", "y2tick" })
        {
            var ticks = texts.Where(t => t.Class == cls && t.Angle == 0).ToList();
            for (int i = 0; i < ticks.Count; i++)
                for (int j = i + 1; j < ticks.Count; j++)
                    Assert.False(ticks[i].Overlaps(ticks[j]), $"{name}: tick labels '{ticks[i].Text}' and '{ticks[j].Text}' overlap");
        }
        // Turned labels are parallel: their boxes overlap, so check the distance between the lines of text instead.
        var turned = texts.Where(t => t.Class == "xtick" && t.Angle != 0).OrderBy(t => t.Right).ToList();
        for (int i = 1; i < turned.Count; i++)
        {
            double gap = (turned[i].Right - turned[i - 1].Right) * Math.Sin(Math.Abs(turned[i].Angle) * Math.PI / 180);
            Assert.True(gap >= 12, $"{name}: turned labels '{turned[i - 1].Text}' and '{turned[i].Text}' are {gap:0.#} px apart");
        }
        // Axis titles clear their tick labels, and tick labels stay outside the plot area.
        foreach (var (title, tick) in new[] { ("ytitle", "ytick"), ("y2title", "y2tick"), ("xtitle", "xtick") })
            foreach (var t in texts.Where(t => t.Class == title))
                foreach (var k in texts.Where(k => k.Class == tick))
                    Assert.False(t.Overlaps(k), $"{name}: axis title '{t.Text}' overlaps tick '{k.Text}'");
        foreach (var k in texts.Where(t => t.Class is "xtick" or "ytick" or "y2tick"))
            foreach (var plot in plots)
                Assert.False(k.Overlaps(plot.Shrink(1)), $"{name}: tick '{k.Text}' {k} is inside the plot area {plot}");
    }

    [Fact]
    public async Task Svg_of_a_live_chart_with_thousands_of_points_renders_downsampled()
    {
        var figure = ChartSamples.LossCurves(steps: 20_000);
        string svg = figure.ToSvg();
        await using var page = await browser.OpenHtmlAsync("svg-live-20k", $"<!DOCTYPE html><html><body style=\"margin:0\">{svg}</body></html>", 800, 480);
        var pathPoints = await page.Page.EvaluateAsync<int>(
            "() => document.querySelector('svg.tunebook-chart g.trace[data-name=\"train loss\"] path.line').getAttribute('d').split(/[ML]/).length - 1");
        // LTTB keeps about two points per pixel of the plot width, not 20,000.
        Assert.InRange(pathPoints, 200, 2 * Figure.DefaultWidth);
        await page.ScreenshotAsync("svg-live-20k");
    }

    static readonly (string Format, double[] Values)[] D3Cases =
    [
        ("~s", [0.5, 1234, 12_615_680, 1_100_048_384, 15e9, -2500]),
        (".2s", [1234, 0.0123, 999_999, -4.2e6]),
        (".2f", [3.14159, -1.255, 1000, 0, 0.125]),
        (".0%", [0.256, 1, -0.05, 0.999]),
        (",d", [1234567, -9876, 12, 0]),
        (".3~g", [0.000123456, 123456, 1.5, 2e-9]),
        (".1e", [12345, 0.00042, -7, 1, 0.125]),
        (".0e", [2e-4, 1e-5, 3e6, 5]),
    ];

    [Fact]
    public async Task Svg_tick_labels_match_plotlys_d3_format()
    {
        // Plotly labels ticks placed at exactly these values with the same tickformat; the SVG must print the same.
        await using var page = await OpenPlotlyPage("d3-format");
        foreach (var (format, values) in D3Cases)
        {
            var json = System.Text.Json.JsonSerializer.Serialize(new
            {
                data = new[] { new { type = "scatter", mode = "markers", x = values.Select((_, i) => i), y = values } },
                layout = new { yaxis = new { tickmode = "array", tickvals = values, tickformat = format, range = new[] { values.Min() - 1, values.Max() + 1 } } },
            }, Tunebook.Tests.TestJson.Options);
            var labels = await page.Page.EvaluateAsync<string[]>("""
                async (json) => {
                  const fig = JSON.parse(json);
                  const div = document.getElementById('plot');
                  await Plotly.newPlot(div, fig.data, fig.layout);
                  return fig.layout.yaxis.tickvals.map(v => {
                    const t = [...div.querySelectorAll('.ytick')].find(g => Math.abs(g.__data__.x - v) <= Math.abs(v) * 1e-12);
                    return t ? t.textContent : null;
                  });
                }
                """, json);
            Assert.Equal(labels.Select(l => $"{format} {l}"), values.Select(v => $"{format} {NumberFormat.D3(format, v)}"));
        }
    }

    async Task<BrowserPage> OpenPlotlyPage(string name)
    {
        var page = await browser.OpenHtmlAsync($"plotly-{name}",
            $"<!DOCTYPE html><html><head><script src=\"{new Uri(ChartPaths.PlotlyJs).AbsoluteUri}\"></script></head>" +
            "<body style=\"margin:0\"><div id=\"plot\" style=\"width:900px;height:450px\"></div></body></html>", 920, 470);
        Assert.True(await page.Page.EvaluateAsync<bool>("() => typeof Plotly === 'object'"), $"plotly.js did not load from {ChartPaths.PlotlyJs}");
        return page;
    }

    static async Task<JsonElement> Plot(BrowserPage page, string json) => await page.Page.EvaluateAsync<JsonElement>("""
        async (json) => {
          const fig = JSON.parse(json);
          const errors = Plotly.validate(fig.data, fig.layout) || [];
          const div = document.getElementById('plot');
          await Plotly.newPlot(div, fig.data, fig.layout, fig.config);
          const title = div.querySelector('.gtitle');
          return {
            errors: errors.map(e => e.msg),
            scatter: div.querySelectorAll('.scatterlayer .trace').length,
            bars: div.querySelectorAll('.barlayer .trace').length,
            linePathLengths: [...div.querySelectorAll('.scatterlayer .trace path.js-line')].map(p => (p.getAttribute('d') || '').length),
            legendItems: div.querySelectorAll('.legend .traces').length,
            legendTexts: [...div.querySelectorAll('.legend .legendtext')].map(t => t.textContent),
            title: title ? title.textContent : null,
            xRange: div._fullLayout.xaxis.range,
            yRange: div._fullLayout.yaxis.range,
          };
        }
        """, json);

    const string SvgGeometryScript = """
        () => {
          const svg = document.querySelector('svg.tunebook-chart');
          const r = svg.getBoundingClientRect();
          const rel = b => ({ x: b.x - r.x, y: b.y - r.y, w: b.width, h: b.height });
          const texts = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim().length)
            .map(t => ({ cls: t.getAttribute('class') || '', text: t.textContent, ...rel(t.getBoundingClientRect()),
                         angle: +(((t.getAttribute('transform') || '').match(/rotate\((-?[0-9.]+)\)/) || [0, 0])[1]) }));
          const plots = [...svg.querySelectorAll('clipPath rect')].map(c => ({ cls: 'plot', text: '',
            x: +c.getAttribute('x'), y: +c.getAttribute('y'), w: +c.getAttribute('width'), h: +c.getAttribute('height') }));
          const legend = svg.querySelector('g.legend');
          return { width: r.width, height: r.height, texts, plots,
                   legend: legend ? { cls: 'legend', text: '', ...rel(legend.getBoundingClientRect()) } : null };
        }
        """;

    sealed record Box(string Class, string Text, double X, double Y, double W, double H, double Angle = 0)
    {
        public double Right => X + W;
        public double Bottom => Y + H;
        public static Box Of(JsonElement e) => new(e.GetProperty("cls").GetString()!, e.GetProperty("text").GetString()!,
            e.GetProperty("x").GetDouble(), e.GetProperty("y").GetDouble(), e.GetProperty("w").GetDouble(), e.GetProperty("h").GetDouble(),
            e.TryGetProperty("angle", out var a) ? a.GetDouble() : 0);
        public bool Overlaps(Box o) => X < o.Right && o.X < Right && Y < o.Bottom && o.Y < Bottom;
        public Box Shrink(double by) => this with { X = X + by, Y = Y + by, W = W - 2 * by, H = H - 2 * by };
        public override string ToString() => $"[{X:0.#},{Y:0.#} {W:0.#}x{H:0.#}]";
    }
}
