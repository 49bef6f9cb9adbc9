namespace Tunebook.Kernel.Language;

/// <summary>
/// Jupyter counts cursor positions in Unicode code points; .NET strings index UTF-16 code units.
/// The two differ only after characters outside the Basic Multilingual Plane (emoji and the like).
/// </summary>
public static class CursorPosition
{
    public static int ToUtf16(string text, int codePoints)
    {
        int index = 0;
        for (int cp = 0; cp < codePoints && index < text.Length; cp++)
            index += char.IsHighSurrogate(text[index]) && index + 1 < text.Length ? 2 : 1;
        return Math.Min(index, text.Length);
    }

    public static int ToCodePoints(string text, int utf16)
    {
        int count = 0;
        for (int i = 0; i < utf16 && i < text.Length; i++)
            if (!char.IsLowSurrogate(text[i])) count++;
        return count;
    }

    /// <summary>The cell with its "#!" magic lines blanked (same length, so positions keep their meaning).</summary>
    public static string WithoutMagics(string code)
    {
        var lines = code.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var t = lines[i].TrimStart();
            if (t.Length == 0) continue;
            if (!t.StartsWith("#!", StringComparison.Ordinal)) break;
            lines[i] = new string(' ', lines[i].Length);
        }
        return string.Join("\n", lines);
    }
}
