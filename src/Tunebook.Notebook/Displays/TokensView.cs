using System.Text;
using Tunebook.Interactive;
using Tunebook.Text.Tokenizers;
using Tunebook.Tuning.Data;

namespace Tunebook.Notebook.Displays;

/// <summary>
/// A text as its tokens: each token on a coloured background with its id beneath, so a reader sees where
/// the tokenizer splits words, which tokens are special, and how many tokens a text costs.
/// </summary>
public sealed class TokensView : Formatters.IRichDisplay
{
    /// <summary>Background colours that keep dark text readable (the text colour is set, not inherited).</summary>
    static readonly string[] Palette = ["#cfe3ff", "#ffe0b3", "#d4f5d0", "#f5d0e6", "#e6e0ff", "#fff2a8"];

    public TokensView(Tokenizer tokenizer, string text, bool addSpecialTokens = false)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        Text = text ?? throw new ArgumentNullException(nameof(text));
        var enc = tokenizer.Encode(text, addSpecialTokens);
        Tokens = enc.Ids.Select((id, i) => new TokenInfo(
            enc.Offsets[i].End > enc.Offsets[i].Start ? text[enc.Offsets[i].Start..enc.Offsets[i].End] : tokenizer.Decode([id]), id, !tokenizer.IsSpecial(id))).ToList();
    }

    public string Text { get; }
    /// <summary>The tokens; <see cref="TokenInfo.Trained"/> is false for special tokens here.</summary>
    public IReadOnlyList<TokenInfo> Tokens { get; }

    public override string ToString() =>
        $"{Tokens.Count} tokens: " + string.Join(" ", Tokens.Select(t => $"[{t.Text.Replace("\n", "\\n")}|{t.Id}]"));

    public MimeBundle ToMimeBundle() => new MimeBundle(ToString())
        .With("text/html", $"<div><div style=\"font-size:12px;color:{Displays.Html.Muted}\">{Tokens.Count} tokens</div>{Html(Tokens, colourByToken: true)}</div>");

    /// <summary>
    /// Tokens as inline boxes with their ids. With <paramref name="colourByToken"/> neighbours alternate colours;
    /// otherwise trained tokens are green and masked ones grey (the data view's convention).
    /// </summary>
    public static string Html(IReadOnlyList<TokenInfo> tokens, bool colourByToken = false)
    {
        var sb = new StringBuilder("<div style=\"line-height:2.3;font-family:monospace;font-size:12px\">");
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            string bg = colourByToken ? (t.Trained ? Palette[i % Palette.Length] : "#d9d9d9") : (t.Trained ? "#b7efb2" : "#e4e4e4");
            string fg = colourByToken || t.Trained ? "#111" : "#6b6b6b";
            string text = Displays.Html.Encode(t.Text.Replace("\n", "↵")).Replace(" ", "&nbsp;");
            sb.Append($"<span title=\"id {t.Id}\" style=\"display:inline-block;background:{bg};color:{fg};border-radius:3px;padding:0 2px;margin:1px;text-align:center;vertical-align:top;line-height:1.3\">{text}");
            sb.Append($"<br><span style=\"font-size:9px;color:#555\">{t.Id}</span></span>");
            if (t.Text.Contains('\n')) sb.Append("<br>");
        }
        return sb.Append("</div>").ToString();
    }
}
