using System.Text;

namespace Tunebook.Models;

/// <summary>Small text-file helpers: writes go to a temporary file in the same folder, then a rename.</summary>
static class TextFiles
{
    /// <summary>Writes UTF-8 text (no BOM) so readers never see a half-written file.</summary>
    public static void WriteAtomically(string path, string text)
    {
        var temp = $"{path}.tmp-{Guid.NewGuid():N}";
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(new UTF8Encoding(false).GetBytes(text));
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
