using System.Text.Json.Nodes;

namespace Tunebook.Text.Templates;

/// <summary>A rendered training conversation and where the assistant's replies are in it.</summary>
/// <param name="Text">The whole conversation rendered with the template (no generation prompt).</param>
/// <param name="AssistantSpans">For every assistant message, the character range of its reply in <paramref name="Text"/>:
/// from just after the assistant header through the end-of-turn marker the template writes. Train on these
/// ("completion only" / assistant-only loss) so the model learns to answer and to stop, not to imitate users.</param>
public sealed record TrainingText(string Text, IReadOnlyList<Range> AssistantSpans);

public sealed partial class ChatTemplate
{
    /// <summary>
    /// Renders a training conversation and locates each assistant reply, by rendering the conversation up to the
    /// reply with the generation prompt and up to and including it without: the difference is the reply. This works
    /// for any template that renders earlier turns the same way whatever follows; templates that rewrite history
    /// (for example dropping the reasoning of earlier turns) are reported with <see cref="InvalidOperationException"/>.
    /// </summary>
    public TrainingText RenderTrainingText(IReadOnlyList<ChatMessage> messages, IDictionary<string, object?>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return RenderTrainingText(new JsonArray(messages.Select(m => (JsonNode)m.ToJson()).ToArray()), extra);
    }

    /// <inheritdoc cref="RenderTrainingText(IReadOnlyList{ChatMessage}, IDictionary{string, object?}?)"/>
    public TrainingText RenderTrainingText(JsonNode messages, IDictionary<string, object?>? extra = null)
    {
        if (messages is not JsonArray all) throw new ArgumentException("messages must be a JSON array of message objects", nameof(messages));
        string full = Render(all, addGenerationPrompt: false, extra);
        var spans = new List<Range>();
        for (int i = 0; i < all.Count; i++)
        {
            if (all[i] is not JsonObject message || message["role"]?.ToString() != "assistant") continue;
            string before = Render(Prefix(all, i), addGenerationPrompt: true, extra);
            string through = Render(Prefix(all, i + 1), addGenerationPrompt: false, extra);
            if (!through.StartsWith(before, StringComparison.Ordinal) || !full.StartsWith(through, StringComparison.Ordinal))
                throw new InvalidOperationException(
                    $"cannot locate assistant message {i} in the rendered text: this chat template renders earlier turns " +
                    "differently depending on what follows (for example it drops the reasoning of earlier turns), so train " +
                    "on conversations that end with the assistant turn you want to learn");
            spans.Add(before.Length..through.Length);
        }
        return new TrainingText(full, spans);
    }

    static JsonArray Prefix(JsonArray all, int count) => new(all.Take(count).Select(m => m?.DeepClone()).ToArray());
}
