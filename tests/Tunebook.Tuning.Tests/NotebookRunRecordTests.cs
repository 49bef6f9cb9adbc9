using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Runs;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>
/// Runs built from objects, as a notebook cell builds them (model from a folder, LoRA, data from a JSONL file,
/// <c>new Trainer</c>), recorded with <see cref="RunInputs.Of"/>: the record holds the data recipe, the LoRA seed, the
/// generation settings and the saved adapter, and replays from them.
/// </summary>
[Collection(TorchCollection.Name)]
public class NotebookRunRecordTests
{
    static string Sha256(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));

    // Three LoRA steps of the starter model on 16 puddle examples from a JSONL file, validation evaluated at steps 2 and 3.
    static (string Run, string DataFile) NotebookRun(bool inMemory = false)
    {
        var dir = Tiny.TempDir();
        var file = Path.Combine(dir, "train.jsonl");
        File.WriteAllLines(file, File.ReadLines(Path.Combine(Tiny.RepoRoot, "datasets", "puddle", "train.completion.jsonl")).Take(16));
        var run = Path.Combine(dir, "runs", "notebook");
        using var scope = torch.NewDisposeScope();
        var model = CausalLM.FromPretrained(Path.Combine(Tiny.RepoRoot, "datasets", "starter"));
        LoraModel.Apply(model, new LoraConfig { R = 4, Alpha = 8, Dropout = 0.1, Seed = 7 });
        var raw = inMemory
            ? Dataset.FromRecords(File.ReadLines(file).Select(l => JsonNode.Parse(l)!.AsObject()))
            : Dataset.Load(file);
        var data = raw.PrepareChecked(model.Tokenizer!, options: new PrepareOptions { MaxLength = 48, ValFraction = 0.25, Seed = 5 });
        using var trainer = new Trainer(model, data.Train, data.Validation, new TrainerOptions { MaxSteps = 3, LearningRate = 1e-3, BatchSize = 4, EvalEvery = 2 });
        using var recorder = new RunRecorder(trainer, run, RunInputs.Of(model, data));
        trainer.Run();
        recorder.RecordGeneration(new GenerationOptions { MaxNewTokens = 16, DoSample = false });
        return (run, file);
    }

    [Fact]
    public void ANotebookRunRecordsItsDataRecipeLoraSeedGenerationAndAdapter()
    {
        var (run, file) = NotebookRun();
        var record = RunRecord.Load(run);
        Assert.Equal("trainer", record.StartedBy);
        var data = record.Options["data"]!;
        Assert.Equal(Path.GetFullPath(file), RunRecord.Resolve(run, (string)data["path"]!));
        Assert.False(Path.IsPathRooted((string)data["path"]!)); // relative to the run folder
        Assert.Equal(48, (int)data["prepare"]!["max_length"]!);
        Assert.Equal(0.25, (double)data["prepare"]!["val_fraction"]!);
        Assert.NotNull(data["checks"]);
        var recipeFile = data["files"]!.AsArray().Single()!;
        Assert.Equal(Sha256(file), (string)recipeFile["sha256"]!);
        Assert.Equal(Sha256(file), record.Data.Files.Single(f => f.Role == "train").Sha256);
        // Seeds: trainer (data order, dropout), LoRA initialisation, validation split.
        Assert.Equal(42, record.Seeds["trainer"]);
        Assert.Equal(7, record.Seeds["lora"]);
        Assert.Equal(5, record.Seeds["data"]);
        var adapter = record.Options["adapter"]!;
        Assert.Equal("lora", (string)adapter["mode"]!);
        Assert.Equal(7, (long)adapter["seed"]!);
        Assert.Equal(["q_proj", "v_proj"], adapter["targets"]!.AsArray().Select(n => (string)n!));
        Assert.Equal("float32", (string)record.Options["model"]!["dtype"]!);
        Assert.Equal(16, (int)record.Options["generation"]![0]!["max_new_tokens"]!);
        // The adapter saved at the end of the run, with digests that are those of the files.
        var output = record.Output!;
        Assert.Equal("adapter", output.Kind);
        var weights = output.Files.Single(f => f.Path.EndsWith(LoraAdapter.WeightsFile, StringComparison.Ordinal));
        var weightsPath = RunRecord.Resolve(run, weights.Path);
        Assert.Equal(Path.Combine(Path.GetFullPath(run), RunRecorder.AdapterFolder, LoraAdapter.WeightsFile), weightsPath);
        Assert.Equal(Sha256(weightsPath), weights.Sha256);
        Assert.Contains(output.Files, f => f.Path.EndsWith(LoraAdapter.ConfigFile, StringComparison.Ordinal));
    }

    [Fact]
    public void ANotebookRunReplaysFromItsRecipeWithBitIdenticalLosses()
    {
        var (run, _) = NotebookRun();
        var report = RunReplay.Replay(run);
        Assert.Empty(report.ChangedInputs);
        Assert.True(report.FingerprintsMatch, report.ToString());
        Assert.True(report.ExactnessExpected);
        Assert.Equal(3 + 2, report.Losses.Count);
        Assert.True(report.BitIdentical, report.ToString());
        // The replay's adapter is the recorded one, bit for bit.
        var recorded = RunRecord.Load(run).Output!.Files.Single(f => f.Path.EndsWith(LoraAdapter.WeightsFile, StringComparison.Ordinal));
        var replayed = RunRecord.Load(report.ReplayFolder).Output!.Files.Single(f => f.Path.EndsWith(LoraAdapter.WeightsFile, StringComparison.Ordinal));
        Assert.Equal(recorded.Sha256, replayed.Sha256);
    }

    [Fact]
    public void AReplayOfANotebookRunWithAChangedDataFileIsRefusedNamingIt()
    {
        var (run, file) = NotebookRun();
        var lines = File.ReadAllLines(file);
        File.WriteAllLines(file, lines.Take(lines.Length - 1));
        var refused = Assert.Throws<RunInputsChangedException>(() => RunReplay.Replay(run));
        Assert.Contains(Path.GetFullPath(file), refused.Message);
        Assert.Contains($"now {Sha256(file)}", refused.Message);
        Assert.False(Directory.Exists(Path.Combine(run, RunReplay.ReplayFolderName)));
    }

    [Fact]
    public void DataBuiltInMemoryHasNoRecipeAndItsRunIsNotReplayed()
    {
        var (run, _) = NotebookRun(inMemory: true);
        var record = RunRecord.Load(run);
        Assert.Contains("built in memory", (string)record.Options["data"]!["no_recipe"]!);
        Assert.Empty(record.Data.Files);
        var refused = Assert.Throws<InvalidDataException>(() => RunReplay.Replay(run));
        Assert.Contains(Path.Combine(run, RunRecord.FileName), refused.Message);
        Assert.Contains("cannot be replayed", refused.Message);
        Assert.Contains("built in memory", refused.Message);
    }

    [Fact]
    public void ARecipeRoundTripsThroughJsonAndPreparesTheSameTokenIds()
    {
        var dir = Tiny.TempDir();
        var file = Path.Combine(dir, "train.jsonl");
        File.WriteAllLines(file, File.ReadLines(Path.Combine(Tiny.RepoRoot, "datasets", "puddle", "train.jsonl")).Take(12));
        var tokenizer = Tunebook.Text.Tokenizers.Tokenizer.FromFolder(Path.Combine(Tiny.RepoRoot, "datasets", "starter"));
        var options = new PrepareOptions { MaxLength = 40, ValCount = 3, Packing = true, Seed = 9, TemplateVariables = new Dictionary<string, object?> { ["enable_thinking"] = false } };
        var data = Dataset.Load(file, DataFormat.Chat).Prepare(tokenizer, options: options);
        var recipe = data.Recipe!;
        Assert.Null(recipe.Checks);
        var json = recipe.ToJson().ToJsonString();
        var back = DataRecipe.FromJson(System.Text.Json.Nodes.JsonNode.Parse(json)!);
        Assert.Equal(json, back.ToJson().ToJsonString());
        Assert.Equal(false, back.Rebuild(tokenizer).Recipe!.Prepare.TemplateVariables!["enable_thinking"]);
        var again = back.Rebuild(tokenizer);
        Assert.Equal(FileDigest.Fingerprint(data.Train), FileDigest.Fingerprint(again.Train));
        Assert.Equal(FileDigest.Fingerprint(data.Validation!), FileDigest.Fingerprint(again.Validation!));
    }

    [Fact]
    public void MetricsLinesTornByACrashAreSkippedAndTheNextLineStartsFresh()
    {
        var (run, _) = NotebookRun();
        var metrics = Path.Combine(run, RunRecord.MetricsFileName);
        var losses = RunReplay.LoggedLosses(metrics);
        File.AppendAllText(metrics, "{\"event\":\"step\",\"step\":4,\"lo");
        Assert.Equal(losses, RunReplay.LoggedLosses(metrics));

        // A logger appending after the torn line (a resumed run) ends it first, so its own lines parse.
        using var scope = torch.NewDisposeScope();
        using var trainer = new Trainer(Tiny.Llama(), Tiny.Examples(4), null, new TrainerOptions { MaxSteps = 1, BatchSize = 2 });
        using (new MetricsLogger(trainer, metrics)) trainer.Run();
        var after = RunReplay.LoggedLosses(metrics);
        Assert.Equal(losses.Count + 1, after.Count);
        Assert.Equal(1, after[^1].Step);
    }
}
