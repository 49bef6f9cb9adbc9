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
        var command = new Command("chat-template",
            "Read one JSON array of messages per line from stdin and print each rendered prompt as one JSON string per line.")
        {
            tokenizer, generation, fallback,
        };
        command.SetAction(parse =>
        {
            ChatTemplate template;
            try
            {
                template = ChatTemplate.FromTokenizerConfig(parse.GetValue(tokenizer)!, parse.GetValue(fallback));
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
