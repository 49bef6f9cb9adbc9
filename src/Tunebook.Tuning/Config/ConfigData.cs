using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Text.Templates;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Config;

/// <summary>
/// Turns the data section of a training config into tokenized training and validation sets: JSON-lines
/// or JSON-array files in the chat ({"messages"}), Alpaca ({"instruction", "input", "output"}), completion
/// ({"prompt", "completion"}) or text ({"text"}) layout; completion-only label masking; truncation to
/// max_length; optional packing into max_length rows with per-example segments; a seeded validation split.
/// </summary>
public static class ConfigData
{
    /// <summary>One tokenized example: ids, labels (−100 = no loss) and where it came from.</summary>
    public sealed record Example(long[] InputIds, long[] Labels, string Source);

    /// <summary>The training and validation sets for <paramref name="config"/>.</summary>
    public static (ITrainingData Train, ITrainingData? Validation, int TrainExamples, int ValidationExamples) Load(TrainConfig config, Tokenizer tokenizer, long padTokenId)
    {
        var data = config.Data;
        var examples = Read(config.Resolve(data.File), data, tokenizer);
        List<Example> train, validation;
        if (data.ValidationFile is { } vf)
        {
            train = examples;
            validation = Read(config.Resolve(vf), data, tokenizer);
        }
        else if (data.ValFraction > 0)
        {
            int held = Math.Max(1, (int)Math.Round(examples.Count * data.ValFraction));
            if (held >= examples.Count) throw new TrainConfigException(config.SourceFile, null, "data.val_fraction", $"{data.ValFraction} of {examples.Count} examples leaves nothing to train on");
            var order = DataOrder.ForEpoch(examples.Count, config.Trainer.Seed, -1, shuffle: true);
            validation = order.Take(held).Order().Select(i => examples[i]).ToList();
            train = order.Skip(held).Order().Select(i => examples[i]).ToList();
        }
        else
        {
            train = examples;
            validation = [];
        }
        return (Build(train, data, padTokenId), validation.Count == 0 ? null : Build(validation, data, padTokenId), train.Count, validation.Count);
    }

    static ITrainingData Build(List<Example> examples, DataConfig data, long padTokenId) => data.Packing
        ? new PackedTrainingData(examples.Select(e => (e.InputIds, e.Labels)).ToList(), data.MaxLength, padTokenId)
        : new InMemoryTrainingData(examples.Select(e => (e.InputIds, e.Labels)).ToList(), padTokenId);

    /// <summary>Reads and tokenizes one file; errors name the file and line (or array element).</summary>
    public static List<Example> Read(string path, DataConfig data, Tokenizer tokenizer)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: data file not found", path);
        var records = new List<(JsonObject Record, string Where)>();
        var text = File.ReadAllText(path);
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            JsonArray array;
            try { array = JsonNode.Parse(text) as JsonArray ?? throw new InvalidDataException($"{path}: expected a JSON array of examples"); }
            catch (JsonException e) { throw new InvalidDataException($"{path}: invalid JSON: {e.Message}", e); }
            for (int i = 0; i < array.Count; i++)
                records.Add((array[i] as JsonObject ?? throw new InvalidDataException($"{path}: element {i}: expected an object"), $"{path}: element {i}"));
        }
        else if (path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            var lines = text.Split('\n');
            for (int i = 0; i < lines.Length; i++)
            {
                var line = lines[i].Trim();
                if (line.Length == 0) continue;
                try { records.Add((JsonNode.Parse(line) as JsonObject ?? throw new InvalidDataException($"{path}:{i + 1}: expected a JSON object"), $"{path}:{i + 1}")); }
                catch (JsonException e) { throw new InvalidDataException($"{path}:{i + 1}: invalid JSON: {e.Message}", e); }
            }
        }
        else
        {
            throw new InvalidDataException($"{path}: expected a .jsonl or .json file of examples");
        }
        if (records.Count == 0) throw new InvalidDataException($"{path}: no examples");

        var format = data.Format == "auto" ? Detect(records[0].Record, records[0].Where) : data.Format;
        var result = new List<Example>(records.Count);
        foreach (var (record, where) in records)
        {
            var (prompt, completion) = Split(record, format, where, tokenizer);
            result.Add(Tokenize(prompt, completion, data, tokenizer, where));
        }
        return result;
    }

    static string Detect(JsonObject first, string where) =>
        first.ContainsKey("messages") ? "chat"
        : first.ContainsKey("instruction") ? "alpaca"
        : first.ContainsKey("prompt") ? "completion"
        : first.ContainsKey("text") ? "text"
        : throw new InvalidDataException($"{where}: cannot tell the format from the keys ({string.Join(", ", first.Select(kv => kv.Key))}); expected messages, instruction/output, prompt/completion or text");

    static string Field(JsonObject record, string name, string where, bool optional = false)
    {
        var node = record[name];
        if (node is null) return optional ? "" : throw new InvalidDataException($"{where}: missing field '{name}'");
        return node is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw new InvalidDataException($"{where}: field '{name}' must be a string");
    }

    /// <summary>The text the model sees before the answer, and the answer (the part that gets a loss with completion_only).</summary>
    static (string Prompt, string Completion) Split(JsonObject record, string format, string where, Tokenizer tokenizer)
    {
        switch (format)
        {
            case "completion":
                return (Field(record, "prompt", where), Field(record, "completion", where));
            case "alpaca":
                var input = Field(record, "input", where, optional: true);
                var instruction = Field(record, "instruction", where);
                return ((input.Length == 0 ? instruction : instruction + "\n\n" + input) + "\n", Field(record, "output", where));
            case "text":
                return ("", Field(record, "text", where));
            case "chat":
                var source = tokenizer.Config.ChatTemplate ?? throw new InvalidDataException($"{where}: chat data needs a tokenizer with a chat template (tokenizer_config.json chat_template)");
                var tokens = new Dictionary<string, string>();
                if (tokenizer.Config.BosToken is { } bos) tokens["bos_token"] = bos;
                if (tokenizer.Config.EosToken is { } eosToken) tokens["eos_token"] = eosToken;
                var template = ChatTemplate.Parse(source).WithSpecialTokens(tokens);
                if (record["messages"] is not JsonArray messages || messages.Count == 0) throw new InvalidDataException($"{where}: 'messages' must be a non-empty list");
                for (int i = 0; i < messages.Count; i++)
                    if (messages[i] is not JsonObject m || m["role"] is null || m["content"] is null)
                        throw new InvalidDataException($"{where}: messages[{i}] needs 'role' and 'content'");
                if (messages[^1]!["role"]!.GetValue<string>() != "assistant") throw new InvalidDataException($"{where}: the last message must be the assistant's answer");
                // The loss goes on the last assistant turn: the prompt is everything before it plus the generation prompt.
                var history = new JsonArray(messages.Take(messages.Count - 1).Select(m => m!.DeepClone()).ToArray());
                var prompt = template.Render(history, addGenerationPrompt: true);
                var full = template.Render(messages, addGenerationPrompt: false);
                if (!full.StartsWith(prompt, StringComparison.Ordinal))
                    throw new InvalidDataException($"{where}: the chat template's rendering of the conversation does not start with the rendered prompt; cannot separate the answer");
                return (prompt, full[prompt.Length..]);
            default:
                throw new InvalidDataException($"{where}: unknown format '{format}'");
        }
    }

    static Example Tokenize(string prompt, string completion, DataConfig data, Tokenizer tokenizer, string where)
    {
        var promptIds = prompt.Length == 0 ? [] : tokenizer.EncodeToIds(prompt, addSpecialTokens: true);
        var answerIds = tokenizer.EncodeToIds(completion, addSpecialTokens: false).ToList();
        if (tokenizer.EosTokenId is { } eos && (answerIds.Count == 0 || answerIds[^1] != eos)) answerIds.Add(eos);
        var ids = promptIds.Concat(answerIds).Select(i => (long)i).ToArray();
        var labels = ids.Select((id, k) => data.CompletionOnly && k < promptIds.Length ? -100L : id).ToArray();
        if (ids.Length > data.MaxLength)
        {
            ids = ids[..data.MaxLength];
            labels = labels[..data.MaxLength];
        }
        if (ids.Length == 0) throw new InvalidDataException($"{where}: the example has no tokens");
        return new Example(ids, labels, where);
    }
}

/// <summary>
/// Examples packed greedily, in order, into rows of at most <c>maxLength</c> tokens; each example keeps
/// its own segment id so attention stays within it and positions restart (block-diagonal attention).
/// A "row" is the unit the trainer shuffles and batches.
/// </summary>
public sealed class PackedTrainingData : ITrainingData
{
    readonly List<List<(long[] Ids, long[] Labels)>> rows = new();
    readonly int maxLength;
    readonly long padTokenId;

    public PackedTrainingData(IReadOnlyList<(long[] InputIds, long[] Labels)> examples, int maxLength, long padTokenId = 0)
    {
        this.maxLength = maxLength;
        this.padTokenId = padTokenId;
        var current = new List<(long[], long[])>();
        int used = 0;
        foreach (var (ids, labels) in examples)
        {
            if (used + ids.Length > maxLength && current.Count > 0)
            {
                rows.Add(current);
                current = new();
                used = 0;
            }
            current.Add((ids, labels));
            used += ids.Length;
        }
        if (current.Count > 0) rows.Add(current);
    }

    public int Count => rows.Count;

    public TrainingBatch Collate(IReadOnlyList<int> indices)
    {
        int length = indices.Max(i => rows[i].Sum(e => e.Ids.Length));
        int b = indices.Count;
        var ids = new long[b * length];
        var labels = new long[b * length];
        var mask = new long[b * length];
        var segments = new long[b * length];
        for (int r = 0; r < b; r++)
        {
            int t = 0, segment = 0;
            foreach (var (x, y) in rows[indices[r]])
            {
                segment++;
                for (int k = 0; k < x.Length; k++, t++)
                {
                    int at = r * length + t;
                    ids[at] = x[k];
                    // The first token of a packed example is not predicted from the previous example.
                    labels[at] = k == 0 ? -100 : y[k];
                    mask[at] = 1;
                    segments[at] = segment;
                }
            }
            for (; t < length; t++)
            {
                int at = r * length + t;
                ids[at] = padTokenId;
                labels[at] = -100;
            }
        }
        using var scope = torch.NewDisposeScope();
        return new TrainingBatch(torch.tensor(ids, [b, length]), torch.tensor(labels, [b, length]), torch.tensor(mask, [b, length]),
            torch.tensor(segments, [b, length]), exampleIndices: indices.ToArray());
    }
}
