using System.Text.Json;
using Tunebook.Interactive;
using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

/// <summary>The Plotly JSON's structure, read back with System.Text.Json (plotly.js itself checks it in BrowserChartTests).</summary>
public sealed class ChartJsonTests
{
    static JsonElement Parse(Figure figure) => JsonDocument.Parse(figure.ToPlotlyJson()).RootElement;

    [Fact]
    public void Loss_curves_have_data_layout_and_config()
    {
        var root = Parse(ChartSamples.LossCurves());
        Assert.Equal(["data", "layout", "config"], root.EnumerateObject().Select(p => p.Name));
        var data = root.GetProperty("data");
        Assert.Equal(3, data.GetArrayLength());

        var train = data[0];
        Assert.Equal("scatter", train.GetProperty("type").GetString());
        Assert.Equal("lines", train.GetProperty("mode").GetString());
        Assert.Equal("train loss", train.GetProperty("name").GetString());
        Assert.Equal(3000, train.GetProperty("x").GetArrayLength()); // the JSON keeps every point
        Assert.Equal(1, train.GetProperty("x")[0].GetDouble());
        Assert.Equal("#1f77b4", train.GetProperty("line").GetProperty("color").GetString());
        Assert.False(train.TryGetProperty("marker", out _));

        Assert.Equal("lines+markers", data[1].GetProperty("mode").GetString());
        Assert.Equal("#ff7f0e", data[1].GetProperty("marker").GetProperty("color").GetString());
        Assert.Equal("y", data[1].GetProperty("yaxis").GetString());
        Assert.Equal("y2", data[2].GetProperty("yaxis").GetString());
        Assert.Equal("dot", data[2].GetProperty("line").GetProperty("dash").GetString());

        var layout = root.GetProperty("layout");
        Assert.Equal("Fine-tuning loss", layout.GetProperty("title").GetProperty("text").GetString());
        Assert.Equal("step", layout.GetProperty("xaxis").GetProperty("title").GetProperty("text").GetString());
        Assert.Equal("linear", layout.GetProperty("yaxis").GetProperty("type").GetString());
        var y2 = layout.GetProperty("yaxis2");
        Assert.Equal("log", y2.GetProperty("type").GetString());
        Assert.Equal("y", y2.GetProperty("overlaying").GetString());
        Assert.Equal("right", y2.GetProperty("side").GetString());
        Assert.Equal(Colorway.Default, layout.GetProperty("colorway").EnumerateArray().Select(c => c.GetString()));

        var shape = layout.GetProperty("shapes")[0];
        Assert.Equal("line", shape.GetProperty("type").GetString());
        Assert.Equal("paper", shape.GetProperty("yref").GetString());
        Assert.Equal(shape.GetProperty("x0").GetDouble(), shape.GetProperty("x1").GetDouble());
        var label = layout.GetProperty("annotations")[0];
        Assert.StartsWith("best step ", label.GetProperty("text").GetString());
        Assert.Equal(shape.GetProperty("x0").GetDouble(), label.GetProperty("x").GetDouble());

        Assert.True(root.GetProperty("config").GetProperty("responsive").GetBoolean());
    }

    [Fact]
    public void NaN_and_infinity_become_null_gaps()
    {
        var root = Parse(Figure.Create().AddLine("loss", new[] { 1, 2, 3, 4 }, new[] { 2.0, double.NaN, double.PositiveInfinity, 1.0f }));
        var y = root.GetProperty("data")[0].GetProperty("y");
        Assert.Equal([JsonValueKind.Number, JsonValueKind.Null, JsonValueKind.Null, JsonValueKind.Number], y.EnumerateArray().Select(v => v.ValueKind));
        Assert.False(root.GetProperty("data")[0].GetProperty("connectgaps").GetBoolean());
    }

    [Fact]
    public void Hover_text_and_templates_pass_through_and_y_only_lines_count_from_zero()
    {
        var root = Parse(Figure.Create()
            .AddLine("loss", new[] { 10, 20 }, new[] { 1.5, 1.2 }, hoverText: ["epoch 1", "epoch 2"], hoverTemplate: "step %{x}: %{y:.3f}")
            .AddLine("grad norm", new float[] { 3, 2, 1 }));
        var loss = root.GetProperty("data")[0];
        Assert.Equal(["epoch 1", "epoch 2"], loss.GetProperty("hovertext").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal("step %{x}: %{y:.3f}", loss.GetProperty("hovertemplate").GetString());
        Assert.Equal([0.0, 1, 2], root.GetProperty("data")[1].GetProperty("x").EnumerateArray().Select(x => x.GetDouble()));
        Assert.Throws<ArgumentException>(() => Figure.Create().AddLine("loss", new[] { 1, 2 }, new[] { 1, 2 }, hoverText: ["only one"]));
    }

    [Fact]
    public void Grouped_bars_use_a_category_axis()
    {
        var root = Parse(ChartSamples.MethodBars());
        var data = root.GetProperty("data");
        Assert.All(data.EnumerateArray(), t => Assert.Equal("bar", t.GetProperty("type").GetString()));
        Assert.Equal(["full", "LoRA r=16", "QLoRA r=16"], data[0].GetProperty("x").EnumerateArray().Select(x => x.GetString()));
        Assert.Equal(12_615_680, data[0].GetProperty("y")[1].GetInt64());
        var layout = root.GetProperty("layout");
        Assert.Equal("group", layout.GetProperty("barmode").GetString());
        Assert.Equal("category", layout.GetProperty("xaxis").GetProperty("type").GetString());
        Assert.Equal("~s", layout.GetProperty("yaxis").GetProperty("tickformat").GetString());
        Assert.True(layout.GetProperty("showlegend").GetBoolean());
    }

    [Fact]
    public void Histograms_carry_our_bins_as_bars_of_explicit_width()
    {
        var figure = Figure.Create().AddHistogram("lengths", new[] { 1, 2, 2, 3, 3, 3, 10 }, binWidth: 2);
        var bar = Parse(figure).GetProperty("data")[0];
        Assert.Equal("bar", bar.GetProperty("type").GetString());
        Assert.Equal([1.0, 3, 5, 7, 9, 11], bar.GetProperty("x").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal([1.0, 5, 0, 0, 0, 1], bar.GetProperty("y").EnumerateArray().Select(v => v.GetDouble()));
        Assert.All(bar.GetProperty("width").EnumerateArray(), w => Assert.Equal(2, w.GetDouble()));
        Assert.Equal("[10, 12]: 1", bar.GetProperty("hovertext")[5].GetString());
        Assert.Equal(0, Parse(figure).GetProperty("layout").GetProperty("bargap").GetDouble());
    }

    [Fact]
    public void Rows_get_stacked_domains_and_share_the_x_axis()
    {
        var layout = Parse(ChartSamples.LossAndLearningRate()).GetProperty("layout");
        var top = layout.GetProperty("yaxis").GetProperty("domain").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var bottom = layout.GetProperty("yaxis2").GetProperty("domain").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal([0.54, 1.0], top);
        Assert.Equal([0.0, 0.46], bottom);
        Assert.Equal("y2", layout.GetProperty("xaxis").GetProperty("anchor").GetString());
        Assert.Equal(".0e", layout.GetProperty("yaxis2").GetProperty("tickformat").GetString());
        Assert.Equal("y", layout.GetProperty("shapes")[0].GetProperty("yref").GetString());
    }

    [Fact]
    public void Markup_in_text_is_entity_escaped_for_plotly()
    {
        var root = Parse(Figure.Create().AddLine("a<b", new[] { 1 }, new[] { 1 }).WithTitle("x < y & \"z\"\nsecond line"));
        Assert.Equal("x &lt; y &amp; \"z\"<br>second line", root.GetProperty("layout").GetProperty("title").GetProperty("text").GetString());
        Assert.Equal("a&lt;b", root.GetProperty("data")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Fixed_axis_ends_become_ranges_in_plotly_units()
    {
        var layout = Parse(Figure.Create().AddLine("l", new[] { 1, 1000 }, new[] { 1, 2 })
            .WithXAxis(log: true, min: 1, max: 1000).WithYAxis(min: 0)).GetProperty("layout");
        Assert.Equal([0.0, 3.0], layout.GetProperty("xaxis").GetProperty("range").EnumerateArray().Select(v => v.GetDouble()));
        Assert.Equal(0, layout.GetProperty("yaxis").GetProperty("autorangeoptions").GetProperty("minallowed").GetDouble());
        Assert.False(layout.GetProperty("yaxis").TryGetProperty("range", out _));
    }

    [Fact]
    public void Mismatched_or_invalid_input_is_rejected_with_the_trace_named()
    {
        var e = Assert.Throws<ArgumentException>(() => Figure.Create().AddLine("val loss", new[] { 1, 2 }, new[] { 1.0 }));
        Assert.Contains("val loss", e.Message);
        Assert.Contains("x has 2 values but y has 1", e.Message);
        Assert.Throws<ArgumentException>(() => Figure.Create().AddLine("l", new[] { 1 }, new[] { 1 }, color: "red\" onload=\"x"));
        Assert.Throws<InvalidOperationException>(() => Figure.Create().AddBar("b", ["a"], new[] { 1 }).AddLine("l", new[] { 1 }, new[] { 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Figure.Create().AddLine("l", new[] { 1 }, new[] { 1 }, row: 0));
        Assert.Throws<ArgumentException>(() => Figure.Create().WithYAxis(log: true, min: 0));
    }

    [Fact]
    public void Mime_bundle_carries_plain_text_svg_and_plotly_json()
    {
        ChartFormatters.Register();
        try
        {
            var bundle = Formatters.Format(ChartSamples.LossCurves());
            Assert.Equal(["application/vnd.plotly.v1+json", "image/svg+xml", "text/plain"], bundle.MimeTypes.Order());
            Assert.StartsWith("<svg", bundle["image/svg+xml"]);
            JsonDocument.Parse(bundle["application/vnd.plotly.v1+json"]!);
            Assert.True(MimeBundle.IsJsonMimeType(Figure.PlotlyMimeType));
            string text = bundle["text/plain"]!;
            Assert.StartsWith("Figure \"Fine-tuning loss\": 3 traces", text);
            Assert.Contains("train loss: 3000 points, last ", text);
        }
        finally { Formatters.Unregister<Figure>(); }
    }
}
