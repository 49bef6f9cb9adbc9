namespace Tunebook.Notebook.Charts;

/// <summary>
/// Plotly.js's default trace colours, in order. Every trace gets an explicit colour from this list, so the
/// interactive Plotly view and the static SVG show the same colour for the same run.
/// </summary>
public static class Colorway
{
    /// <summary>The ten colours Plotly.js cycles through when a trace has no colour of its own.</summary>
    public static IReadOnlyList<string> Default { get; } =
    [
        "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
        "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
    ];

    /// <summary>The colour of the <paramref name="index"/>-th trace (wrapping around).</summary>
    public static string At(int index) => Default[((index % Default.Count) + Default.Count) % Default.Count];
}
