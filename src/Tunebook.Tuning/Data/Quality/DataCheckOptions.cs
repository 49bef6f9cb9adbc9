namespace Tunebook.Tuning.Data.Quality;

/// <summary>
/// What the data checks look for and how far they go. Every default of the checks lives here: the notebook magic,
/// <c>Tune.LoadData</c>, the YAML config and <c>./tunebook train --check</c> all read them from this record.
/// </summary>
public sealed record DataCheckOptions
{
    /// <summary>The defaults.</summary>
    public static readonly DataCheckOptions Default = new();

    /// <summary>Estimated Jaccard similarity of character shingles at or above which two texts count as near-copies
    /// (leakage and near-duplicates). 0.8 catches a reworded sentence or a changed number; unrelated texts of one
    /// domain stay below 0.3.</summary>
    public double NearThreshold { get; init; } = 0.8;

    /// <summary>Characters per shingle. Five characters see across word boundaries, so a short question with one word
    /// changed still shares most of its shingles.</summary>
    public int ShingleSize { get; init; } = 5;

    /// <summary>Texts shorter than this after normalising (case, white space) are not compared for leakage: "yes" or
    /// "42" in both splits is not a leak.</summary>
    public int MinLeakChars { get; init; } = 12;

    /// <summary>Training examples compared with each other for near-duplicates (the only check whose memory grows with
    /// the data: one 480-byte signature per example, so 100,000 examples hold about 48 MB). Later examples are still
    /// scanned by every other check, and the report says how many were left out of this one.</summary>
    public int MaxNearDuplicateExamples { get; init; } = 100_000;

    /// <summary>Evaluation examples (validation plus held-out) indexed for leakage; more are counted as unchecked.</summary>
    public int MaxEvaluationExamples { get; init; } = 100_000;

    /// <summary>Findings of secrets and personal data kept to be shown; more are counted (and still redacted).</summary>
    public int MaxFindings { get; init; } = 10_000;

    /// <summary>Fields longer than this are not scanned for secrets and personal data (nor redacted): the row is named
    /// as unchecked. Keeps the time of one scan bounded; 1,000,000 characters is far beyond any training example.</summary>
    public int MaxScanChars { get; init; } = 1_000_000;

    /// <summary>A field value that holds more than this share of the examples is called dominant.</summary>
    public double DominantShare { get; init; } = 0.5;

    /// <summary>A field value (or a script) with fewer examples than this has too few to learn from.</summary>
    public int MinPerValue { get; init; } = 10;

    /// <summary>The field to count values of (category, source, language...); null looks for one of <see cref="BalanceFields"/>.</summary>
    public string? BalanceField { get; init; }

    /// <summary>Fields whose values are counted when the user names none, in this order.</summary>
    public static readonly IReadOnlyList<string> BalanceFields = ["category", "source", "language", "lang", "topic", "task", "domain", "label"];

    /// <summary>Distinct values counted per field; the rest are counted together as "(other)".</summary>
    public int MaxBalanceValues { get; init; } = 1_000;

    /// <summary>Replace secrets and personal data by placeholders (&lt;EMAIL&gt;, &lt;SECRET&gt;...) in the prepared
    /// data. The file on disk is never changed.</summary>
    public bool Redact { get; init; }

    /// <summary>Leave out of training every training example that leaks into the validation or held-out examples.</summary>
    public bool DropLeaks { get; init; }

    /// <summary>Keep one example (the first) of each near-duplicate cluster in training.</summary>
    public bool Dedupe { get; init; }

    /// <summary>Checks the values and says which one is out of range.</summary>
    public void Validate()
    {
        if (NearThreshold is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(NearThreshold), NearThreshold, "the near-copy threshold must be in (0, 1]");
        if (ShingleSize < 1) throw new ArgumentOutOfRangeException(nameof(ShingleSize), ShingleSize, "a shingle has at least 1 character");
        if (MinLeakChars < 0) throw new ArgumentOutOfRangeException(nameof(MinLeakChars), MinLeakChars, "must not be negative");
        if (MaxNearDuplicateExamples < 0 || MaxEvaluationExamples < 0 || MaxFindings < 0 || MaxBalanceValues < 1 || MaxScanChars < 0)
            throw new ArgumentOutOfRangeException(nameof(MaxNearDuplicateExamples), "size bounds must not be negative");
        if (DominantShare is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(DominantShare), DominantShare, "the dominant share must be in (0, 1]");
        if (MinPerValue < 0) throw new ArgumentOutOfRangeException(nameof(MinPerValue), MinPerValue, "must not be negative");
    }
}
