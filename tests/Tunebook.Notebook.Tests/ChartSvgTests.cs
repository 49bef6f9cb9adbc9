using System.Xml.Linq;
using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

/// <summary>The static SVG: well-formed, the right elements, gaps for NaN, escaped text (Chromium checks the layout in BrowserChartTests).</summary>
public sealed class ChartSvgTests
{
    static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    static XElement Render(Figure figure, int? width = null, int? height = null) => XDocument.Parse(figure.ToSvg(width, height)).Root!;

    static IEnumerable<XElement> WithClass(XElement root, string name, string cls) =>
        root.Descendants(Svg + name).Where(e => ((string?)e.Attribute("class"))?.Split(' ').Contains(cls) == true);

    static XElement Trace(XElement root, string name) =>
        root.Descendants(Svg + "g").Single(g => (string?)g.Attribute("data-name") == name);

    [Fact]
    public void Every_sample_is_well_formed_xml_of_the_requested_size()
    {
        foreach (var (name, figure) in ChartSamples.All())
        {
            var root = Render(figure, 640, 400);
            Assert.Equal(Svg + "svg", root.Name);
            Assert.Equal("640", (string?)root.Attribute("width"));
            Assert.Equal("0 0 640 400", (string?)root.Attribute("viewBox"));
            Assert.DoesNotContain("<?xml", figure.ToSvg());
            Assert.Empty(root.Descendants(Svg + "script"));
        }
    }

    [Fact]
    public void A_NaN_leaves_a_gap_that_splits_the_line()
    {
        var root = Render(Figure.Create().AddLine("loss", new[] { 1, 2, 3, 4, 5, 6 }, new[] { 1.0, 2, double.NaN, 4, 5, 6 }, markers: true));
        var path = (string)Trace(root, "loss").Element(Svg + "path")!.Attribute("d")!;
        Assert.Equal(2, path.Count(c => c == 'M'));
        Assert.Equal(3, path.Count(c => c == 'L'));
        Assert.Equal(5, Trace(root, "loss").Descendants(Svg + "circle").Count());
    }

    [Fact]
    public void Lines_and_markers_have_one_point_per_value()
    {
        var root = Render(Figure.Create()
            .AddLine("train", Enumerable.Range(0, 50), Enumerable.Range(0, 50).Select(i => 1.0 / (i + 1)))
            .AddLine("eval", new[] { 10, 20, 30, 40 }, new[] { 0.5, 0.3, 0.2, 0.15 }, markers: true));
        Assert.Equal(50, ((string)Trace(root, "train").Element(Svg + "path")!.Attribute("d")!).Count(c => c is 'M' or 'L'));
        Assert.Empty(Trace(root, "train").Descendants(Svg + "circle"));
        Assert.Equal(4, Trace(root, "eval").Descendants(Svg + "circle").Count());
        Assert.Equal(2, WithClass(root, "path", "line").Count());
        Assert.Equal(2, WithClass(root, "g", "legend-item").Count());
    }

    [Fact]
    public void Long_lines_are_downsampled_but_keep_spikes()
    {
        var steps = Enumerable.Range(0, 50_000).ToArray();
        var loss = steps.Select(s => 2 * Math.Exp(-s / 9000.0) + 0.5).ToArray();
        loss[31_000] = 9; // a divergence spike
        var root = Render(Figure.Create().AddLine("loss", steps, loss));
        var d = (string)Trace(root, "loss").Element(Svg + "path")!.Attribute("d")!;
        int points = d.Count(c => c is 'M' or 'L');
        Assert.InRange(points, 100, 2 * Figure.DefaultWidth);
        // The spike is the topmost point drawn: its y is the smallest of the path.
        var ys = d.Split(['M', 'L'], StringSplitOptions.RemoveEmptyEntries).Select(p => double.Parse(p.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture));
        var yTicks = WithClass(root, "text", "ytick").ToList();
        Assert.True(ys.Min() < double.Parse((string)yTicks.Last().Attribute("y")!, System.Globalization.CultureInfo.InvariantCulture) + 40);
    }

    [Fact]
    public void Markup_characters_in_titles_and_names_are_escaped()
    {
        string title = "loss < 0.5 & \"ppl\" 'q' \u0001end";
        var svg = Figure.Create().AddLine("a<b&c", new[] { 1, 2 }, new[] { 1, 2 }).AddLine("d", new[] { 1, 2 }, new[] { 2, 1 })
            .WithTitle(title).WithXAxis("x <&> axis").ToSvg();
        var root = XDocument.Parse(svg).Root!;
        Assert.Equal("loss < 0.5 & \"ppl\" 'q' end", root.Element(Svg + "title")!.Value);
        Assert.Equal("loss < 0.5 & \"ppl\" 'q' end", WithClass(root, "text", "title").Single().Value);
        Assert.Contains(root.Descendants(Svg + "text"), t => t.Value == "a<b&c");
        Assert.Equal("x <&> axis", WithClass(root, "text", "xtitle").Single().Value);
        Assert.Contains("&lt;", svg);
    }

    [Fact]
    public void Y_ticks_follow_the_nice_ticks_algorithm()
    {
        // Plot height 440 − 18 (top) − 34 (bottom) = 388 px, at 50 px per tick → 8 ticks → 10 / 7 = 1.43 → step 1.
        var root = Render(Figure.Create().AddLine("l", new[] { 0, 1 }, new[] { 0.13, 9.7 }).WithYAxis(min: 0, max: 10));
        Assert.Equal(Enumerable.Range(0, 11).Select(i => i.ToString()), WithClass(root, "text", "ytick").Select(t => t.Value));

        // Shorter plot: 200 − 18 − 34 = 148 px → 3 ticks → 10 / 2 = 5 → step 5.
        var small = Render(Figure.Create().AddLine("l", new[] { 0, 1 }, new[] { 0.13, 9.7 }).WithYAxis(min: 0, max: 10), 400, 200);
        Assert.Equal(["0", "5", "10"], WithClass(small, "text", "ytick").Select(t => t.Value));
    }

    [Fact]
    public void Log_axes_get_decade_ticks_and_skip_values_that_are_not_positive()
    {
        var root = Render(Figure.Create().AddLine("ppl", new[] { 1, 2, 3, 4, 5 }, new[] { 3000.0, 0, -1, 20, 0.5 }, markers: true).WithYAxis(log: true));
        Assert.Equal(["1", "10", "100", "1000"], WithClass(root, "text", "ytick").Select(t => t.Value));
        Assert.Equal(3, Trace(root, "ppl").Descendants(Svg + "circle").Count());
    }

    [Fact]
    public void Tick_formats_apply_to_the_svg_labels()
    {
        var root = Render(ChartSamples.MethodBars());
        Assert.Contains("5G", WithClass(root, "text", "ytick").Select(t => t.Value));
        Assert.Equal(["full", "LoRA r=16", "QLoRA r=16"], WithClass(root, "text", "xtick").Select(t => t.Value));
        Assert.Equal(6, root.Descendants(Svg + "g").Where(g => ((string?)g.Attribute("class"))?.Contains("bars") == true).SelectMany(g => g.Elements(Svg + "rect")).Count());
    }

    [Fact]
    public void Long_category_names_keep_both_ends_and_crowded_ones_turn_upright()
    {
        var root = Render(ChartSamples.ModuleParameters());
        var labels = WithClass(root, "text", "xtick").ToList();
        Assert.Equal(14, labels.Count);
        Assert.Contains(labels, l => l.Value.StartsWith("model.layers.0") && l.Value.EndsWith("q_proj"));
        Assert.All(labels, l => Assert.Contains("rotate(-30)", (string)l.Attribute("transform")!));

        var crowded = Figure.Create().AddBar("params", Enumerable.Range(0, 120).Select(i => $"layer.{i}.mlp.down_proj"), Enumerable.Repeat(1, 120));
        var upright = WithClass(Render(crowded), "text", "xtick").ToList();
        Assert.All(upright, l => Assert.Contains("rotate(-90)", (string)l.Attribute("transform")!));
        Assert.InRange(upright.Count, 20, 60); // every second or third name: 120 would not fit in ~620 px
    }

    [Fact]
    public void Histogram_bars_match_the_bins()
    {
        var root = Render(Figure.Create().AddHistogram("lengths", new[] { 1, 2, 2, 3, 3, 3, 10 }, binWidth: 2));
        var rects = Trace(root, "lengths").Elements(Svg + "rect").ToList();
        Assert.Equal(3, rects.Count); // empty bins draw nothing
        var heights = rects.Select(r => double.Parse((string)r.Attribute("height")!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(5.0, heights[1] / heights[0], 1);
    }

    [Fact]
    public void Empty_and_all_NaN_figures_render_an_empty_chart()
    {
        foreach (var figure in new[]
        {
            Figure.Create(),
            Figure.Create().AddLine("loss", Array.Empty<int>(), Array.Empty<double>()),
            Figure.Create().AddLine("loss", new[] { 1, 2 }, new[] { double.NaN, double.NaN }).WithYAxis(log: true),
        })
        {
            var root = Render(figure);
            Assert.Equal("no data yet", WithClass(root, "text", "no-data").Single().Value);
            Assert.Empty(WithClass(root, "path", "line"));
        }
    }

    [Fact]
    public void Marker_lines_and_annotations_are_drawn()
    {
        var root = Render(ChartSamples.LossAndLearningRate());
        Assert.Single(WithClass(root, "line", "marker-line"));
        Assert.Equal("target 0.6", WithClass(root, "text", "marker-label").Single().Value);
        Assert.Single(WithClass(root, "g", "point-annotation"));
        Assert.Equal(2, root.Descendants(Svg + "clipPath").Count());
    }

    [Fact]
    public void A_legend_with_more_entries_than_fit_counts_the_rest()
    {
        var root = Render(ChartSamples.ManyRuns());
        int shown = WithClass(root, "g", "legend-item").Count();
        var more = WithClass(root, "text", "legend-more").Single().Value;
        Assert.Equal($"+{30 - shown} more", more);
        Assert.InRange(shown, 10, 29);
        // Long run names are shortened with an ellipsis, not cut by the picture's edge.
        Assert.All(WithClass(root, "g", "legend-item").Select(g => g.Element(Svg + "text")!.Value), name => Assert.EndsWith("\u2026", name));
    }

    [Fact]
    public void Clip_path_ids_are_unique_across_renders()
    {
        var figure = ChartSamples.Sweep();
        var a = Render(figure).Descendants(Svg + "clipPath").Select(c => (string)c.Attribute("id")!);
        var b = Render(figure).Descendants(Svg + "clipPath").Select(c => (string)c.Attribute("id")!);
        Assert.Empty(a.Intersect(b));
    }
}
