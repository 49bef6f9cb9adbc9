namespace Tunebook.Notebook.Tests;

/// <summary>
/// The executed quickstart notebook as a reader sees it without a kernel: rendered by nbconvert to HTML, opened in
/// headless Chromium. The live training view's final loss chart and the before/after table must be on the page.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class QuickstartBrowserTests(BrowserFixture browser)
{
    /// <summary>The committed notebook when it carries outputs, else the one `make test` / `make demo` executed under build/.</summary>
    static string? ExecutedQuickstart()
    {
        foreach (var path in new[] { Path.Combine(ChartPaths.RepoRoot, "notebooks", "01-quickstart.ipynb"), Path.Combine(ChartPaths.RepoRoot, "build", "notebooks", "01-quickstart.ipynb") })
            if (File.Exists(path) && File.ReadAllText(path).Contains("\"output_type\": \"display_data\"", StringComparison.Ordinal)) return path;
        return null;
    }

    [Fact]
    public async Task Executed_quickstart_renders_the_loss_chart_and_the_comparison_table()
    {
        var notebook = ExecutedQuickstart();
        if (notebook is null)
        {
            // Nothing executed yet (a fresh checkout before the notebooks ran): there is no rendering to check.
            Console.WriteLine("01-quickstart has no outputs yet; run tests/notebooks/run-notebooks.sh first");
            return;
        }
        await using var page = await browser.OpenNotebookAsync(notebook);

        // The training view's chart: train and validation loss on top, perplexity below.
        var chart = page.Page.Locator("svg.tunebook-chart").Filter(new() { Has = page.Page.Locator("text.title", new() { HasTextString = "Training" }) });
        Assert.Equal(1, await chart.CountAsync());
        Assert.True(await chart.IsVisibleAsync(), "the loss chart is not visible");
        Assert.True(await chart.Locator("g.trace path.line").CountAsync() >= 2, "the loss chart has no train loss line");
        var box = await chart.BoundingBoxAsync();
        Assert.True(box is { Width: > 400, Height: > 300 }, $"the loss chart is {box?.Width}×{box?.Height}");

        // The before/after table: a header and one row per held-out question.
        var table = page.Page.Locator("div.tunebook-comparison table");
        Assert.Equal(1, await table.CountAsync());
        Assert.True(await table.IsVisibleAsync(), "the comparison table is not visible");
        Assert.Equal(["Prompt", "base", "tuned", "Expected"], await table.Locator("th").AllTextContentsAsync());
        Assert.True(await table.Locator("tbody tr").CountAsync() >= 1);
        Assert.Contains("puddle", await table.Locator("tbody tr").First.TextContentAsync());

        // The training view's final state.
        Assert.True(await page.Page.GetByText("completed at step").CountAsync() >= 1, "the final training status is missing");
        Assert.Empty(page.Errors);
        await page.ScreenshotAsync("01-quickstart");
    }
}
