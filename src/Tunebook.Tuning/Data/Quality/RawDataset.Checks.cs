using Tunebook.Text.Templates;
using Tunebook.Text.Tokenizers;
using Tunebook.Tuning.Data.Quality;

namespace Tunebook.Tuning.Data;

public sealed partial class RawDataset
{
    /// <summary>
    /// <see cref="Prepare"/> with the data checks (<see cref="DataChecks"/>): leakage of training examples into the
    /// validation split and into <paramref name="heldOut"/>, near-duplicates, secrets and personal data, balance. The
    /// findings go into <see cref="DataReport.Quality"/> and its warnings into <see cref="DataReport.Warnings"/>.
    /// With <see cref="DataCheckOptions.Redact"/> the prepared examples have placeholders in place of the findings;
    /// with <see cref="DataCheckOptions.DropLeaks"/> and <see cref="DataCheckOptions.Dedupe"/> the training set leaves
    /// out leaking examples and all but the first of each near-duplicate cluster. The validation split is the one
    /// <see cref="Prepare"/> makes, whatever is dropped; the file itself is never changed.
    /// </summary>
    public PreparedData PrepareChecked(Tokenizer tokenizer, ChatTemplate? template = null, PrepareOptions? options = null,
        DataCheckOptions? checks = null, RawDataset? heldOut = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        options ??= new PrepareOptions();
        checks ??= DataCheckOptions.Default;
        checks.Validate();

        // Redaction changes text, never the number of examples, so the split below is the same with or without it.
        var (source, redacted) = checks.Redact ? Redaction.Apply(this, checks.MaxScanChars) : (this, 0);
        var prepared = source.Prepare(tokenizer, template, options);
        var trainIndices = prepared.Train.Examples.Select(e => e.SourceIndex).ToHashSet();
        var validationIndices = prepared.Validation?.Examples.Select(e => e.SourceIndex).ToList() ?? [];
        // Findings are looked for in the examples as they are in the file, so the report says what redaction replaced.
        var quality = DataChecks.Run(this, trainIndices, validationIndices, heldOut, checks);
        quality = quality with { Sensitive = quality.Sensitive with { Redacted = redacted } };

        var drop = new HashSet<int>();
        int leaksDropped = 0, duplicatesDropped = 0;
        if (checks.DropLeaks) foreach (var i in quality.Leakage.LeakingTrainIndices) if (drop.Add(i)) leaksDropped++;
        if (checks.Dedupe)
            foreach (var c in quality.NearDuplicates.Clusters)
                foreach (var i in c.Members.Skip(1)) if (drop.Add(i)) duplicatesDropped++;
        quality = quality with { LeaksDropped = leaksDropped, DuplicatesDropped = duplicatesDropped };

        var report = prepared.Report;
        var train = prepared.Train;
        if (drop.Count > 0)
        {
            // Prepare the kept training examples again (no split: the validation set stays as it was). The token
            // statistics of the report stay those of all examples; the counts say what is trained.
            var kept = source.Rows.Where(e => !drop.Contains(e.Index) && trainIndices.Contains(e.Index)).ToList();
            if (kept.Count == 0) throw new InvalidDataException($"{Source}: dropping {drop.Count} leaking or duplicate examples leaves nothing to train on");
            train = new RawDataset(Source, Format, kept, SkippedRows).Prepare(tokenizer, template, options with { ValFraction = 0, ValCount = null }).Train;
            report = report with
            {
                TrainExamples = train.Examples.Count, TrainRows = train.Count,
                PackingEfficiency = train.Packed && train.Count > 0 ? (double)train.Rows.Sum(r => (long)r.Length) / ((long)train.Count * options.MaxLength) : null,
            };
        }
        report = report with { Quality = quality, Warnings = [.. report.Warnings, .. quality.Warnings] };
        var (recipe, missing) = DataRecipe.Of(this, template, options, checks, heldOut);
        return new PreparedData(train, prepared.Validation, report) { Recipe = recipe, NoRecipeReason = missing };
    }
}
