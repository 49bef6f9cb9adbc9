using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Runs;

/// <summary>What the trainer does not know about a run: where its model and data came from and how they were prepared.</summary>
public sealed partial record RunInputs
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
    /// <summary>How the data was prepared from its files (written as options.data, its files hashed when they were read); what replay rebuilds a notebook run's data from.</summary>
    public DataRecipe? Recipe { get; init; }
    /// <summary>Why the data has no recipe (written into options.data, and the reason replay gives for refusing).</summary>
    public string? NoRecipeReason { get; init; }
    /// <summary>Save the adapter (or the full model) into the run folder whenever a run call stops, recorded as <see cref="RunRecord.Output"/>.</summary>
    public bool SaveOutput { get; init; }
}

/// <summary>
/// Keeps a run folder for a trainer: run.json written when attached (the inputs hashed once, not per step) and
/// rewritten atomically whenever a run call stops (end time, final and best losses, the saved adapter), and metrics.jsonl
/// through <see cref="MetricsLogger"/>. With <see cref="RunInputs.SaveOutput"/> the adapter (or model) is saved into the
/// folder whenever a run call stops; otherwise its owner saves it and calls <see cref="RecordOutput"/> (<see cref="Config.TrainRun"/>).
/// Dispose to detach.
/// </summary>
public sealed class RunRecorder : IDisposable
{
    readonly Trainer _trainer;
    readonly MetricsLogger _metrics;
    readonly bool _saveOutput;
    RunRecord _record;

    // The recorder of each model's latest run, so samples generated from the model can be recorded (RecordGeneration).
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Models.CausalLM, RunRecorder> Active = new();

    /// <summary>The recorder of <paramref name="model"/>'s latest recorded run (not yet disposed), or null.</summary>
    public static RunRecorder? Of(Models.CausalLM model) => Active.TryGetValue(model, out var recorder) ? recorder : null;

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
        _saveOutput = inputs.SaveOutput;
        _trainer.Stopped += OnStopped;
        Active.AddOrUpdate(trainer.Model, this);
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
            options[section] = value switch
            {
                null => null,
                JsonNode node => node.DeepClone(),
                _ => JsonSerializer.SerializeToNode(value, value.GetType(), TuningJsonContext.Snake),
            };
        var dataFiles = inputs.DataFiles.Select(d => Digest(d.Role, folder, d.Path)).ToList();
        if (inputs.Recipe is { } recipe)
        {
            // The digests taken when the data was loaded: what was trained on, even if a file changed since.
            options["data"] = recipe.MapPaths(p => RunRecord.Relative(folder, p)).ToJson();
            dataFiles.AddRange(recipe.Files.Select(f => new RecordedFile(f.Role, RunRecord.Relative(folder, f.Path), f.Sha256, f.Bytes)));
        }
        else if (inputs.NoRecipeReason is { } reason && !options.ContainsKey("data"))
            options["data"] = new JsonObject { ["recipe"] = null, ["no_recipe"] = reason };
        var seeds = new Dictionary<string, long> { ["trainer"] = trainer.Options.Seed };
        foreach (var (name, seed) in inputs.Seeds) seeds[name] = seed;
        return new RunRecord
        {
            Name = Path.GetFileName(folder),
            StartedBy = inputs.StartedBy,
            Environment = RunEnvironment.Current(trainer.Model.Device),
            Model = new RecordedModel(RunRecord.Relative(folder, modelFolder), modelFiles),
            Data = new RecordedData(dataFiles,
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
        if (_saveOutput) SaveOutput();
        var steps = _trainer.Steps.ToList();
        _record = _record with
        {
            Ended = DateTimeOffset.UtcNow,
            Result = new RecordedResult(stopped.Step, stopped.Reason, steps.LastOrDefault()?.Loss, stopped.BestLoss, stopped.BestStep,
                steps.Count == 0 ? null : steps.Average(s => s.TokensPerSecond)),
        };
        _record.Save(Folder);
    }

    /// <summary>The folder inside the run folder that <see cref="RunInputs.SaveOutput"/> saves the adapter to.</summary>
    public const string AdapterFolder = "adapter";
    /// <summary>The folder inside the run folder that <see cref="RunInputs.SaveOutput"/> saves a fully trained model to.</summary>
    public const string ModelFolder = "model";

    // The adapter in PEFT's layout when the model has one (small: the run's result), else the whole model (what a full fine-tune produced).
    void SaveOutput()
    {
        var modelFolder = RunRecord.Resolve(Folder, _record.Model.Folder);
        if (Lora.LoraModel.Of(_trainer.Model) is { } lora)
        {
            var folder = Path.Combine(Folder, AdapterFolder);
            lora.SaveAdapter(folder, modelFolder);
            RecordOutput("adapter", folder);
        }
        else
        {
            var folder = Path.Combine(Folder, ModelFolder);
            _trainer.Model.SavePretrained(folder);
            RecordOutput("model", folder);
        }
    }

    /// <summary>Records the adapter or model saved in <paramref name="folder"/> (every file in it, with its SHA-256) as the run's output and rewrites run.json.</summary>
    public void RecordOutput(string kind, string folder)
    {
        ArgumentNullException.ThrowIfNull(kind);
        ArgumentNullException.ThrowIfNull(folder);
        var files = Directory.EnumerateFiles(folder).Where(f => f.EndsWith(".safetensors", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Where(f => Path.GetFileName(f) != RunRecord.FileName)
            .Order(StringComparer.Ordinal).Select(f => Digest(kind, Folder, f)).ToList();
        _record = _record with { Output = new RecordedOutput(kind, RunRecord.Relative(Folder, folder), files) };
        _record.Save(Folder);
    }

    /// <summary>
    /// Records the settings of a generation made from the run's model (a sample shown after or between steps) in run.json's
    /// options.generation, once per distinct setting.
    /// </summary>
    public void RecordGeneration(Models.GenerationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var node = RunSettingsJson.ToNode(RecordedGeneration.Of(options));
        var list = _record.Options["generation"] as JsonArray ?? [];
        if (list.Any(n => JsonNode.DeepEquals(n, node))) return;
        var updated = _record.Options.DeepClone().AsObject();
        updated["generation"] = new JsonArray([.. list.Select(n => n!.DeepClone()), node]);
        _record = _record with { Options = updated };
        _record.Save(Folder);
    }

    public void Dispose()
    {
        if (Active.TryGetValue(_trainer.Model, out var current) && ReferenceEquals(current, this)) Active.Remove(_trainer.Model);
        _trainer.Stopped -= OnStopped;
        _metrics.Dispose();
    }
}
