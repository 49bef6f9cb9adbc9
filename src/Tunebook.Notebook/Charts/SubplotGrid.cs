namespace Tunebook.Notebook.Charts;

/// <summary>
/// Where the rows of a figure sit, as fractions of the plot area's height (Plotly's axis "domain"). Both the Plotly
/// layout and the SVG use these numbers, so the two renderings split the space the same way.
/// </summary>
static class SubplotGrid
{
    /// <summary>The vertical gap between rows, as a fraction of the whole plot area.</summary>
    public const double Gap = 0.08;

    /// <summary>(bottom, top) of <paramref name="row"/> (1 is the top row) among <paramref name="rows"/>.</summary>
    public static (double Bottom, double Top) Domain(int row, int rows)
    {
        if (rows <= 1) return (0, 1);
        double height = (1 - Gap * (rows - 1)) / rows;
        double top = 1 - (row - 1) * (height + Gap);
        return (Math.Max(0, Math.Round(top - height, 6)), Math.Min(1, Math.Round(top, 6)));
    }
}
