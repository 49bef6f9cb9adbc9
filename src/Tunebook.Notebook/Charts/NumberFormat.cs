using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Tunebook.Notebook.Charts;

/// <summary>
/// Tick labels for the static SVG, written the way Plotly writes them in the interactive view: as few decimals as
/// the tick step needs, k/M/B suffixes for large numbers, and the d3-format strings that Plotly's
/// <c>tickformat</c> accepts (the common subset: <c>f e g s d %</c>, with <c>,</c> grouping, <c>.N</c> precision
/// and <c>~</c> trimming).
/// </summary>
public static partial class NumberFormat
{
    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The typographic minus Plotly uses in labels (U+2212), wider and easier to read than a hyphen.</summary>
    public const string Minus = "\u2212";

    /// <summary>
    /// The default label of a linear tick: decimals follow <paramref name="step"/>; when the largest tick
    /// (<paramref name="maxAbs"/>) reaches 10,000 the labels switch to k, M, B, T.
    /// </summary>
    public static string LinearTick(double value, double step, double maxAbs)
    {
        if (!double.IsFinite(value)) return Special(value);
        if (Math.Abs(value) < step * 1e-9) value = 0; // -0 and 1e-17 both read "0"
        double scale = 1; string suffix = "";
        if (maxAbs >= 1e4)
        {
            int group = Math.Min(4, (int)Math.Floor(Math.Log10(maxAbs) / 3));
            scale = NiceTicks.Pow10(3 * group); suffix = LargeSuffixes[group];
        }
        double scaledStep = step / scale;
        int decimals = scaledStep > 0 && double.IsFinite(scaledStep)
            ? Math.Clamp(-(int)Math.Floor(Math.Log10(scaledStep) + 1e-9), 0, 12) : 0;
        if (decimals > 5 && suffix == "") return Exponential(value, significant: 3);
        return Signed(TrimZeros((Math.Abs(value) / scale).ToString("F" + decimals, Inv)) + suffix, value);
    }

    /// <summary>The label of a log-axis tick: 1, 10, 100, 1k... 0.1, 0.01, then 1e−5 for very small values.</summary>
    public static string LogTick(double value)
    {
        if (!(value > 0) || !double.IsFinite(value)) return Special(value);
        double exponent = Math.Log10(value);
        if (exponent >= 4 && exponent < 15) return Compact(value);
        if (exponent < -4 || exponent >= 15) return Exponential(value, significant: 2);
        return TrimZeros(value.ToString("F" + Math.Max(0, (int)Math.Ceiling(-exponent - 1e-9)), Inv));
    }

    /// <summary>A short form with up to <paramref name="significant"/> digits: 950, 12.3k, 1.5M, 7B, 2T.</summary>
    public static string Compact(double value, int significant = 3)
    {
        if (!double.IsFinite(value)) return Special(value);
        double abs = Math.Abs(value);
        if (abs < 1e3) return Signed(TrimZeros(RoundSignificant(abs, significant).ToString("0.############", Inv)), value);
        int group = Math.Min(4, (int)Math.Floor(Math.Log10(abs) / 3));
        double scaled = RoundSignificant(abs / NiceTicks.Pow10(3 * group), significant);
        if (scaled >= 1000 && group < 4) { group++; scaled /= 1000; }
        return Signed(TrimZeros(scaled.ToString("0.############", Inv)) + LargeSuffixes[group], value);
    }

    static readonly string[] LargeSuffixes = ["", "k", "M", "B", "T"];

    /// <summary>True when <paramref name="format"/> is a d3-format string that <see cref="D3"/> renders exactly.</summary>
    public static bool IsSupportedD3(string format) => D3Spec().IsMatch(format);

    /// <summary>
    /// Formats <paramref name="value"/> with a d3-format string such as <c>.2f</c>, <c>~s</c>, <c>.0%</c>, <c>,d</c>,
    /// <c>.3~g</c> or <c>.1e</c>. Formats outside this subset fall back to <see cref="Compact"/> (Plotly still applies
    /// them in the interactive view).
    /// </summary>
    public static string D3(string format, double value)
    {
        if (!double.IsFinite(value)) return Special(value);
        var m = D3Spec().Match(format);
        if (!m.Success) return Compact(value);
        bool group = m.Groups[1].Success, trim = m.Groups[3].Success;
        int? precision = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, Inv) : null;
        char type = m.Groups[4].Success ? m.Groups[4].Value[0] : 'g';
        double abs = Math.Abs(value);
        string body;
        switch (type)
        {
            case 'f':
                body = Fixed(abs, precision ?? 6, group, trim); break;
            case '%':
                body = Fixed(abs * 100, precision ?? 6, group, trim) + "%"; break;
            case 'd':
                body = Fixed(Math.Round(abs), 0, group, trim); break;
            case 'e':
                body = ExponentBody(abs, precision ?? 6, trim); break;
            case 's':
                body = SiBody(abs, Math.Max(1, precision ?? 6), trim); break;
            default: // 'g' and 'r': significant digits
                body = GeneralBody(abs, Math.Max(1, precision ?? 6), group, trim && type == 'g'); break;
        }
        return Signed(body, value);
    }

    [GeneratedRegex(@"^(,)?(?:\.(\d{1,2}))?(~)?([efgrsd%])?$")]
    private static partial Regex D3Spec();

    static string Fixed(double abs, int decimals, bool group, bool trim)
    {
        string s = abs.ToString((group ? "#,0." : "0.") + new string('0', decimals), Inv).TrimEnd('.');
        return trim ? TrimZeros(s) : s;
    }

    static string ExponentBody(double abs, int decimals, bool trim)
    {
        string s = abs.ToString("0." + new string(trim ? '#' : '0', decimals) + "e+0", Inv);
        return s.Replace(".e", "e");
    }

    static string GeneralBody(double abs, int significant, bool group, bool trim)
    {
        if (abs == 0) return trim ? "0" : "0." + new string('0', significant - 1);
        int exponent = (int)Math.Floor(Math.Log10(RoundSignificant(abs, significant)));
        if (exponent < -6 || exponent >= significant)
            return ExponentBody(abs, significant - 1, trim);
        return Fixed(abs, Math.Max(0, significant - 1 - exponent), group, trim);
    }

    static string SiBody(double abs, int significant, bool trim)
    {
        if (abs == 0) return trim ? "0" : "0." + new string('0', significant - 1);
        double rounded = RoundSignificant(abs, significant);
        int exponent3 = Math.Clamp((int)Math.Floor(Math.Log10(rounded) / 3) * 3, -24, 24);
        double scaled = RoundSignificant(rounded / NiceTicks.Pow10(exponent3), significant);
        int digitsBefore = scaled >= 100 ? 3 : scaled >= 10 ? 2 : 1;
        string s = Fixed(scaled, Math.Max(0, significant - digitsBefore), false, trim);
        return s + SiPrefixes[(exponent3 + 24) / 3];
    }

    static readonly string[] SiPrefixes = ["y", "z", "a", "f", "p", "n", "\u00b5", "m", "", "k", "M", "G", "T", "P", "E", "Z", "Y"];

    static string Exponential(double value, int significant) =>
        Signed(ExponentBody(Math.Abs(value), significant - 1, trim: true).Replace("e+", "e"), value);

    static double RoundSignificant(double abs, int significant)
    {
        if (abs == 0 || !double.IsFinite(abs)) return abs;
        int exponent = (int)Math.Floor(Math.Log10(abs));
        int decimals = significant - 1 - exponent;
        if (decimals is >= 0 and <= 15) return Math.Round(abs, decimals, MidpointRounding.AwayFromZero);
        double unit = NiceTicks.Pow10(exponent - significant + 1);
        return Math.Round(abs / unit, MidpointRounding.AwayFromZero) * unit;
    }

    static string TrimZeros(string s)
    {
        int dot = s.IndexOf('.');
        if (dot < 0) return s;
        int end = s.Length;
        while (end > dot + 1 && s[end - 1] == '0') end--;
        if (end == dot + 1) end = dot;
        return s[..end];
    }

    static string Signed(string body, double value) => value < 0 && body.Any(c => c is >= '1' and <= '9') ? Minus + body : body;

    static string Special(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "\u221e" : Minus + "\u221e";
}
