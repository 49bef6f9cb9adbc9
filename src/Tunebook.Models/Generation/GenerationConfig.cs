using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Models;

/// <summary>
/// A model's generation defaults: generation_config.json (eos ids, sampling settings the authors
/// recommend) or, without it, the token ids of config.json. Unknown fields are kept for saving.
/// </summary>
public sealed class GenerationConfig
{
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? BosTokenId { get; init; }
    public int? PadTokenId { get; init; }
    public bool? DoSample { get; init; }
    public double? Temperature { get; init; }
    public int? TopK { get; init; }
    public double? TopP { get; init; }
    public double? MinP { get; init; }
    public double? RepetitionPenalty { get; init; }
    public int? MaxNewTokens { get; init; }
    /// <summary>The JSON as read (null when derived from config.json).</summary>
    public JsonObject? Raw { get; init; }

    /// <summary>Defaults from config.json's token ids.</summary>
    public static GenerationConfig FromModelConfig(ModelConfig config) => new()
    {
        EosTokenIds = config.EosTokenIds,
        BosTokenId = config.BosTokenId,
        PadTokenId = config.PadTokenId,
    };

    /// <summary>Reads generation_config.json; fields it lacks fall back to <paramref name="fallback"/>.</summary>
    public static GenerationConfig Load(string path, ModelConfig fallback)
    {
        JsonObject obj;
        try { obj = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new ModelConfigException(path, null, "expected a JSON object"); }
        catch (JsonException e) { throw new ModelConfigException(path, null, $"not valid JSON: {e.Message}", e); }
        T? Get<T>(string key) where T : struct
        {
            var node = obj[key];
            if (node is null) return null;
            try { return node.GetValue<T>(); }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            { throw new ModelConfigException(path, key, $"expected {(typeof(T) == typeof(bool) ? "true or false" : "a number")}, got {node.ToJsonString()}"); }
        }
        IReadOnlyList<int> eos = fallback.EosTokenIds;
        if (obj["eos_token_id"] is JsonArray arr)
            eos = arr.Select(x => x?.GetValueKind() == JsonValueKind.Number ? x.GetValue<int>() : throw new ModelConfigException(path, "eos_token_id", $"expected integers, got {x?.ToJsonString() ?? "null"}")).ToArray();
        else if (Get<int>("eos_token_id") is { } single) eos = [single];
        return new GenerationConfig
        {
            EosTokenIds = eos,
            BosTokenId = Get<int>("bos_token_id") ?? fallback.BosTokenId,
            PadTokenId = Get<int>("pad_token_id") ?? fallback.PadTokenId,
            DoSample = Get<bool>("do_sample"),
            Temperature = Get<double>("temperature"),
            TopK = Get<int>("top_k"),
            TopP = Get<double>("top_p"),
            MinP = Get<double>("min_p"),
            RepetitionPenalty = Get<double>("repetition_penalty"),
            MaxNewTokens = Get<int>("max_new_tokens"),
            Raw = obj,
        };
    }

    /// <summary>The JSON to save: the original fields, or the token ids when there was no file.</summary>
    public JsonObject ToJsonObject()
    {
        if (Raw is not null) return (JsonObject)Raw.DeepClone();
        var obj = new JsonObject();
        if (BosTokenId is { } b) obj["bos_token_id"] = b;
        if (EosTokenIds.Count == 1) obj["eos_token_id"] = EosTokenIds[0];
        else if (EosTokenIds.Count > 1) obj["eos_token_id"] = new JsonArray(EosTokenIds.Select(i => (JsonNode)i).ToArray());
        if (PadTokenId is { } p) obj["pad_token_id"] = p;
        return obj;
    }
}
