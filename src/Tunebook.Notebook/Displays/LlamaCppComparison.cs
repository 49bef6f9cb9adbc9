using System.Text;
using Tunebook.Interactive;

namespace Tunebook.Notebook.Displays;

/// <summary>One question answered by the model in Tunebook and by llama.cpp from the exported GGUF file.</summary>
public sealed record LlamaCppAnswer(string Question, string Tunebook, string LlamaCpp)
{
    /// <summary>Whether both answers are the same text (trimmed).</summary>
    public bool Same => string.Equals(Tunebook.Trim(), LlamaCpp.Trim(), StringComparison.Ordinal);
}

/// <summary>Tunebook's answers beside llama.cpp's on the same questions, and how many agree.</summary>
public sealed class LlamaCppComparison(IReadOnlyList<LlamaCppAnswer> rows, string file) : Formatters.IRichDisplay
{
    public IReadOnlyList<LlamaCppAnswer> Rows { get; } = rows ?? throw new ArgumentNullException(nameof(rows));

    /// <summary>The GGUF file llama.cpp ran, as shown (relative to the notebook).</summary>
    public string File { get; } = file;

    /// <summary>Questions on which llama.cpp's answer is Tunebook's.</summary>
    public int Agreeing => Rows.Count(r => r.Same);

    string Summary => $"llama.cpp ({File}) gives Tunebook's answer to {Agreeing} of {Rows.Count} questions";

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var r in Rows)
        {
            sb.AppendLine($"question:  {r.Question}");
            sb.AppendLine($"Tunebook:  {r.Tunebook}");
            sb.AppendLine($"llama.cpp: {r.LlamaCpp}{(r.Same ? "  (same)" : "")}");
            sb.AppendLine();
        }
        return sb.Append(Summary).ToString();
    }

    public MimeBundle ToMimeBundle()
    {
        var html = Html.Table(["Question", "Tunebook", "llama.cpp"], Rows.Select(r => (IReadOnlyList<string>)
            [Html.Pre(r.Question), Html.Pre(r.Tunebook), Html.Pre(r.LlamaCpp) + (r.Same ? "<span style=\"color:#27ae60\">✓ same</span>" : "")]),
            "Tunebook and llama.cpp");
        html += Html.Note(Summary + ".");
        return new MimeBundle(ToString()).With("text/html", $"<div class=\"tunebook-llamacpp\">{html}</div>");
    }
}
