using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tunebook.Notebook.Charts;

/// <summary>
/// Writes a <see cref="Figure"/> as Plotly JSON. Axis ranges are left to Plotly's autorange unless the user fixed
/// them, so the interactive view zooms and resets the way Plotly users expect. Text is entity-escaped because
/// Plotly reads &lt;br&gt;, &lt;b&gt; and friends as markup in titles and names.
/// </summary>
static class PlotlyWriter
{
    public static string Write(Figure figure, bool indented)
    {
        var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = indented, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var ids = new AxisIds(figure);
            w.WriteStartObject();
            w.WriteStartArray("data");
            foreach (var trace in figure.Traces) WriteTrace(w, figure, trace, ids);
            w.WriteEndArray();
            WriteLayout(w, figure, ids);
            w.WriteStartObject("config");
            w.WriteBoolean("responsive", true);
            w.WriteBoolean("displaylogo", false);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Plotly's names for the y axes: rows' primary axes are y, y2 ... yN top to bottom; secondary axes follow.</summary>
    internal sealed class AxisIds
    {
        readonly Dictionary<(int, bool), int> _index = [];
        public int Rows { get; }

        public AxisIds(Figure figure)
        {
            Rows = figure.Rows;
            for (int r = 1; r <= Rows; r++) _index[(r, false)] = r;
            int next = Rows + 1;
            for (int r = 1; r <= Rows; r++) if (figure.HasSecondaryY(r)) _index[(r, true)] = next++;
        }

        public IEnumerable<(int Row, bool Secondary, int Index)> All => _index.OrderBy(kv => kv.Value).Select(kv => (kv.Key.Item1, kv.Key.Item2, kv.Value));

        /// <summary>The short id used by traces and shapes ("y", "y2").</summary>
        public string Ref(int row, bool secondary) => Short(_index[(row, secondary)]);
        /// <summary>The layout key ("yaxis", "yaxis2").</summary>
        public static string LayoutKey(int index) => index == 1 ? "yaxis" : $"yaxis{index}";
        public static string Short(int index) => index == 1 ? "y" : $"y{index}";
    }

    static void WriteTrace(Utf8JsonWriter w, Figure figure, Trace trace, AxisIds ids)
    {
        w.WriteStartObject();
        switch (trace)
        {
            case LineTrace line:
                w.WriteString("type", "scatter");
                w.WriteString("mode", line.Lines && line.Markers ? "lines+markers" : line.Lines ? "lines" : "markers");
                WriteCommon(w, trace, ids);
                Numbers(w, "x", line.X);
                Numbers(w, "y", line.Y);
                // Gaps stay gaps: a NaN loss is a missing value, not a reason to draw a line across it.
                w.WriteBoolean("connectgaps", false);
                // Plotly.validate rejects style containers the mode does not use.
                if (line.Lines)
                {
                    w.WriteStartObject("line");
                    w.WriteString("color", line.Color);
                    w.WriteNumber("width", line.Width);
                    w.WriteString("dash", DashName(line.Dash));
                    w.WriteEndObject();
                }
                if (line.Markers)
                {
                    w.WriteStartObject("marker");
                    w.WriteString("color", line.Color);
                    w.WriteNumber("size", line.MarkerSize);
                    w.WriteEndObject();
                }
                if (line.HoverText is not null) Strings(w, "hovertext", line.HoverText);
                if (line.HoverTemplate is not null) w.WriteString("hovertemplate", line.HoverTemplate);
                break;
            case BarTrace bar:
                w.WriteString("type", "bar");
                WriteCommon(w, trace, ids);
                if (bar.Categories is not null) Strings(w, "x", bar.Categories, escape: true);
                else Numbers(w, "x", bar.Positions!);
                Numbers(w, "y", bar.Values);
                if (bar.Widths is not null) Numbers(w, "width", bar.Widths);
                w.WriteStartObject("marker");
                w.WriteString("color", bar.Color);
                w.WriteEndObject();
                if (figure.BarMode == BarMode.Overlay && figure.Traces.Count(t => t is BarTrace) > 1) w.WriteNumber("opacity", 0.6);
                if (bar.HoverText is not null)
                {
                    Strings(w, "hovertext", bar.HoverText, escape: true);
                    w.WriteString("hoverinfo", "text+name");
                }
                break;
        }
        w.WriteEndObject();
    }

    static void WriteCommon(Utf8JsonWriter w, Trace trace, AxisIds ids)
    {
        w.WriteString("name", Escape(trace.Name));
        w.WriteBoolean("showlegend", trace.ShowInLegend);
        w.WriteString("xaxis", "x");
        w.WriteString("yaxis", ids.Ref(trace.Row, trace.SecondaryY));
    }

    static void WriteLayout(Utf8JsonWriter w, Figure figure, AxisIds ids)
    {
        w.WriteStartObject("layout");
        if (!string.IsNullOrEmpty(figure.Title))
        {
            w.WriteStartObject("title");
            w.WriteString("text", Escape(figure.Title));
            w.WriteEndObject();
        }
        if (figure.Size is { } size) { w.WriteNumber("width", size.Width); w.WriteNumber("height", size.Height); }
        w.WriteStartArray("colorway");
        foreach (var c in Colorway.Default) w.WriteStringValue(c);
        w.WriteEndArray();

        bool anySecondary = ids.All.Any(a => a.Secondary);
        w.WriteBoolean("showlegend", figure.LegendVisible);
        if (anySecondary && figure.LegendVisible)
        {
            // The right-hand axis takes the space where Plotly puts its legend, so the legend goes above the plot.
            w.WriteStartObject("legend");
            w.WriteString("orientation", "h");
            w.WriteNumber("x", 0); w.WriteString("xanchor", "left");
            w.WriteNumber("y", 1.02); w.WriteString("yanchor", "bottom");
            w.WriteEndObject();
        }
        if (figure.Traces.Any(t => t is BarTrace)) w.WriteString("barmode", figure.BarMode.ToString().ToLowerInvariant());
        if (figure.Traces.Any(t => t is BarTrace { Bins: not null })) w.WriteNumber("bargap", 0);

        w.WriteStartObject("xaxis");
        WriteAxisBody(w, figure.XAxis, category: figure.HasCategoryX);
        w.WriteString("anchor", ids.Ref(ids.Rows, false));
        w.WriteEndObject();

        foreach (var (row, secondary, index) in ids.All)
        {
            w.WriteStartObject(AxisIds.LayoutKey(index));
            WriteAxisBody(w, figure.YAxis(row, secondary) with { ShowGrid = figure.YAxis(row, secondary).ShowGrid && !secondary }, category: false);
            w.WriteString("anchor", "x");
            if (secondary)
            {
                w.WriteString("overlaying", ids.Ref(row, false));
                w.WriteString("side", "right");
            }
            else
            {
                var (bottom, top) = SubplotGrid.Domain(row, ids.Rows);
                w.WriteStartArray("domain"); w.WriteNumberValue(bottom); w.WriteNumberValue(top); w.WriteEndArray();
            }
            w.WriteEndObject();
        }

        WriteShapesAndAnnotations(w, figure, ids);
        w.WriteEndObject();
    }

    static void WriteAxisBody(Utf8JsonWriter w, Axis axis, bool category)
    {
        if (!string.IsNullOrEmpty(axis.Title))
        {
            w.WriteStartObject("title");
            w.WriteString("text", Escape(axis.Title));
            w.WriteEndObject();
        }
        w.WriteString("type", category ? "category" : axis.Log ? "log" : "linear");
        w.WriteBoolean("showgrid", axis.ShowGrid);
        if (axis.TickFormat is not null && !category) w.WriteString("tickformat", axis.TickFormat);
        if (category || (axis.Min is null && axis.Max is null)) return;

        // Plotly's log axes take their range in decades (log10 of the data).
        double Map(double v) => axis.Log ? Math.Log10(v) : v;
        if (axis.Min is double lo && axis.Max is double hi)
        {
            w.WriteStartArray("range"); w.WriteNumberValue(Map(lo)); w.WriteNumberValue(Map(hi)); w.WriteEndArray();
            return;
        }
        // One end fixed: Plotly still autoranges, using the given value exactly as that end.
        w.WriteStartObject("autorangeoptions");
        if (axis.Min is double min) w.WriteNumber("minallowed", Map(min));
        if (axis.Max is double max) w.WriteNumber("maxallowed", Map(max));
        w.WriteEndObject();
    }

    static void WriteShapesAndAnnotations(Utf8JsonWriter w, Figure figure, AxisIds ids)
    {
        if (figure.ReferenceLines.Count > 0)
        {
            w.WriteStartArray("shapes");
            foreach (var line in figure.ReferenceLines)
            {
                w.WriteStartObject();
                w.WriteString("type", "line");
                if (line.Vertical)
                {
                    w.WriteString("xref", "x"); w.WriteNumber("x0", line.Value); w.WriteNumber("x1", line.Value);
                    w.WriteString("yref", "paper"); w.WriteNumber("y0", 0); w.WriteNumber("y1", 1);
                }
                else
                {
                    w.WriteString("xref", "paper"); w.WriteNumber("x0", 0); w.WriteNumber("x1", 1);
                    string yref = ids.Ref(line.Row, line.SecondaryY);
                    w.WriteString("yref", yref); w.WriteNumber("y0", line.Value); w.WriteNumber("y1", line.Value);
                }
                w.WriteStartObject("line");
                w.WriteString("color", line.Color);
                w.WriteNumber("width", 1.5);
                w.WriteString("dash", DashName(line.Dash));
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }

        var labelled = figure.ReferenceLines.Where(l => !string.IsNullOrEmpty(l.Label)).ToList();
        if (labelled.Count == 0 && figure.Annotations.Count == 0) return;
        w.WriteStartArray("annotations");
        foreach (var line in labelled)
        {
            w.WriteStartObject();
            w.WriteString("text", Escape(line.Label!));
            w.WriteBoolean("showarrow", false);
            if (line.Vertical)
            {
                // Just inside the top of the plot, to the right of the line.
                w.WriteString("xref", "x"); w.WriteNumber("x", line.Value); w.WriteString("xanchor", "left");
                w.WriteString("yref", "paper"); w.WriteNumber("y", 1); w.WriteString("yanchor", "top");
            }
            else
            {
                w.WriteString("xref", "paper"); w.WriteNumber("x", 1); w.WriteString("xanchor", "right");
                w.WriteString("yref", ids.Ref(line.Row, line.SecondaryY)); w.WriteNumber("y", line.Value); w.WriteString("yanchor", "bottom");
            }
            w.WriteStartObject("font"); w.WriteString("color", line.Color); w.WriteEndObject();
            w.WriteEndObject();
        }
        foreach (var a in figure.Annotations)
        {
            w.WriteStartObject();
            w.WriteString("text", Escape(a.Text));
            w.WriteString("xref", "x"); w.WriteNumber("x", a.X);
            w.WriteString("yref", ids.Ref(a.Row, a.SecondaryY)); w.WriteNumber("y", a.Y);
            w.WriteBoolean("showarrow", true);
            w.WriteNumber("arrowhead", 2);
            w.WriteNumber("ax", 0); w.WriteNumber("ay", -30);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    static void Numbers(Utf8JsonWriter w, string name, IReadOnlyList<double> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
            if (double.IsFinite(v)) w.WriteNumberValue(v); else w.WriteNullValue(); // JSON has no NaN; Plotly reads null as a gap
        w.WriteEndArray();
    }

    static void Strings(Utf8JsonWriter w, string name, IReadOnlyList<string> values, bool escape = false)
    {
        w.WriteStartArray(name);
        foreach (var v in values) w.WriteStringValue(escape ? Escape(v) : v);
        w.WriteEndArray();
    }

    internal static string DashName(LineDash dash) => dash switch
    {
        LineDash.Dot => "dot",
        LineDash.Dash => "dash",
        LineDash.DashDot => "dashdot",
        _ => "solid",
    };

    /// <summary>Plotly treats text as a small HTML subset; entity-escaping shows "&lt;" and "&amp;" literally. Newlines become &lt;br&gt;.</summary>
    internal static string Escape(string text) =>
        text.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\r\n", "\n").Replace("\n", "<br>");
}
