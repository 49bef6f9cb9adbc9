using Tunebook.Text.Templates;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Models;

/// <summary>
/// Chat on top of generation: the conversation is rendered with the tokenizer's chat template (with
/// the assistant prompt appended, like transformers' apply_chat_template(add_generation_prompt=True)),
/// tokenized without adding special tokens again (the template writes them), and continued.
/// </summary>
public static class ChatGeneration
{
    /// <summary>The chat template of a tokenizer (tokenizer_config.json "chat_template" or chat_template.jinja), with its special tokens.</summary>
    public static ChatTemplate TemplateOf(Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var source = tokenizer.Config.ChatTemplate
            ?? throw new InvalidOperationException("the tokenizer has no chat template (tokenizer_config.json \"chat_template\" or chat_template.jinja); pass one, e.g. ChatTemplate.BuiltIn(\"chatml\")");
        var tokens = new Dictionary<string, string>();
        if (tokenizer.Config.BosToken is { } bos) tokens["bos_token"] = bos;
        if (tokenizer.Config.EosToken is { } eos) tokens["eos_token"] = eos;
        if (tokenizer.Config.PadToken is { } pad) tokens["pad_token"] = pad;
        if (tokenizer.Config.UnkToken is { } unk) tokens["unk_token"] = unk;
        return ChatTemplate.Parse(source).WithSpecialTokens(tokens);
    }

    /// <summary>Renders <paramref name="messages"/> with the chat template and generates the assistant's reply.</summary>
    public static GenerationResult Chat(this CausalLM model, IReadOnlyList<ChatMessage> messages, GenerationOptions? options = null, ChatTemplate? template = null) =>
        model.Chat([messages], options, template);

    /// <summary>Replies to several conversations as one batch.</summary>
    public static GenerationResult Chat(this CausalLM model, IReadOnlyList<IReadOnlyList<ChatMessage>> conversations, GenerationOptions? options = null, ChatTemplate? template = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(conversations);
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("Chat needs the model's tokenizer (the model folder had none)");
        template ??= TemplateOf(tokenizer);
        var prompts = conversations.Select(c => template.Render(c, addGenerationPrompt: true)).ToArray();
        return new Generator(model, tokenizer).Generate(prompts, (options ?? new GenerationOptions()) with { AddSpecialTokens = false });
    }
}
