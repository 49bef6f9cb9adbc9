using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Tunebook.Tuning.Config;
using Tunebook.Tuning.Runs;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning;

/// <summary>
/// Compile-time JSON metadata for every type this assembly reads or writes. Programs that turn
/// System.Text.Json's reflection off (file-based apps do by default, and trimmed or AOT builds) can
/// then still save checkpoints, run records and metrics. It only supplies metadata: naming, enum and
/// number settings come from the options it is attached to (<see cref="Trainer.JsonOptions"/>).
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
internal sealed partial class TuningJsonContext : JsonSerializerContext;
