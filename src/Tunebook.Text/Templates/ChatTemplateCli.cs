using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Text.Templates;

/// <summary>
/// The body of <c>./tunebook chat-template</c>: one JSON array of messages per input line in (or an object with
/// "messages" plus further template variables such as "tools"), one JSON string of rendered text per output line out.
/// Kept here (not in the CLI project) so it can be tested in-process.
/// </summary>
public static class ChatTemplateCli
{
    static readonly TextJsonContext Output = new(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>Renders every line of <paramref name="input"/>; returns the process exit code (0, or 1 on the first bad line).</summary>
    public static int Run(ChatTemplate template, bool addGenerationPrompt, TextReader input, TextWriter output, TextWriter error)
    {
        int lineNumber = 0;
        string? line;
        while ((line = input.ReadLine()) is not null)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonNode? messages;
            try
            {
                messages = JsonNode.Parse(line);
            }
            catch (JsonException e)
            {
                error.WriteLine($"stdin line {lineNumber}: invalid JSON: {e.Message}");
                return 1;
            }
            // A line is a messages array, or an object {"messages": [...], "tools": [...], ...} whose other fields
            // become template variables (add_generation_prompt there overrides the command-line flag).
            bool generation = addGenerationPrompt;
            Dictionary<string, object?>? extra = null;
            if (messages is JsonObject request && request["messages"] is JsonArray inner)
            {
                extra = new Dictionary<string, object?>();
                foreach (var (key, value) in request)
                {
                    if (key == "messages") continue;
                    if (key == "add_generation_prompt" && value is JsonValue flag && flag.TryGetValue<bool>(out var b)) generation = b;
                    else extra[key] = value?.DeepClone();
                }
                messages = inner.DeepClone();
            }
            if (messages is not JsonArray)
            {
                error.WriteLine($"stdin line {lineNumber}: expected a JSON array of messages like [{{\"role\": \"user\", \"content\": \"Hi\"}}] or an object with a \"messages\" array");
                return 1;
            }
            try
            {
                string text = template.Render(messages, generation, extra);
                output.WriteLine(JsonSerializer.Serialize(text, Output.String));
                output.Flush();
            }
            catch (TemplateException e)
            {
                error.WriteLine($"stdin line {lineNumber}: {e.Message}");
                return 1;
            }
        }
        return 0;
    }
}
