using System.Globalization;
using System.Text;
using Tunebook.Interactive;
using Tunebook.Notebook.Charts;
using Tunebook.Text.Tokenizers;
using Tunebook.Tuning.Data;

namespace Tunebook.Notebook.Displays;

/// <summary>
/// What <c>#!data load</c> shows: the data report (counts, token lengths, trained-token share, warnings),
/// a histogram of token lengths, and one example with the trained tokens told apart from the masked ones.
/// </summary>
public sealed class DatasetView(PreparedData data, Tokenizer? tokenizer = null, int exampleIndex = 0) : Formatters.IRichDisplay
{
    public PreparedData Data { get; } = data ?? throw new ArgumentNullException(nameof(data));
    public Tokenizer? Tokenizer { get; } = tokenizer;
    public int ExampleIndex { get; } = exampleIndex;

    public DataReport Report => Data.Report;

    IEnumerable<int> Lengths() => Data.Train.Examples.Concat(Data.Validation?.Examples ?? []).Select(e => e.Length);

    /// <summary>Token lengths of all examples (train and validation), with the max length marked.</summary>
    public Figure LengthHistogram() => Figure.Create().WithTitle("Tokens per example")
        .AddHistogram("examples", Lengths().DefaultIfEmpty(0))
        .AddVerticalLine(Report.MaxLength, $"max length {Report.MaxLength}")
        .WithXAxis("tokens").WithYAxis("examples").WithSize(Figure.DefaultWidth, 300);

    /// <summary>The example shown, or null when the training set is empty.</summary>
    public TokenizedExample? Example => Data.Train.Examples.Count == 0 ? null : Data.Train.Examples[Math.Clamp(ExampleIndex, 0, Data.Train.Examples.Count - 1)];

    IReadOnlyList<(string, string)> Rows()
    {
        var r = Report;
        var inv = CultureInfo.InvariantCulture;
        var rows = new List<(string, string)>
        {
            ("Source", DisplayPath.InText(r.Source)),
            ("Format", r.Format.ToString()),
            ("Examples", $"{r.Examples} → {r.TrainExamples} train, {r.ValidationExamples} validation"),
            ("Tokens per example", string.Format(inv, "min {0}, median {1:0.#}, mean {2:0.#}, p95 {3:0.#}, max {4}", r.TokenLengths.Min, r.TokenLengths.Median, r.TokenLengths.Mean, r.TokenLengths.P95, r.TokenLengths.Max)),
            ("Max length", $"{r.MaxLength} ({r.Truncated} truncated)"),
            ("Trained tokens", string.Format(inv, "{0:N0} of {1:N0} ({2:P1})", r.TrainedTokens, r.Tokens, r.TrainedTokenFraction)),
        };
        if (r.Packed) rows.Add(("Packing", string.Format(inv, "{0} rows, {1:P0} full", r.TrainRows, r.PackingEfficiency ?? 0)));
        if (r.Duplicates > 0) rows.Add(("Duplicates", r.Duplicates.ToString(inv)));
        if (r.Dropped.Count > 0) rows.Add(("Dropped", DisplayPath.InText(string.Join("; ", r.Dropped.Take(5).Select(d => $"{d.Location}: {d.Reason}")))));
        if (r.Quality is { } q)
        {
            rows.Add(("Leakage", $"{q.Leakage.Validation} validation, {q.Leakage.HeldOut} held-out examples also in training" + (q.LeaksDropped > 0 ? $" ({q.LeaksDropped} dropped)" : "")));
            rows.Add(("Near-duplicates", $"{q.NearDuplicates.Clusters.Count} clusters, {q.NearDuplicates.Redundant} redundant" + (q.DuplicatesDropped > 0 ? $" ({q.DuplicatesDropped} dropped)" : "")));
            rows.Add(("Secrets, personal data", $"{q.Sensitive.Total} findings" + (q.Sensitive.Redacted > 0 ? $" ({q.Sensitive.Redacted} redacted)" : "")));
        }
        return rows;
    }

    public override string ToString()
    {
        var sb = new StringBuilder(DisplayPath.InText(Report.ToString()));
        if (Example is { } e && Tokenizer is not null)
            sb.Append("\nexample (trained tokens in [[ ]]):\n").Append(TokenView.Of(e.InputIds, e.Labels, Tokenizer).ToString());
        return sb.ToString();
    }

    public MimeBundle ToMimeBundle()
    {
        var sb = new StringBuilder("<div>");
        sb.Append(Html.KeyValues(Rows(), "Dataset"));
        foreach (var w in Report.Warnings) sb.Append(Html.Warning(DisplayPath.InText(w)));
        sb.Append(LengthHistogram().ToSvg());
        if (Report.Quality is { } quality) sb.Append(new DataQualityView(quality).ToMimeBundle()["text/html"]);
        if (Example is { } e && Tokenizer is not null)
        {
            sb.Append($"<div style=\"font-weight:600;margin-top:6px\">Example {e.SourceIndex}: trained tokens highlighted, masked tokens grey</div>");
            sb.Append(TokensView.Html(TokenView.Of(e.InputIds, e.Labels, Tokenizer).Tokens));
        }
        sb.Append("</div>");
        return new MimeBundle(ToString()).With("text/html", sb.ToString());
    }
}
