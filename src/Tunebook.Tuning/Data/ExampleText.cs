using System.Text.Json.Nodes;
using Tunebook.Text.Templates;

namespace Tunebook.Tuning.Data;

/// <summary>An example rendered to the exact text the model sees, and the character ranges that are trained.</summary>
/// <param name="Text">The text to tokenize.</param>
/// <param name="Trained">Character ranges whose tokens get a loss.</param>
/// <param name="AddSpecialTokens">Whether the tokenizer adds its own special tokens (BOS): not for chat templates,
/// which write them themselves (as transformers' apply_chat_template does).</param>
sealed record ExampleText(string Text, IReadOnlyList<Range> Trained, bool AddSpecialTokens);

/// <summary>
/// Turns raw examples into text with trained ranges. Chat goes through the chat template, whose assistant replies
/// are located by prefix rendering (<see cref="ChatTemplate.RenderTrainingText(IReadOnlyList{ChatMessage}, IDictionary{string, object?}?)"/>);
/// Alpaca and prompt/completion become a conversation, the Alpaca prompt or plain text (<see cref="PromptStyle"/>).
/// </summary>
sealed class ExampleRenderer(ChatTemplate? template, string? eosToken, PrepareOptions options, string templateHint)
{
    const string AlpacaPreamble = "Below is an instruction that describes a task. Write a response that appropriately completes the request.";
    const string AlpacaPreambleWithInput = "Below is an instruction that describes a task, paired with an input that provides further context. " +
        "Write a response that appropriately completes the request.";

    public ExampleText Render(RawExample e)
    {
        var style = options.PromptStyle == PromptStyle.Auto
            ? (e.Format == DataFormat.Alpaca ? PromptStyle.Chat : PromptStyle.Plain)
            : options.PromptStyle;
        switch (e.Format)
        {
            case DataFormat.Chat:
                return Chat(e.Messages!);
            case DataFormat.Text:
                return Whole(e.Text! + Eos);
            case DataFormat.Alpaca:
                string user = e.Input is { Length: > 0 } input ? e.Instruction + "\n\n" + input : e.Instruction!;
                return style switch
                {
                    PromptStyle.Chat => Chat(e.System is { } s
                        ? [ChatMessage.System(s), ChatMessage.User(user), ChatMessage.Assistant(e.Output!)]
                        : [ChatMessage.User(user), ChatMessage.Assistant(e.Output!)]),
                    PromptStyle.AlpacaPrompt => Answer(AlpacaPrompt(e.Instruction!, e.Input, e.System), e.Output!),
                    _ => Answer(user + "\n", e.Output!),
                };
            case DataFormat.PromptCompletion:
                return style switch
                {
                    PromptStyle.Chat => Chat([ChatMessage.User(e.Prompt!), ChatMessage.Assistant(e.Completion!)]),
                    PromptStyle.AlpacaPrompt => Answer(AlpacaPrompt(e.Prompt!, null, null), e.Completion!),
                    _ => Answer(e.Prompt!, e.Completion!),
                };
            default:
                throw new ArgumentOutOfRangeException(nameof(e));
        }
    }

    string Eos => options.AppendEos && eosToken is not null ? eosToken : "";

    /// <summary>The Stanford Alpaca prompt; a system prompt, when given, replaces the preamble.</summary>
    public static string AlpacaPrompt(string instruction, string? input, string? system)
    {
        bool hasInput = input is { Length: > 0 };
        string preamble = system ?? (hasInput ? AlpacaPreambleWithInput : AlpacaPreamble);
        return hasInput
            ? $"{preamble}\n\n### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
            : $"{preamble}\n\n### Instruction:\n{instruction}\n\n### Response:\n";
    }

    ExampleText Whole(string text) => new(text, [0..text.Length], AddSpecialTokens: true);

    ExampleText Answer(string prompt, string answer)
    {
        string text = prompt + answer + Eos;
        return new(text, options.CompletionOnly ? [prompt.Length..text.Length] : [0..text.Length], AddSpecialTokens: true);
    }

    ExampleText Chat(IReadOnlyList<ChatMessage> messages)
    {
        if (template is null)
            throw new InvalidOperationException($"chat examples need a chat template, and {templateHint}; pass one to Prepare " +
                $"(ChatTemplate.FromTokenizerConfig(folder) or ChatTemplate.BuiltIn(\"chatml\")) or set PrepareOptions.BuiltInTemplate");
        var rendered = AssistantSpans.Locate(template, messages, options.TemplateVariables);
        if (!options.CompletionOnly) return new(rendered.Text, [0..rendered.Text.Length], AddSpecialTokens: false);
        var spans = options.LastAssistantTurnOnly && rendered.AssistantSpans.Count > 0 ? [rendered.AssistantSpans[^1]] : rendered.AssistantSpans;
        // The span runs through whatever the template writes after the end-of-turn token (often a newline); the model
        // stops at the end-of-turn token, so what follows it is not part of the answer.
        var trimmed = spans.Select(s =>
        {
            var (start, length) = s.GetOffsetAndLength(rendered.Text.Length);
            int end = start + length;
            while (end > start && char.IsWhiteSpace(rendered.Text[end - 1])) end--;
            return start..end;
        }).ToList();
        return new(rendered.Text, trimmed, AddSpecialTokens: false);
    }
}

/// <summary>
/// Where the assistant replies are in a rendered conversation. First by prefix rendering
/// (<see cref="ChatTemplate.RenderTrainingText(IReadOnlyList{ChatMessage}, IDictionary{string, object?}?)"/>). Some
/// templates render a reply differently depending on what follows it: Qwen3 writes a think block only for replies after
/// the last user turn, so a prefix that ends with an earlier reply renders it differently from the whole conversation.
/// For those replies the whole conversation is rendered again with the reply's content replaced by a marker: where
/// that rendering departs from the real one is where the content starts, where they meet again is where it ends. The
/// reply then runs on through the template's end-of-turn token (after tool calls, if any), found as the text a
/// template writes after a reply in a minimal conversation.
/// </summary>
static class AssistantSpans
{
    const string Marker = "\u0001TUNEBOOK-REPLY\u0001";

    public static TrainingText Locate(ChatTemplate template, IReadOnlyList<ChatMessage> messages, IDictionary<string, object?>? extra)
    {
        try { return template.RenderTrainingText(messages, extra); }
        catch (InvalidOperationException first)
        {
            string full = template.Render(messages, addGenerationPrompt: false, extra);
            string? endOfTurn = null;
            var spans = new List<Range>();
            for (int i = 0; i < messages.Count; i++)
            {
                if (messages[i].Role != "assistant") continue;
                string before = template.Render(messages.Take(i).ToList(), addGenerationPrompt: true, extra);
                string through = template.Render(messages.Take(i + 1).ToList(), addGenerationPrompt: false, extra);
                if (through.StartsWith(before, StringComparison.Ordinal) && full.StartsWith(through, StringComparison.Ordinal))
                {
                    spans.Add(before.Length..through.Length);
                    continue;
                }
                endOfTurn ??= EndOfTurn(template, extra);
                spans.Add(ByMarker(template, messages, i, full, endOfTurn, extra) ?? throw first);
            }
            return new TrainingText(full, spans);
        }
    }

    static Range? ByMarker(ChatTemplate template, IReadOnlyList<ChatMessage> messages, int i, string full, string endOfTurn, IDictionary<string, object?>? extra)
    {
        var marked = messages.ToList();
        marked[i] = WithContent(messages[i], Marker);
        string withMarker = template.Render(marked, addGenerationPrompt: false, extra);
        if (withMarker.IndexOf(Marker, StringComparison.Ordinal) is var at && (at < 0 || withMarker.IndexOf(Marker, at + 1, StringComparison.Ordinal) >= 0))
            return null;
        int start = 0;
        while (start < full.Length && start < withMarker.Length && full[start] == withMarker[start]) start++;
        int shared = 0, room = Math.Min(full.Length, withMarker.Length) - start;
        while (shared < room && full[^(shared + 1)] == withMarker[^(shared + 1)]) shared++;
        int contentEnd = full.Length - shared;
        if (start != at) return null; // the renderings part before the reply: not a change of the content alone
        // Through the end-of-turn token when the template writes one after this reply.
        string prefix = template.Render(marked.Take(i + 1).ToList(), addGenerationPrompt: false, extra);
        int m = prefix.IndexOf(Marker, StringComparison.Ordinal);
        string turnRest = m < 0 ? "" : prefix[(m + Marker.Length)..].TrimEnd();
        if (endOfTurn.Length > 0 && turnRest.EndsWith(endOfTurn, StringComparison.Ordinal)
            && full.IndexOf(endOfTurn, contentEnd, StringComparison.Ordinal) is var end and >= 0)
            return start..(end + endOfTurn.Length);
        return start..contentEnd;
    }

    /// <summary>What the template writes after a plain reply (trimmed), e.g. &lt;|im_end|&gt;; empty when unknown.</summary>
    static string EndOfTurn(ChatTemplate template, IDictionary<string, object?>? extra)
    {
        try
        {
            string text = template.Render([ChatMessage.User("x"), ChatMessage.Assistant(Marker)], addGenerationPrompt: false, extra);
            int m = text.IndexOf(Marker, StringComparison.Ordinal);
            return m < 0 ? "" : text[(m + Marker.Length)..].Trim();
        }
        catch (Exception e) when (e is TemplateException or InvalidOperationException) { return ""; }
    }

    static ChatMessage WithContent(ChatMessage m, string content)
    {
        // Content given as a list of parts lives in Extra["content"] and would override Content.
        var extra = m.Extra?.Where(kv => kv.Key != "content").ToDictionary(kv => kv.Key, kv => kv.Value);
        return m with { Content = content, Extra = extra is { Count: > 0 } ? extra : null };
    }
}
