using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tunebook.Tuning.Config;
using Tunebook.Tuning.Runs;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning;

/// <summary>
/// Compile-time JSON metadata for every type this assembly reads or writes, so programs that turn
/// System.Text.Json's reflection off (file-based apps do by default, and trimmed or AOT builds) can
/// still save checkpoints, run records and metrics. <see cref="Snake"/> and <see cref="SnakeIndented"/>
/// carry the settings (<see cref="Trainer.JsonOptions"/> and <see cref="RunRecord.Json"/> are their options).
/// </summary>
[JsonSerializable(typeof(TrainingEvent))]
[JsonSerializable(typeof(List<TrainingEvent>))]
[JsonSerializable(typeof(TrainerOptions))]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(AdapterConfig))]
[JsonSerializable(typeof(DataConfig))]
[JsonSerializable(typeof(JsonObject))]
[JsonSerializable(typeof(Dictionary<string, double>))]
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(int[]))]
[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(double))]
[JsonSerializable(typeof(double?))]
internal sealed partial class TuningJsonContext : JsonSerializerContext
{
    /// <summary>Trainer state and metrics: snake_case names, enums as snake_case strings, NaN/∞ allowed.</summary>
    public static TuningJsonContext Snake { get; } = new(SnakeOptions(indented: false));

    /// <summary>run.json: the same, indented.</summary>
    public static TuningJsonContext SnakeIndented { get; } = new(SnakeOptions(indented: true));

    static JsonSerializerOptions SnakeOptions(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        WriteIndented = indented,
    };
}
