using System.Security.Cryptography;
using System.Text;

namespace Tunebook.IO;

/// <summary>
/// Temp-file-then-rename writing: a reader (or a crash) never sees a half-written file under the final
/// name, and a failed write leaves the previous version in place. One source file, compiled into each
/// Tunebook assembly that writes files (see the Compile link in their .csproj), because the layers that
/// write files (engine, text, models, tuning, kernel) share no assembly below them.
/// </summary>
internal static class AtomicFile
{
    /// <summary>A fresh temp name next to <paramref name="path"/> (same directory, so the rename is atomic).</summary>
    public static string TempPathFor(string path) => $"{path}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";

    /// <summary>
    /// Moves a finished temp file over the destination, then removes the temp files of the same destination that
    /// an earlier, killed write left behind (a SIGKILL runs no cleanup, so the next save does it).
    /// </summary>
    public static void Commit(string tempPath, string path)
    {
        File.Move(tempPath, path, overwrite: true);
        foreach (var stale in StaleTemps(path)) TryDelete(stale);
    }

    /// <summary>Temp files of <paramref name="path"/> ("NAME.tmp-XXXXXXXXXXXX") left by writes that never finished.</summary>
    public static IEnumerable<string> StaleTemps(string path)
    {
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full);
        if (folder is null || !Directory.Exists(folder)) return [];
        var prefix = Path.GetFileName(full) + ".tmp-";
        return Directory.EnumerateFiles(folder, prefix + "*")
            .Where(f => Path.GetFileName(f) is var n && n.Length == prefix.Length + 12 && n[prefix.Length..].All(Uri.IsHexDigit))
            .ToList();
    }

    /// <summary>Removes a temp file after a failure, without hiding the original exception.</summary>
    public static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Writes UTF-8 text (no BOM) atomically, flushed to disk before the rename; returns the path.</summary>
    public static string WriteAllText(string path, string text) => WriteAllBytes(path, new UTF8Encoding(false).GetBytes(text));

    /// <summary>Writes bytes atomically, flushed to disk before the rename; creates the folder; returns the path.</summary>
    public static string WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        var temp = TempPathFor(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            Commit(temp, path);
            return path;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }
}
