using System.Numerics;
using System.Text.RegularExpressions;

namespace Tunebook.Notebook.Charts;

/// <summary>How a line is stroked. The dash patterns scale with the line width, as in Plotly.</summary>
public enum LineDash { Solid, Dot, Dash, DashDot }

/// <summary>How several bar traces share a category: side by side, on top of each other, or drawn over each other.</summary>
public enum BarMode { Group, Stack, Overlay }

/// <summary>One named data series of a <see cref="Figure"/>. Created by the Figure's Add methods, which copy the data.</summary>
public abstract class Trace
{
    private protected Trace(string name, string color, int row, bool secondaryY, bool showInLegend)
    {
        Name = name; Color = color; Row = row; SecondaryY = secondaryY; ShowInLegend = showInLegend;
    }

    /// <summary>The legend and hover name.</summary>
    public string Name { get; }
    /// <summary>A CSS colour (by default the next one of <see cref="Colorway.Default"/>).</summary>
    public string Color { get; }
    /// <summary>The subplot row (1 is the top one); rows share the x axis.</summary>
    public int Row { get; }
    /// <summary>Plotted against the row's secondary (right-hand) y axis.</summary>
    public bool SecondaryY { get; }
    /// <summary>Whether the trace has a legend entry.</summary>
    public bool ShowInLegend { get; }
    /// <summary>Number of data points (including NaN gaps).</summary>
    public abstract int Count { get; }

    // Converts any numeric sequence (int steps, float losses, long token counts...) to doubles, keeping NaN and ∞.
    internal static double[] ToDoubles<T>(IEnumerable<T> values, string what) where T : INumberBase<T>
    {
        ArgumentNullException.ThrowIfNull(values, what);
        return values.Select(v => double.CreateSaturating(v)).ToArray();
    }

    static readonly Regex ColorPattern = new(@"^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|rgba|hsl|hsla)\([0-9.,%\s]+\))$", RegexOptions.Compiled);

    internal static string CheckColor(string color, string trace)
    {
        if (!ColorPattern.IsMatch(color))
            throw new ArgumentException($"Trace '{trace}': colour '{color}' is not a CSS colour (expected #rrggbb, a name such as 'red', or rgb(r, g, b)).", nameof(color));
        return color;
    }
}

/// <summary>A line and/or marker series: y against numeric x, with NaN or ∞ leaving a gap.</summary>
public sealed class LineTrace : Trace
{
    internal LineTrace(string name, string color, int row, bool secondaryY, bool showInLegend,
        double[] x, double[] y, bool lines, bool markers, LineDash dash, double width, double markerSize,
        string[]? hoverText, string? hoverTemplate)
        : base(name, color, row, secondaryY, showInLegend)
    {
        X = x; Y = y; Lines = lines; Markers = markers; Dash = dash; Width = width; MarkerSize = markerSize;
        HoverText = hoverText; HoverTemplate = hoverTemplate;
    }

    public IReadOnlyList<double> X { get; }
    public IReadOnlyList<double> Y { get; }
    /// <summary>Points are joined by a line.</summary>
    public bool Lines { get; }
    /// <summary>Each point gets a circle marker.</summary>
    public bool Markers { get; }
    public LineDash Dash { get; }
    /// <summary>Line width in pixels.</summary>
    public double Width { get; }
    /// <summary>Marker diameter in pixels.</summary>
    public double MarkerSize { get; }
    /// <summary>Per-point hover text (interactive view only).</summary>
    public IReadOnlyList<string>? HoverText { get; }
    /// <summary>A Plotly hovertemplate such as "step %{x}: %{y:.3f}" (interactive view only).</summary>
    public string? HoverTemplate { get; }
    public override int Count => Y.Count;
}

/// <summary>
/// Bars: one per category (a categorical x axis), or at numeric positions with explicit widths (a histogram,
/// whose bins were computed by <see cref="HistogramBins"/>).
/// </summary>
public sealed class BarTrace : Trace
{
    internal BarTrace(string name, string color, int row, bool showInLegend,
        string[]? categories, double[]? positions, double[]? widths, double[] values, string[]? hoverText, HistogramBins? bins)
        : base(name, color, row, secondaryY: false, showInLegend)
    {
        Categories = categories; Positions = positions; Widths = widths; Values = values; HoverText = hoverText; Bins = bins;
    }

    /// <summary>The category of each bar, or null for bars at numeric <see cref="Positions"/>.</summary>
    public IReadOnlyList<string>? Categories { get; }
    /// <summary>The numeric centre of each bar (histograms), or null for categorical bars.</summary>
    public IReadOnlyList<double>? Positions { get; }
    /// <summary>The width of each bar in x units (histograms), or null.</summary>
    public IReadOnlyList<double>? Widths { get; }
    /// <summary>Bar heights.</summary>
    public IReadOnlyList<double> Values { get; }
    public IReadOnlyList<string>? HoverText { get; }
    /// <summary>The bins a histogram trace was made from, or null.</summary>
    public HistogramBins? Bins { get; }
    public override int Count => Values.Count;
}
