using System.Globalization;
using System.Text;

namespace Tunebook.Tuning.Data;

/// <summary>Summary statistics of token lengths (numpy's linear-interpolation percentiles).</summary>
public sealed record LengthStats(int Count, int Min, int Max, double Mean, double Median, double P95)
{
    /// <summary>The statistics of <paramref name="lengths"/> (all zero when empty).</summary>
    public static LengthStats Of(IReadOnlyList<int> lengths)
    {
        if (lengths.Count == 0) return new(0, 0, 0, 0, 0, 0);
        var sorted = lengths.Order().ToArray();
        return new(sorted.Length, sorted[0], sorted[^1], sorted.Average(x => (double)x), Percentile(sorted, 0.5), Percentile(sorted, 0.95));
    }

    /// <summary>The <paramref name="q"/> quantile of sorted values, interpolating linearly between neighbours.</summary>
    public static double Percentile(IReadOnlyList<int> sorted, double q)
    {
        double pos = q * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

/// <summary>A histogram: <c>Counts[i]</c> values fall in [<c>Edges[i]</c>, <c>Edges[i+1]</c>) (the last bin includes its right edge).</summary>
public sealed record Histogram(double[] Edges, int[] Counts)
{
    /// <summary>At most <paramref name="bins"/> equal-width bins of whole numbers spanning the values.</summary>
    public static Histogram Of(IReadOnlyList<int> values, int bins)
    {
        if (values.Count == 0) return new([0, 1], [0]);
        int min = values.Min(), max = values.Max();
        bins = Math.Clamp(bins, 1, max - min + 1);
        int width = (int)Math.Ceiling((max - min + 1) / (double)bins);
        bins = (max - min) / width + 1;
        var edges = Enumerable.Range(0, bins + 1).Select(k => (double)(min + k * width)).ToArray();
        var counts = new int[bins];
        foreach (var v in values) counts[(v - min) / width]++;
        return new(edges, counts);
    }
}

/// <summary>An example left out of training, with why.</summary>
public sealed record DroppedExample(int SourceIndex, RowLocation Location, string Reason);

/// <summary>
/// What preparation found, for a notebook to render: sizes, token-length statistics and histogram (lengths before
/// truncation, so they tell you what <see cref="PrepareOptions.MaxLength"/> cuts), truncations, exact duplicates,
/// examples dropped because nothing in them is trained, the trained-token fraction, and warnings.
/// <see cref="WarningsFor"/> adds the overfitting check for a planned run.
/// </summary>
public sealed record DataReport
{
    /// <summary>The data file.</summary>
    public required string Source { get; init; }
    /// <summary>The examples' layout.</summary>
    public required DataFormat Format { get; init; }
    /// <summary>Examples loaded.</summary>
    public required int Examples { get; init; }
    /// <summary>Examples in the training set.</summary>
    public required int TrainExamples { get; init; }
    /// <summary>Examples in the validation set.</summary>
    public required int ValidationExamples { get; init; }
    /// <summary>Rows of the training set (packed rows when packing, else examples).</summary>
    public required int TrainRows { get; init; }
    /// <summary>Whether examples are packed.</summary>
    public required bool Packed { get; init; }
    /// <summary>The maximum length in tokens.</summary>
    public required int MaxLength { get; init; }
    /// <summary>Token lengths of the prepared examples before truncation.</summary>
    public required LengthStats TokenLengths { get; init; }
    /// <summary>Histogram of the same lengths.</summary>
    public required Histogram LengthHistogram { get; init; }
    /// <summary>Examples cut to <see cref="MaxLength"/>.</summary>
    public required int Truncated { get; init; }
    /// <summary>Source indices of the truncated examples.</summary>
    public required IReadOnlyList<int> TruncatedIndices { get; init; }
    /// <summary>Examples whose rendered text equals an earlier example's (the later copies are counted).</summary>
    public required int Duplicates { get; init; }
    /// <summary>Source indices of the later copies.</summary>
    public required IReadOnlyList<int> DuplicateIndices { get; init; }
    /// <summary>Validation examples that also appear, exactly, in the training set (they make validation loss optimistic).</summary>
    public required int ValidationInTrain { get; init; }
    /// <summary>Examples left out: nothing in them is trained (all labels −100, e.g. a chat without an assistant turn or an
    /// answer truncated away), or they could not be rendered (with <see cref="PrepareOptions.SkipBadRows"/>).</summary>
    public required IReadOnlyList<DroppedExample> Dropped { get; init; }
    /// <summary>Rows of the file skipped while loading (with <see cref="LoadOptions.SkipBadRows"/>).</summary>
    public required IReadOnlyList<string> SkippedRows { get; init; }
    /// <summary>Tokens in the kept examples after truncation.</summary>
    public required long Tokens { get; init; }
    /// <summary>Trained tokens in the kept examples after truncation.</summary>
    public required long TrainedTokens { get; init; }
    /// <summary>Trained tokens over all tokens.</summary>
    public double TrainedTokenFraction => Tokens == 0 ? 0 : (double)TrainedTokens / Tokens;
    /// <summary>With packing: tokens over row capacity (rows × max length) of the training set.</summary>
    public double? PackingEfficiency { get; init; }
    /// <summary>Warnings about the data itself.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
    /// <summary>What the data checks found (leakage, near-duplicates, secrets and personal data, balance), or null when
    /// they were not run (<see cref="RawDataset.PrepareChecked"/> runs them).</summary>
    public Quality.QualityReport? Quality { get; init; }

    /// <summary>
    /// <see cref="Warnings"/> plus a check of the planned run: how many times each training example would be seen
    /// with <paramref name="plannedSteps"/> optimizer steps of <paramref name="batchSize"/> × <paramref name="gradientAccumulation"/>
    /// rows. Seen more than 10 times is a high overfitting risk, more than 4 a risk to watch.
    /// </summary>
    public IReadOnlyList<string> WarningsFor(int plannedSteps, int batchSize, int gradientAccumulation = 1)
    {
        if (plannedSteps < 1 || batchSize < 1 || gradientAccumulation < 1)
            throw new ArgumentOutOfRangeException(nameof(plannedSteps), "steps, batch size and gradient accumulation must be at least 1");
        var warnings = new List<string>(Warnings);
        if (TrainRows == 0) return warnings;
        long passes = (long)plannedSteps * batchSize * gradientAccumulation;
        double seen = (double)passes / TrainRows;
        string plan = $"{Unit}; planned {plannedSteps} steps × batch {batchSize}" +
            (gradientAccumulation > 1 ? $" × accumulation {gradientAccumulation}" : "") +
            $" = {passes} {What}-passes → each {What} seen ~{seen.ToString("0.#", CultureInfo.InvariantCulture)} times";
        AddPlanWarnings(warnings, plan, seen, "steps");
        return warnings;
    }

    /// <summary>The same check for a run planned in epochs: each row is seen <paramref name="epochs"/> times.</summary>
    public IReadOnlyList<string> WarningsForEpochs(int epochs)
    {
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), "epochs must be at least 1");
        var warnings = new List<string>(Warnings);
        if (TrainRows == 0) return warnings;
        string plan = $"{Unit} × {epochs} epochs = {(long)TrainRows * epochs} {What}-passes → each {What} seen {epochs} times";
        AddPlanWarnings(warnings, plan, epochs, "epochs");
        return warnings;
    }

    string Unit => Packed ? $"{TrainRows} packed rows ({TrainExamples} examples)" : $"{TrainExamples} examples";
    string What => Packed ? "row" : "example";

    void AddPlanWarnings(List<string> warnings, string plan, double seen, string fewer)
    {
        if (seen > 10) warnings.Add($"{plan}: high overfitting risk; consider fewer {fewer} or more data");
        else if (seen > 4) warnings.Add($"{plan}: overfitting risk; watch the validation loss, or use fewer {fewer} or more data");
        if (TrainExamples < 100) warnings.Add($"only {TrainExamples} training examples: enough to teach a format, rarely enough to teach knowledge");
    }

    /// <summary>A few lines for a console or a text cell.</summary>
    public override string ToString()
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine($"{Source}: {Examples} {Format} examples → {TrainExamples} train, {ValidationExamples} validation" +
            (Packed ? $" ({TrainRows} packed rows, {PackingEfficiency:P0} full)" : ""));
        sb.AppendLine(string.Format(inv, "tokens per example: min {0}, median {1:0.#}, mean {2:0.#}, p95 {3:0.#}, max {4} (max length {5}, {6} truncated)",
            TokenLengths.Min, TokenLengths.Median, TokenLengths.Mean, TokenLengths.P95, TokenLengths.Max, MaxLength, Truncated));
        sb.AppendLine(string.Format(inv, "trained tokens: {0:N0} of {1:N0} ({2:P1})", TrainedTokens, Tokens, TrainedTokenFraction));
        if (Duplicates > 0) sb.AppendLine($"exact duplicates: {Duplicates}");
        foreach (var d in Dropped) sb.AppendLine($"dropped {d.Location}: {d.Reason}");
        foreach (var s in SkippedRows) sb.AppendLine($"skipped {s}");
        foreach (var w in Warnings) sb.AppendLine("warning: " + w);
        if (Quality is not null) sb.AppendLine(Quality.ToString());
        return sb.ToString().TrimEnd();
    }
}
