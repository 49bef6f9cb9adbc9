using System.Reflection;

namespace Tunebook.Notebook.Tests;

/// <summary>Where the repository and the test outputs are (the RepoRoot metadata comes from tests/Directory.Build.props).</summary>
static class ChartPaths
{
    public static string RepoRoot { get; } = Path.GetFullPath(
        typeof(ChartPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!);

    /// <summary>Screenshots the browser tests keep for people to look at.</summary>
    public static string Screenshots => Dir(Path.Combine(RepoRoot, "build", "screenshots"));

    /// <summary>Scratch files of the browser tests (HTML pages, notebooks).</summary>
    public static string Scratch => Dir(Path.Combine(RepoRoot, "build", "browser-tests"));

    public static string PlotlyJs => Path.Combine(RepoRoot, "tests", "reference", "node_modules", "plotly.js-dist-min", "plotly.min.js");

    static string Dir(string path) { Directory.CreateDirectory(path); return path; }
}
