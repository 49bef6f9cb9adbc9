using System.Globalization;
using System.Numerics;
using System.Text;
using Tunebook.Interactive;

namespace Tunebook.Notebook.Charts;

/// <summary>
/// A chart built from typed calls and shown two ways at once: as a Plotly figure
/// (<c>application/vnd.plotly.v1+json</c>, interactive in VS Code and JupyterLab) and as a static SVG
/// (<c>image/svg+xml</c>, for nbconvert, GitHub and front ends that run no scripts).
/// <code>
/// Figure.Create()
///     .AddLine("train loss", steps, trainLoss)
///     .AddLine("val loss", evalSteps, valLoss, markers: true)
///     .AddVerticalLine(bestStep, "best step")
///     .WithTitle("Loss").WithXAxis("step").WithYAxis("loss", log: true)
/// </code>
/// Add methods copy the data they are given, so a training loop can keep appending to its own lists and
/// display a new Figure each time. NaN and ∞ values never throw: they leave a gap in a line and are skipped
/// in bars. Methods return the figure itself so calls chain; a Figure is not thread-safe while being built.
/// </summary>
public sealed class Figure : Formatters.IRichDisplay
{
    /// <summary>The MIME type of the Plotly figure JSON that Jupyter front ends render.</summary>
    public const string PlotlyMimeType = "application/vnd.plotly.v1+json";
    /// <summary>The MIME type of the static rendering.</summary>
    public const string SvgMimeType = "image/svg+xml";

    /// <summary>The SVG size used when none is given: wide enough for a notebook cell, short enough to see code and chart together.</summary>
    public const int DefaultWidth = 760, DefaultHeight = 440;

    /// <summary>The most rows a figure may have.</summary>
    public const int MaxRows = 8;

    readonly List<Trace> _traces = [];
    readonly List<ReferenceLine> _lines = [];
    readonly List<PointAnnotation> _annotations = [];
    readonly Dictionary<(int Row, bool Secondary), Axis> _yAxes = [];

    /// <summary>A new, empty figure.</summary>
    public static Figure Create() => new();

    public IReadOnlyList<Trace> Traces => _traces;
    public IReadOnlyList<ReferenceLine> ReferenceLines => _lines;
    public IReadOnlyList<PointAnnotation> Annotations => _annotations;
    public string? Title { get; private set; }
    public Axis XAxis { get; private set; } = new();
    /// <summary>Width and height for Plotly and the SVG, or null for the defaults (Plotly then fills the cell's width).</summary>
    public (int Width, int Height)? Size { get; private set; }
    /// <summary>Whether the legend shows; null shows it when there are two or more legend entries.</summary>
    public bool? ShowLegend { get; private set; }
    public BarMode BarMode { get; private set; } = BarMode.Group;

    /// <summary>Number of subplot rows: the largest row any trace, axis or line uses.</summary>
    public int Rows => Math.Max(1, Math.Max(
        _traces.Count == 0 ? 1 : _traces.Max(t => t.Row),
        Math.Max(_yAxes.Count == 0 ? 1 : _yAxes.Keys.Max(k => k.Row), _lines.Count == 0 ? 1 : _lines.Max(l => l.Row))));

    /// <summary>The y axis settings of a row (secondary: the right-hand axis).</summary>
    public Axis YAxis(int row = 1, bool secondary = false) => _yAxes.TryGetValue((row, secondary), out var a) ? a : new Axis();

    /// <summary>True when some trace or line of <paramref name="row"/> uses the secondary y axis.</summary>
    public bool HasSecondaryY(int row) =>
        _traces.Any(t => t.Row == row && t.SecondaryY) || _yAxes.ContainsKey((row, true)) ||
        _lines.Any(l => !l.Vertical && l.Row == row && l.SecondaryY) || _annotations.Any(a => a.Row == row && a.SecondaryY);

    /// <summary>True when the x axis holds categories (bar charts by name) rather than numbers.</summary>
    public bool HasCategoryX => _traces.Any(t => t is BarTrace { Categories: not null });

    /// <summary>Every category of the x axis, in order of first appearance.</summary>
    public IReadOnlyList<string> Categories =>
        _traces.OfType<BarTrace>().Where(b => b.Categories is not null).SelectMany(b => b.Categories!).Distinct().ToArray();

    // ---- traces ----

    /// <summary>
    /// Adds a line of <paramref name="y"/> against <paramref name="x"/> (any numeric types: int steps, float losses).
    /// NaN or ∞ in either leaves a gap. With <paramref name="markers"/> each point also gets a circle, which is what a
    /// sparse series such as an evaluation every 100 steps needs.
    /// </summary>
    public Figure AddLine<TX, TY>(string name, IEnumerable<TX> x, IEnumerable<TY> y,
        bool markers = false, string? color = null, LineDash dash = LineDash.Solid, double width = 2,
        int row = 1, bool secondaryY = false, IEnumerable<string>? hoverText = null, string? hoverTemplate = null,
        bool showInLegend = true)
        where TX : INumberBase<TX> where TY : INumberBase<TY>
        => AddScatterTrace(name, Trace.ToDoubles(x, nameof(x)), Trace.ToDoubles(y, nameof(y)), lines: true, markers,
            color, dash, width, markerSize: 6, row, secondaryY, hoverText, hoverTemplate, showInLegend);

    /// <summary>Adds a line of <paramref name="y"/> against its index 0, 1, 2...</summary>
    public Figure AddLine<TY>(string name, IEnumerable<TY> y, bool markers = false, string? color = null,
        LineDash dash = LineDash.Solid, double width = 2, int row = 1, bool secondaryY = false)
        where TY : INumberBase<TY>
    {
        var ys = Trace.ToDoubles(y, nameof(y));
        return AddScatterTrace(name, Enumerable.Range(0, ys.Length).Select(i => (double)i).ToArray(), ys, lines: true, markers,
            color, dash, width, markerSize: 6, row, secondaryY, null, null, true);
    }

    /// <summary>Adds unconnected markers (a scatter plot).</summary>
    public Figure AddScatter<TX, TY>(string name, IEnumerable<TX> x, IEnumerable<TY> y,
        string? color = null, double markerSize = 6, int row = 1, bool secondaryY = false,
        IEnumerable<string>? hoverText = null, string? hoverTemplate = null, bool showInLegend = true)
        where TX : INumberBase<TX> where TY : INumberBase<TY>
        => AddScatterTrace(name, Trace.ToDoubles(x, nameof(x)), Trace.ToDoubles(y, nameof(y)), lines: false, markers: true,
            color, LineDash.Solid, 2, markerSize, row, secondaryY, hoverText, hoverTemplate, showInLegend);

    Figure AddScatterTrace(string name, double[] x, double[] y, bool lines, bool markers, string? color, LineDash dash,
        double width, double markerSize, int row, bool secondaryY, IEnumerable<string>? hoverText, string? hoverTemplate, bool showInLegend)
    {
        name = CheckName(name);
        if (x.Length != y.Length) throw new ArgumentException($"Trace '{name}': x has {x.Length} values but y has {y.Length}; they must pair up.");
        if (HasCategoryX) throw new InvalidOperationException($"Trace '{name}': this figure's x axis holds bar categories, so it cannot also take a numeric line.");
        CheckRow(row, name);
        if (!(width >= 0 && width <= 100)) throw new ArgumentOutOfRangeException(nameof(width), width, $"Trace '{name}': line width must be between 0 and 100 pixels.");
        if (!(markerSize > 0 && markerSize <= 100)) throw new ArgumentOutOfRangeException(nameof(markerSize), markerSize, $"Trace '{name}': marker size must be between 0 and 100 pixels.");
        var hover = hoverText?.ToArray();
        if (hover is not null && hover.Length != y.Length)
            throw new ArgumentException($"Trace '{name}': {hover.Length} hover texts for {y.Length} points.");
        _traces.Add(new LineTrace(name, PickColor(color, name), row, secondaryY, showInLegend, x, y, lines, markers, dash, width,
            markerSize, hover, hoverTemplate));
        return this;
    }

    /// <summary>
    /// Adds bars, one per category: for example trainable parameters of "full", "LoRA" and "QLoRA". Several bar
    /// traces over the same categories are grouped side by side (see <see cref="WithBarMode"/>).
    /// </summary>
    public Figure AddBar<TY>(string name, IEnumerable<string> categories, IEnumerable<TY> values, string? color = null,
        int row = 1, IEnumerable<string>? hoverText = null, bool showInLegend = true)
        where TY : INumberBase<TY>
    {
        name = CheckName(name);
        ArgumentNullException.ThrowIfNull(categories);
        var cats = categories.Select(c => c ?? "").ToArray();
        var ys = Trace.ToDoubles(values, nameof(values));
        if (cats.Length != ys.Length) throw new ArgumentException($"Bar trace '{name}': {cats.Length} categories but {ys.Length} values.");
        if (cats.Distinct().Count() != cats.Length) throw new ArgumentException($"Bar trace '{name}': category names must be distinct.");
        var numeric = _traces.FirstOrDefault(t => t is LineTrace || t is BarTrace { Categories: null });
        if (numeric is not null) throw new InvalidOperationException($"Bar trace '{name}': this figure's x axis is numeric (trace '{numeric.Name}'), so it cannot also take categories.");
        CheckRow(row, name);
        var hover = hoverText?.ToArray();
        if (hover is not null && hover.Length != ys.Length) throw new ArgumentException($"Bar trace '{name}': {hover.Length} hover texts for {ys.Length} bars.");
        _traces.Add(new BarTrace(name, PickColor(color, name), row, showInLegend, cats, null, null, ys, hover, null));
        return this;
    }

    /// <summary>
    /// Adds a histogram of <paramref name="values"/> (for example token lengths). Bins are computed here
    /// (see <see cref="HistogramBins.Compute"/>): <paramref name="bins"/> equal bins, or bins of
    /// <paramref name="binWidth"/>, or a nice automatic width.
    /// </summary>
    public Figure AddHistogram<TV>(string name, IEnumerable<TV> values, int? bins = null, double? binWidth = null,
        string? color = null, int row = 1)
        where TV : INumberBase<TV>
        => AddHistogram(name, HistogramBins.Compute(Trace.ToDoubles(values, nameof(values)), bins, binWidth), color, row);

    /// <summary>Adds a histogram from bins that were already counted.</summary>
    public Figure AddHistogram(string name, HistogramBins bins, string? color = null, int row = 1)
    {
        name = CheckName(name);
        ArgumentNullException.ThrowIfNull(bins);
        if (HasCategoryX) throw new InvalidOperationException($"Histogram '{name}': this figure's x axis holds bar categories.");
        CheckRow(row, name);
        int n = bins.Counts.Count;
        var centers = new double[n]; var widths = new double[n]; var heights = new double[n]; var hover = new string[n];
        for (int i = 0; i < n; i++)
        {
            double lo = bins.Edges[i], hi = bins.Edges[i + 1];
            centers[i] = (lo + hi) / 2; widths[i] = hi - lo; heights[i] = bins.Counts[i];
            string close = i == n - 1 ? "]" : ")";
            hover[i] = string.Create(CultureInfo.InvariantCulture, $"[{lo:G6}, {hi:G6}{close}: {bins.Counts[i]}");
        }
        _traces.Add(new BarTrace(name, PickColor(color, name), row, true, null, centers, widths, heights, hover, bins));
        return this;
    }

    // ---- annotations ----

    /// <summary>A vertical line at <paramref name="x"/> across every row, with an optional label ("best step", "early stop").</summary>
    public Figure AddVerticalLine(double x, string? label = null, string? color = null, LineDash dash = LineDash.Dash)
    {
        if (!double.IsFinite(x)) return this; // a marker at a NaN step is nothing to draw, not an error
        _lines.Add(new ReferenceLine(true, x, label, color is null ? "#444444" : Trace.CheckColor(color, label ?? "vertical line"), dash, 1, false));
        return this;
    }

    /// <summary>A horizontal line at <paramref name="y"/> (for example a target loss), on one row's primary or secondary axis.</summary>
    public Figure AddHorizontalLine(double y, string? label = null, string? color = null, LineDash dash = LineDash.Dash,
        int row = 1, bool secondaryY = false)
    {
        if (!double.IsFinite(y)) return this;
        CheckRow(row, label ?? "horizontal line");
        _lines.Add(new ReferenceLine(false, y, label, color is null ? "#444444" : Trace.CheckColor(color, label ?? "horizontal line"), dash, row, secondaryY));
        return this;
    }

    /// <summary>A text label with an arrow pointing at the data point (<paramref name="x"/>, <paramref name="y"/>).</summary>
    public Figure Annotate(double x, double y, string text, int row = 1, bool secondaryY = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!double.IsFinite(x) || !double.IsFinite(y)) return this;
        CheckRow(row, text);
        _annotations.Add(new PointAnnotation(x, y, text, row, secondaryY));
        return this;
    }

    // ---- layout ----

    /// <summary>The chart title.</summary>
    public Figure WithTitle(string? title) { Title = title; return this; }

    /// <summary>Sets the x axis (shared by all rows).</summary>
    public Figure WithXAxis(string? title = null, bool log = false, double? min = null, double? max = null, string? tickFormat = null, bool showGrid = true)
        => WithXAxis(new Axis { Title = title, Log = log, Min = min, Max = max, TickFormat = tickFormat, ShowGrid = showGrid });

    /// <summary>Sets the x axis from a full <see cref="Axis"/>.</summary>
    public Figure WithXAxis(Axis axis) { XAxis = Axis.Checked(axis, "x axis"); return this; }

    /// <summary>Sets a row's primary (left) y axis.</summary>
    public Figure WithYAxis(string? title = null, bool log = false, double? min = null, double? max = null, string? tickFormat = null,
        bool showGrid = true, int row = 1)
        => WithYAxis(new Axis { Title = title, Log = log, Min = min, Max = max, TickFormat = tickFormat, ShowGrid = showGrid }, row);

    /// <summary>Sets a row's primary y axis from a full <see cref="Axis"/>.</summary>
    public Figure WithYAxis(Axis axis, int row = 1)
    {
        CheckRow(row, "y axis");
        _yAxes[(row, false)] = Axis.Checked(axis, $"y axis of row {row}");
        return this;
    }

    /// <summary>Sets a row's secondary (right-hand) y axis, for example perplexity next to loss. Its grid is off by default so the two grids do not clash.</summary>
    public Figure WithSecondaryYAxis(string? title = null, bool log = false, double? min = null, double? max = null,
        string? tickFormat = null, int row = 1)
    {
        CheckRow(row, "secondary y axis");
        _yAxes[(row, true)] = Axis.Checked(new Axis { Title = title, Log = log, Min = min, Max = max, TickFormat = tickFormat, ShowGrid = false },
            $"secondary y axis of row {row}");
        return this;
    }

    /// <summary>Fixes the figure's size in pixels (Plotly's layout width/height and the SVG's size).</summary>
    public Figure WithSize(int width, int height)
    {
        if (width is < 200 or > 4000 || height is < 150 or > 4000)
            throw new ArgumentOutOfRangeException(nameof(width), $"Figure size {width}x{height}: width must be 200..4000 and height 150..4000 pixels.");
        Size = (width, height);
        return this;
    }

    /// <summary>Shows or hides the legend (by default it shows when there are two or more entries).</summary>
    public Figure WithLegend(bool show) { ShowLegend = show; return this; }

    /// <summary>How several bar traces share a category (grouped by default).</summary>
    public Figure WithBarMode(BarMode mode) { BarMode = mode; return this; }

    /// <summary>Whether the legend is drawn.</summary>
    public bool LegendVisible => ShowLegend ?? _traces.Count(t => t.ShowInLegend) >= 2;

    // ---- output ----

    /// <summary>
    /// The figure as Plotly JSON: <c>{"data": [...], "layout": {...}, "config": {...}}</c>, what plotly's
    /// <c>fig.to_plotly_json()</c> plus a config gives the Jupyter renderer. Every point is included; NaN is written as null.
    /// </summary>
    public string ToPlotlyJson(bool indented = false) => PlotlyWriter.Write(this, indented);

    /// <summary>
    /// The figure as a self-contained SVG document (no scripts, no external fonts, no XML declaration, so it can be
    /// inlined into HTML). Long lines are downsampled to about two points per pixel with <see cref="Downsample.Lttb"/>.
    /// </summary>
    public string ToSvg(int? width = null, int? height = null)
    {
        int w = width ?? Size?.Width ?? DefaultWidth, h = height ?? Size?.Height ?? DefaultHeight;
        if (w is < 200 or > 4000 || h is < 150 or > 4000)
            throw new ArgumentOutOfRangeException(nameof(width), $"SVG size {w}x{h}: width must be 200..4000 and height 150..4000 pixels.");
        return SvgRenderer.Render(this, w, h);
    }

    /// <summary>
    /// text/plain (a summary), image/svg+xml (the static chart) and application/vnd.plotly.v1+json (the interactive one).
    /// Front ends show the richest type they understand.
    /// </summary>
    public MimeBundle ToMimeBundle() => new MimeBundle(ToString())
        .With(SvgMimeType, ToSvg())
        .With(PlotlyMimeType, ToPlotlyJson());

    /// <summary>A one-paragraph summary: the title and each trace's size and last value.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append("Figure");
        if (!string.IsNullOrEmpty(Title)) sb.Append(" \"").Append(Title).Append('"');
        sb.Append(": ").Append(_traces.Count).Append(_traces.Count == 1 ? " trace" : " traces");
        foreach (var t in _traces)
        {
            sb.AppendLine().Append("  ").Append(t.Name).Append(": ");
            switch (t)
            {
                case LineTrace l:
                    int finite = 0; double last = double.NaN;
                    for (int i = 0; i < l.Y.Count; i++) if (double.IsFinite(l.Y[i]) && double.IsFinite(l.X[i])) { finite++; last = l.Y[i]; }
                    sb.Append(l.Count).Append(" points");
                    if (finite < l.Count) sb.Append(" (").Append(l.Count - finite).Append(" missing)");
                    if (finite > 0) sb.Append(", last ").Append(NumberFormat.D3(".4~g", last));
                    break;
                case BarTrace { Bins: { } bins }:
                    sb.Append(bins.Counts.Count).Append(" bins, ").Append(bins.Total).Append(" values");
                    break;
                case BarTrace b:
                    sb.Append(string.Join(", ", b.Categories!.Zip(b.Values, (c, v) => $"{c} {NumberFormat.Compact(v)}")));
                    break;
            }
        }
        return sb.ToString();
    }

    string CheckName(string name) => string.IsNullOrWhiteSpace(name) ? $"trace {_traces.Count}" : name;

    string PickColor(string? color, string name) => color is null ? Colorway.At(_traces.Count) : Trace.CheckColor(color, name);

    static void CheckRow(int row, string what)
    {
        if (row is < 1 or > MaxRows) throw new ArgumentOutOfRangeException(nameof(row), row, $"'{what}': row must be between 1 and {MaxRows}.");
    }
}
