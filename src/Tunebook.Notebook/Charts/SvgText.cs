using System.Text;

namespace Tunebook.Notebook.Charts;

/// <summary>Text helpers for the SVG: XML escaping and width estimates for layout.</summary>
static class SvgText
{
    /// <summary>The font stack Plotly uses, so both renderings pick the same installed font.</summary>
    public const string FontFamily = "'Open Sans', verdana, arial, sans-serif";

    /// <summary>
    /// Escapes text for XML content and attribute values, and drops characters XML 1.0 forbids (control characters,
    /// unpaired surrogates), so any string a user passes in still gives a well-formed document.
    /// </summary>
    public static string Escape(string text)
    {
        StringBuilder? sb = null;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            string? replacement = c switch
            {
                '&' => "&amp;", '<' => "&lt;", '>' => "&gt;", '"' => "&quot;", '\'' => "&#39;",
                '\n' or '\r' or '\t' => " ",
                _ => null,
            };
            bool drop = false;
            if (replacement is null)
            {
                if (c < 0x20 || c is '\uFFFE' or '\uFFFF') drop = true;
                else if (char.IsHighSurrogate(c))
                {
                    if (i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { sb?.Append(c).Append(text[i + 1]); i++; continue; }
                    drop = true;
                }
                else if (char.IsLowSurrogate(c)) drop = true;
            }
            if (replacement is null && !drop) { sb?.Append(c); continue; }
            sb ??= new StringBuilder(text.Length + 16).Append(text, 0, i);
            if (!drop) sb.Append(replacement);
        }
        return sb?.ToString() ?? text;
    }

    /// <summary>
    /// The approximate rendered width of <paramref name="text"/> in pixels. There is no font engine here, so the
    /// estimate errs wide (DejaVu Sans, the usual fallback on Linux, is wider than Open Sans): layouts leave a little
    /// extra room rather than letting labels overlap.
    /// </summary>
    public static double Width(string text, double fontSize)
    {
        double em = 0;
        foreach (var c in text)
        {
            em += c switch
            {
                'i' or 'l' or 'j' or '.' or ',' or ':' or ';' or '\'' or '|' or '!' or 'I' => 0.32,
                'f' or 't' or 'r' or '(' or ')' or '[' or ']' or ' ' or '-' => 0.40,
                'm' or 'w' or 'M' or 'W' or '%' or '@' => 0.92,
                >= 'A' and <= 'Z' => 0.70,
                >= '0' and <= '9' => 0.64,
                >= 'a' and <= 'z' => 0.60,
                < '\u0080' => 0.64,
                >= '\u2E80' => 1.0, // CJK and other wide scripts
                _ => 0.70,
            };
        }
        return em * fontSize;
    }

    /// <summary>
    /// Shortens <paramref name="text"/> by replacing its middle with an ellipsis, keeping both ends: category names
    /// such as "model.layers.0.self_attn.q_proj" differ at the end as often as at the start.
    /// </summary>
    public static string FitMiddle(string text, double fontSize, double maxWidth)
    {
        if (Width(text, fontSize) <= maxWidth || text.Length <= 3) return text;
        int head = text.Length / 2, tail = text.Length - head;
        while (head + tail > 2)
        {
            if (head >= tail) head--; else tail--;
            string candidate = text[..head] + "\u2026" + text[^tail..];
            if (Width(candidate, fontSize) <= maxWidth && !char.IsHighSurrogate(text[head - 1]) && !char.IsLowSurrogate(text[^tail]))
                return candidate;
        }
        return Fit(text, fontSize, maxWidth);
    }

    /// <summary>Shortens <paramref name="text"/> with an ellipsis so that it fits <paramref name="maxWidth"/> pixels.</summary>
    public static string Fit(string text, double fontSize, double maxWidth)
    {
        if (Width(text, fontSize) <= maxWidth) return text;
        int keep = text.Length;
        while (keep > 1 && Width(text[..keep] + "\u2026", fontSize) > maxWidth) keep--;
        if (keep > 0 && char.IsHighSurrogate(text[keep - 1])) keep--;
        return text[..keep] + "\u2026";
    }
}
