using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Config;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Runs;

/// <summary>A replay was refused because the model or data are not those of the record (the message names each file and both digests).</summary>
public sealed class RunInputsChangedException(string message) : InvalidOperationException(message);

/// <summary>One logged loss of the record beside the replay's.</summary>
/// <param name="Kind">"train" (a step's loss) or "validation" (an evaluation's).</param>
public sealed record LossPair(string Kind, int Step, double Recorded, double Replayed)
{
    public bool BitIdentical => BitConverter.DoubleToInt64Bits(Recorded) == BitConverter.DoubleToInt64Bits(Replayed);
    public double Difference => Replayed - Recorded;
}

/// <summary>What a replay found: changed inputs, environment differences, and every logged loss compared.</summary>
public sealed record ReplayReport(string RunFolder, string ReplayFolder, IReadOnlyList<string> ChangedInputs, IReadOnlyList<string> EnvironmentDifferences,
    bool ExactnessExpected, IReadOnlyList<LossPair> Losses, bool FingerprintsMatch)
{
    /// <summary>Every compared loss is the same double, bit for bit.</summary>
    public bool BitIdentical => Losses.Count > 0 && Losses.All(l => l.BitIdentical);

    /// <summary>The first loss (in step order, train before validation) that differs, or null.</summary>
    public LossPair? FirstDifference => Losses.FirstOrDefault(l => !l.BitIdentical);

    public override string ToString()
    {
        // What RunEnvironment.ReplaysExactly compares, said once for both outcomes.
        const string ExactnessCondition = "on the CPU with the same libtorch, thread count, BLAS kernels, product library and fused kernels";
        var sb = new StringBuilder();
        int train = Losses.Count(l => l.Kind == "train"), validation = Losses.Count - train;
        sb.AppendLine($"replay of {RunFolder} → {ReplayFolder}");
        sb.AppendLine(ChangedInputs.Count == 0 ? "inputs: model and data files unchanged (SHA-256)" : "inputs CHANGED:\n  " + string.Join("\n  ", ChangedInputs));
        if (!FingerprintsMatch) sb.AppendLine("prepared token ids: the fingerprint differs from the record (data preparation or tokenizer changed)");
        sb.AppendLine(EnvironmentDifferences.Count == 0 ? "environment: same as recorded" : "environment differs: " + string.Join("; ", EnvironmentDifferences));
        if (Losses.Count == 0) sb.AppendLine("losses: nothing to compare (no step was logged)");
        else if (FirstDifference is { } d)
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"losses: first difference at step {d.Step} ({d.Kind} loss): recorded {d.Recorded:R}, replayed {d.Replayed:R} (Δ {d.Difference:0.###e+00}); {Losses.Count(l => !l.BitIdentical)} of {Losses.Count} losses differ")
                + (ExactnessExpected ? $" — unexpected: {ExactnessCondition}" : ""));
        else sb.AppendLine($"losses: bit-identical ({train} train losses, {validation} validation losses)"
                           + (ExactnessExpected ? $" — as expected {ExactnessCondition}" : ""));
        return sb.ToString().TrimEnd();
    }
}

/// <summary>
/// Replays a recorded run (<c>./tunebook replay RUN_DIR</c>, <c>Tune.Replay</c>): checks the model and data digests
/// first, rebuilds the run — from the record's resolved config (<c>./tunebook train</c>), or from its model, adapter and
/// trainer settings and its data recipe (notebook and <c>new Trainer</c> runs) — trains into RUN_DIR/replay and compares
/// every logged loss.
/// </summary>
public static class RunReplay
{
    /// <summary>The folder a replay writes to, inside the run folder.</summary>
    public const string ReplayFolderName = "replay";

    /// <summary>
    /// Replays <paramref name="runFolder"/>: the first <paramref name="steps"/> steps (default: as many as recorded). A changed
    /// model or data file throws <see cref="RunInputsChangedException"/> unless <paramref name="allowChanged"/>, when the report
    /// lists the changes instead.
    /// </summary>
    public static ReplayReport Replay(string runFolder, int? steps = null, bool allowChanged = false, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runFolder);
        if (steps is < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "--steps: expected at least 1");
        var record = RunRecord.Load(runFolder);
        var recordPath = Path.Combine(runFolder, RunRecord.FileName);
        // A notebook run is rebuilt from its objects' settings and its data recipe; one without a recipe cannot be.
        var recipe = record.Config is null ? Recipe(runFolder, record, recordPath) : null;

        var changed = ChangedInputs(runFolder, record);
        if (changed.Count > 0 && !allowChanged)
            throw new RunInputsChangedException($"{runFolder}: the inputs differ from the record (pass --allow-changed to replay anyway):\n  " + string.Join("\n  ", changed));

        var output = Path.Combine(Path.GetFullPath(runFolder), ReplayFolderName);
        var recorded = LoggedLosses(Path.Combine(runFolder, RunRecord.MetricsFileName));
        int recordedSteps = recorded.Where(l => l.Kind == "train").Select(l => l.Step).DefaultIfEmpty(0).Max();
        int stop = Math.Min(steps ?? recordedSteps, Math.Max(recordedSteps, 1));
        if (Directory.Exists(output)) Directory.Delete(output, recursive: true);
        if (recipe is null) RunConfig(runFolder, record, recordPath, output, stop, log ?? (_ => { }), cancellationToken);
        else RunObjects(runFolder, record, recordPath, recipe, output, stop, cancellationToken);

        var replay = RunRecord.Load(output);
        var replayed = LoggedLosses(Path.Combine(output, RunRecord.MetricsFileName)).ToDictionary(l => (l.Kind, l.Step), l => l.Loss);
        var pairs = recorded.Where(l => l.Step <= stop && replayed.ContainsKey((l.Kind, l.Step)))
            .Select(l => new LossPair(l.Kind, l.Step, l.Loss, replayed[(l.Kind, l.Step)])).ToList();
        bool fingerprints = replay.Data.TrainFingerprint == record.Data.TrainFingerprint && replay.Data.ValidationFingerprint == record.Data.ValidationFingerprint;
        return new ReplayReport(runFolder, output, changed, record.Environment.Differences(replay.Environment),
            record.Environment.ReplaysExactly(replay.Environment), pairs, fingerprints);
    }

    /// <summary>Retrains a run started from a config, from the record's resolved config with the recorded files.</summary>
    static void RunConfig(string runFolder, RunRecord record, string recordPath, string output, int stop, Action<string> log, CancellationToken cancellationToken)
    {
        var configFile = record.ConfigFile is null ? null : RunRecord.Resolve(runFolder, record.ConfigFile);
        TrainConfig config;
        try { config = TrainConfig.Parse(record.Config!, configFile); }
        catch (TrainConfigException e) { throw new InvalidDataException($"{recordPath}: field 'config': {e.Message}", e); }
        string File(string role) => RunRecord.Resolve(runFolder, record.Data.Files.FirstOrDefault(f => f.Role == role)?.Path
            ?? throw new InvalidDataException($"{recordPath}: field 'data.files': no '{role}' file"));
        config = config with
        {
            Model = RunRecord.Resolve(runFolder, record.Model.Folder),
            Data = config.Data with
            {
                File = File("train"),
                ValidationFile = config.Data.ValidationFile is null ? null : File("validation"),
                HeldoutFile = config.Data.HeldoutFile is null ? null : File("heldout"),
            },
            Output = output,
        };
        TrainRun.Run(config, log, resume: false, stopAtStep: stop, cancellationToken);
    }

    /// <summary>The data recipe of a notebook run's record, with its paths resolved; a record without one is refused with the reason it gives.</summary>
    static DataRecipe Recipe(string runFolder, RunRecord record, string recordPath)
    {
        var data = record.Options["data"] as JsonObject;
        if (data is null || data["path"] is null)
        {
            var reason = (string?)data?["no_recipe"] ?? "it was recorded without one";
            throw new InvalidDataException($"{recordPath}: field 'options.data' has no data recipe, so the run cannot be replayed: {reason}. " +
                "Load the data from a file (Tune.LoadData, #!data load, Dataset.Load) to record how to prepare it again.");
        }
        try { return DataRecipe.FromJson(data).MapPaths(p => RunRecord.Resolve(runFolder, p)); }
        catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{recordPath}: field 'options.data{e.Path?.TrimStart('$')}': {e.Message}", e); }
    }

    /// <summary>
    /// Retrains a run built from objects (notebook, <c>new Trainer</c>): loads the recorded model folder as recorded (dtype, NF4),
    /// applies the recorded adapters (seed included), prepares the data again from its recipe and trains with the recorded options.
    /// </summary>
    static void RunObjects(string runFolder, RunRecord record, string recordPath, DataRecipe recipe, string output, int stop, CancellationToken cancellationToken)
    {
        T? Section<T>(string name, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
        {
            try { return record.Options[name]?.Deserialize(type); }
            catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{recordPath}: field 'options.{name}{e.Path?.TrimStart('$')}': {e.Message}", e); }
        }
        var settings = Section("model", RunSettingsJson.Default.RecordedModelSettings);
        var adapter = Section("adapter", RunSettingsJson.Default.RecordedAdapter)
            ?? throw new InvalidDataException($"{recordPath}: field 'options.adapter' is missing");
        using var scope = torch.NewDisposeScope();
        var model = CausalLM.FromPretrained(RunRecord.Resolve(runFolder, record.Model.Folder), Device.ParseSpec(record.Environment.Device),
            settings is null ? null : ScalarTypes.Parse(settings.Dtype));
        if (settings?.Quantization == "nf4") Nf4Quantizer.QuantizeModel(model);
        if (adapter.ToLoraConfig() is { } lora) LoraModel.Apply(model, lora);
        else model.requires_grad_(true);
        var tokenizer = model.Tokenizer ?? throw new InvalidDataException($"{recordPath}: field 'model.folder': the model has no tokenizer (tokenizer.json)");
        var data = recipe.Rebuild(tokenizer);
        using var trainer = new Trainer(model, data.Train, data.Validation, record.TrainerOptions);
        using var recorder = new RunRecorder(trainer, output, RunInputs.Of(model, data, startedBy: record.StartedBy));
        trainer.RunUntilStep(stop, cancellationToken);
    }

    /// <summary>Each recorded model or data file whose SHA-256 differs now (or that is missing), with both digests.</summary>
    public static IReadOnlyList<string> ChangedInputs(string runFolder, RunRecord record)
    {
        var changes = new List<string>();
        var modelFolder = RunRecord.Resolve(runFolder, record.Model.Folder);
        foreach (var f in record.Model.Files.Select(f => (f, Path: RunRecord.Resolve(runFolder, f.Path)))
                     .Concat(record.Data.Files.Select(f => (f, Path: RunRecord.Resolve(runFolder, f.Path)))))
        {
            if (!System.IO.File.Exists(f.Path)) { changes.Add($"{f.f.Role} file {f.Path}: missing (recorded sha256 {f.f.Sha256})"); continue; }
            var now = FileDigest.Sha256(f.Path);
            if (now != f.f.Sha256) changes.Add($"{f.f.Role} file {f.Path}: recorded sha256 {f.f.Sha256}, now {now}");
        }
        if (Directory.Exists(modelFolder))
            foreach (var extra in Directory.EnumerateFiles(modelFolder, "*.safetensors")
                         .Where(p => record.Model.Files.All(f => RunRecord.Resolve(runFolder, f.Path) != p)))
                changes.Add($"model file {extra}: not in the record (added since)");
        return changes;
    }

    /// <summary>The train ("step" events) and validation ("eval" events) losses of a metrics.jsonl, in file order.</summary>
    public static IReadOnlyList<(string Kind, int Step, double Loss)> LoggedLosses(string metricsPath)
    {
        if (!System.IO.File.Exists(metricsPath)) throw new FileNotFoundException($"{metricsPath}: no metrics log", metricsPath);
        var list = new List<(string, int, double)>();
        int lineNumber = 0;
        var lines = System.IO.File.ReadAllText(metricsPath).Split('\n');
        foreach (var line in lines)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonObject? obj;
            try { obj = JsonNode.Parse(line) as JsonObject; }
            // A line torn by a crash (MetricsLogger ends it with a newline before appending again) is not a logged loss.
            catch (System.Text.Json.JsonException) when (IsTorn(lines, lineNumber - 1)) { continue; }
            catch (System.Text.Json.JsonException e) { throw new InvalidDataException($"{metricsPath}:{lineNumber}: not valid JSON: {e.Message}", e); }
            var kind = (string?)obj?["event"] switch { "step" => "train", "eval" => "validation", _ => null };
            if (kind is null) continue;
            if (obj!["step"] is null || obj["loss"] is null) throw new InvalidDataException($"{metricsPath}:{lineNumber}: field 'step' or 'loss' is missing");
            list.Add((kind, (int)obj["step"]!, ReadDouble(obj["loss"]!)));
        }
        return list;
    }

    // A torn line is the file's last (no newline after it) or was followed by a fresh start: the next line is the appending run's "started" event.
    static bool IsTorn(string[] lines, int index) =>
        index == lines.Length - 1 || (index + 1 < lines.Length && lines[index + 1].Contains("\"event\":\"started\"", StringComparison.Ordinal));

    // NaN and ∞ are written as strings ("NaN") by the trainer's JSON options.
    static double ReadDouble(JsonNode node) =>
        node.GetValueKind() == System.Text.Json.JsonValueKind.String ? double.Parse((string)node!, CultureInfo.InvariantCulture) : (double)node;
}
