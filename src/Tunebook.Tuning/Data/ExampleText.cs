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
        var rendered = template.RenderTrainingText(messages, options.TemplateVariables);
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
