using System.Globalization;
using System.Text;

namespace Tunebook.Tuning.Data.Quality;

/// <summary>An evaluation example whose prompt or answer is also, exactly or nearly, in the training examples.</summary>
/// <param name="Split">"validation" or "held-out".</param>
/// <param name="Index">The evaluation example's index in its dataset.</param>
/// <param name="Location">Where it is.</param>
/// <param name="Part">"prompt" or "answer" (or "text" for plain text).</param>
/// <param name="Similarity">1 for an exact copy (after normalising case and white space), else the estimated Jaccard similarity.</param>
/// <param name="Exact">Whether the normalised texts are equal.</param>
/// <param name="TrainIndex">The most similar training example.</param>
/// <param name="TrainLocation">Where it is.</param>
/// <param name="Text">The evaluation example's part.</param>
/// <param name="TrainText">The training example's same part.</param>
/// <param name="TrainMatches">Training examples that leak into this one (the most similar is shown).</param>
public sealed record LeakPair(string Split, int Index, RowLocation Location, string Part, double Similarity, bool Exact,
    int TrainIndex, RowLocation TrainLocation, string Text, string TrainText, int TrainMatches);

/// <summary>What the leakage check found.</summary>
/// <param name="ValidationChecked">Validation examples compared with training.</param>
/// <param name="HeldOutChecked">Held-out examples compared with training.</param>
/// <param name="Pairs">One pair per leaking evaluation example (its closest training example), worst (most similar) first.</param>
/// <param name="LeakingTrainIndices">Every training example that leaks into some evaluation example (what DropLeaks drops).</param>
/// <param name="Threshold">The near-copy threshold.</param>
public sealed record LeakageReport(int ValidationChecked, int HeldOutChecked, IReadOnlyList<LeakPair> Pairs, IReadOnlyList<int> LeakingTrainIndices, double Threshold)
{
    /// <summary>Leaking validation examples.</summary>
    public int Validation => Pairs.Count(p => p.Split == DataChecks.ValidationSplit);
    /// <summary>Leaking held-out examples.</summary>
    public int HeldOut => Pairs.Count(p => p.Split == DataChecks.HeldOutSplit);
    /// <summary>Leaks that are exact copies.</summary>
    public int Exact => Pairs.Count(p => p.Exact);
    /// <summary>Leaks that are near copies.</summary>
    public int Near => Pairs.Count - Exact;
}

/// <summary>A group of near-identical training examples.</summary>
/// <param name="Representative">The first member: the one kept by Dedupe.</param>
/// <param name="Location">Where it is.</param>
/// <param name="Text">Its prompt and answer.</param>
/// <param name="Members">Every member's index, ascending (the representative first).</param>
/// <param name="Locations">Every member's location, in the same order.</param>
public sealed record DuplicateCluster(int Representative, RowLocation Location, string Text, IReadOnlyList<int> Members, IReadOnlyList<RowLocation> Locations)
{
    /// <summary>Members.</summary>
    public int Size => Members.Count;
}

/// <summary>What the near-duplicate check found.</summary>
/// <param name="Checked">Training examples compared with each other.</param>
/// <param name="NotChecked">Training examples beyond the size bound (not compared).</param>
/// <param name="Bound">The size bound.</param>
/// <param name="Threshold">The similarity threshold.</param>
/// <param name="Clusters">Clusters of two or more, largest first.</param>
public sealed record NearDuplicateReport(int Checked, int NotChecked, int Bound, double Threshold, IReadOnlyList<DuplicateCluster> Clusters)
{
    /// <summary>Examples beyond the first of their cluster: what Dedupe drops.</summary>
    public int Redundant => Clusters.Sum(c => c.Size - 1);
}

/// <summary>A secret or a piece of personal data in an example.</summary>
/// <param name="Kind">What it looks like.</param>
/// <param name="Index">The example's index.</param>
/// <param name="Location">The file and line (for plain-text files, the line of the finding itself).</param>
/// <param name="Field">The field (<c>output</c>, <c>messages[2].content</c>).</param>
/// <param name="Preview">Personal data in full; a secret with its middle hidden.</param>
public sealed record SensitiveFinding(SensitiveKind Kind, int Index, RowLocation Location, string Field, string Preview)
{
    /// <summary>"data.jsonl line 3, field 'output': e-mail address ana@…".</summary>
    public override string ToString() => $"{Location}, field '{Field}': {Kind.Name} {Preview}";
}

/// <summary>What the secrets and personal-data scan found.</summary>
/// <param name="Total">Findings, all of them.</param>
/// <param name="ByKind">Findings per kind name.</param>
/// <param name="Findings">The findings kept to be shown (all of them up to the bound).</param>
/// <param name="Redacted">Findings replaced by placeholders in the prepared data (0 without redaction).</param>
public sealed record SensitiveDataReport(int Total, IReadOnlyDictionary<string, int> ByKind, IReadOnlyList<SensitiveFinding> Findings, int Redacted)
{
    /// <summary>Findings that are secrets.</summary>
    public int Secrets => Findings.Count(f => f.Kind.Category == SensitiveCategory.Secret);
    /// <summary>Findings that are personal data.</summary>
    public int Personal => Findings.Count(f => f.Kind.Category == SensitiveCategory.Personal);
}

/// <summary>A row a check could not run on, and why; the check went on with the other rows.</summary>
public sealed record UncheckedRow(RowLocation Location, string Check, string Reason)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Location}: {Check} not checked: {Reason}";
}

/// <summary>
/// What the data checks found: leakage into validation and held-out examples, near-duplicate clusters in training,
/// secrets and personal data, and the balance of a field or of scripts; with the bounds they ran under and what
/// was dropped or redacted in the prepared data.
/// </summary>
public sealed record QualityReport
{
    public required LeakageReport Leakage { get; init; }
    public required NearDuplicateReport NearDuplicates { get; init; }
    public required SensitiveDataReport Sensitive { get; init; }
    public required BalanceReport Balance { get; init; }
    /// <summary>Rows some check could not run on.</summary>
    public required IReadOnlyList<UncheckedRow> Unchecked { get; init; }
    /// <summary>The size bounds the checks ran under, in words.</summary>
    public required string Bounds { get; init; }
    /// <summary>Training examples left out because they leak (with DropLeaks).</summary>
    public int LeaksDropped { get; init; }
    /// <summary>Training examples left out as near-duplicates (with Dedupe).</summary>
    public int DuplicatesDropped { get; init; }

    /// <summary>One line per problem, for the report's warnings.</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            var w = new List<string>();
            var l = Leakage;
            if (l.Validation > 0)
                w.Add($"leakage: {l.Validation} of {l.ValidationChecked} validation examples have their prompt or answer in the training data " +
                      "(validation loss will look better than it is)" + (LeaksDropped > 0 ? "" : "; --drop-leaks leaves them out of training"));
            if (l.HeldOut > 0)
                w.Add($"leakage: {l.HeldOut} of {l.HeldOutChecked} held-out examples have their prompt or answer in the training data " +
                      "(before/after scores on them measure memory, not learning)" + (LeaksDropped > 0 ? "" : "; --drop-leaks leaves them out of training"));
            var d = NearDuplicates;
            if (d.Clusters.Count > 0)
                w.Add($"near-duplicates: {d.Clusters.Count} clusters, {d.Redundant} examples beyond the first of theirs (largest cluster {d.Clusters[0].Size}): " +
                      "they weigh their content more" + (DuplicatesDropped > 0 ? "" : "; --dedupe keeps one per cluster"));
            if (d.NotChecked > 0) w.Add(string.Create(CultureInfo.InvariantCulture, $"near-duplicates: only the first {d.Bound:N0} training examples were compared; {d.NotChecked:N0} were not"));
            var s = Sensitive;
            if (s.Total > 0)
                w.Add($"secrets and personal data: {s.Total} findings ({string.Join(", ", s.ByKind.Select(kv => $"{kv.Value} {kv.Key}"))}): " +
                      (s.Redacted > 0 ? $"{s.Redacted} replaced by placeholders in the prepared data" : "a tuned model can repeat them verbatim; --redact replaces them"));
            w.AddRange(Balance.Warnings.Select(x => "balance: " + x));
            if (Unchecked.Count > 0) w.Add($"{Unchecked.Count} rows could not be checked (listed in Unchecked); the first: {Unchecked[0]}");
            return w;
        }
    }

    /// <summary>A text summary with every finding.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        var l = Leakage;
        sb.AppendLine($"leakage (exact, or near at similarity ≥ {l.Threshold.ToString("0.##", inv)}): {l.Validation} of {l.ValidationChecked} validation, " +
                      $"{l.HeldOut} of {l.HeldOutChecked} held-out examples ({l.Exact} exact, {l.Near} near); {l.LeakingTrainIndices.Count} training examples involved" +
                      (LeaksDropped > 0 ? $", {LeaksDropped} dropped from training" : ""));
        foreach (var p in l.Pairs)
            sb.AppendLine($"  {p.Split} {p.Location} ≈ train {p.TrainLocation} ({p.Part}, {(p.Exact ? "exact" : p.Similarity.ToString("0.00", inv))}): " +
                          $"{Clip(p.Text)} | {Clip(p.TrainText)}");
        var d = NearDuplicates;
        sb.AppendLine(string.Create(inv, $"near-duplicates (similarity ≥ {d.Threshold:0.##}, {d.Checked:N0} training examples compared") +
                      (d.NotChecked > 0 ? string.Create(inv, $", {d.NotChecked:N0} beyond the bound of {d.Bound:N0} not") : "") + $"): {d.Clusters.Count} clusters, {d.Redundant} redundant" +
                      (DuplicatesDropped > 0 ? $", {DuplicatesDropped} dropped from training" : ""));
        foreach (var c in d.Clusters.Take(20)) sb.AppendLine($"  {c.Size} × {c.Location}: {Clip(c.Text)}");
        if (d.Clusters.Count > 20) sb.AppendLine($"  ... {d.Clusters.Count - 20} more clusters");
        var s = Sensitive;
        sb.AppendLine($"secrets and personal data: {s.Total} findings" + (s.Redacted > 0 ? $", {s.Redacted} redacted" : "") +
                      (s.Findings.Count < s.Total ? $" ({s.Findings.Count} shown)" : ""));
        foreach (var f in s.Findings) sb.AppendLine("  " + f);
        var b = Balance;
        sb.AppendLine($"balance by {b.What}: " + string.Join(", ", b.Counts.Take(12).Select(c => $"{c.Value} {c.Count}")) + (b.Counts.Count > 12 ? ", ..." : ""));
        foreach (var u in Unchecked) sb.AppendLine("  " + u);
        sb.Append("bounds: ").Append(Bounds);
        return sb.ToString();
    }

    /// <summary>The first line of a text, at most 80 characters.</summary>
    public static string Clip(string text, int max = 80)
    {
        string line = text.ReplaceLineEndings(" ⏎ ");
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }
}
