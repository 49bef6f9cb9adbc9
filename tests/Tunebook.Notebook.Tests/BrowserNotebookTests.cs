using System.Text.Json.Nodes;
using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

/// <summary>
/// A chart output the way a notebook stores it (one display_data carrying text/plain, image/svg+xml and the Plotly
/// JSON), rendered by Debian's nbconvert and opened in Chromium: the static export must show the SVG.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class BrowserNotebookTests(BrowserFixture browser)
{
    [Fact]
    public async Task Nbconvert_html_of_a_chart_output_shows_the_svg_and_the_table()
    {
        var figure = ChartSamples.LossCurves();
        var bundle = figure.ToMimeBundle();
        string ipynb = Path.Combine(ChartPaths.Scratch, "chart-output.ipynb");
        await File.WriteAllTextAsync(ipynb, NotebookWith(
            Markdown("md", "# Training run\nLoss by step, then a comparison of runs."),
            Code("chart", 1, "Figure.Create().AddLine(\"train loss\", steps, losses)...", DisplayData(bundle)),
            Code("table", 2, "runs.Compare()", DisplayData(new Tunebook.Interactive.MimeBundle("run  loss")
                .With("text/html", "<table class=\"runs\"><tr><th>run</th><th>val loss</th></tr><tr><td>lr=1e-4</td><td>0.84</td></tr><tr><td>lr=3e-4</td><td>0.79</td></tr></table>")))));

        await using var page = await browser.OpenNotebookAsync(ipynb);
        var chart = page.Page.Locator("svg.tunebook-chart");
        Assert.Equal(1, await chart.CountAsync());
        Assert.True(await chart.IsVisibleAsync(), "the chart's SVG is not visible in the nbconvert HTML");
        var box = await chart.BoundingBoxAsync();
        Assert.NotNull(box);
        Assert.InRange(box!.Width, 600, 1000);
        Assert.InRange(box.Height, 300, 600);
        Assert.Equal(3, await chart.Locator("g.trace path.line").CountAsync());
        Assert.Equal("Fine-tuning loss", await chart.Locator("text.title").TextContentAsync());

        var table = page.Page.Locator("table.runs");
        Assert.True(await table.IsVisibleAsync(), "the comparison table is not visible");
        Assert.Equal(3, await table.Locator("tr").CountAsync());
        // nbconvert picks the SVG over the Plotly JSON (it has no renderer for it) and never prints the plain text.
        Assert.Equal(0, await page.Page.GetByText("3 traces").CountAsync());
        await page.ScreenshotAsync("nbconvert-chart-output");
    }

    static string NotebookWith(params JsonObject[] cells) => new JsonObject
    {
        ["cells"] = new JsonArray(cells),
        ["metadata"] = new JsonObject
        {
            ["kernelspec"] = new JsonObject { ["name"] = "tunebook", ["display_name"] = "C# (Tunebook)", ["language"] = "C#" },
            ["language_info"] = new JsonObject { ["name"] = "C#", ["file_extension"] = ".cs", ["mimetype"] = "text/x-csharp" },
        },
        ["nbformat"] = 4,
        ["nbformat_minor"] = 5,
    }.ToJsonString();

    static JsonObject Markdown(string id, string source) => new()
    {
        ["cell_type"] = "markdown", ["id"] = id, ["metadata"] = new JsonObject(), ["source"] = source,
    };

    static JsonObject Code(string id, int count, string source, params JsonObject[] outputs) => new()
    {
        ["cell_type"] = "code", ["id"] = id, ["execution_count"] = count, ["metadata"] = new JsonObject(),
        ["source"] = source, ["outputs"] = new JsonArray(outputs),
    };

    // The kernel writes JSON MIME types as JSON values and text types as strings; this does the same.
    static JsonObject DisplayData(Tunebook.Interactive.MimeBundle bundle)
    {
        var data = new JsonObject();
        foreach (var (mime, value) in bundle)
            data[mime] = Tunebook.Interactive.MimeBundle.IsJsonMimeType(mime) ? JsonNode.Parse(value) : JsonValue.Create(value);
        return new JsonObject { ["output_type"] = "display_data", ["data"] = data, ["metadata"] = new JsonObject() };
    }
}
