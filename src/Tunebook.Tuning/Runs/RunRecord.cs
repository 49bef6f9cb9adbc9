using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Runs;

/// <summary>A file a run read, with its SHA-256.</summary>
/// <param name="Path">Relative to the run folder when it lies below a common root with it (so a moved checkout still resolves), else absolute.</param>
public sealed record RecordedFile(string Role, string Path, string Sha256, long Bytes);

/// <summary>The model a run started from: its folder and the digests of its weight, config and tokenizer files.</summary>
public sealed record RecordedModel(string Folder, IReadOnlyList<RecordedFile> Files);

/// <summary>The data a run trained on: the files and fingerprints of the prepared token ids.</summary>
public sealed record RecordedData(IReadOnlyList<RecordedFile> Files, string TrainFingerprint, int TrainRows, string? ValidationFingerprint, int? ValidationRows);

/// <summary>What a run saved at its end: the adapter (PEFT layout) or the full model, with the SHA-256 of each file.</summary>
/// <param name="Kind">"adapter" or "model".</param>
/// <param name="Folder">The folder saved to, relative to the run folder.</param>
public sealed record RecordedOutput(string Kind, string Folder, IReadOnlyList<RecordedFile> Files);

/// <summary>How a run ended (null fields while it runs).</summary>
public sealed record RecordedResult(int Steps, StopReason? StopReason, double? FinalLoss, double? BestLoss, int? BestStep, double? TokensPerSecond);

/// <summary>
/// run.json: everything needed to say what produced a run's numbers and to replay it — the environment, the
/// model and data with their digests, the complete resolved options (data preparation, adapter, trainer,
/// generation), the seeds, the times and the losses. <see cref="Config"/> holds the resolved YAML config that
/// <c>./tunebook replay</c> rebuilds the run from.
/// </summary>
public sealed record RunRecord
{
    public const string FileName = "run.json";
    public const string MetricsFileName = "metrics.jsonl";
    const string FormatName = "tunebook-run";

    public string Format { get; init; } = FormatName;
    public int FormatVersion { get; init; } = 1;
    /// <summary>The run's name (its folder's name).</summary>
    public required string Name { get; init; }
    /// <summary>"config" (./tunebook train), "notebook" (Tune.Train / #!train) or "trainer".</summary>
    public required string StartedBy { get; init; }
    public required RunEnvironment Environment { get; init; }
    public required RecordedModel Model { get; init; }
    public required RecordedData Data { get; init; }
    /// <summary>The resolved options by section: "trainer", "adapter", "data" (a config's data section, or the <see cref="Data.DataRecipe"/> of
    /// a notebook run), "model" (dtype, quantization), "generation" (the settings of samples made from the run's model), each absent when unknown.</summary>
    public required JsonObject Options { get; init; }
    /// <summary>Every seed the run used, by what it seeds ("trainer": data order and dropout; "data": the validation split).</summary>
    public required IReadOnlyDictionary<string, long> Seeds { get; init; }
    /// <summary>The resolved YAML config, when the run was started from one (what replay rebuilds from).</summary>
    public string? Config { get; init; }
    /// <summary>The config file, for resolving the config's relative paths (relative to the run folder when possible).</summary>
    public string? ConfigFile { get; init; }
    public required DateTimeOffset Started { get; init; }
    public DateTimeOffset? Ended { get; init; }
    public RecordedResult? Result { get; init; }
    /// <summary>The adapter or model saved when the run last stopped (null before, or when nothing was saved).</summary>
    public RecordedOutput? Output { get; init; }

    /// <summary>Writes <c>folder/run.json</c> atomically; returns its path.</summary>
    public string Save(string folder) =>
        Tunebook.IO.AtomicFile.WriteAllText(Path.Combine(folder, FileName), JsonSerializer.Serialize(this, TuningJsonContext.SnakeIndented.RunRecord) + "\n");

    /// <summary>JSON settings of run.json: those of the trainer's state and metrics (snake_case, enums as strings), indented.</summary>
    public static JsonSerializerOptions Json => TuningJsonContext.SnakeIndented.Options;

    /// <summary>
    /// Reads <c>folder/run.json</c>. A missing file, malformed JSON or a missing or mistyped field is an
    /// <see cref="InvalidDataException"/> naming the file and the field.
    /// </summary>
    public static RunRecord Load(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var path = Path.Combine(folder, FileName);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: run folder not found");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: no run record (run.json) in this folder", path);
        JsonNode? root;
        try { root = JsonNode.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e); }
        if (root is not JsonObject obj) throw new InvalidDataException($"{path}: expected a JSON object");
        if (obj["format"]?.GetValueKind() != JsonValueKind.String || (string?)obj["format"] != FormatName)
            throw new InvalidDataException($"{path}: field 'format': expected \"{FormatName}\"");
        string[] required = ["name", "started_by", "environment", "model", "model.folder", "model.files", "data", "data.files", "data.train_fingerprint",
            "options", "options.trainer", "seeds", "started", "environment.libtorch_version", "environment.device", "environment.threads"];
        foreach (var field in required)
        {
            JsonNode? node = obj;
            foreach (var part in field.Split('.')) node = (node as JsonObject)?[part];
            if (node is null) throw new InvalidDataException($"{path}: field '{field}' is missing");
        }
        try
        {
            return root.Deserialize(TuningJsonContext.SnakeIndented.RunRecord) ?? throw new InvalidDataException($"{path}: empty record");
        }
        catch (JsonException e)
        {
            var field = string.IsNullOrEmpty(e.Path) ? "?" : e.Path.TrimStart('$', '.');
            throw new InvalidDataException($"{path}: field '{field}': {e.Message}", e);
        }
    }

    /// <summary>The trainer options of the run.</summary>
    public TrainerOptions TrainerOptions => Options["trainer"].Deserialize(TuningJsonContext.Snake.TrainerOptions)!;

    /// <summary>A path recorded relative to <paramref name="runFolder"/> (or absolute) as an absolute path.</summary>
    public static string Resolve(string runFolder, string recorded) => Path.GetFullPath(recorded, Path.GetFullPath(runFolder));

    /// <summary>How <paramref name="path"/> is recorded in <paramref name="runFolder"/>'s record: relative when they share a root.</summary>
    public static string Relative(string runFolder, string path) => Path.GetRelativePath(Path.GetFullPath(runFolder), Path.GetFullPath(path));
}
