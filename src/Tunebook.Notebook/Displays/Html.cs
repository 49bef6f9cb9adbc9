using System.Globalization;
using System.Net;
using System.Text;

namespace Tunebook.Notebook.Displays;

/// <summary>
/// Small HTML building blocks shared by the displays. Everything is styled inline (GitHub strips style tags)
/// and colours are chosen to read on both light and dark backgrounds: text inherits the theme's colour, and
/// only borders, muted greys and saturated accents are set explicitly.
/// </summary>
public static class Html
{
    /// <summary>A grey that reads on white and on VS Code's dark background.</summary>
    public const string Muted = "#8a8a8a";
    public const string Border = "1px solid rgba(128,128,128,0.45)";

    public static string Encode(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string Num(double value, string format = "0.####") =>
        double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A table with a header row; cells are already HTML.</summary>
    public static string Table(IReadOnlyList<string>? header, IEnumerable<IReadOnlyList<string>> rows, string? caption = null)
    {
        var sb = new StringBuilder();
        sb.Append("<table style=\"border-collapse:collapse;margin:4px 0;font-size:13px\">");
        if (caption is not null) sb.Append($"<caption style=\"text-align:left;font-weight:600;padding:2px 0\">{Encode(caption)}</caption>");
        if (header is not null)
        {
            sb.Append("<thead><tr>");
            foreach (var h in header) sb.Append($"<th style=\"text-align:left;padding:3px 10px;border-bottom:{Border}\">{Encode(h)}</th>");
            sb.Append("</tr></thead>");
        }
        sb.Append("<tbody>");
        foreach (var row in rows)
        {
            sb.Append("<tr>");
            foreach (var c in row) sb.Append($"<td style=\"text-align:left;vertical-align:top;padding:3px 10px;border-bottom:{Border}\">{c}</td>");
            sb.Append("</tr>");
        }
        return sb.Append("</tbody></table>").ToString();
    }

    /// <summary>A two-column label/value table (values are plain text).</summary>
    public static string KeyValues(IEnumerable<(string Label, string Value)> rows, string? caption = null) =>
        Table(null, rows.Select(r => (IReadOnlyList<string>)[$"<b>{Encode(r.Label)}</b>", Encode(r.Value)]), caption);

    /// <summary>A progress bar: a bordered track with a coloured fill (no scripts, no classes).</summary>
    public static string ProgressBar(double fraction, string color = "#2f80ed")
    {
        double pct = Math.Clamp(double.IsNaN(fraction) ? 0 : fraction, 0, 1) * 100;
        return $"<div style=\"width:320px;height:12px;border:{Border};border-radius:3px;overflow:hidden;display:inline-block;vertical-align:middle\">" +
               $"<div style=\"width:{pct.ToString("0.#", CultureInfo.InvariantCulture)}%;height:100%;background:{color}\"></div></div>";
    }

    /// <summary>A note line in a muted colour.</summary>
    public static string Note(string text) => $"<div style=\"color:{Muted};font-size:12px;margin:2px 0\">{Encode(text)}</div>";

    /// <summary>A warning line (amber, readable on both themes).</summary>
    public static string Warning(string text) => $"<div style=\"color:#d08700;margin:2px 0\">⚠ {Encode(text)}</div>";

    /// <summary>
    /// Preformatted text that wraps at word boundaries. Jupyter Notebook's own stylesheet gives output &lt;pre&gt;
    /// word-break:break-all, which splits words mid-letter ("H illtop") in narrow table cells; the inline style
    /// puts normal word breaking back and breaks a word only when it alone is wider than the cell.
    /// </summary>
    public static string Pre(string text) => $"<pre style=\"white-space:pre-wrap;word-break:normal;overflow-wrap:break-word;margin:0;font-size:12px\">{Encode(text)}</pre>";

    /// <summary>Seconds as "1m 05s" / "12.3s".</summary>
    public static string Duration(double seconds)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds) || seconds < 0) return "–";
        if (seconds < 60) return seconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";
        var t = TimeSpan.FromSeconds(seconds);
        return t.TotalHours >= 1 ? $"{(int)t.TotalHours}h {t.Minutes:00}m" : $"{t.Minutes}m {t.Seconds:00}s";
    }
}
