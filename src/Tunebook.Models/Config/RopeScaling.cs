using System.Text.Json.Nodes;

namespace Tunebook.Models;

/// <summary>
/// config.json's "rope_scaling": how rotary frequencies are stretched for contexts longer than the
/// model was pretrained on. Supported types: "default", "linear", "dynamic" (NTK-aware) and "llama3".
/// </summary>
public sealed record RopeScaling
{
    /// <summary>The supported "rope_type" values.</summary>
    public static readonly IReadOnlyList<string> SupportedTypes = ["default", "linear", "dynamic", "llama3"];

    /// <summary>"default", "linear", "dynamic" or "llama3".</summary>
    public string Type { get; init; } = "default";

    /// <summary>Context stretch factor (linear, dynamic, llama3).</summary>
    public double Factor { get; init; } = 1.0;

    /// <summary>llama3: wavelengths above original_max / low_freq_factor are divided by Factor.</summary>
    public double LowFreqFactor { get; init; } = 1.0;

    /// <summary>llama3: wavelengths below original_max / high_freq_factor are kept.</summary>
    public double HighFreqFactor { get; init; } = 4.0;

    /// <summary>llama3: the pretraining context length.</summary>
    public long? OriginalMaxPositionEmbeddings { get; init; }

    /// <summary>Parses the JSON object; null or "default" give null (no scaling).</summary>
    public static RopeScaling? Parse(JsonNode? node, string? file)
    {
        if (node is null) return null;
        if (node is not JsonObject obj)
            throw new ModelConfigException(file, "rope_scaling", $"expected an object or null, got {node.ToJsonString()}");
        var type = (obj["rope_type"] ?? obj["type"])?.GetValue<string>() ?? "default";
        if (!SupportedTypes.Contains(type))
            throw new ModelConfigException(file, "rope_scaling.rope_type", $"unsupported rope scaling '{type}'; supported: {string.Join(", ", SupportedTypes)}");
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
        var scaling = new RopeScaling
        {
            Type = type,
            Factor = Num("factor", 1.0, required: true),
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
}
