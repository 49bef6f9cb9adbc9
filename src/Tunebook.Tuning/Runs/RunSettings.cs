using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;

namespace Tunebook.Tuning.Runs;

/// <summary>
/// run.json's <c>options.adapter</c> for a run built from objects (notebook, <c>new Trainer</c>): the complete LoRA config,
/// seed included, so a replay applies the same adapters with the same initial weights.
/// </summary>
/// <param name="Mode">"lora", "qlora" (LoRA on NF4 weights) or "full".</param>
/// <param name="Targets">Module names as given ("all-linear" for every linear layer); null with <paramref name="TargetPattern"/>.</param>
/// <param name="Seed">The adapters' initialisation seed (<see cref="LoraConfig.Seed"/>); null: drawn from the global generator, so not replayable bit for bit.</param>
/// <param name="Layers">Number of adapted layers.</param>
public sealed record RecordedAdapter(string Mode, int? R = null, double? Alpha = null, double? Dropout = null, bool? Rslora = null,
    IReadOnlyList<string>? Targets = null, string? TargetPattern = null, IReadOnlyList<string>? ModulesToSave = null, long? Seed = null, int? Layers = null)
{
    /// <summary>The adapters on <paramref name="model"/> (<see cref="LoraModel.Of"/>), or "full" when it has none.</summary>
    public static RecordedAdapter Of(CausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (LoraModel.Of(model) is not { } lora) return new RecordedAdapter("full");
        var c = lora.Config;
        IReadOnlyList<string>? targets = c.Targets.AllLinear ? ["all-linear"] : c.Targets.ModuleNames;
        return new RecordedAdapter(lora.IsQuantized ? "qlora" : "lora", c.R, c.Alpha, c.Dropout, c.UseRsLora, targets, c.Targets.Pattern,
            c.ModulesToSave, c.Seed, lora.Layers.Count);
    }

    /// <summary>The LoRA config this record describes (null for "full").</summary>
    public LoraConfig? ToLoraConfig() => Mode == "full" ? null : new LoraConfig
    {
        R = R ?? 8, Alpha = Alpha ?? 16, Dropout = Dropout ?? 0, UseRsLora = Rslora ?? false,
        Targets = TargetPattern is { } p ? LoraTargets.Regex(p) : LoraTargets.Names([.. Targets ?? ["q_proj", "v_proj"]]),
        ModulesToSave = ModulesToSave, Seed = Seed,
    };
}

/// <summary>run.json's <c>options.model</c> for a run built from objects: how the weights were loaded (dtype, NF4), so a replay loads them the same way.</summary>
/// <param name="Dtype">The dtype of the model's first floating-point weight ("float32", "bfloat16"...).</param>
/// <param name="Quantization">"nf4" when linear layers are NF4-quantized, else null.</param>
public sealed record RecordedModelSettings(string Dtype, string? Quantization)
{
    public static RecordedModelSettings Of(CausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var dtype = model.parameters().Select(p => p.dtype).FirstOrDefault(t => t.IsFloatingPoint());
        bool nf4 = model.named_modules().Any(m => m.module is Nf4Linear);
        return new RecordedModelSettings(Tunebook.Torch.ScalarTypes.Name(dtype), nf4 ? "nf4" : null);
    }
}

/// <summary>The settings of a generation made from a run's model (samples after or between steps): run.json's <c>options.generation</c>.</summary>
public sealed record RecordedGeneration(int? MaxNewTokens, bool? DoSample, double? Temperature, int? TopK, double? TopP, double? MinP,
    double? RepetitionPenalty, IReadOnlyList<string>? StopStrings, long? Seed)
{
    public static RecordedGeneration Of(GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new RecordedGeneration(options.MaxNewTokens, options.DoSample, options.Temperature, options.TopK, options.TopP, options.MinP,
            options.RepetitionPenalty, options.StopStrings.Count == 0 ? null : options.StopStrings, options.Seed);
    }
}

/// <summary>JSON (snake_case, nulls left out) of the settings records above.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(RecordedAdapter))]
[JsonSerializable(typeof(RecordedModelSettings))]
[JsonSerializable(typeof(RecordedGeneration))]
public sealed partial class RunSettingsJson : JsonSerializerContext
{
    public static JsonNode ToNode(RecordedAdapter value) => JsonSerializer.SerializeToNode(value, Default.RecordedAdapter)!;
    public static JsonNode ToNode(RecordedModelSettings value) => JsonSerializer.SerializeToNode(value, Default.RecordedModelSettings)!;
    public static JsonNode ToNode(RecordedGeneration value) => JsonSerializer.SerializeToNode(value, Default.RecordedGeneration)!;
}
