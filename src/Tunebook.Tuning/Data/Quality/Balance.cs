using System.Globalization;

namespace Tunebook.Tuning.Data.Quality;

/// <summary>
/// Counts examples per value of one field (category, source, language...) or, without such a field, per script of
/// their text, keeping at most a fixed number of distinct values (the rest count as "(other)") so that memory stays
/// bounded on any file.
/// </summary>
public sealed class BalanceCounter(int maxValues)
{
    /// <summary>What examples without the field count under.</summary>
    public const string Missing = "(none)";
    /// <summary>What values beyond the bound count under.</summary>
    public const string Other = "(other)";

    readonly Dictionary<string, int> counts = new(StringComparer.Ordinal);

    /// <summary>Counts one example.</summary>
    public void Add(string? value)
    {
        value ??= Missing;
        if (!counts.ContainsKey(value) && counts.Count >= maxValues) value = Other;
        counts[value] = counts.GetValueOrDefault(value) + 1;
    }

    /// <summary>Examples counted.</summary>
    public int Total => counts.Values.Sum();

    /// <summary>Values by count, largest first (ties by name).</summary>
    public IReadOnlyList<ValueCount> Counts() =>
        counts.Select(kv => new ValueCount(kv.Key, kv.Value)).OrderByDescending(c => c.Count).ThenBy(c => c.Value, StringComparer.Ordinal).ToList();
}

/// <summary>How many examples have a value.</summary>
public sealed record ValueCount(string Value, int Count);

/// <summary>The mix of the data by one field, or by script.</summary>
/// <param name="Field">The field counted, or null when the counts are of scripts.</param>
/// <param name="Counts">Examples per value, largest first.</param>
/// <param name="Warnings">A value holding most of the examples, values with too few.</param>
public sealed record BalanceReport(string? Field, IReadOnlyList<ValueCount> Counts, IReadOnlyList<string> Warnings)
{
    /// <summary>"field 'category'" or "script of the text".</summary>
    public string What => Field is null ? "script of the text" : $"field '{Field}'";

    /// <summary>The report of <paramref name="counts"/> with its warnings: one value above <paramref name="dominantShare"/>
    /// of the examples (when there are several values), values with fewer than <paramref name="minPerValue"/> examples.</summary>
    public static BalanceReport Of(string? field, IReadOnlyList<ValueCount> counts, double dominantShare, int minPerValue)
    {
        var warnings = new List<string>();
        int total = counts.Sum(c => c.Count);
        string what = field is null ? "script" : $"'{field}'";
        var known = counts.Where(c => c.Value is not BalanceCounter.Missing and not BalanceCounter.Other).ToList();
        if (total > 0 && known.Count > 1 && known[0].Count > dominantShare * total)
            warnings.Add(string.Create(CultureInfo.InvariantCulture,
                $"{what} {known[0].Value} holds {100.0 * known[0].Count / total:0}% of the examples ({known[0].Count} of {total}; above {100 * dominantShare:0.#}%): ") +
                "the tuned model will lean towards it");
        var few = known.Where(c => c.Count < minPerValue).ToList();
        if (few.Count > 0 && known.Count > 1)
            warnings.Add($"{few.Count} {(field is null ? "scripts" : "values of " + what)} have fewer than {minPerValue} examples, too few to learn from: " +
                string.Join(", ", few.Take(10).Select(c => $"{c.Value} ({c.Count})")) + (few.Count > 10 ? ", ..." : ""));
        if (field is not null && counts.FirstOrDefault(c => c.Value == BalanceCounter.Missing) is { } missing)
            warnings.Add($"{missing.Count} examples have no '{field}'");
        return new BalanceReport(field, counts, warnings);
    }
}
