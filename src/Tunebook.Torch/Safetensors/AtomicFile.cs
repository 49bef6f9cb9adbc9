using System.Security.Cryptography;
using System.Text;

namespace Tunebook.Torch;

/// <summary>
/// Temp-file-then-rename writing: a reader (or a crash) never sees a half-written file under the final
/// name, and a failed write leaves the previous version in place.
/// </summary>
internal static class AtomicFile
{
    /// <summary>A fresh temp name next to <paramref name="path"/> (same directory, so the rename is atomic).</summary>
    public static string TempPathFor(string path) => $"{path}.tmp-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";

    /// <summary>Moves a finished temp file over the destination.</summary>
    public static void Commit(string tempPath, string path) => File.Move(tempPath, path, overwrite: true);

    /// <summary>Removes a temp file after a failure, without hiding the original exception.</summary>
    public static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>Writes UTF-8 text (no BOM) atomically, flushed to disk before the rename.</summary>
    public static void WriteAllText(string path, string text)
    {
        var temp = TempPathFor(path);
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(new UTF8Encoding(false).GetBytes(text));
                stream.Flush(flushToDisk: true);
            }
            Commit(temp, path);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }
}
