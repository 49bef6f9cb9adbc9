using System.Globalization;
using System.Text.RegularExpressions;

namespace Tunebook.Torch;

/// <summary>
/// Parses shard size limits the way Hugging Face does: a byte count, or a number with a unit where
/// KB/MB/GB/TB are powers of 1000 and KiB/MiB/GiB/TiB powers of 1024 (<c>"5GB"</c> = 5,000,000,000 bytes).
/// </summary>
public static partial class ShardSize
{
    /// <summary>Parses <paramref name="text"/>; throws <see cref="FormatException"/> saying what is accepted.</summary>
    public static long Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (long.TryParse(trimmed, NumberStyles.None, CultureInfo.InvariantCulture, out var plain) && plain > 0) return plain;

        var match = SizePattern().Match(trimmed);
        if (!match.Success)
            throw new FormatException($"shard size '{text}' is not a byte count or a number with a unit (KB, MB, GB, TB, KiB, MiB, GiB, TiB), e.g. \"5GB\"");
        var number = double.Parse(match.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        double unit = match.Groups[2].Value.ToUpperInvariant() switch
        {
            "B" => 1,
            "KB" => 1e3, "MB" => 1e6, "GB" => 1e9, "TB" => 1e12,
            "KIB" => 1L << 10, "MIB" => 1L << 20, "GIB" => 1L << 30, "TIB" => 1L << 40,
            var other => throw new FormatException($"shard size '{text}': unknown unit '{match.Groups[2].Value}' (use KB, MB, GB, TB, KiB, MiB, GiB or TiB)"),
        };
        var bytes = number * unit;
        if (!(bytes >= 1) || bytes > long.MaxValue)
            throw new FormatException($"shard size '{text}' must be at least one byte and fit in 64 bits");
        return (long)bytes;
    }

    [GeneratedRegex(@"^(\d+(?:\.\d+)?)\s*([A-Za-z]{1,3})$")]
    private static partial Regex SizePattern();
}
