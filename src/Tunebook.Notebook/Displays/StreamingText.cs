using System.Globalization;
using Tunebook.Interactive;
using Tunebook.Models;

namespace Tunebook.Notebook.Displays;

/// <summary>Text that grows while a model generates it; the final form adds token counts and speed.</summary>
public sealed class StreamingText(string prompt, int row = 0) : Formatters.IRichDisplay
{
    /// <summary>Which sequence of a batched result this display shows.</summary>
    public int Row { get; } = row;
    readonly System.Text.StringBuilder _text = new();
    public string Prompt { get; } = prompt;
    public string Text { get { lock (_text) return _text.ToString(); } }
    public GenerationResult? Result { get; private set; }

    public void Append(string delta) { lock (_text) _text.Append(delta); }
    public void Finish(GenerationResult result) => Result = result;

    string Footer() => Result is null ? "generating…" :
        string.Create(CultureInfo.InvariantCulture, $"{Result.Sequences[Row].TokenIds.Count} tokens, {Result.DecodeTokensPerSecond:0.#} tokens/s, {Result.Sequences[Row].FinishReason}");

    public override string ToString() => (Result?.Sequences[Row].Text ?? Text) + "\n[" + Footer() + "]";

    public MimeBundle ToMimeBundle() => new MimeBundle(ToString()).With("text/html",
        $"<div>{Html.Pre(Result?.Sequences[Row].Text ?? Text)}{Html.Note(Footer())}</div>");
}
