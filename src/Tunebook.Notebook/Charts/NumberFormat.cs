using System.Globalization;
using System.Numerics;
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

    // The digit strings below come from the double's exact binary value, rounded half up, which is what JavaScript's
    // toFixed / toExponential (and so d3 and Plotly) do. .NET's formats differ on ties: 1.255 is really
    // 1.25499999..., which toFixed(2) prints as 1.25 while the custom format "0.00" prints 1.26.

    static string Fixed(double abs, int decimals, bool group, bool trim)
    {
        string s = Plain(RoundScaled(abs, decimals), -decimals);
        if (group) s = GroupThousands(s);
        return trim ? TrimZeros(s) : s;
    }

    static string ExponentBody(double abs, int decimals, bool trim)
    {
        if (abs == 0) return (trim || decimals == 0 ? "0" : "0." + new string('0', decimals)) + "e+0";
        var (n, e) = Significant(abs, decimals + 1);
        string d = n.ToString(Inv);
        string mantissa = decimals > 0 ? d[..1] + "." + d[1..] : d;
        if (trim) mantissa = TrimZeros(mantissa);
        return mantissa + "e" + (e < 0 ? Minus : "+") + Math.Abs(e).ToString(Inv);
    }

    static string GeneralBody(double abs, int significant, bool group, bool trim)
    {
        if (abs == 0) return trim ? "0" : significant > 1 ? "0." + new string('0', significant - 1) : "0";
        var (n, e) = Significant(abs, significant);
        // toPrecision switches to exponent notation outside 1e-6 .. 10^significant.
        if (e < -6 || e >= significant) return ExponentBody(abs, significant - 1, trim);
        string s = Plain(n, e - significant + 1);
        if (group) s = GroupThousands(s);
        return trim ? TrimZeros(s) : s;
    }

    static string SiBody(double abs, int significant, bool trim)
    {
        if (abs == 0) return trim ? "0" : significant > 1 ? "0." + new string('0', significant - 1) : "0";
        var (n, e) = Significant(abs, significant);
        int exponent3 = Math.Clamp((int)Math.Floor(e / 3.0) * 3, -24, 24);
        string s = Plain(n, e - significant + 1 - exponent3);
        return (trim ? TrimZeros(s) : s) + SiPrefixes[(exponent3 + 24) / 3];
    }

    /// <summary><paramref name="abs"/> × 10^<paramref name="power"/>, rounded half up to an integer, exactly.</summary>
    static BigInteger RoundScaled(double abs, int power)
    {
        long bits = BitConverter.DoubleToInt64Bits(abs);
        int exponent = (int)((bits >> 52) & 0x7FF);
        long mantissa = bits & 0xFFFFFFFFFFFFFL;
        if (exponent == 0) exponent = 1; else mantissa |= 1L << 52;
        exponent -= 1075; // abs = mantissa × 2^exponent
        BigInteger num = mantissa, den = BigInteger.One;
        if (exponent > 0) num <<= exponent; else den <<= -exponent;
        if (power > 0) num *= BigInteger.Pow(10, power); else den *= BigInteger.Pow(10, -power);
        return (2 * num + den) / (2 * den);
    }

    /// <summary>The <paramref name="digits"/> leading digits of <paramref name="abs"/> (rounded) and its decimal exponent.</summary>
    static (BigInteger Digits, int Exponent) Significant(double abs, int digits)
    {
        int e = (int)Math.Floor(Math.Log10(abs));
        BigInteger n = default;
        for (int attempt = 0; attempt < 4; attempt++)
        {
            n = RoundScaled(abs, digits - 1 - e);
            if (n >= BigInteger.Pow(10, digits)) e++;            // rounding carried (9.96 → 10.0) or log10 fell short
            else if (n < BigInteger.Pow(10, digits - 1)) e--;    // log10 overshot
            else break;
        }
        return (n, e);
    }

    /// <summary><paramref name="n"/> × 10^<paramref name="power"/> as a plain decimal string.</summary>
    static string Plain(BigInteger n, int power)
    {
        string d = n.ToString(Inv);
        if (power >= 0) return n.IsZero ? "0" : d + new string('0', power);
        int decimals = -power;
        d = d.PadLeft(decimals + 1, '0');
        return d[..^decimals] + "." + d[^decimals..];
    }

    static string GroupThousands(string s)
    {
        int dot = s.IndexOf('.');
        string whole = dot < 0 ? s : s[..dot], rest = dot < 0 ? "" : s[dot..];
        var sb = new StringBuilder();
        for (int i = 0; i < whole.Length; i++)
        {
            if (i > 0 && (whole.Length - i) % 3 == 0) sb.Append(',');
            sb.Append(whole[i]);
        }
        return sb.Append(rest).ToString();
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
