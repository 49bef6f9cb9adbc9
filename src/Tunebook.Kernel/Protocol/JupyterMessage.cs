using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Kernel.Protocol;

/// <summary>
/// One Jupyter message: the ZeroMQ routing identities, header, parent header, metadata, content and
/// binary buffers. JSON parts are kept as <see cref="JsonObject"/>s so unknown fields survive.
/// </summary>
public sealed class JupyterMessage
{
    public const string ProtocolVersion = "5.3";
    static readonly byte[] Delimiter = "<IDS|MSG>"u8.ToArray();

    public List<byte[]> Identities { get; init; } = [];
    public JsonObject Header { get; init; } = new();
    public JsonObject ParentHeader { get; init; } = new();
    public JsonObject Metadata { get; init; } = new();
    public JsonObject Content { get; init; } = new();
    public List<byte[]> Buffers { get; init; } = [];

    public string MsgType => (string?)Header["msg_type"] ?? "";
    public string MsgId => (string?)Header["msg_id"] ?? "";

    /// <summary>A new message of <paramref name="msgType"/> answering (or caused by) the request whose header is <paramref name="parentHeader"/>.</summary>
    public static JupyterMessage Create(string msgType, JsonObject content, JsonObject? parentHeader, string session, List<byte[]>? identities = null) => new()
    {
        Identities = identities ?? [],
        Header = new JsonObject
        {
            ["msg_id"] = Guid.NewGuid().ToString("N"),
            ["session"] = session,
            ["username"] = "kernel",
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ"),
            ["msg_type"] = msgType,
            ["version"] = ProtocolVersion,
        },
        ParentHeader = parentHeader is null ? new JsonObject() : (JsonObject)parentHeader.DeepClone(),
        Content = content,
    };

    /// <summary>Serializes and signs the message into ZeroMQ frames.</summary>
    public List<byte[]> ToFrames(MessageSigner signer)
    {
        var parts = new[]
        {
            Encoding.UTF8.GetBytes(Header.ToJsonString()),
            Encoding.UTF8.GetBytes(ParentHeader.ToJsonString()),
            Encoding.UTF8.GetBytes(Metadata.ToJsonString()),
            Encoding.UTF8.GetBytes(Content.ToJsonString()),
        };
        var frames = new List<byte[]>(Identities.Count + 6 + Buffers.Count);
        frames.AddRange(Identities);
        frames.Add(Delimiter);
        frames.Add(Encoding.ASCII.GetBytes(signer.Sign(parts)));
        frames.AddRange(parts);
        frames.AddRange(Buffers);
        return frames;
    }

    /// <summary>
    /// Parses received frames. The signature is verified before any JSON is parsed, so an unsigned or
    /// forged message is never interpreted. Throws <see cref="ProtocolException"/> for anything invalid.
    /// </summary>
    public static JupyterMessage FromFrames(List<byte[]> frames, MessageSigner signer)
    {
        int delimiter = frames.FindIndex(f => f.AsSpan().SequenceEqual(Delimiter));
        if (delimiter < 0) throw new ProtocolException("no <IDS|MSG> delimiter frame");
        if (frames.Count < delimiter + 6)
            throw new ProtocolException($"expected signature, header, parent_header, metadata and content after the delimiter, got {frames.Count - delimiter - 1} frames");
        var parts = frames.GetRange(delimiter + 2, 4).ToArray();
        if (!signer.Verify(frames[delimiter + 1], parts)) throw new ProtocolException("invalid message signature");

        var message = new JupyterMessage
        {
            Identities = frames.GetRange(0, delimiter),
            Header = ParseObject(parts[0], "header"),
            ParentHeader = ParseObject(parts[1], "parent_header"),
            Metadata = ParseObject(parts[2], "metadata"),
            Content = ParseObject(parts[3], "content"),
            Buffers = frames.GetRange(delimiter + 6, frames.Count - delimiter - 6),
        };
        if (message.Header["msg_type"] is not JsonValue || message.Header["msg_id"] is not JsonValue)
            throw new ProtocolException("header lacks msg_type or msg_id");
        return message;
    }

    static JsonObject ParseObject(byte[] json, string what)
    {
        try
        {
            return JsonNode.Parse(json) as JsonObject ?? throw new ProtocolException($"{what} is not a JSON object");
        }
        catch (JsonException e) { throw new ProtocolException($"{what} is not valid JSON: {e.Message}"); }
    }
}

/// <summary>A message that breaks the wire protocol (bad signature, missing frames, invalid JSON).</summary>
public sealed class ProtocolException(string message) : Exception(message);
