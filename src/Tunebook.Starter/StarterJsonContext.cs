using System.Text.Json.Serialization;
using Tunebook.Tuning.Training;

namespace Tunebook.Starter;

/// <summary>
/// Compile-time JSON metadata for the pretraining log's events, so the starter model builds with
/// System.Text.Json's reflection off (as file-based apps run).
/// </summary>
[JsonSerializable(typeof(TrainingStarted))]
[JsonSerializable(typeof(StepCompleted))]
[JsonSerializable(typeof(Evaluated))]
[JsonSerializable(typeof(TrainingStopped))]
[JsonSerializable(typeof(TrainingWarning))]
internal sealed partial class StarterJsonContext : JsonSerializerContext;
