using System.Globalization;
using System.Text;

namespace Tunebook.Tuning.Data.Quality;

/// <summary>
/// The writing system of letters, by Unicode block ranges of the major scripts: enough to tell which languages'
/// scripts a data set mixes (Latin, Cyrillic, Greek, Arabic, Hebrew, Devanagari, Han, Kana, Hangul, Thai...).
/// It cannot tell languages that share a script apart (English from French, Russian from Ukrainian).
/// </summary>
public static class UnicodeScripts
{
    static readonly (int First, int Last, string Script)[] Ranges =
    [
        (0x0041, 0x024F, "Latin"), (0x1E00, 0x1EFF, "Latin"), (0xFF21, 0xFF5A, "Latin"),
        (0x0370, 0x03FF, "Greek"), (0x1F00, 0x1FFF, "Greek"),
        (0x0400, 0x052F, "Cyrillic"),
        (0x0530, 0x058F, "Armenian"),
        (0x0590, 0x05FF, "Hebrew"),
        (0x0600, 0x06FF, "Arabic"), (0x0750, 0x077F, "Arabic"), (0x08A0, 0x08FF, "Arabic"), (0xFB50, 0xFDFF, "Arabic"), (0xFE70, 0xFEFF, "Arabic"),
        (0x0900, 0x097F, "Devanagari"),
        (0x0980, 0x09FF, "Bengali"),
        (0x0B80, 0x0BFF, "Tamil"),
        (0x0E00, 0x0E7F, "Thai"),
        (0x10A0, 0x10FF, "Georgian"),
        (0x1100, 0x11FF, "Hangul"), (0x3130, 0x318F, "Hangul"), (0xAC00, 0xD7AF, "Hangul"),
        (0x3040, 0x309F, "Hiragana"), (0x30A0, 0x30FF, "Katakana"),
        (0x3400, 0x4DBF, "Han"), (0x4E00, 0x9FFF, "Han"), (0xF900, 0xFAFF, "Han"), (0x20000, 0x2FA1F, "Han"),
    ];

    /// <summary>The script of a letter, "Other" for a letter of a script not listed, null for what is not a letter.</summary>
    public static string? Of(Rune rune)
    {
        if (!Rune.IsLetter(rune)) return null;
        int v = rune.Value;
        foreach (var (first, last, script) in Ranges)
            if (v >= first && v <= last) return script;
        return "Other";
    }

    /// <summary>The script most of the letters of <paramref name="text"/> are written in, or null when it has no letters.</summary>
    public static string? Dominant(string text)
    {
        var counts = new Dictionary<string, int>();
        foreach (var rune in text.EnumerateRunes())
            if (Of(rune) is { } script) counts[script] = counts.GetValueOrDefault(script) + 1;
        return counts.Count == 0 ? null : counts.MaxBy(kv => kv.Value).Key;
    }
}
