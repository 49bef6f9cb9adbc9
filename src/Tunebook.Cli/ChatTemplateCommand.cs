using System.CommandLine;
using Tunebook.Text.Templates;

namespace Tunebook.Cli;

/// <summary>./tunebook chat-template: render conversations with a model's chat template (stdin JSON lines → stdout JSON strings).</summary>
static class ChatTemplateCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer", "-t")
        {
            Description = "A tokenizer_config.json or a model folder holding one",
            Required = true,
        };
        var generation = new Option<bool>("--add-generation-prompt")
        {
            Description = "Append the header that starts the assistant's reply (for inference)",
        };
        var fallback = new Option<string?>("--builtin")
        {
            Description = $"Built-in template to use when the tokenizer has none ({string.Join(", ", BuiltInChatTemplates.Names)})",
        };
        var name = new Option<string?>("--template")
        {
            Description = "Which named template of the tokenizer config to use (for example tool_use); default: \"default\"",
        };
        var command = new Command("chat-template",
            "Read one JSON array of messages per line from stdin (or an object with \"messages\" and further variables such as \"tools\") and print each rendered prompt as one JSON string per line.")
        {
            tokenizer, generation, fallback, name,
        };
        command.SetAction(parse =>
        {
            ChatTemplate template;
            try
            {
                template = ChatTemplate.FromTokenizerConfig(parse.GetValue(tokenizer)!, parse.GetValue(fallback));
                if (parse.GetValue(name) is { } wanted && wanted != template.Name)
                {
                    if (!template.Named.TryGetValue(wanted, out var chosen))
                    {
                        Console.Error.WriteLine($"chat-template: the tokenizer has no template named '{wanted}'" +
                            (template.Named.Count > 0 ? $" (it has: {string.Join(", ", template.Named.Keys)})" : " (it has a single unnamed template)"));
                        return 1;
                    }
                    template = chosen;
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or TemplateException or ArgumentException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"chat-template: {e.Message}");
                return 1;
            }
            return ChatTemplateCli.Run(template, parse.GetValue(generation), Console.In, Console.Out, Console.Error);
        });
        return command;
    }
}
