namespace Tunebook.Notebook.Charts;

/// <summary>
/// How one axis is drawn. Without <see cref="Min"/>/<see cref="Max"/> the axis fits the data; a log axis leaves out
/// values that are not positive. <see cref="TickFormat"/> is a d3-format string, used by Plotly as its
/// <c>tickformat</c> and by the SVG (see <see cref="NumberFormat.D3"/>).
/// </summary>
public sealed record Axis
{
    /// <summary>The axis title, for example "step" or "loss".</summary>
    public string? Title { get; init; }
    /// <summary>Logarithmic scale with decade ticks.</summary>
    public bool Log { get; init; }
    /// <summary>Fixed lower end (data units, also on a log axis).</summary>
    public double? Min { get; init; }
    /// <summary>Fixed upper end (data units).</summary>
    public double? Max { get; init; }
    /// <summary>d3-format string for tick labels: "~s" for 1.2k/3M, ".0%" for percentages, ".2f", ",d"...</summary>
    public string? TickFormat { get; init; }
    /// <summary>Grid lines at the ticks.</summary>
    public bool ShowGrid { get; init; } = true;

    internal static Axis Checked(Axis axis, string which)
    {
        if (axis.Min is double min && !double.IsFinite(min)) throw new ArgumentException($"{which}: min must be a finite number, not {min}.");
        if (axis.Max is double max && !double.IsFinite(max)) throw new ArgumentException($"{which}: max must be a finite number, not {max}.");
        if (axis.Min is double a && axis.Max is double b && !(b > a)) throw new ArgumentException($"{which}: max ({b}) must be greater than min ({a}).");
        if (axis.Log && (axis.Min is <= 0 || axis.Max is <= 0)) throw new ArgumentException($"{which}: a log axis needs positive min and max.");
        return axis;
    }
}

/// <summary>A vertical or horizontal marker line across the plot, such as "best step" or "early stop".</summary>
/// <param name="Vertical">True for a line at x = <paramref name="Value"/> across every row; false for y = Value.</param>
/// <param name="Value">Position in data units.</param>
/// <param name="Label">Text written next to the line, or null.</param>
/// <param name="Color">CSS colour.</param>
/// <param name="Dash">Stroke pattern.</param>
/// <param name="Row">Row of a horizontal line.</param>
/// <param name="SecondaryY">A horizontal line on the row's secondary y axis.</param>
public sealed record ReferenceLine(bool Vertical, double Value, string? Label, string Color, LineDash Dash, int Row, bool SecondaryY);

/// <summary>A text label pointing at a data point with an arrow.</summary>
public sealed record PointAnnotation(double X, double Y, string Text, int Row, bool SecondaryY);
