namespace Tunebook.Text.Templates;

/// <summary>
/// A tokenizer_config.json (or chat_template.json) whose chat_template cannot be used: not JSON, not an
/// object, no template, or a template entry of the wrong shape. The message names the file.
/// </summary>
public sealed class ChatTemplateConfigException(string message, Exception? inner = null) : FormatException(message, inner);
