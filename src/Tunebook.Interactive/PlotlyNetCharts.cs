using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace Tunebook.Interactive;

/// <summary>
/// Shows a Plotly.NET chart (what Plotly.NET.CSharp's Chart.* methods return) as an interactive Plotly figure,
/// application/vnd.plotly.v1+json, with a text summary of its traces. Tunebook takes no dependency on
/// Plotly.NET or F#: the chart is recognised by its type name and its figure JSON comes from Plotly.NET's own
/// GenericChart.toFigureJson, found by reflection in the assembly the user referenced.
/// </summary>
public static class PlotlyNetCharts
{
    /// <summary>The base type of every Plotly.NET chart.</summary>
    public const string GenericChartType = "Plotly.NET.GenericChart";

    public const string PlotlyMimeType = "application/vnd.plotly.v1+json";

    /// <summary>The chart's bundle: Plotly.NET's figure JSON and a readable text form.</summary>
    public static MimeBundle ToMimeBundle(object chart)
    {
        var json = FigureJson(chart);
        return new MimeBundle(Summary(json)).With(PlotlyMimeType, json);
    }

    /// <summary>Plotly.NET's GenericChart.toFigureJson(chart): data, layout and config as plotly.js reads them.</summary>
    public static string FigureJson(object chart)
    {
        var genericChart = BaseType(chart.GetType())
            ?? throw new ArgumentException($"{chart.GetType().FullName} is not a {GenericChartType}", nameof(chart));
        var toFigureJson = genericChart.GetMethod("toFigureJson", BindingFlags.Public | BindingFlags.Static, [genericChart])
            ?? throw new NotSupportedException($"this Plotly.NET ({genericChart.Assembly.GetName().Version}) has no GenericChart.toFigureJson; Tunebook shows charts of Plotly.NET 4 to 6");
        return (string)toFigureJson.Invoke(null, [chart])!;
    }

    /// <summary>The Plotly.NET chart type <paramref name="type"/> derives from, or null.</summary>
    public static Type? BaseType(Type type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (t.FullName == GenericChartType) return t;
        return null;
    }

    /// <summary>"Plotly.NET chart "title": 2 traces" and one line per trace with its type, name and number of points.</summary>
    public static string Summary(string figureJson)
    {
        using var figure = JsonDocument.Parse(figureJson);
        var root = figure.RootElement;
        var traces = root.TryGetProperty("data", out var data) && data.ValueKind == JsonValueKind.Array ? data.EnumerateArray().ToList() : [];
        var text = new StringBuilder("Plotly.NET chart");
        if (Title(root) is { } title) text.Append(" \"").Append(title).Append('"');
        text.Append(CultureInfo.InvariantCulture, $": {traces.Count} trace{(traces.Count == 1 ? "" : "s")}");
        foreach (var trace in traces)
        {
            var kind = trace.TryGetProperty("type", out var t) ? t.GetString() : "trace";
            var name = trace.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
            int points = new[] { "x", "y", "values", "z" }
                .Select(key => trace.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Array ? v.GetArrayLength() : 0).Max();
            text.Append(CultureInfo.InvariantCulture, $"\n  {kind}{(name is null ? "" : " " + name)}: {points} points");
        }
        return text.ToString();
    }

    static string? Title(JsonElement root)
    {
        if (!root.TryGetProperty("layout", out var layout) || !layout.TryGetProperty("title", out var title)) return null;
        if (title.ValueKind == JsonValueKind.String) return title.GetString();
        return title.ValueKind == JsonValueKind.Object && title.TryGetProperty("text", out var text) ? text.GetString() : null;
    }
}
