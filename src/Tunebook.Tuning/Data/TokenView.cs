using System.Net;
using System.Text;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Tuning.Data;

/// <summary>One token of a <see cref="TokenView"/>.</summary>
/// <param name="Text">The token's text as decoded (a character split across byte-level tokens is given to the token
/// that completes it; the others are empty).</param>
/// <param name="Id">The token id.</param>
/// <param name="Trained">Whether a loss is taken on predicting this token (label not −100, and not the first token).</param>
public readonly record struct TokenInfo(string Text, int Id, bool Trained);

/// <summary>
/// The tokens of an example and which are trained: what completion-only masking actually did. <c>ToString()</c>
/// prints the text with trained stretches in <c>[[ ]]</c>; <c>ToHtml()</c> colours them; <see cref="Tokens"/> has
/// every token for other renderings.
/// </summary>
public sealed class TokenView
{
    TokenView(IReadOnlyList<TokenInfo> tokens) => Tokens = tokens;

    /// <summary>Every token in order.</summary>
    public IReadOnlyList<TokenInfo> Tokens { get; }

    /// <summary>Number of trained tokens.</summary>
    public int TrainedCount => Tokens.Count(t => t.Trained);

    /// <summary>The view of ids and labels (aligned, −100 = not trained).</summary>
    public static TokenView Of(IReadOnlyList<int> ids, IReadOnlyList<int> labels, Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (ids.Count != labels.Count) throw new ArgumentException($"{ids.Count} ids but {labels.Count} labels");
        var tokens = new List<TokenInfo>(ids.Count);
        // Each token's text is what decoding it adds to the text before it. Decoding a few tokens of context (not the
        // whole prefix, which would be quadratic) keeps the leading space that SentencePiece-style decoders strip from
        // the first token; a character split across byte-level tokens is given whole to the token that completes it.
        int pending = 0;
        for (int i = 0; i < ids.Count; i++)
        {
            bool trained = i > 0 && labels[i] != TokenizedExample.Ignore;
            int context = Math.Max(0, pending - 3);
            string before = tokenizer.Decode(Slice(ids, context, pending));
            string through = tokenizer.Decode(Slice(ids, context, i + 1));
            string text = through.StartsWith(before, StringComparison.Ordinal) ? through[before.Length..] : tokenizer.Decode(Slice(ids, pending, i + 1));
            if (text.EndsWith('\uFFFD') && i + 1 < ids.Count && i + 1 - pending < 4)
            {
                tokens.Add(new TokenInfo("", ids[i], trained));
                continue;
            }
            tokens.Add(new TokenInfo(text, ids[i], trained));
            pending = i + 1;
        }
        return new TokenView(tokens);
    }

    static IEnumerable<int> Slice(IReadOnlyList<int> ids, int from, int to)
    {
        for (int i = from; i < to; i++) yield return ids[i];
    }

    /// <summary>The text with trained stretches in [[double brackets]].</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        bool open = false;
        foreach (var t in Tokens)
        {
            if (t.Trained != open) { sb.Append(t.Trained ? "[[" : "]]"); open = t.Trained; }
            sb.Append(t.Text);
        }
        if (open) sb.Append("]]");
        return sb.ToString();
    }

    /// <summary>HTML with trained tokens on a green background and masked ones grey; each token's id is its tooltip.</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder("<pre style=\"white-space:pre-wrap;line-height:1.6\">");
        foreach (var t in Tokens)
        {
            string style = t.Trained ? "background:#c8f7c5" : "color:#888";
            sb.Append($"<span title=\"{t.Id}\" style=\"{style};border-right:1px solid #ddd\">{WebUtility.HtmlEncode(t.Text)}</span>");
        }
        return sb.Append("</pre>").ToString();
    }
}
