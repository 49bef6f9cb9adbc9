namespace Tunebook.Text.Templates;

/// <summary>
/// Chat templates for models whose tokenizer ships none, as Jinja source rendered by the same engine.
/// Fine-tune with the template you will chat with: a model only follows the format it was trained on.
/// Content may be a string or a list of parts ({"type": "text", "text": ...}); only text parts are rendered.
/// </summary>
public static class BuiltInChatTemplates
{
    // Renders message.content whether it is a string or a list of typed parts.
    const string ContentMacro =
        "{%- macro text_of(content) -%}\n" +
        "{%- if content is string -%}{{ content }}\n" +
        "{%- elif content is iterable -%}{%- for part in content if part.type == 'text' -%}{{ part.text }}{%- endfor -%}\n" +
        "{%- endif -%}\n" +
        "{%- endmacro -%}\n";

    /// <summary>ChatML (<c>&lt;|im_start|&gt;role\n...&lt;|im_end|&gt;</c>), as used by Qwen, SmolLM and many fine-tunes.</summary>
    public const string ChatML = ContentMacro +
        "{%- for message in messages -%}\n" +
        "{{- '<|im_start|>' + message['role'] + '\\n' + text_of(message['content']) + '<|im_end|>\\n' -}}\n" +
        "{%- endfor -%}\n" +
        "{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\\n' -}}{%- endif -%}\n";

    /// <summary>Llama 3 / 3.1 headers without tool support: <c>&lt;|start_header_id|&gt;role&lt;|end_header_id|&gt;</c>.</summary>
    public const string Llama3 = ContentMacro +
        "{{- bos_token -}}\n" +
        "{%- for message in messages -%}\n" +
        "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + text_of(message['content']) | trim + '<|eot_id|>' -}}\n" +
        "{%- endfor -%}\n" +
        "{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}{%- endif -%}\n";

    /// <summary>Llama 2 chat: <c>[INST]</c> turns, the system prompt folded into the first one, roles must alternate.</summary>
    public const string Llama2 = ContentMacro +
        "{%- if messages and messages[0]['role'] == 'system' -%}\n" +
        "  {%- set system_message = '<<SYS>>\\n' + text_of(messages[0]['content']) | trim + '\\n<</SYS>>\\n\\n' -%}\n" +
        "  {%- set loop_messages = messages[1:] -%}\n" +
        "{%- else -%}\n" +
        "  {%- set system_message = '' -%}\n" +
        "  {%- set loop_messages = messages -%}\n" +
        "{%- endif -%}\n" +
        "{%- for message in loop_messages -%}\n" +
        "  {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}\n" +
        "    {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') -}}\n" +
        "  {%- endif -%}\n" +
        "  {%- set content = text_of(message['content']) | trim -%}\n" +
        "  {%- if loop.index0 == 0 -%}{%- set content = system_message + content -%}{%- endif -%}\n" +
        "  {%- if message['role'] == 'user' -%}\n" +
        "    {{- bos_token + '[INST] ' + content + ' [/INST]' -}}\n" +
        "  {%- elif message['role'] == 'assistant' -%}\n" +
        "    {{- ' ' + content + ' ' + eos_token -}}\n" +
        "  {%- endif -%}\n" +
        "{%- endfor -%}\n";

    /// <summary>Alpaca instruction format (<c>### Instruction:</c> / <c>### Response:</c>).</summary>
    public const string Alpaca = ContentMacro +
        "{%- if messages and messages[0]['role'] == 'system' -%}\n" +
        "  {{- text_of(messages[0]['content']) | trim + '\\n\\n' -}}\n" +
        "  {%- set loop_messages = messages[1:] -%}\n" +
        "{%- else -%}\n" +
        "  {{- 'Below is an instruction that describes a task. Write a response that appropriately completes the request.\\n\\n' -}}\n" +
        "  {%- set loop_messages = messages -%}\n" +
        "{%- endif -%}\n" +
        "{%- for message in loop_messages -%}\n" +
        "  {%- if message['role'] == 'user' -%}\n" +
        "    {{- '### Instruction:\\n' + text_of(message['content']) | trim + '\\n\\n' -}}\n" +
        "  {%- elif message['role'] == 'assistant' -%}\n" +
        "    {{- '### Response:\\n' + text_of(message['content']) | trim + eos_token + '\\n\\n' -}}\n" +
        "  {%- endif -%}\n" +
        "{%- endfor -%}\n" +
        "{%- if add_generation_prompt -%}{{- '### Response:\\n' -}}{%- endif -%}\n";

    /// <summary>The names <see cref="Get"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["chatml", "llama3", "llama2", "alpaca"];

    /// <summary>The Jinja source of a built-in template by name (case-insensitive; "llama-3", "llama_2" also work).</summary>
    public static string Get(string name) => Normalize(name) switch
    {
        "chatml" => ChatML,
        "llama3" => Llama3,
        "llama2" => Llama2,
        "alpaca" => Alpaca,
        _ => throw new ArgumentException($"unknown built-in chat template '{name}'; expected one of {string.Join(", ", Names)}", nameof(name)),
    };

    /// <summary>The special tokens each built-in format is normally used with.</summary>
    public static (string? Bos, string? Eos) DefaultTokens(string name) => Normalize(name) switch
    {
        "chatml" => (null, "<|im_end|>"),
        "llama3" => ("<|begin_of_text|>", "<|eot_id|>"),
        "llama2" => ("<s>", "</s>"),
        "alpaca" => ("<s>", "</s>"),
        _ => (null, null),
    };

    static string Normalize(string name) => name.ToLowerInvariant().Replace("-", "").Replace("_", "").Replace(" ", "");
}
