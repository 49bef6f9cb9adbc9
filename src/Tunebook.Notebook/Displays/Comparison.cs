using System.Text;
using Tunebook.Interactive;

namespace Tunebook.Notebook.Displays;

/// <summary>One prompt answered by the base model and by the tuned model (and the expected answer, when known).</summary>
public sealed record ComparisonRow(string Prompt, string Base, string Tuned, string? Reference = null)
{
    /// <summary>Whether the tuned answer equals the reference (trimmed), or null without a reference.</summary>
    public bool? TunedMatches => Reference is null ? null : string.Equals(Tuned.Trim(), Reference.Trim(), StringComparison.Ordinal);
    /// <summary>Whether the base answer equals the reference (trimmed), or null without a reference.</summary>
    public bool? BaseMatches => Reference is null ? null : string.Equals(Base.Trim(), Reference.Trim(), StringComparison.Ordinal);
}

/// <summary>A before/after table: base model against the fine-tuned one on the same prompts.</summary>
public sealed class Comparison(IReadOnlyList<ComparisonRow> rows, string baseLabel = "base", string tunedLabel = "tuned") : Formatters.IRichDisplay
{
    public IReadOnlyList<ComparisonRow> Rows { get; } = rows ?? throw new ArgumentNullException(nameof(rows));
    public string BaseLabel { get; } = baseLabel;
    public string TunedLabel { get; } = tunedLabel;

    /// <summary>Exact matches with the reference, per side (only rows that have a reference count).</summary>
    public (int Base, int Tuned, int WithReference) Matches =>
        (Rows.Count(r => r.BaseMatches == true), Rows.Count(r => r.TunedMatches == true), Rows.Count(r => r.Reference is not null));

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var r in Rows)
        {
            sb.AppendLine($"prompt:    {r.Prompt}");
            sb.AppendLine($"{BaseLabel + ":",-10} {r.Base}");
            sb.AppendLine($"{TunedLabel + ":",-10} {r.Tuned}");
            if (r.Reference is not null) sb.AppendLine($"expected:  {r.Reference}");
            sb.AppendLine();
        }
        var (b, t, n) = Matches;
        if (n > 0) sb.Append($"exact matches with the expected answer: {BaseLabel} {b}/{n}, {TunedLabel} {t}/{n}");
        return sb.ToString().TrimEnd();
    }

    static string Cell(string text, bool? match) =>
        Html.Pre(text) + (match is null ? "" : match.Value ? "<span style=\"color:#27ae60\">✓ matches</span>" : "");

    public MimeBundle ToMimeBundle()
    {
        bool refs = Rows.Any(r => r.Reference is not null);
        var header = refs ? new[] { "Prompt", BaseLabel, TunedLabel, "Expected" } : new[] { "Prompt", BaseLabel, TunedLabel };
        var html = Html.Table(header, Rows.Select(r =>
        {
            var cells = new List<string> { Html.Pre(r.Prompt), Cell(r.Base, r.BaseMatches), Cell(r.Tuned, r.TunedMatches) };
            if (refs) cells.Add(Html.Pre(r.Reference ?? ""));
            return (IReadOnlyList<string>)cells;
        }), "Before / after");
        var (b, t, n) = Matches;
        if (n > 0) html += Html.Note($"Exact matches with the expected answer: {BaseLabel} {b}/{n}, {TunedLabel} {t}/{n}.");
        return new MimeBundle(ToString()).With("text/html", $"<div class=\"tunebook-comparison\">{html}</div>");
    }
}
