using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Runs;

/// <summary>What the trainer does not know about a run: where its model and data came from and how they were prepared.</summary>
public sealed record RunInputs
{
    /// <summary>The model folder (a Hugging Face folder); its *.safetensors and *.json files are hashed.</summary>
    public required string ModelFolder { get; init; }
    /// <summary>Data files by role ("train", "validation", "heldout").</summary>
    public IReadOnlyList<(string Role, string Path)> DataFiles { get; init; } = [];
    /// <summary>The prepared training data (fingerprinted).</summary>
    public required TrainingSet Train { get; init; }
    public TrainingSet? Validation { get; init; }
    /// <summary>Resolved option sections besides the trainer's: "adapter", "data", "generation".</summary>
    public IReadOnlyDictionary<string, object?> Options { get; init; } = new Dictionary<string, object?>();
    /// <summary>Seeds besides the trainer's (e.g. "data": the validation split).</summary>
    public IReadOnlyDictionary<string, long> Seeds { get; init; } = new Dictionary<string, long>();
    /// <summary>The resolved YAML config and its file, when the run comes from one (replay rebuilds from it).</summary>
    public string? Config { get; init; }
    public string? ConfigFile { get; init; }
    public string StartedBy { get; init; } = "trainer";
}

/// <summary>
/// Keeps a run folder for a trainer: run.json written when attached (the inputs hashed once, not per step) and
/// rewritten atomically whenever a run call stops (end time, final and best losses), and metrics.jsonl through
/// <see cref="MetricsLogger"/>. The adapter or checkpoint is saved into the same folder by whoever owns the
/// model (<see cref="Config.TrainRun"/>, Tune). Dispose to detach.
/// </summary>
public sealed class RunRecorder : IDisposable
{
    readonly Trainer _trainer;
    readonly MetricsLogger _metrics;
    RunRecord _record;

    /// <summary>The run folder.</summary>
    public string Folder { get; }

    /// <summary>The record as last written.</summary>
    public RunRecord Record => _record;

    /// <summary>
    /// Starts recording <paramref name="trainer"/> into <paramref name="folder"/>. A fresh (not resumed) trainer
    /// starts a fresh metrics.jsonl; a resumed one appends to it.
    /// </summary>
    public RunRecorder(Trainer trainer, string folder, RunInputs inputs)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(inputs);
        _trainer = trainer;
        Folder = Path.GetFullPath(folder);
        Directory.CreateDirectory(Folder);
        _record = Create(trainer, Folder, inputs);
        _record.Save(Folder);
        var metricsPath = Path.Combine(Folder, RunRecord.MetricsFileName);
        if (trainer.GlobalStep == 0) File.Delete(metricsPath);
        _metrics = new MetricsLogger(trainer, metricsPath);
        _trainer.Stopped += OnStopped;
    }

    static RunRecord Create(Trainer trainer, string folder, RunInputs inputs)
    {
        var modelFolder = Path.GetFullPath(inputs.ModelFolder);
        var modelFiles = Directory.EnumerateFiles(modelFolder)
            .Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(f => Digest("model", folder, f))
            .ToList();
        var options = new JsonObject { ["trainer"] = JsonSerializer.SerializeToNode(trainer.Options, TuningJsonContext.Snake.TrainerOptions) };
        foreach (var (section, value) in inputs.Options)
            options[section] = value is null ? null : JsonSerializer.SerializeToNode(value, value.GetType(), TuningJsonContext.Snake);
        var seeds = new Dictionary<string, long> { ["trainer"] = trainer.Options.Seed };
        foreach (var (name, seed) in inputs.Seeds) seeds[name] = seed;
        return new RunRecord
        {
            Name = Path.GetFileName(folder),
            StartedBy = inputs.StartedBy,
            Environment = RunEnvironment.Current(trainer.Model.Device),
            Model = new RecordedModel(RunRecord.Relative(folder, modelFolder), modelFiles),
            Data = new RecordedData(inputs.DataFiles.Select(d => Digest(d.Role, folder, d.Path)).ToList(),
                FileDigest.Fingerprint(inputs.Train), inputs.Train.Count,
                inputs.Validation is null ? null : FileDigest.Fingerprint(inputs.Validation), inputs.Validation?.Count),
            Options = options,
            Seeds = seeds,
            Config = inputs.Config,
            ConfigFile = inputs.ConfigFile is null ? null : RunRecord.Relative(folder, inputs.ConfigFile),
            Started = DateTimeOffset.UtcNow,
        };
    }

    static RecordedFile Digest(string role, string runFolder, string path) =>
        new(role, RunRecord.Relative(runFolder, path), FileDigest.Sha256(path), new FileInfo(path).Length);

    void OnStopped(TrainingStopped stopped)
    {
        var steps = _trainer.Steps.ToList();
        _record = _record with
        {
            Ended = DateTimeOffset.UtcNow,
            Result = new RecordedResult(stopped.Step, stopped.Reason, steps.LastOrDefault()?.Loss, stopped.BestLoss, stopped.BestStep,
                steps.Count == 0 ? null : steps.Average(s => s.TokensPerSecond)),
        };
        _record.Save(Folder);
    }

    public void Dispose()
    {
        _trainer.Stopped -= OnStopped;
        _metrics.Dispose();
    }
}
