using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Tuning.Data;

/// <summary>
/// Questions and their expected answers from a chat JSONL file such as datasets/puddle/heldout.jsonl: of each
/// line's "messages", the last user message is the question and the last assistant message the answer.
/// </summary>
public sealed record HeldOutQuestions(IReadOnlyList<string> Questions, IReadOnlyList<string> Answers)
{
    /// <summary>The first <paramref name="count"/> pairs of <paramref name="path"/>; a bad line is an error naming file:line.</summary>
    public static HeldOutQuestions Load(string path, int count = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count), count, "expected a count ≥ 0");
        if (!File.Exists(path)) throw new FileNotFoundException($"held-out questions: {path} not found", path);
        var questions = new List<string>();
        var answers = new List<string>();
        int line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            if (questions.Count == count) break;
            JsonNode? node;
            try { node = JsonNode.Parse(text); }
            catch (JsonException e) { throw new FormatException($"{path}:{line}: invalid JSON: {e.Message}", e); }
            var messages = (node as JsonObject)?["messages"] as JsonArray ?? throw new FormatException($"{path}:{line}: expected an object with \"messages\"");
            string? Find(string role)
            {
                var message = messages.LastOrDefault(m => m is JsonObject o && o["role"] is JsonValue r && r.TryGetValue<string>(out var s) && s == role);
                if (message is null) return null;
                return message["content"] is JsonValue c && c.TryGetValue<string>(out var content)
                    ? content
                    : throw new FormatException($"{path}:{line}: the {role} message's \"content\" is not a string");
            }
            questions.Add(Find("user") ?? throw new FormatException($"{path}:{line}: no user message"));
            answers.Add(Find("assistant") ?? throw new FormatException($"{path}:{line}: no assistant message"));
        }
        return new HeldOutQuestions(questions, answers);
    }
}
