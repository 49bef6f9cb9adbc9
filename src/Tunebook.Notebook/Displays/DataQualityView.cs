using System.Globalization;
using System.Text;
using Tunebook.Interactive;
using Tunebook.Notebook.Charts;
using Tunebook.Tuning.Data.Quality;

namespace Tunebook.Notebook.Displays;

/// <summary>Which part of the data checks a <see cref="DataQualityView"/> shows.</summary>
public enum QualitySection
{
    /// <summary>Every section.</summary>
    All,
    /// <summary>Validation and held-out examples also in training, side by side.</summary>
    Leakage,
    /// <summary>Clusters of near-identical training examples.</summary>
    NearDuplicates,
    /// <summary>Secrets and personal data, each finding with its file, line and field.</summary>
    Sensitive,
    /// <summary>Examples per value of a field (or per script), with a bar chart.</summary>
    Balance,
}

/// <summary>
/// The data checks of a data report (<see cref="QualityReport"/>) as tables and a chart: the worst leaking pairs side
/// by side, the largest near-duplicate clusters with a representative, every secret and personal-data finding, and
/// the balance of a field or of scripts. <see cref="DatasetView"/> shows it below the dataset report.
/// </summary>
public sealed class DataQualityView(QualityReport report, QualitySection section = QualitySection.All) : Formatters.IRichDisplay
{
    /// <summary>Leak pairs and clusters shown in HTML (all of them are in the report and in the text form).</summary>
    public const int MaxRowsShown = 20;

    public QualityReport Report { get; } = report ?? throw new ArgumentNullException(nameof(report));
    public QualitySection Section { get; } = section;

    bool Shows(QualitySection s) => Section == QualitySection.All || Section == s;

    /// <summary>Examples per value (or script) as bars, largest first.</summary>
    public Figure BalanceChart()
    {
        var counts = Report.Balance.Counts.Take(30).ToList();
        return Figure.Create().WithTitle($"Examples by {Report.Balance.What}")
            .AddBar("examples", counts.Select(c => c.Value), counts.Select(c => c.Count), showInLegend: false)
            .WithYAxis("examples").WithSize(Figure.DefaultWidth, 280);
    }

    public override string ToString()
    {
        var text = DisplayPath.InText(Report.ToString());
        if (Section == QualitySection.All) return text;
        var lines = text.Split('\n');
        string start = Section switch
        {
            QualitySection.Leakage => "leakage", QualitySection.NearDuplicates => "near-duplicates",
            QualitySection.Sensitive => "secrets and personal data", _ => "balance",
        };
        // A section is its heading line and the indented lines under it.
        int from = Array.FindIndex(lines, l => l.StartsWith(start, StringComparison.Ordinal));
        return string.Join('\n', lines.Skip(from).Take(1).Concat(lines.Skip(from + 1).TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal))));
    }

    public MimeBundle ToMimeBundle()
    {
        var inv = CultureInfo.InvariantCulture;
        var r = Report;
        var sb = new StringBuilder("<div>");
        if (Shows(QualitySection.Leakage))
        {
            var l = r.Leakage;
            sb.Append(Heading($"Leakage: {l.Validation} of {l.ValidationChecked} validation and {l.HeldOut} of {l.HeldOutChecked} held-out examples " +
                              $"also in training ({l.Exact} exact, {l.Near} near at similarity ≥ {l.Threshold.ToString("0.##", inv)})" +
                              (r.LeaksDropped > 0 ? $"; {r.LeaksDropped} training examples dropped" : "")));
            if (l.Pairs.Count > 0)
                sb.Append(Html.Table(["evaluation example", "", "training example", "similarity"], l.Pairs.Take(MaxRowsShown).Select(p => (IReadOnlyList<string>)
                [
                    $"<b>{Html.Encode(p.Split)}</b> {Html.Encode(DisplayPath.InText(p.Location.ToString()))}<br>{Html.Encode(QualityReport.Clip(p.Text, 160))}",
                    Html.Encode(p.Part),
                    $"{Html.Encode(DisplayPath.InText(p.TrainLocation.ToString()))}{(p.TrainMatches > 1 ? $" (+{p.TrainMatches - 1} more)" : "")}<br>{Html.Encode(QualityReport.Clip(p.TrainText, 160))}",
                    p.Exact ? "exact" : Html.Num(p.Similarity, "0.00"),
                ])));
            if (l.Pairs.Count > MaxRowsShown) sb.Append(Html.Note($"... {l.Pairs.Count - MaxRowsShown} more pairs in data.Report.Quality.Leakage.Pairs"));
        }
        if (Shows(QualitySection.NearDuplicates))
        {
            var d = r.NearDuplicates;
            sb.Append(Heading($"Near-duplicates: {d.Clusters.Count} clusters, {d.Redundant} examples beyond the first of theirs " +
                              string.Create(inv, $"(similarity ≥ {d.Threshold:0.##}; {d.Checked:N0} training examples compared") +
                              (d.NotChecked > 0 ? string.Create(inv, $", {d.NotChecked:N0} beyond the bound of {d.Bound:N0} not") : "") + ")" +
                              (r.DuplicatesDropped > 0 ? $"; {r.DuplicatesDropped} dropped" : "")));
            if (d.Clusters.Count > 0)
                sb.Append(Html.Table(["size", "representative", "members"], d.Clusters.Take(MaxRowsShown).Select(c => (IReadOnlyList<string>)
                [
                    c.Size.ToString(inv),
                    $"{Html.Encode(DisplayPath.InText(c.Location.ToString()))}<br>{Html.Encode(c.Text)}",
                    Html.Encode(string.Join(", ", c.Members.Take(12)) + (c.Size > 12 ? ", ..." : "")),
                ])));
            if (d.Clusters.Count > MaxRowsShown) sb.Append(Html.Note($"... {d.Clusters.Count - MaxRowsShown} more clusters in data.Report.Quality.NearDuplicates.Clusters"));
        }
        if (Shows(QualitySection.Sensitive))
        {
            var s = r.Sensitive;
            sb.Append(Heading($"Secrets and personal data: {s.Total} findings" + (s.Redacted > 0 ? $", {s.Redacted} replaced by placeholders in the prepared data" : "") +
                              (s.Findings.Count < s.Total ? $" ({s.Findings.Count} listed)" : "")));
            if (s.Findings.Count > 0)
                sb.Append(Html.Table(["where", "field", "what", "found"], s.Findings.Select(f => (IReadOnlyList<string>)
                    [Html.Encode(DisplayPath.InText(f.Location.ToString())), Html.Encode(f.Field), Html.Encode(f.Kind.Name), $"<code>{Html.Encode(f.Preview)}</code>"])));
        }
        if (Shows(QualitySection.Balance))
        {
            sb.Append(Heading($"Balance by {r.Balance.What}"));
            if (r.Balance.Counts.Count > 0) sb.Append(BalanceChart().ToSvg());
            foreach (var w in r.Balance.Warnings) sb.Append(Html.Warning(w));
        }
        if (Section == QualitySection.All)
        {
            foreach (var u in r.Unchecked) sb.Append(Html.Warning(u.ToString()));
            sb.Append(Html.Note("Bounds: " + r.Bounds));
        }
        sb.Append("</div>");
        return new MimeBundle(ToString()).With("text/html", sb.ToString());
    }

    static string Heading(string text) => $"<div style=\"font-weight:600;margin-top:8px\">{Html.Encode(text)}</div>";
}
