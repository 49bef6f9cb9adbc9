using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Text.Templates;

namespace Tunebook.Tuning.Data;

/// <summary>
/// Loads training data: <c>Dataset.Load("data/train.jsonl")</c> reads JSON Lines, JSON, CSV/TSV or plain text and
/// detects the layout (chat, Alpaca, prompt/completion, text) from the fields unless it is given. Loading is all or
/// nothing: the first bad row throws a <see cref="DataLoadException"/> naming the file, line (or array index) and
/// field, unless <see cref="LoadOptions.SkipBadRows"/> asks to skip bad rows and list them.
/// </summary>
public static class Dataset
{
    /// <summary>The roles a chat message may have.</summary>
    public static readonly IReadOnlyList<string> Roles = ["system", "user", "assistant", "tool"];

    /// <summary>Loads the examples of one file.</summary>
    /// <param name="path">A .jsonl/.ndjson, .json, .csv, .tsv or .txt/.md file, or a folder of them (read in name order).</param>
    /// <param name="format">The layout, or null to detect it from the fields of the first row.</param>
    /// <param name="options">Text splitting and bad-row handling.</param>
    public static RawDataset Load(string path, DataFormat? format = null, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= new LoadOptions();
        var skipped = new List<DataLoadException>();
        Action<DataLoadException> onRowError = options.SkipBadRows ? skipped.Add : e => throw e;
        List<(JsonObject, RowLocation)> records;
        List<string> files;
        if (Directory.Exists(path))
        {
            // A folder: every data file in it, in name order (with TextSplit.Document, one document per file).
            files = Directory.GetFiles(path).Where(f => DataFiles.Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
                .Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new InvalidDataException($"{path}: no data files ({string.Join(", ", DataFiles.Extensions)}) in the folder");
            records = files.SelectMany(f => DataFiles.Read(f, options, onRowError)).ToList();
        }
        else
        {
            records = DataFiles.Read(path, options, onRowError);
            files = [path];
        }
        // The digests are taken now, so a file edited between loading and training is not recorded as what was trained on.
        var loaded = FromRecords(records, format, path, onRowError, skipped);
        loaded.Origin = DataOrigin.Of(path, files, format, options);
        return loaded;
    }

    /// <summary>Examples given as JSON objects (for example built in a notebook cell).</summary>
    public static RawDataset FromRecords(IEnumerable<JsonObject> records, DataFormat? format = null, string source = "records", LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(records);
        options ??= new LoadOptions();
        var skipped = new List<DataLoadException>();
        Action<DataLoadException> onRowError = options.SkipBadRows ? skipped.Add : e => throw e;
        var located = records.Select((r, i) => (r, new RowLocation(source, ArrayIndex: i))).ToList();
        return FromRecords(located, format, source, onRowError, skipped);
    }

    /// <summary>Examples given as JSON Lines text.</summary>
    public static RawDataset FromJsonLines(string jsonLines, DataFormat? format = null, string source = "jsonl", LoadOptions? options = null)
    {
        string file = Path.Combine(Path.GetTempPath(), $"tunebook-{Guid.NewGuid():N}.jsonl");
        File.WriteAllText(file, jsonLines);
        try
        {
            var loaded = Load(file, format, options);
            return new RawDataset(source, loaded.Format, loaded.Rows, loaded.SkippedRows);
        }
        catch (DataLoadException e) { throw new DataLoadException(e.Location with { File = source }, e.Field, e.Problem, e.InnerException); }
        finally { File.Delete(file); }
    }

    static RawDataset FromRecords(List<(JsonObject Record, RowLocation Location)> records, DataFormat? format, string source,
        Action<DataLoadException> onRowError, List<DataLoadException> skipped)
    {
        if (records.Count == 0)
        {
            if (skipped.Count > 0) throw new InvalidDataException($"{source}: every row is bad ({skipped.Count}); the first: {skipped[0].Message}");
            throw new InvalidDataException($"{source}: no examples");
        }
        var chosen = format ?? Detect(records[0].Record, records[0].Location);
        var rows = new List<RawExample>(records.Count);
        foreach (var (record, where) in records)
        {
            try { rows.Add(Parse(record, where, chosen, rows.Count) with { Fields = OtherFields(record) }); }
            catch (DataLoadException e) { onRowError(e); }
        }
        if (rows.Count == 0) throw new InvalidDataException($"{source}: every row is bad ({skipped.Count}); the first: {skipped[0].Message}");
        return new RawDataset(source, chosen, rows, skipped);
    }

    /// <summary>
    /// The layout that the fields of <paramref name="record"/> fit: messages or conversations → chat;
    /// instruction and output → Alpaca; prompt and completion → prompt/completion; text → text. A record that fits
    /// none, or more than one, is an error that lists its fields.
    /// </summary>
    public static DataFormat Detect(JsonObject record, RowLocation location)
    {
        ArgumentNullException.ThrowIfNull(record);
        var fits = new List<(DataFormat Format, string Fields)>();
        if (record.ContainsKey("messages")) fits.Add((DataFormat.Chat, "messages"));
        else if (record.ContainsKey("conversations")) fits.Add((DataFormat.Chat, "conversations"));
        if (record.ContainsKey("instruction") && record.ContainsKey("output")) fits.Add((DataFormat.Alpaca, "instruction/output"));
        if (record.ContainsKey("prompt") && record.ContainsKey("completion")) fits.Add((DataFormat.PromptCompletion, "prompt/completion"));
        if (record.ContainsKey("text")) fits.Add((DataFormat.Text, "text"));
        string keys = string.Join(", ", record.Select(kv => kv.Key));
        return fits.Count switch
        {
            1 => fits[0].Format,
            0 => throw new DataLoadException(location, null,
                $"cannot tell the data format from the fields ({keys}); expected messages (chat), conversations (ShareGPT), " +
                "instruction/input/output (Alpaca), prompt/completion, or text"),
            _ => throw new DataLoadException(location, null,
                $"the fields ({keys}) fit more than one format: {string.Join(" and ", fits.Select(f => $"{f.Format} ({f.Fields})"))}; " +
                $"pass the format, for example Dataset.Load(path, DataFormat.{fits[0].Format})"),
        };
    }

    static RawExample Parse(JsonObject r, RowLocation where, DataFormat format, int index) => format switch
    {
        DataFormat.Alpaca => new RawExample
        {
            Index = index, Location = where, Format = format,
            Instruction = Text(r, "instruction", where)!,
            Input = Text(r, "input", where, optional: true) ?? "",
            Output = Text(r, "output", where)!,
            System = Text(r, "system", where, optional: true) is { Length: > 0 } s ? s : null,
        },
        DataFormat.PromptCompletion => new RawExample
        {
            Index = index, Location = where, Format = format,
            Prompt = Text(r, "prompt", where)!,
            Completion = Text(r, "completion", where)!,
        },
        DataFormat.Text => new RawExample { Index = index, Location = where, Format = format, Text = Text(r, "text", where)! },
        DataFormat.Chat => new RawExample { Index = index, Location = where, Format = format, Messages = Messages(r, where) },
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    static readonly HashSet<string> ExampleFieldNames = ["messages", "conversations", "instruction", "input", "output", "system", "prompt", "completion", "text"];

    /// <summary>The plain (string, number, boolean) fields of a record that are not part of its example.</summary>
    static Dictionary<string, string>? OtherFields(JsonObject r)
    {
        Dictionary<string, string>? fields = null;
        foreach (var (key, node) in r)
            if (!ExampleFieldNames.Contains(key) && node is JsonValue v && v.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                (fields ??= new(StringComparer.Ordinal))[key] = v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : v.ToJsonString();
        return fields;
    }

    static string? Text(JsonObject r, string field, RowLocation where, bool optional = false)
    {
        if (!r.TryGetPropertyValue(field, out var node) || node is null)
            return optional ? null : throw new DataLoadException(where, field, r.ContainsKey(field) ? "must be a string, got null" : "is missing");
        if (node is JsonValue v && v.TryGetValue<string>(out var s)) return s;
        throw new DataLoadException(where, field, $"must be a string, got {DataFiles.Kind(node)}");
    }

    static IReadOnlyList<ChatMessage> Messages(JsonObject r, RowLocation where)
    {
        bool shareGpt = !r.ContainsKey("messages") && r.ContainsKey("conversations");
        string list = shareGpt ? "conversations" : "messages";
        var node = r[list];
        // CSV cells hold the conversation as JSON text.
        if (node is JsonValue text && text.TryGetValue<string>(out var json))
        {
            try { node = JsonNode.Parse(json); }
            catch (JsonException e) { throw new DataLoadException(where, list, $"is a string that is not a JSON list of messages ({e.Message.Split(" Path:")[0]})", e); }
        }
        if (node is not JsonArray array) throw new DataLoadException(where, list, node is null ? "is missing" : $"must be a list of messages, got {DataFiles.Kind(node)}");
        if (array.Count == 0) throw new DataLoadException(where, list, "is an empty list");
        var messages = new List<ChatMessage>(array.Count);
        for (int i = 0; i < array.Count; i++)
        {
            string at = $"{list}[{i}]";
            if (array[i] is not JsonObject m) throw new DataLoadException(where, at, $"must be an object, got {DataFiles.Kind(array[i])}");
            messages.Add(shareGpt ? ShareGptTurn(m, at, where) : Message(m, at, where));
        }
        return messages;
    }

    static ChatMessage Message(JsonObject m, string at, RowLocation where)
    {
        if (m["role"] is not JsonValue rv || !rv.TryGetValue<string>(out var role))
            throw new DataLoadException(where, at + ".role", m.ContainsKey("role") ? $"must be a string, got {DataFiles.Kind(m["role"])}" : "is missing");
        if (!Roles.Contains(role))
            throw new DataLoadException(where, at + ".role", $"must be one of {string.Join(", ", Roles)}; got '{role}'");
        var content = m["content"];
        bool hasToolCalls = m["tool_calls"] is JsonArray { Count: > 0 };
        switch (content)
        {
            case null when !(role == "assistant" && hasToolCalls):
                throw new DataLoadException(where, at + ".content", m.ContainsKey("content") ? "is null (only an assistant turn with tool_calls may have no content)" : "is missing");
            case JsonValue v when !v.TryGetValue<string>(out _):
                throw new DataLoadException(where, at + ".content", $"must be a string or a list of parts, got {DataFiles.Kind(content)}");
            case JsonObject:
                throw new DataLoadException(where, at + ".content", "must be a string or a list of parts, got an object");
        }
        foreach (var field in new[] { "tool_call_id", "name" })
            if (m[field] is { } f && !(f is JsonValue fv && fv.TryGetValue<string>(out _)))
                throw new DataLoadException(where, $"{at}.{field}", $"must be a string, got {DataFiles.Kind(f)}");
        if (m["tool_calls"] is { } calls and not JsonArray)
            throw new DataLoadException(where, at + ".tool_calls", $"must be a list, got {DataFiles.Kind(calls)}");
        return ChatMessage.FromJson(m);
    }

    static ChatMessage ShareGptTurn(JsonObject m, string at, RowLocation where)
    {
        if (m["from"] is not JsonValue fv || !fv.TryGetValue<string>(out var from))
            throw new DataLoadException(where, at + ".from", m.ContainsKey("from") ? $"must be a string, got {DataFiles.Kind(m["from"])}" : "is missing");
        string role = from switch
        {
            "human" or "user" => "user",
            "gpt" or "assistant" or "model" or "chatgpt" or "bing" or "bard" => "assistant",
            "system" => "system",
            "tool" or "observation" or "function_response" => "tool",
            _ => throw new DataLoadException(where, at + ".from", $"must be one of human, gpt, system, tool (or user, assistant); got '{from}'"),
        };
        if (m["value"] is not JsonValue vv || !vv.TryGetValue<string>(out var value))
            throw new DataLoadException(where, at + ".value", m.ContainsKey("value") ? $"must be a string, got {DataFiles.Kind(m["value"])}" : "is missing");
        return new ChatMessage(role, value);
    }
}
