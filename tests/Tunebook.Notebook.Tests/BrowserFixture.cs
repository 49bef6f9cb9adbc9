using Microsoft.Playwright;

namespace Tunebook.Notebook.Tests;

/// <summary>
/// One headless Chromium for a whole test collection. Tests open an HTML file or string (a chart page, or the
/// nbconvert HTML of an executed notebook), assert on elements and keep a screenshot under build/screenshots/.
/// It drives Debian's /usr/bin/chromium and never downloads a browser; pages cannot reach the network (CDN
/// scripts in nbconvert HTML fail fast instead of hanging the test).
/// Use with <c>[Collection(BrowserCollection.Name)]</c> and a constructor parameter of this type.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>The browser the tests drive.</summary>
    public const string ChromiumPath = "/usr/bin/chromium";

    static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    IPlaywright? _playwright;
    IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser fixture did not start.");

    public async Task InitializeAsync()
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException(
                $"Chromium is not installed at {ChromiumPath}; the browser tests need it. Run `scripts/setup-deps.sh test` (or `make setup-test`).");
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ChromiumArgs,
            Timeout = 60_000,
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.CloseAsync();
        _playwright?.Dispose();
    }

    /// <summary>
    /// A fresh page (own context) of the given viewport. Page errors and console errors are collected in
    /// <see cref="BrowserPage.Errors"/>; requests to http(s) are aborted.
    /// </summary>
    public async Task<BrowserPage> NewPageAsync(int width = 1000, int height = 700)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        var page = await context.NewPageAsync();
        var result = new BrowserPage(context, page);
        await page.RouteAsync(url => url.StartsWith("http://", StringComparison.Ordinal) || url.StartsWith("https://", StringComparison.Ordinal),
            route => route.AbortAsync());
        page.PageError += (_, error) => result.Errors.Add("page error: " + error);
        return result;
    }

    /// <summary>Opens a local HTML file, waiting for its load event.</summary>
    public async Task<BrowserPage> OpenFileAsync(string path, int width = 1000, int height = 700)
    {
        var page = await NewPageAsync(width, height);
        await page.Page.GotoAsync(new Uri(Path.GetFullPath(path)).AbsoluteUri, new PageGotoOptions { WaitUntil = WaitUntilState.Load, Timeout = 60_000 });
        return page;
    }

    /// <summary>Writes <paramref name="html"/> to build/browser-tests/<paramref name="name"/>.html and opens it (a file URL, so local scripts load).</summary>
    public async Task<BrowserPage> OpenHtmlAsync(string name, string html, int width = 1000, int height = 700)
    {
        string path = Path.Combine(ChartPaths.Scratch, name + ".html");
        await File.WriteAllTextAsync(path, html);
        return await OpenFileAsync(path, width, height);
    }
}

/// <summary>
/// Turns a notebook into the static HTML that nbconvert produces (what GitHub-like viewers and exported reports
/// show: no kernel, no scripts from a CDN), so browser tests can check what a reader of a committed notebook sees.
/// </summary>
public static class BrowserNotebook
{
    /// <summary>
    /// Runs <c>jupyter nbconvert --to html</c> on <paramref name="ipynbPath"/> and returns the HTML file's path
    /// (under build/browser-tests/). Fails with the tool's output when the conversion fails.
    /// The template (BrowserTemplates/inline-svg.html.j2) is nbconvert's lab template with SVG outputs inlined
    /// as they are: Debian 12's nbconvert 6.5 empties inline SVG (jupyter/nbconvert#1849).
    /// </summary>
    public static async Task<string> ConvertToHtmlAsync(string ipynbPath)
    {
        string template = Path.Combine(ChartPaths.RepoRoot, "tests", "Tunebook.Notebook.Tests", "BrowserTemplates", "inline-svg.html.j2");
        const string jupyter = "/usr/bin/jupyter";
        if (!File.Exists(jupyter))
            throw new InvalidOperationException($"{jupyter} is not installed; run `scripts/setup-deps.sh` (it installs jupyter-nbconvert).");
        string outDir = ChartPaths.Scratch;
        var psi = new System.Diagnostics.ProcessStartInfo(jupyter, ["nbconvert", "--to", "html", "--template-file", template, "--output-dir", outDir, Path.GetFullPath(ipynbPath)])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        string html = Path.Combine(outDir, Path.GetFileNameWithoutExtension(ipynbPath) + ".html");
        if (process.ExitCode != 0 || !File.Exists(html))
            throw new InvalidOperationException($"jupyter nbconvert failed on {ipynbPath} (exit {process.ExitCode}):\n{await stderr}{await stdout}");
        return html;
    }

    /// <summary>Converts <paramref name="ipynbPath"/> with nbconvert and opens the HTML in the fixture's browser.</summary>
    public static async Task<BrowserPage> OpenNotebookAsync(this BrowserFixture browser, string ipynbPath, int width = 1100, int height = 900) =>
        await browser.OpenFileAsync(await ConvertToHtmlAsync(ipynbPath), width, height);
}

/// <summary>A page opened by <see cref="BrowserFixture"/>; dispose it to close its context.</summary>
public sealed class BrowserPage(IBrowserContext context, IPage page) : IAsyncDisposable
{
    public IPage Page { get; } = page;

    /// <summary>Uncaught script errors seen so far.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Saves a full-page screenshot as build/screenshots/<paramref name="name"/>.png and returns its path.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        string path = Path.Combine(ChartPaths.Screenshots, name + ".png");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        return path;
    }

    public async ValueTask DisposeAsync() => await context.CloseAsync();
}

/// <summary>The xunit collection sharing one <see cref="BrowserFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
