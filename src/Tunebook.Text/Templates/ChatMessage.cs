using System.Text.Json.Nodes;

namespace Tunebook.Text.Templates;

/// <summary>
/// One turn of a conversation for the common case: a role and text content, optionally tool calls (OpenAI /
/// Hugging Face shape: <c>[{"type": "function", "function": {"name": ..., "arguments": {...}}}]</c>), a tool call id
/// and a name. Anything else a template reads (content parts, reasoning_content, ...) goes in <see cref="Extra"/>,
/// or pass the conversation as JSON to <see cref="ChatTemplate.Render(JsonNode, bool, IDictionary{string, object?}?)"/>.
/// </summary>
public sealed record ChatMessage(string Role, string? Content)
{
    /// <summary>Tool calls made by an assistant turn, as JSON.</summary>
    public JsonArray? ToolCalls { get; init; }

    /// <summary>For a tool turn: the id of the call it answers.</summary>
    public string? ToolCallId { get; init; }

    /// <summary>For a tool turn: the tool's name.</summary>
    public string? Name { get; init; }

    /// <summary>Further fields, passed to the template as they are.</summary>
    public IReadOnlyDictionary<string, object?>? Extra { get; init; }

    /// <summary>A system prompt.</summary>
    public static ChatMessage System(string content) => new("system", content);

    /// <summary>A user turn.</summary>
    public static ChatMessage User(string content) => new("user", content);

    /// <summary>An assistant turn (the reply a model is trained to produce).</summary>
    public static ChatMessage Assistant(string content) => new("assistant", content);

    /// <summary>A tool result answering a tool call.</summary>
    public static ChatMessage Tool(string content, string? name = null, string? toolCallId = null) =>
        new("tool", content) { Name = name, ToolCallId = toolCallId };

    /// <summary>The message as the JSON object a template sees.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject { ["role"] = Role, ["content"] = Content };
        if (ToolCalls is not null) o["tool_calls"] = ToolCalls.DeepClone();
        if (ToolCallId is not null) o["tool_call_id"] = ToolCallId;
        if (Name is not null) o["name"] = Name;
        if (Extra is not null)
            foreach (var (k, v) in Extra)
                o[k] = v is JsonNode n ? n.DeepClone() : v is null ? null : global::System.Text.Json.JsonSerializer.SerializeToNode(v, v.GetType(), TextJsonContext.Default);
        return o;
    }

    /// <summary>Reads one message from a JSON object: "role" is required; content may be a string, null, or a list of
    /// parts (kept in <see cref="Extra"/>); unknown fields go to <see cref="Extra"/>.</summary>
    public static ChatMessage FromJson(JsonObject o)
    {
        string role = o["role"]?.GetValue<string>() ?? throw new FormatException("message has no \"role\"");
        var extra = new Dictionary<string, object?>();
        foreach (var (k, v) in o)
            if (k is not ("role" or "content" or "tool_calls" or "tool_call_id" or "name")) extra[k] = v?.DeepClone();
        string? content = o["content"] switch
        {
            null => null,
            JsonValue v when v.TryGetValue<string>(out var s) => s,
            _ => null,
        };
        if (o["content"] is JsonArray parts) extra["content"] = parts.DeepClone();
        return new ChatMessage(role, content)
        {
            ToolCalls = o["tool_calls"] as JsonArray is { } calls ? (JsonArray)calls.DeepClone() : null,
            ToolCallId = o["tool_call_id"]?.GetValue<string>(),
            Name = o["name"]?.GetValue<string>(),
            Extra = extra.Count > 0 ? extra : null,
        };
    }
}
