using System.Text.Json.Nodes;
using Tunebook.Tuning.Config;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Runs;

namespace Tunebook.Tuning.Tests;

[Collection(TorchCollection.Name)]
public class RunRecordTests
{
    // A few LoRA steps of the starter model on 16 puddle examples, with a validation split evaluated twice.
    static (string Config, string RunFolder, string DataFile) ShortRun()
    {
        var dir = Tiny.TempDir();
        var data = Path.Combine(dir, "train.jsonl");
        File.WriteAllLines(data, File.ReadLines(Path.Combine(Tiny.RepoRoot, "datasets", "puddle", "train.completion.jsonl")).Take(16));
        var yaml = $"""
            model: {Path.Combine(Tiny.RepoRoot, "datasets", "starter")}
            data:
              file: train.jsonl
              max_length: 48
              val_fraction: 0.25
            adapter:
              mode: lora
              r: 4
              alpha: 8
              dropout: 0.1
              targets: [q_proj, v_proj]
            trainer:
              steps: 3
              lr: 1e-3
              batch: 4
              eval_every: 2
            output: runs/short
            """;
        var config = Path.Combine(dir, "train.yaml");
        File.WriteAllText(config, yaml);
        TrainRun.Run(TrainConfig.Load(config), _ => { });
        return (config, Path.Combine(dir, "runs", "short"), data);
    }

    [Fact]
    public void ATrainingRunLeavesARecordOfItsInputsEnvironmentAndLosses()
    {
        var (config, run, data) = ShortRun();
        var record = RunRecord.Load(run);
        Assert.Equal("short", record.Name);
        Assert.Equal("config", record.StartedBy);
        Assert.Equal(Tunebook.Torch.torch.__version__, record.Environment.LibtorchVersion);
        Assert.Equal("cpu", record.Environment.Device);
        Assert.Equal(Tunebook.Torch.torch.get_num_threads(), record.Environment.Threads);
        Assert.Equal(Tunebook.Torch.torch.blas_core, record.Environment.BlasCore);
        // Digests are those of the files (checked against an independent SHA-256).
        var weights = record.Model.Files.Single(f => f.Path.EndsWith("model.safetensors"));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(RunRecord.Resolve(run, weights.Path)))), weights.Sha256);
        Assert.Contains(record.Model.Files, f => f.Path.EndsWith("tokenizer.json"));
        var train = record.Data.Files.Single(f => f.Role == "train");
        Assert.Equal(Path.GetFullPath(data), RunRecord.Resolve(run, train.Path));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(data))), train.Sha256);
        Assert.Equal(12, record.Data.TrainRows);
        Assert.Equal(4, record.Data.ValidationRows);
        Assert.Equal(64, record.Data.TrainFingerprint.Length);
        Assert.NotEqual(record.Data.TrainFingerprint, record.Data.ValidationFingerprint);
        // The resolved options of every section, and the seeds.
        Assert.Equal(3, record.TrainerOptions.MaxSteps);
        Assert.Equal(1e-3, record.TrainerOptions.LearningRate);
        Assert.Equal(4, (int)record.Options["adapter"]!["r"]!);
        Assert.Equal(48, (int)record.Options["data"]!["max_length"]!);
        Assert.Equal(42, record.Seeds["trainer"]);
        Assert.Equal(new LoraConfig().Seed, record.Seeds["lora"]);
        Assert.NotNull(record.Config);
        // The end: times and losses agree with metrics.jsonl.
        Assert.NotNull(record.Ended);
        Assert.True(record.Ended >= record.Started);
        var losses = RunReplay.LoggedLosses(Path.Combine(run, RunRecord.MetricsFileName));
        Assert.Equal(3, record.Result!.Steps);
        Assert.Equal(losses.Last(l => l.Kind == "train").Loss, record.Result.FinalLoss);
        Assert.Equal(losses.Where(l => l.Kind == "validation").Min(l => l.Loss), record.Result.BestLoss);
        Assert.True(File.Exists(Path.Combine(run, "adapter_model.safetensors")));
        // The adapter is the run's recorded output, with the SHA-256 of its files.
        Assert.Equal("adapter", record.Output!.Kind);
        var saved = record.Output.Files.Single(f => f.Path.EndsWith("adapter_model.safetensors", StringComparison.Ordinal));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(Path.Combine(run, "adapter_model.safetensors")))), saved.Sha256);
        Assert.Empty(Directory.EnumerateFiles(run, "*.tmp-*"));
    }

    [Fact]
    public void AReplayOnTheSameCpuGivesBitIdenticalLosses()
    {
        var (_, run, _) = ShortRun();
        var report = RunReplay.Replay(run);
        Assert.Empty(report.ChangedInputs);
        Assert.True(report.FingerprintsMatch);
        Assert.True(report.ExactnessExpected);
        Assert.Equal(3 + 2, report.Losses.Count); // three steps, evaluations at steps 2 and 3
        Assert.True(report.BitIdentical, report.ToString());
        Assert.Contains("bit-identical (3 train losses, 2 validation losses)", report.ToString());

        var partial = RunReplay.Replay(run, steps: 2);
        Assert.Equal(2, partial.Losses.Count(l => l.Kind == "train"));
        Assert.True(partial.BitIdentical, partial.ToString());
    }

    [Fact]
    public void AReplayIsComparedLossByLossAndNamesTheFirstDifference()
    {
        var report = new ReplayReport("runs/a", "runs/a/replay", [], ["threads: 2 → 4"], false,
            [new LossPair("train", 1, 2.5, 2.5), new LossPair("train", 2, 2.25, 2.2500000000000004), new LossPair("train", 3, 2.0, 2.1)], true);
        Assert.False(report.BitIdentical);
        Assert.Equal(2, report.FirstDifference!.Step);
        Assert.Contains("first difference at step 2 (train loss): recorded 2.25, replayed 2.2500000000000004", report.ToString());
        Assert.Contains("2 of 3 losses differ", report.ToString());
        Assert.Contains("environment differs: threads: 2 → 4", report.ToString());
    }

    [Fact]
    public void AReplayWithAChangedDataFileIsRefusedUnlessAllowed()
    {
        var (_, run, data) = ShortRun();
        var before = RunRecord.Load(run).Data.Files.Single(f => f.Role == "train").Sha256;
        var lines = File.ReadAllLines(data);
        (lines[0], lines[1]) = (lines[1], lines[0]);
        File.WriteAllLines(data, lines);
        var after = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(data)));

        var refused = Assert.Throws<RunInputsChangedException>(() => RunReplay.Replay(run));
        Assert.Contains(Path.GetFullPath(data), refused.Message);
        Assert.Contains($"recorded sha256 {before}, now {after}", refused.Message);
        Assert.False(Directory.Exists(Path.Combine(run, RunReplay.ReplayFolderName)));

        var allowed = RunReplay.Replay(run, steps: 1, allowChanged: true);
        Assert.Single(allowed.ChangedInputs);
        Assert.Contains("inputs CHANGED", allowed.ToString());
    }

    [Fact]
    public void AMissingOrCorruptedRecordNamesTheFileAndField()
    {
        var (_, run, _) = ShortRun();
        var path = Path.Combine(run, RunRecord.FileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();

        json["model"]!.AsObject().Remove("files");
        File.WriteAllText(path, json.ToJsonString());
        var missingField = Assert.Throws<InvalidDataException>(() => RunRecord.Load(run));
        Assert.Contains(path, missingField.Message);
        Assert.Contains("'model.files'", missingField.Message);

        json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json["model"]!["files"] = new JsonArray();
        json["environment"]!["threads"] = "many";
        File.WriteAllText(path, json.ToJsonString());
        var mistyped = Assert.Throws<InvalidDataException>(() => RunRecord.Load(run));
        Assert.Contains(path, mistyped.Message);
        Assert.Contains("environment.threads", mistyped.Message);

        File.WriteAllText(path, "{\"format\": \"tunebook-run\", \"name\": ");
        var truncated = Assert.Throws<InvalidDataException>(() => RunRecord.Load(run));
        Assert.Contains(path, truncated.Message);

        File.Delete(path);
        var missing = Assert.Throws<FileNotFoundException>(() => RunReplay.Replay(run));
        Assert.Contains(path, missing.Message);
    }

    [Fact]
    public void OtherBlasKernelsMeanAReplayMayDifferInTheLastBits()
    {
        var here = RunEnvironment.Current(Tunebook.Torch.Device.CPU) with { BlasCore = "Haswell" };
        Assert.True(here.ReplaysExactly(here));
        var other = here with { BlasCore = "Cooperlake" };
        Assert.False(here.ReplaysExactly(other));
        Assert.Contains("blas_core: Haswell → Cooperlake", here.Differences(other));
        // A record from before the kernels were recorded names none and is taken at its word.
        Assert.True((here with { BlasCore = null }).ReplaysExactly(other));
        Assert.False(here.ReplaysExactly(here with { Threads = here.Threads + 1 }));
    }

    [Fact]
    public void AnotherProductLibraryMeansAReplayMayDifferInTheLastBits()
    {
        var here = RunEnvironment.Current(Tunebook.Torch.Device.CPU) with { CpuMatmul = "oneDNN 2.6.3" };
        Assert.Equal(Tunebook.Torch.torch.cpu_matmul_name, RunEnvironment.Current(Tunebook.Torch.Device.CPU).CpuMatmul);
        Assert.True(here.ReplaysExactly(here));
        var other = here with { CpuMatmul = "BLAS" };
        Assert.False(here.ReplaysExactly(other));
        Assert.Contains("cpu_matmul: oneDNN 2.6.3 → BLAS", here.Differences(other));
        Assert.True((here with { CpuMatmul = null }).ReplaysExactly(other));
    }

    [Fact]
    public void SwitchingTheFusedKernelsMeansAReplayMayDifferInTheLastBits()
    {
        Assert.Equal(Tunebook.Torch.torch.fused_cpu_kernels, RunEnvironment.Current(Tunebook.Torch.Device.CPU).FusedKernels);
        Assert.Null(RunEnvironment.Current(Tunebook.Torch.Device.CUDA).FusedKernels);
        var here = RunEnvironment.Current(Tunebook.Torch.Device.CPU) with { FusedKernels = true };
        var other = here with { FusedKernels = false };
        Assert.False(here.ReplaysExactly(other));
        Assert.Contains("fused_kernels: True → False", here.Differences(other));
        // A record from before the setting was kept is taken at its word.
        Assert.True((here with { FusedKernels = null }).ReplaysExactly(other));
        // It travels in the record's JSON.
        var json = System.Text.Json.JsonSerializer.Serialize(other, RunRecord.Json);
        Assert.Contains("\"fused_kernels\": false", json);
        Assert.Equal(false, System.Text.Json.JsonSerializer.Deserialize<RunEnvironment>(json, RunRecord.Json)!.FusedKernels);
    }
}
