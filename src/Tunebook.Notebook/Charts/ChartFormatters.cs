using Tunebook.Interactive;

namespace Tunebook.Notebook.Charts;

/// <summary>Registers how charts are displayed. The notebook extension calls <see cref="Register"/> at load.</summary>
public static class ChartFormatters
{
    /// <summary>
    /// Makes <see cref="Figure"/> display as text/plain + image/svg+xml + application/vnd.plotly.v1+json.
    /// Idempotent; a Figure formats the same way without it (it implements <see cref="Formatters.IRichDisplay"/>),
    /// but registering makes the choice explicit and lets a later registration replace it.
    /// </summary>
    public static void Register() => Formatters.Register<Figure>(figure => figure.ToMimeBundle());
}
