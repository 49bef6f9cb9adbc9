using System.Globalization;
using System.Text;

namespace Tunebook.Notebook.Charts;

/// <summary>
/// Draws a <see cref="Figure"/> as a static SVG that looks like Plotly's rendering of the same figure: Plotly's
/// colours, font stack, light grid and legend on the right (above the plot when a right-hand axis needs that space).
/// Cheap enough to redraw on every logging step: long lines are downsampled to about two points per pixel.
/// The output has no XML declaration, scripts or style sheet, and its clip-path ids are unique, so several charts
/// can be inlined into one HTML page (which is what nbconvert does).
/// </summary>
static class SvgRenderer
{
    const double FontSize = 12, TitleSize = 17, AxisTitleSize = 14, LegendSize = 12;
    const string TextColor = "#444444", GridColor = "#eeeeee", ZeroLineColor = "#444444";
    const double LegendRowHeight = 20, LegendSwatch = 30;

    static long _renders;
    static readonly string IdPrefix = "tb" + Random.Shared.Next(0x10000, 0xFFFFF).ToString("x", CultureInfo.InvariantCulture);

    sealed class Row
    {
        public int Index;
        public double Top, Bottom;
        public AxisScale Y = null!;
        public AxisScale? Y2;
        public string ClipId = "";
    }

    public static string Render(Figure figure, int width, int height)
    {
        var sb = new StringBuilder(8192);
        string id = $"{IdPrefix}-{Interlocked.Increment(ref _renders)}";
        int rowCount = figure.Rows;
        bool categoryX = figure.HasCategoryX;
        var categories = figure.Categories;
        bool anySecondary = Enumerable.Range(1, rowCount).Any(figure.HasSecondaryY);
        var legendItems = figure.LegendVisible ? figure.Traces.Where(t => t.ShowInLegend).ToList() : [];
        bool legendOnTop = legendItems.Count > 0 && anySecondary;
        bool legendRight = legendItems.Count > 0 && !anySecondary;

        // ---- vertical layout: title, top legend, x labels ----
        string? title = string.IsNullOrWhiteSpace(figure.Title) ? null : figure.Title;
        double top = title is null ? 18 : 52;
        var legendLines = new List<List<(Trace? Trace, string Label, double Width)>>();
        double legendWidth = 0;
        double maxLegendText = Math.Min(220, width * 0.28);
        if (legendOnTop)
        {
            double avail = width - 120, used = 0;
            legendLines.Add([]);
            foreach (var t in legendItems)
            {
                string label = SvgText.Fit(t.Name, LegendSize, maxLegendText);
                double w = LegendSwatch + 6 + SvgText.Width(label, LegendSize) + 14;
                if (used > 0 && used + w > avail) { legendLines.Add([]); used = 0; }
                legendLines[^1].Add((t, label, w));
                used += w;
            }
            // At most three lines above the plot; the rest are counted, not drawn.
            if (legendLines.Count > 3)
            {
                int hidden = legendLines.Skip(3).Sum(l => l.Count) + 1;
                legendLines.RemoveRange(3, legendLines.Count - 3);
                legendLines[2][^1] = (null, $"+{hidden} more", 0);
            }
            top += legendLines.Count * LegendRowHeight + 6;
        }
        else if (legendRight)
        {
            legendLines.AddRange(legendItems.Select(t =>
            {
                string label = SvgText.Fit(t.Name, LegendSize, maxLegendText);
                return new List<(Trace?, string, double)> { (t, label, SvgText.Width(label, LegendSize)) };
            }));
            // As many entries as fit the height; the rest are counted, not drawn.
            int fits = Math.Max(1, (int)((height - top - 16) / LegendRowHeight));
            if (legendLines.Count > fits)
            {
                int hidden = legendLines.Count - fits + 1;
                legendLines.RemoveRange(fits - 1, legendLines.Count - fits + 1);
                string more = $"+{hidden} more";
                legendLines.Add([(null, more, SvgText.Width(more, LegendSize))]);
            }
            legendWidth = LegendSwatch + 6 + legendLines.Max(l => l[0].Width) + 16;
        }

        // Category labels that do not fit their slot are turned: 30 degrees when the slots leave room between the
        // slanted lines, upright (90 degrees) when they do not, and only every n-th is written when even that is too tight.
        double roughPlotWidth = width - 140 - legendWidth;
        int categoryAngle = 0, categoryEvery = 1;
        double categoryLabelWidth = 0;
        var categoryLabels = categories.Select(c => SvgText.FitMiddle(c, FontSize, 220)).ToArray();
        if (categoryX && categories.Count > 0)
        {
            categoryLabelWidth = categoryLabels.Max(c => SvgText.Width(c, FontSize));
            double slot = roughPlotWidth / categories.Count;
            if (categoryLabelWidth > slot - 8)
            {
                categoryAngle = slot * 0.5 >= FontSize + 3 ? -30 : -90;
                if (slot < FontSize + 3) categoryEvery = (int)Math.Ceiling((FontSize + 3) / slot);
            }
        }
        double xLabelHeight = categoryAngle switch
        {
            -30 => Math.Min(150, categoryLabelWidth * 0.5 + FontSize),
            -90 => Math.Min(230, categoryLabelWidth + 4),
            _ => FontSize,
        };
        double bottomMargin = 8 + xLabelHeight + 8 + (string.IsNullOrEmpty(figure.XAxis.Title) ? 0 : AxisTitleSize + 10) + 6;
        double plotTop = top, plotBottom = height - bottomMargin;
        if (plotBottom - plotTop < 40) plotBottom = plotTop + 40;
        double plotHeight = plotBottom - plotTop;

        // ---- y axes per row ----
        var rows = new List<Row>();
        for (int r = 1; r <= rowCount; r++)
        {
            var (fb, ft) = SubplotGrid.Domain(r, rowCount);
            var row = new Row { Index = r, Top = plotBottom - ft * plotHeight, Bottom = plotBottom - fb * plotHeight, ClipId = $"{id}-clip{r}" };
            row.Y = YScale(figure, r, secondary: false, row.Bottom - row.Top);
            if (figure.HasSecondaryY(r)) row.Y2 = YScale(figure, r, secondary: true, row.Bottom - row.Top);
            row.Y.Place(row.Bottom, row.Top);
            row.Y2?.Place(row.Bottom, row.Top);
            rows.Add(row);
        }

        // ---- horizontal layout: y labels, y titles, right legend ----
        double leftLabels = rows.SelectMany(r => r.Y.Ticks).Select(t => SvgText.Width(t.Label, FontSize)).DefaultIfEmpty(0).Max();
        bool leftTitle = rows.Any(r => !string.IsNullOrEmpty(figure.YAxis(r.Index).Title));
        double plotLeft = 12 + (leftTitle ? AxisTitleSize + 10 : 0) + leftLabels + 8;
        double rightLabels = rows.Where(r => r.Y2 is not null).SelectMany(r => r.Y2!.Ticks).Select(t => SvgText.Width(t.Label, FontSize)).DefaultIfEmpty(0).Max();
        bool rightTitle = rows.Any(r => r.Y2 is not null && !string.IsNullOrEmpty(figure.YAxis(r.Index, true).Title));
        double rightMargin = anySecondary ? 8 + rightLabels + (rightTitle ? AxisTitleSize + 14 : 0) + 12 : 24;
        if (legendRight) rightMargin += legendWidth + 10;
        if (categoryAngle == -30) plotLeft = Math.Max(plotLeft, Math.Min(categoryLabelWidth * 0.87, width * 0.3));
        double plotRight = Math.Max(plotLeft + 60, width - rightMargin);
        double plotWidth = plotRight - plotLeft;

        var x = categoryX ? AxisScale.ForCategories(categoryLabels) : XScale(figure, plotWidth);
        x.Place(plotLeft, plotRight);

        // ---- document ----
        sb.Append("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"tunebook-chart\" width=\"").Append(width)
          .Append("\" height=\"").Append(height).Append("\" viewBox=\"0 0 ").Append(width).Append(' ').Append(height)
          .Append("\" font-family=\"").Append(SvgText.FontFamily).Append("\" font-size=\"").Append(FontSize)
          .Append("\" role=\"img\">");
        sb.Append("<title>").Append(SvgText.Escape(title ?? "chart")).Append("</title>");
        sb.Append("<rect class=\"background\" width=\"").Append(width).Append("\" height=\"").Append(height).Append("\" fill=\"#ffffff\"/>");
        sb.Append("<defs>");
        foreach (var row in rows)
        {
            sb.Append("<clipPath id=\"").Append(row.ClipId).Append("\"><rect");
            Attr(sb, "x", plotLeft); Attr(sb, "y", row.Top); Attr(sb, "width", plotWidth); Attr(sb, "height", row.Bottom - row.Top);
            sb.Append("/></clipPath>");
        }
        sb.Append("</defs>");

        DrawGridAndAxes(sb, figure, rows, x, plotLeft, plotRight, categoryAngle, categoryEvery);
        bool anyData = false;
        foreach (var row in rows) anyData |= DrawTraces(sb, figure, row, x, plotWidth);
        DrawReferenceLines(sb, figure, rows, x, plotLeft, plotRight);
        if (!anyData)
        {
            sb.Append("<text class=\"no-data\" text-anchor=\"middle\" fill=\"#888888\"");
            Attr(sb, "x", (plotLeft + plotRight) / 2); Attr(sb, "y", (plotTop + plotBottom) / 2);
            sb.Append(">no data yet</text>");
        }
        DrawAxisTitles(sb, figure, rows, plotLeft, plotRight, plotBottom, height, width, xLabelHeight, leftLabels, rightLabels);
        if (legendOnTop) DrawLegendTop(sb, legendLines, plotLeft, title is null ? 12 : 44);
        if (legendRight) DrawLegendRight(sb, legendLines, width - legendWidth - 6, plotTop);
        if (title is not null)
        {
            sb.Append("<text class=\"title\" text-anchor=\"middle\" font-size=\"").Append(TitleSize).Append("\" fill=\"").Append(TextColor).Append('"');
            Attr(sb, "x", width / 2.0); Attr(sb, "y", 30);
            sb.Append('>').Append(SvgText.Escape(SvgText.Fit(title, TitleSize, width - 20))).Append("</text>");
        }
        sb.Append("</svg>");
        return sb.ToString();
    }

    // ---- axes ----

    static AxisScale XScale(Figure figure, double pixels)
    {
        var values = new List<double>();
        bool markers = false, bars = false;
        foreach (var t in figure.Traces)
        {
            if (t is LineTrace l)
            {
                markers |= l.Markers;
                for (int i = 0; i < l.Count; i++) if (double.IsFinite(l.Y[i]) && double.IsFinite(l.X[i])) values.Add(l.X[i]);
            }
            else if (t is BarTrace { Positions: { } pos, Widths: { } widths } b)
            {
                bars = true;
                for (int i = 0; i < pos.Count; i++) { values.Add(pos[i] - widths[i] / 2); values.Add(pos[i] + widths[i] / 2); }
            }
        }
        foreach (var line in figure.ReferenceLines) if (line.Vertical) values.Add(line.Value);
        foreach (var a in figure.Annotations) values.Add(a.X);
        // Lines fill the width exactly; markers get a little room so the end circles are not cut in half.
        double pad = markers && !bars ? 0.02 : 0;
        return AxisScale.ForValues(figure.XAxis, values, pad, zeroBase: false, pixels, tickSpacing: 90);
    }

    static AxisScale YScale(Figure figure, int row, bool secondary, double pixels)
    {
        var axis = figure.YAxis(row, secondary);
        var values = new List<double>();
        bool bars = false;
        var stacks = new Dictionary<double, (double Pos, double Neg)>();
        var categories = figure.Categories;
        foreach (var t in figure.Traces.Where(t => t.Row == row && t.SecondaryY == secondary))
        {
            if (t is LineTrace l)
            {
                for (int i = 0; i < l.Count; i++)
                    if (double.IsFinite(l.X[i]) && (!figure.XAxis.Log || l.X[i] > 0)) values.Add(l.Y[i]);
            }
            else if (t is BarTrace b)
            {
                bars = true;
                for (int i = 0; i < b.Count; i++)
                {
                    double v = b.Values[i];
                    if (!double.IsFinite(v)) continue;
                    if (figure.BarMode != BarMode.Stack) { values.Add(v); continue; }
                    double key = BarKey(categories, b, i);
                    var (pos, neg) = stacks.GetValueOrDefault(key);
                    stacks[key] = v >= 0 ? (pos + v, neg) : (pos, neg + v);
                }
            }
        }
        foreach (var (pos, neg) in stacks.Values) { values.Add(pos); values.Add(neg); }
        foreach (var line in figure.ReferenceLines) if (!line.Vertical && line.Row == row && line.SecondaryY == secondary) values.Add(line.Value);
        foreach (var a in figure.Annotations) if (a.Row == row && a.SecondaryY == secondary) values.Add(a.Y);
        return AxisScale.ForValues(axis, values, pad: 0.05, zeroBase: bars, pixels, tickSpacing: 50);
    }

    // Stacked bars add up per category (or per histogram bin position).
    static double BarKey(IReadOnlyList<string> categories, BarTrace b, int i) =>
        b.Categories is not null ? IndexOf(categories, b.Categories[i]) : b.Positions![i];

    static int IndexOf(IReadOnlyList<string> list, string value)
    {
        for (int i = 0; i < list.Count; i++) if (list[i] == value) return i;
        return -1;
    }

    static void DrawGridAndAxes(StringBuilder sb, Figure figure, List<Row> rows, AxisScale x, double left, double right, int angle, int every)
    {
        sb.Append("<g class=\"grid\" stroke=\"").Append(GridColor).Append("\" stroke-width=\"1\">");
        foreach (var row in rows)
        {
            if (figure.XAxis.ShowGrid && !x.Category)
                foreach (var (v, _) in x.Ticks) Line(sb, x.Map(v), row.Top, x.Map(v), row.Bottom);
            if (figure.YAxis(row.Index).ShowGrid)
                foreach (var (v, _) in row.Y.Ticks) Line(sb, left, row.Y.Map(v), right, row.Y.Map(v));
            if (row.Y2 is not null && figure.YAxis(row.Index, true).ShowGrid)
                foreach (var (v, _) in row.Y2.Ticks) Line(sb, left, row.Y2.Map(v), right, row.Y2.Map(v));
        }
        sb.Append("</g>");

        // Plotly's zero line: darker than the grid, where zero is on a linear y axis.
        sb.Append("<g class=\"zeroline\" stroke=\"").Append(ZeroLineColor).Append("\" stroke-width=\"1\">");
        foreach (var row in rows)
            if (!row.Y.Log && row.Y.Contains(0) && row.Y.HasData) Line(sb, left, row.Y.Map(0), right, row.Y.Map(0));
        sb.Append("</g>");

        sb.Append("<g class=\"ticks\" fill=\"").Append(TextColor).Append("\">");
        var bottom = rows[^1];
        foreach (var (v, label) in x.Ticks)
        {
            double px = x.Map(v);
            if (x.Category && (int)v % every != 0) continue;
            if (angle != 0)
            {
                sb.Append("<text class=\"xtick\" text-anchor=\"end\" transform=\"translate(");
                Num(sb, px); sb.Append(','); Num(sb, bottom.Bottom + 8); sb.Append(") rotate(").Append(angle)
                  .Append(angle == -90 ? ")\" dy=\"0.35em\">" : ")\" dy=\"0.71em\">");
            }
            else
            {
                sb.Append("<text class=\"xtick\" text-anchor=\"middle\"");
                Attr(sb, "x", px); Attr(sb, "y", bottom.Bottom + 8 + FontSize);
                sb.Append('>');
            }
            sb.Append(SvgText.Escape(label)).Append("</text>");
        }
        foreach (var row in rows)
        {
            foreach (var (v, label) in row.Y.Ticks)
            {
                sb.Append("<text class=\"ytick\" text-anchor=\"end\" dy=\"0.35em\"");
                Attr(sb, "x", left - 6); Attr(sb, "y", row.Y.Map(v));
                sb.Append('>').Append(SvgText.Escape(label)).Append("</text>");
            }
            if (row.Y2 is null) continue;
            foreach (var (v, label) in row.Y2.Ticks)
            {
                sb.Append("<text class=\"y2tick\" text-anchor=\"start\" dy=\"0.35em\"");
                Attr(sb, "x", right + 6); Attr(sb, "y", row.Y2.Map(v));
                sb.Append('>').Append(SvgText.Escape(label)).Append("</text>");
            }
        }
        sb.Append("</g>");
    }

    static void DrawAxisTitles(StringBuilder sb, Figure figure, List<Row> rows, double left, double right, double plotBottom,
        int height, int width, double xLabelHeight, double leftLabels, double rightLabels)
    {
        sb.Append("<g class=\"axis-titles\" font-size=\"").Append(AxisTitleSize).Append("\" fill=\"").Append(TextColor).Append("\">");
        if (!string.IsNullOrEmpty(figure.XAxis.Title))
        {
            sb.Append("<text class=\"xtitle\" text-anchor=\"middle\"");
            Attr(sb, "x", (left + right) / 2); Attr(sb, "y", plotBottom + 8 + xLabelHeight + 10 + AxisTitleSize);
            sb.Append('>').Append(SvgText.Escape(SvgText.Fit(figure.XAxis.Title, AxisTitleSize, right - left))).Append("</text>");
        }
        foreach (var row in rows)
        {
            double mid = (row.Top + row.Bottom) / 2, len = row.Bottom - row.Top + 30;
            if (figure.YAxis(row.Index).Title is { Length: > 0 } yt)
                Rotated(sb, "ytitle", left - 8 - leftLabels - 10, mid, -90, SvgText.Fit(yt, AxisTitleSize, len));
            if (row.Y2 is not null && figure.YAxis(row.Index, true).Title is { Length: > 0 } y2t)
                Rotated(sb, "y2title", right + 8 + rightLabels + 10 + AxisTitleSize * 0.7, mid, -90, SvgText.Fit(y2t, AxisTitleSize, len));
        }
        sb.Append("</g>");
    }

    static void Rotated(StringBuilder sb, string cls, double x, double y, int angle, string text)
    {
        sb.Append("<text class=\"").Append(cls).Append("\" text-anchor=\"middle\" transform=\"translate(");
        Num(sb, x); sb.Append(','); Num(sb, y); sb.Append(") rotate(").Append(angle).Append(")\">")
          .Append(SvgText.Escape(text)).Append("</text>");
    }

    // ---- traces ----

    /// <summary>Draws the row's traces; returns whether anything was visible.</summary>
    static bool DrawTraces(StringBuilder sb, Figure figure, Row row, AxisScale x, double plotWidth)
    {
        bool any = false;
        sb.Append("<g class=\"traces\" clip-path=\"url(#").Append(row.ClipId).Append(")\">");
        var bars = figure.Traces.OfType<BarTrace>().Where(b => b.Row == row.Index).ToList();
        var stackPos = new Dictionary<double, double>();
        var stackNeg = new Dictionary<double, double>();
        var categories = figure.Categories;
        for (int k = 0; k < bars.Count; k++) any |= DrawBars(sb, figure, categories, bars[k], k, bars.Count, row.Y, x, stackPos, stackNeg);
        foreach (var line in figure.Traces.OfType<LineTrace>().Where(l => l.Row == row.Index))
            any |= DrawLine(sb, line, x, line.SecondaryY && row.Y2 is not null ? row.Y2 : row.Y, plotWidth);
        sb.Append("</g>");
        return any;
    }

    static bool DrawLine(StringBuilder sb, LineTrace trace, AxisScale x, AxisScale y, double plotWidth)
    {
        // Screen coordinates; NaN marks a point that cannot be drawn (a gap).
        int n = trace.Count;
        var px = new double[n]; var py = new double[n];
        int visible = 0;
        for (int i = 0; i < n; i++)
        {
            px[i] = x.Map(trace.X[i]); py[i] = y.Map(trace.Y[i]);
            if (double.IsNaN(px[i]) || double.IsNaN(py[i])) px[i] = py[i] = double.NaN; else visible++;
        }
        sb.Append("<g class=\"trace\" data-name=\"").Append(SvgText.Escape(trace.Name)).Append("\">");
        if (visible == 0) { sb.Append("</g>"); return false; }

        // Runs of drawable points, each downsampled in proportion to its length.
        int budget = Math.Max(64, (int)(plotWidth * 2));
        var segments = new List<int[]>();
        for (int start = 0; start < n;)
        {
            if (double.IsNaN(px[start])) { start++; continue; }
            int end = start;
            while (end < n && !double.IsNaN(px[end])) end++;
            int length = end - start;
            int keep = visible <= budget ? length : Math.Max(3, (int)Math.Ceiling((double)budget * length / visible));
            var picked = Downsample.Lttb(px.AsSpan(start, length), py.AsSpan(start, length), keep);
            for (int j = 0; j < picked.Length; j++) picked[j] += start;
            segments.Add(picked);
            start = end;
        }

        if (trace.Lines && trace.Width > 0)
        {
            sb.Append("<path class=\"line\" fill=\"none\" stroke=\"").Append(SvgText.Escape(trace.Color)).Append("\" stroke-width=\"");
            Num(sb, trace.Width);
            sb.Append("\" stroke-linejoin=\"round\" stroke-linecap=\"round\"");
            DashAttr(sb, trace.Dash, trace.Width);
            sb.Append(" d=\"");
            foreach (var seg in segments)
                for (int j = 0; j < seg.Length; j++)
                {
                    sb.Append(j == 0 ? 'M' : 'L');
                    Num(sb, px[seg[j]]); sb.Append(','); Num(sb, py[seg[j]]);
                }
            sb.Append("\"/>");
        }
        if (trace.Markers)
        {
            sb.Append("<g class=\"markers\" fill=\"").Append(SvgText.Escape(trace.Color)).Append("\">");
            foreach (var seg in segments)
                foreach (var i in seg)
                {
                    sb.Append("<circle");
                    Attr(sb, "cx", px[i]); Attr(sb, "cy", py[i]); Attr(sb, "r", trace.MarkerSize / 2);
                    sb.Append("/>");
                }
            sb.Append("</g>");
        }
        sb.Append("</g>");
        return true;
    }

    static bool DrawBars(StringBuilder sb, Figure figure, IReadOnlyList<string> categories, BarTrace bar, int k, int count, AxisScale y, AxisScale x,
        Dictionary<double, double> stackPos, Dictionary<double, double> stackNeg)
    {
        bool any = false;
        var mode = figure.BarMode;
        bool overlay = mode == BarMode.Overlay && count > 1;
        sb.Append("<g class=\"trace bars\" data-name=\"").Append(SvgText.Escape(bar.Name)).Append("\" fill=\"").Append(SvgText.Escape(bar.Color)).Append('"');
        if (overlay) sb.Append(" fill-opacity=\"0.6\"");
        sb.Append('>');
        // Bars grow from zero, or from the bottom of a log axis.
        double baseline = y.Log ? y.P0 : y.Map(Math.Clamp(0, Math.Min(y.Lo, y.Hi), Math.Max(y.Lo, y.Hi)));
        for (int i = 0; i < bar.Count; i++)
        {
            double v = bar.Values[i];
            if (!double.IsFinite(v) || v == 0) continue; // a NaN is skipped; a zero bar has nothing to draw
            double center, slot;
            if (bar.Categories is not null)
            {
                double index = IndexOf(categories, bar.Categories[i]);
                center = x.Map(index); slot = Math.Abs(x.Map(index + 0.5) - x.Map(index - 0.5)) * 0.8; // Plotly's bargap 0.2
            }
            else
            {
                double lo = x.Map(bar.Positions![i] - bar.Widths![i] / 2), hi = x.Map(bar.Positions[i] + bar.Widths[i] / 2);
                if (double.IsNaN(lo) || double.IsNaN(hi)) continue;
                center = (lo + hi) / 2; slot = Math.Abs(hi - lo);
            }
            double left = center - slot / 2, barWidth = slot;
            if (mode == BarMode.Group && count > 1) { barWidth = slot / count; left += k * barWidth; }

            double from = baseline, to;
            if (mode == BarMode.Stack)
            {
                double key = BarKey(categories, bar, i);
                var stack = v >= 0 ? stackPos : stackNeg;
                double below = stack.GetValueOrDefault(key);
                stack[key] = below + v;
                from = y.Log ? (below > 0 ? y.Map(below) : y.P0) : y.Map(below);
                to = y.Map(below + v);
            }
            else to = y.Map(v);
            if (double.IsNaN(to) || double.IsNaN(from)) continue;
            sb.Append("<rect");
            Attr(sb, "x", left); Attr(sb, "y", Math.Min(from, to)); Attr(sb, "width", Math.Max(0.5, barWidth)); Attr(sb, "height", Math.Abs(to - from));
            sb.Append("><title>").Append(SvgText.Escape(bar.Name)).Append(": ")
              .Append(SvgText.Escape(bar.HoverText?[i] ?? $"{bar.Categories?[i]} {NumberFormat.Compact(v, 4)}")).Append("</title></rect>");
            any = true;
        }
        sb.Append("</g>");
        return any;
    }

    // ---- annotations ----

    static void DrawReferenceLines(StringBuilder sb, Figure figure, List<Row> rows, AxisScale x, double left, double right)
    {
        if (figure.ReferenceLines.Count == 0 && figure.Annotations.Count == 0) return;
        sb.Append("<g class=\"annotations\" font-size=\"11\">");
        foreach (var line in figure.ReferenceLines)
        {
            string color = SvgText.Escape(line.Color);
            if (line.Vertical)
            {
                if (!x.Contains(line.Value)) continue;
                double px = x.Map(line.Value), top = rows[0].Top, bottom = rows[^1].Bottom;
                sb.Append("<line class=\"marker-line\" stroke=\"").Append(color).Append("\" stroke-width=\"1.5\"");
                DashAttr(sb, line.Dash, 1.5);
                Attr(sb, "x1", px); Attr(sb, "y1", top); Attr(sb, "x2", px); Attr(sb, "y2", bottom);
                sb.Append("/>");
                if (!string.IsNullOrEmpty(line.Label))
                {
                    // Right of the line, unless that would run past the plot's right edge.
                    bool flip = px + 4 + SvgText.Width(line.Label, 11) > right;
                    sb.Append("<text class=\"marker-label\" fill=\"").Append(color).Append("\" text-anchor=\"").Append(flip ? "end" : "start").Append('"');
                    Attr(sb, "x", flip ? px - 4 : px + 4); Attr(sb, "y", top + 13);
                    sb.Append('>').Append(SvgText.Escape(line.Label)).Append("</text>");
                }
            }
            else
            {
                var row = rows[line.Row - 1];
                var y = line.SecondaryY && row.Y2 is not null ? row.Y2 : row.Y;
                if (!y.Contains(line.Value)) continue;
                double py = y.Map(line.Value);
                sb.Append("<line class=\"marker-line\" stroke=\"").Append(color).Append("\" stroke-width=\"1.5\"");
                DashAttr(sb, line.Dash, 1.5);
                Attr(sb, "x1", left); Attr(sb, "y1", py); Attr(sb, "x2", right); Attr(sb, "y2", py);
                sb.Append("/>");
                if (!string.IsNullOrEmpty(line.Label))
                {
                    sb.Append("<text class=\"marker-label\" text-anchor=\"end\" fill=\"").Append(color).Append('"');
                    Attr(sb, "x", right - 4); Attr(sb, "y", py - 4);
                    sb.Append('>').Append(SvgText.Escape(line.Label)).Append("</text>");
                }
            }
        }
        foreach (var a in figure.Annotations)
        {
            var row = rows[a.Row - 1];
            var y = a.SecondaryY && row.Y2 is not null ? row.Y2 : row.Y;
            double px = x.Map(a.X), py = y.Map(a.Y);
            if (double.IsNaN(px) || double.IsNaN(py) || !x.Contains(a.X) || !y.Contains(a.Y)) continue;
            // An arrow from the label down to the point, as Plotly draws showarrow with ay = -30.
            sb.Append("<g class=\"point-annotation\" fill=\"").Append(TextColor).Append("\" stroke=\"").Append(TextColor).Append("\">");
            Line(sb, px, py - 26, px, py - 5);
            sb.Append("<path stroke=\"none\" d=\"M"); Num(sb, px); sb.Append(','); Num(sb, py - 2);
            sb.Append('L'); Num(sb, px - 4); sb.Append(','); Num(sb, py - 9);
            sb.Append('L'); Num(sb, px + 4); sb.Append(','); Num(sb, py - 9); sb.Append("Z\"/>");
            double half = SvgText.Width(a.Text, 11) / 2;
            double tx = Math.Clamp(px, left + half, Math.Max(left + half, right - half));
            sb.Append("<text stroke=\"none\" text-anchor=\"middle\"");
            Attr(sb, "x", tx); Attr(sb, "y", py - 30);
            sb.Append('>').Append(SvgText.Escape(a.Text)).Append("</text></g>");
        }
        sb.Append("</g>");
    }

    // ---- legend ----

    static void DrawLegendRight(StringBuilder sb, List<List<(Trace? Trace, string Label, double Width)>> items, double x, double top)
    {
        sb.Append("<g class=\"legend\" font-size=\"").Append(LegendSize).Append("\" fill=\"").Append(TextColor).Append("\">");
        for (int i = 0; i < items.Count; i++)
        {
            var (trace, label, _) = items[i][0];
            LegendItem(sb, trace, label, x, top + 10 + i * LegendRowHeight);
        }
        sb.Append("</g>");
    }

    static void DrawLegendTop(StringBuilder sb, List<List<(Trace? Trace, string Label, double Width)>> lines, double left, double top)
    {
        sb.Append("<g class=\"legend\" font-size=\"").Append(LegendSize).Append("\" fill=\"").Append(TextColor).Append("\">");
        for (int r = 0; r < lines.Count; r++)
        {
            double x = left;
            foreach (var (trace, label, width) in lines[r])
            {
                LegendItem(sb, trace, label, x, top + 10 + r * LegendRowHeight);
                x += width;
            }
        }
        sb.Append("</g>");
    }

    static void LegendItem(StringBuilder sb, Trace? trace, string label, double x, double cy)
    {
        if (trace is null)
        {
            sb.Append("<text class=\"legend-more\" dy=\"0.35em\" font-style=\"italic\"");
            Attr(sb, "x", x + LegendSwatch + 6); Attr(sb, "y", cy);
            sb.Append('>').Append(SvgText.Escape(label)).Append("</text>");
            return;
        }
        string color = SvgText.Escape(trace.Color);
        sb.Append("<g class=\"legend-item\">");
        switch (trace)
        {
            case LineTrace l:
                if (l.Lines)
                {
                    sb.Append("<line stroke=\"").Append(color).Append("\" stroke-width=\""); Num(sb, Math.Min(l.Width, 4)); sb.Append('"');
                    DashAttr(sb, l.Dash, Math.Min(l.Width, 4));
                    Attr(sb, "x1", x); Attr(sb, "y1", cy); Attr(sb, "x2", x + LegendSwatch); Attr(sb, "y2", cy);
                    sb.Append("/>");
                }
                if (l.Markers)
                {
                    sb.Append("<circle fill=\"").Append(color).Append('"');
                    Attr(sb, "cx", x + LegendSwatch / 2); Attr(sb, "cy", cy); Attr(sb, "r", Math.Min(l.MarkerSize, 10) / 2);
                    sb.Append("/>");
                }
                break;
            default:
                sb.Append("<rect fill=\"").Append(color).Append('"');
                Attr(sb, "x", x + LegendSwatch / 2 - 6); Attr(sb, "y", cy - 6); Attr(sb, "width", 12); Attr(sb, "height", 12);
                sb.Append("/>");
                break;
        }
        sb.Append("<text dy=\"0.35em\"");
        Attr(sb, "x", x + LegendSwatch + 6); Attr(sb, "y", cy);
        sb.Append('>').Append(SvgText.Escape(label)).Append("</text></g>");
    }

    // ---- primitives ----

    static void Line(StringBuilder sb, double x1, double y1, double x2, double y2)
    {
        if (double.IsNaN(x1) || double.IsNaN(y1) || double.IsNaN(x2) || double.IsNaN(y2)) return;
        sb.Append("<line");
        Attr(sb, "x1", x1); Attr(sb, "y1", y1); Attr(sb, "x2", x2); Attr(sb, "y2", y2);
        sb.Append("/>");
    }

    // Plotly's dash patterns, which scale with the line width (at least 3 px per unit).
    static void DashAttr(StringBuilder sb, LineDash dash, double width)
    {
        double u = Math.Max(width, 3);
        string? pattern = dash switch
        {
            LineDash.Dot => $"{Fmt(u)},{Fmt(u)}",
            LineDash.Dash => $"{Fmt(3 * u)},{Fmt(3 * u)}",
            LineDash.DashDot => $"{Fmt(3 * u)},{Fmt(u)},{Fmt(u)},{Fmt(u)}",
            _ => null,
        };
        if (pattern is not null) sb.Append(" stroke-dasharray=\"").Append(pattern).Append('"');
    }

    static string Fmt(double v) => Math.Round(v, 1).ToString(CultureInfo.InvariantCulture);

    static void Attr(StringBuilder sb, string name, double value)
    {
        sb.Append(' ').Append(name).Append("=\"");
        Num(sb, value);
        sb.Append('"');
    }

    // One decimal is a tenth of a pixel: enough precision, and it keeps a 5,000-point chart small.
    static void Num(StringBuilder sb, double v)
    {
        v = Math.Round(v, 1);
        if (v == 0) v = 0; // no "-0"
        Span<char> buffer = stackalloc char[32];
        if (v.TryFormat(buffer, out int written, "0.#", CultureInfo.InvariantCulture)) sb.Append(buffer[..written]);
        else sb.Append(v.ToString(CultureInfo.InvariantCulture));
    }
}
