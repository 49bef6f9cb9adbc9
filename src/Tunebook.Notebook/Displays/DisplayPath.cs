using System.Text.RegularExpressions;

namespace Tunebook.Notebook.Displays;

/// <summary>
/// Paths as displays show them: relative to the notebook's folder (the current directory), or under the home
/// folder as <c>~/…</c>, never the executing machine's absolute path, so committed notebook outputs mean the same
/// on every reader's machine. Every display that prints a path goes through here.
/// </summary>
public static partial class DisplayPath
{
    // "../../datasets/x" still reads as "in this checkout"; a path further up is shown from ~ or in full.
    const int MaxLevelsUp = 2;

    /// <summary><paramref name="path"/> relative to the current directory (at most two levels up), else from ~, else as given.</summary>
    public static string Of(string path) => Of(path, Directory.GetCurrentDirectory(), Home);

    /// <summary><see cref="Of(string)"/> against an explicit folder and home (for tests).</summary>
    public static string Of(string path, string currentFolder, string? home)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Path.IsPathRooted(path)) return path;
        var full = Path.GetFullPath(path);
        var relative = Path.GetRelativePath(currentFolder, full);
        if (!Path.IsPathRooted(relative) && LevelsUp(relative) <= MaxLevelsUp) return relative == "." ? "./" : relative;
        if (!string.IsNullOrEmpty(home))
        {
            var fromHome = Path.GetRelativePath(home, full);
            if (fromHome == ".") return "~";
            if (!Path.IsPathRooted(fromHome) && !fromHome.StartsWith("..", StringComparison.Ordinal)) return "~/" + fromHome;
        }
        return full;
    }

    /// <summary>
    /// <paramref name="text"/> with every absolute path in it shown as <see cref="Of(string)"/> does (for messages and
    /// reports written by lower layers, such as a data report's "/…/train.jsonl:12: …" locations).
    /// </summary>
    public static string InText(string text) => InText(text, Directory.GetCurrentDirectory(), Home);

    /// <summary><see cref="InText(string)"/> against an explicit folder and home (for tests).</summary>
    public static string InText(string? text, string currentFolder, string? home)
    {
        if (string.IsNullOrEmpty(text)) return text ?? "";
        return AbsolutePath().Replace(text, m => Of(m.Value, currentFolder, home));
    }

    static string? Home => Environment.GetEnvironmentVariable("HOME") is { Length: > 0 } h ? h : null;

    static int LevelsUp(string relative) =>
        relative.Split(Path.DirectorySeparatorChar).TakeWhile(part => part == "..").Count();

    // An absolute path: a "/" that starts a word, then characters other than whitespace, quotes, ':' (file:line
    // locations), '<', '>' and ',' — the separators the reports put after a path.
    [GeneratedRegex(@"(?<![\w.~/:])/[^\s""'`:<>,;()]+")]
    private static partial Regex AbsolutePath();
}
