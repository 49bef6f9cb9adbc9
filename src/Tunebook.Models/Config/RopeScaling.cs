using System.Text.Json.Nodes;

namespace Tunebook.Models;

/// <summary>
/// config.json's "rope_scaling": how rotary frequencies are stretched for contexts longer than the
/// model was pretrained on. Supported types: "default", "linear", "dynamic" (NTK-aware), "llama3" and
/// "longrope" (Phi-3/Phi-4: per-frequency short and long factors).
/// </summary>
public sealed record RopeScaling
{
    /// <summary>The supported "rope_type" values.</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["default", "linear", "dynamic", "llama3", "longrope"];

    /// <summary>"default", "linear", "dynamic", "llama3" or "longrope".</summary>
    public string Type { get; init; } = "default";

    /// <summary>Context stretch factor (linear, dynamic, llama3).</summary>
    public double Factor { get; init; } = 1.0;

    /// <summary>llama3: wavelengths above original_max / low_freq_factor are divided by Factor.</summary>
    public double LowFreqFactor { get; init; } = 1.0;

    /// <summary>llama3: wavelengths below original_max / high_freq_factor are kept.</summary>
    public double HighFreqFactor { get; init; } = 4.0;

    /// <summary>llama3: the pretraining context length.</summary>
    public long? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>longrope: divisors of each rotary frequency while the sequence fits the pretraining context.</summary>
    public IReadOnlyList<double>? ShortFactor { get; init; }

    /// <summary>longrope: divisors of each rotary frequency once the sequence is longer than the pretraining context.</summary>
    public IReadOnlyList<double>? LongFactor { get; init; }

    /// <summary>longrope: multiplier of cos and sin ("attention_factor"); null = derived from the context stretch.</summary>
    public double? AttentionFactor { get; init; }

    /// <summary>Parses the JSON object; null or "default" give null (no scaling).</summary>
    public static RopeScaling? Parse(JsonNode? node, string? file)
    {
        if (node is null) return null;
        if (node is not JsonObject obj)
            throw new ModelConfigException(file, "rope_scaling", $"expected an object or null, got {node.ToJsonString()}");
        var typeField = obj["rope_type"] is not null ? "rope_scaling.rope_type" : "rope_scaling.type";
        var typeNode = obj["rope_type"] ?? obj["type"];
        string type;
        try { type = typeNode?.GetValue<string>() ?? "default"; }
        catch (InvalidOperationException) { throw new ModelConfigException(file, typeField, $"expected a string, got {typeNode!.ToJsonString()}"); }
        if (!SupportedTypes.Contains(type))
            throw new ModelConfigException(file, typeField, $"unsupported rope scaling '{type}'; supported: {string.Join(", ", SupportedTypes)}");
        if (type == "default") return null;
        double Num(string key, double fallback, bool required = false)
        {
            var v = obj[key];
            if (v is null)
                return required ? throw new ModelConfigException(file, "rope_scaling." + key, $"required for rope type '{type}'") : fallback;
            try { return v.GetValue<double>(); }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            { throw new ModelConfigException(file, "rope_scaling." + key, $"expected a number, got {v.ToJsonString()}"); }
        }
        IReadOnlyList<double>? Factors(string key)
        {
            if (type != "longrope") return null;
            if (obj[key] is not JsonArray list)
                throw new ModelConfigException(file, "rope_scaling." + key, obj[key] is null ? "required for rope type 'longrope'" : $"expected a list of numbers, got {obj[key]!.ToJsonString()}");
            try { return list.Select(x => x!.GetValue<double>()).ToArray(); }
            catch (Exception e) when (e is FormatException or InvalidOperationException or NullReferenceException)
            { throw new ModelConfigException(file, "rope_scaling." + key, $"expected a list of numbers, got {list.ToJsonString()}"); }
        }
        var scaling = new RopeScaling
        {
            Type = type,
            // longrope derives its stretch from max_position_embeddings / original_max_position_embeddings.
            Factor = Num("factor", 1.0, required: type != "longrope"),
            ShortFactor = Factors("short_factor"),
            LongFactor = Factors("long_factor"),
            AttentionFactor = obj["attention_factor"] is null ? null : Num("attention_factor", 1.0),
            LowFreqFactor = Num("low_freq_factor", 1.0, required: type == "llama3"),
            HighFreqFactor = Num("high_freq_factor", 4.0, required: type == "llama3"),
            OriginalMaxPositionEmbeddings = obj["original_max_position_embeddings"] is { } o ? (long)Num("original_max_position_embeddings", 0) : null,
        };
        if (scaling.Factor <= 0) throw new ModelConfigException(file, "rope_scaling.factor", $"must be positive, got {scaling.Factor}");
        if (type == "llama3")
        {
            if (scaling.OriginalMaxPositionEmbeddings is null)
                throw new ModelConfigException(file, "rope_scaling.original_max_position_embeddings", "required for rope type 'llama3'");
            if (scaling.HighFreqFactor <= scaling.LowFreqFactor)
                throw new ModelConfigException(file, "rope_scaling.high_freq_factor", $"must exceed low_freq_factor ({scaling.LowFreqFactor}), got {scaling.HighFreqFactor}");
        }
        return scaling;
    }

    /// <summary>Checks what depends on the rest of the config (longrope: one factor per rotated channel pair).</summary>
    internal void Validate(ModelConfig config, string? file)
    {
        if (Type != "longrope") return;
        long pairs = config.RotaryDim / 2;
        if (ShortFactor!.Count != pairs)
            throw new ModelConfigException(file, "rope_scaling.short_factor", $"has {ShortFactor.Count} entries; longrope needs one per rotated channel pair, {pairs} (head_dim {config.HeadDim} × partial_rotary_factor {config.PartialRotaryFactor} / 2)");
        if (LongFactor!.Count != pairs)
            throw new ModelConfigException(file, "rope_scaling.long_factor", $"has {LongFactor.Count} entries; longrope needs one per rotated channel pair, {pairs} (head_dim {config.HeadDim} × partial_rotary_factor {config.PartialRotaryFactor} / 2)");
    }
}
