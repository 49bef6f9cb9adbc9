using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Config;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

[Collection(TorchCollection.Name)]
public class TrainConfigTests
{
    const string Good = """
        model: starter
        data:
          file: datasets/puddle/train.completion.jsonl
          max_length: 96
          val_fraction: 0.1
        adapter:
          mode: qlora
          r: 16
          alpha: 32
          targets: all-linear
          rslora: true
        trainer:
          steps: 200
          lr: 3e-4
          schedule: cosine
          warmup: 10
          batch: 8
          accum: 2
          clip: 0.5
          eval_every: 20
          early_stopping: {patience: 3, min_delta: 0.01}
          dtype: bf16
        output: runs/puddle
        """;

    [Fact]
    public void DtypeAutoAsksTheTrainerToChoose()
    {
        var c = TrainConfig.Parse(Good.Replace("dtype: bf16", "dtype: auto"), "good.yaml");
        Assert.Equal("auto", c.Trainer.DType);
        Assert.Equal(TrainingPrecision.Auto, c.Trainer.ToOptions().Precision);
        Assert.Contains("dtype: auto", TrainConfig.Parse(Good.Replace("dtype: bf16", "dtype: AUTO"), "good.yaml").ToYaml());
    }

    [Fact]
    public void ReadsEveryKeyAndFillsDefaults()
    {
        var c = TrainConfig.Parse(Good, "good.yaml");
        Assert.Equal("starter", c.Model);
        Assert.Equal(96, c.Data.MaxLength);
        Assert.True(c.Data.CompletionOnly);
        Assert.Equal("qlora", c.Adapter.Mode);
        Assert.Equal(new[] { "all-linear" }, c.Adapter.Targets);
        Assert.True(c.Adapter.ToLoraConfig().Targets.AllLinear);
        Assert.Equal(32 / 4.0, c.Adapter.ToLoraConfig().Scaling);
        var o = c.Trainer.ToOptions();
        Assert.Equal(200, o.MaxSteps);
        Assert.Equal(3e-4, o.LearningRate);
        Assert.Equal(LrScheduleKind.Cosine, o.Schedule);
        Assert.Equal(2, o.GradientAccumulation);
        Assert.Equal(0.5, o.MaxGradNorm);
        Assert.Equal(3, o.EarlyStoppingPatience);
        Assert.Equal(0.01, o.EarlyStoppingMinDelta);
        Assert.Equal(TrainingPrecision.BFloat16, o.Precision);
        Assert.Equal(42, o.Seed);
        Assert.Equal("runs/puddle", c.Output);
    }

    [Fact]
    public void TheResolvedYamlReadsBackTheSame()
    {
        var c = TrainConfig.Parse(Good, "good.yaml");
        var again = TrainConfig.Parse(c.ToYaml(), "resolved.yaml");
        Assert.Equal(c.ToYaml().Split('\n').Skip(1), again.ToYaml().Split('\n').Skip(1));
        var regex = TrainConfig.Parse(Good.Replace("targets: all-linear", @"targets: {regex: '.*\.(q|v)_proj'}"));
        Assert.Equal(@".*\.(q|v)_proj", TrainConfig.Parse(regex.ToYaml()).Adapter.TargetsRegex);
        var saved = TrainConfig.Parse(Good.Replace("targets: all-linear", "targets: all-linear\n  modules_to_save: [embed_tokens]"));
        Assert.Equal(["embed_tokens"], TrainConfig.Parse(saved.ToYaml()).Adapter.ToLoraConfig().ModulesToSave);
    }

    [Theory]
    [InlineData("lr: 3e-4", "lr: fast", "good.yaml:14: trainer.lr: expected a number > 0, got 'fast'")]
    [InlineData("lr: 3e-4", "lr: -1", "trainer.lr: expected a number > 0, got '-1'")]
    [InlineData("batch: 8", "batch: 2.5", "trainer.batch: expected an integer ≥ 1, got '2.5'")]
    [InlineData("schedule: cosine", "schedule: cosin", "trainer.schedule: expected one of constant, linear, cosine, got 'cosin'; did you mean 'cosine'?")]
    [InlineData("mode: qlora", "mode: dora", "adapter.mode: expected one of lora, qlora, full")]
    [InlineData("val_fraction: 0.1", "val_fraction: 1.5", "data.val_fraction: expected a number in [0, 1), got '1.5'")]
    [InlineData("dtype: bf16", "dtype: fp8", "trainer.dtype: expected one of float32, bfloat16 (or fp32, bf16), auto")]
    [InlineData("steps: 200", "steps: 200\n  epochs: 2", "trainer.epochs: give trainer.steps or trainer.epochs, not both")]
    [InlineData("rslora: true", "rslora: maybe", "adapter.rslora: expected true or false, got 'maybe'")]
    [InlineData("  file: datasets/puddle/train.completion.jsonl\n", "", "data.file: missing (required)")]
    [InlineData("eval_every: 20", "eval_every: 0", "trainer.eval_every: expected an integer ≥ 1, got '0'")]
    public void BadValuesNameTheKey(string from, string to, string expected)
    {
        var e = Assert.Throws<TrainConfigException>(() => TrainConfig.Parse(Good.Replace(from, to), "good.yaml"));
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("  warmup: 10", "  warmpu: 10", "trainer.warmpu: unknown key; did you mean 'trainer.warmup'?")]
    [InlineData("adapter:", "adaptor:", "adaptor: unknown key; did you mean 'adapter'?")]
    [InlineData("  max_length: 96", "  max_len: 96", "data.max_len: unknown key; did you mean 'data.max_length'?")]
    [InlineData("  r: 16", "  rank_of_update: 16", "adapter.rank_of_update: unknown key (known keys of adapter: mode, r, alpha")]
    public void UnknownKeysAreErrorsWithSuggestions(string from, string to, string expected)
    {
        var e = Assert.Throws<TrainConfigException>(() => TrainConfig.Parse(Good.Replace(from, to), "good.yaml"));
        Assert.Contains(expected, e.Message);
        Assert.NotNull(e.Line);
    }

    [Fact]
    public void InvalidYamlIsReportedWithItsLine()
    {
        var e = Assert.Throws<TrainConfigException>(() => TrainConfig.Parse("model: x\ndata: [unclosed\n", "bad.yaml"));
        Assert.StartsWith("bad.yaml:", e.Message);
        Assert.Contains("invalid YAML", e.Message);
    }

    /// <summary>A tiny model folder with a BPE tokenizer trained on the puddle data, and a config pointing at it.</summary>
    static (string Config, string Output) TinyRun(string mode, string extraTrainer = "", string? dataFile = null)
    {
        var dir = Tiny.TempDir();
        var texts = File.ReadLines(Path.Combine(Tiny.RepoRoot, "datasets", "puddle", "train.completion.jsonl")).Take(120)
            .Select(l => JsonNode.Parse(l)!).Select(j => j["prompt"]!.GetValue<string>() + j["completion"]!.GetValue<string>()).ToList();
        var tokenizer = BpeTrainer.Train(texts, 320, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
            config: new TokenizerConfig { EosToken = "<|endoftext|>", PadToken = "<|endoftext|>" });
        var json = Tiny.LlamaConfig().ToJsonObject();
        json["vocab_size"] = tokenizer.VocabSize;
        json["max_position_embeddings"] = 128;
        torch.manual_seed(3);
        var model = CausalLM.FromConfig(ModelConfig.FromJson(json));
        model.Tokenizer = tokenizer;
        model.SavePretrained(Path.Combine(dir, "model"));
        model.Dispose();
        var data = dataFile ?? Path.Combine(Tiny.RepoRoot, "datasets", "puddle", "train.completion.jsonl");
        var small = Path.Combine(dir, "train.jsonl");
        File.WriteAllLines(small, File.ReadLines(data).Take(24));
        var yaml = $"""
            model: model
            data:
              file: train.jsonl
              max_length: 64
              val_fraction: 0.25
            adapter:
              mode: {mode}
              r: 4
              alpha: 8
              targets: [q_proj, v_proj]
            trainer:
              steps: 4
              lr: 1e-3
              batch: 4
              eval_every: 2
              log_every: 1
            {extraTrainer}
            output: out
            """;
        File.WriteAllText(Path.Combine(dir, "train.yaml"), yaml);
        return (Path.Combine(dir, "train.yaml"), Path.Combine(dir, "out"));
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("qlora")]
    [InlineData("full")]
    public void TrainRunsEndToEndFromAConfigFile(string mode)
    {
        var (configPath, output) = TinyRun(mode);
        var lines = new List<string>();
        var result = TrainRun.Run(TrainConfig.Load(configPath), lines.Add);
        Assert.Equal(StopReason.Completed, result.Reason);
        Assert.Equal(4, result.Steps);
        Assert.Equal(4, lines.Count(l => l.StartsWith("step ")));
        Assert.Matches(@"^step 4/4  epoch [\d.]+  loss \d+\.\d{4}  lr [\d.]+e[-+]\d\d  grad [\d.]+  \d+ tok/s  mem [\d.]+ [KMG]iB$", lines.Last(l => l.StartsWith("step ")));
        Assert.Contains(lines, l => l.StartsWith("eval "));
        Assert.True(File.Exists(Path.Combine(output, "metrics.jsonl")));
        Assert.Equal(4, File.ReadLines(Path.Combine(output, "metrics.jsonl")).Count(l => l.Contains("\"event\":\"step\"")));
        Assert.True(File.Exists(Path.Combine(output, "train_config.yaml")));
        TrainConfig.Load(Path.Combine(output, "train_config.yaml")); // the copy is itself a valid config
        if (mode == "full")
        {
            Assert.True(File.Exists(Path.Combine(output, "model.safetensors")));
            Assert.True(File.Exists(Path.Combine(output, "config.json")));
        }
        else
        {
            using var adapter = LoraAdapter.Load(output);
            Assert.Equal(4, adapter.Config.R);
            Assert.Equal(2 * 2 * 2, adapter.Tensors.Count); // q and v of two layers, A and B
        }
        if (mode == "qlora") Assert.Contains(lines, l => l.Contains("layers in NF4"));
    }

    [Fact]
    public void InterruptedRunsResumeFromTheOutputCheckpoint()
    {
        var (configPath, output) = TinyRun("lora");
        var config = TrainConfig.Load(configPath);
        using var cts = new CancellationTokenSource();
        var lines = new List<string>();
        var first = TrainRun.Run(config, l => { lines.Add(l); if (l.StartsWith("step 2/")) cts.Cancel(); }, cancellationToken: cts.Token);
        Assert.Equal(StopReason.Cancelled, first.Reason);
        Assert.Equal(2, first.Steps);
        Assert.True(File.Exists(Path.Combine(output, "checkpoint", "trainer_state.json")));
        var second = TrainRun.Run(config, _ => { }, resume: true);
        Assert.Equal(StopReason.Completed, second.Reason);
        Assert.Equal(4, second.Steps);
        Assert.Equal(4, File.ReadLines(Path.Combine(output, "metrics.jsonl")).Count(l => l.Contains("\"event\":\"step\"")));
    }

    [Fact]
    public void ExamplesWithNothingToTrainAreReported()
    {
        var (configPath, _) = TinyRun("lora");
        var data = Path.Combine(Path.GetDirectoryName(configPath)!, "train.jsonl");
        // Line 25: a prompt far longer than max_length (64 tokens), so truncation leaves no answer token.
        var longPrompt = string.Join(" ", Enumerable.Repeat("Question: which puddle command lists the zones?", 40));
        File.AppendAllText(data, new JsonObject { ["prompt"] = longPrompt, ["completion"] = " Run `puddle zone list`." }.ToJsonString() + "\n");
        var lines = new List<string>();
        var result = TrainRun.Run(TrainConfig.Load(configPath), lines.Add);
        Assert.Equal(StopReason.Completed, result.Reason);
        var dropped = Assert.Single(lines, l => l.StartsWith("dropped: "));
        Assert.Contains("train.jsonl line 25", dropped);
        Assert.Contains("truncation", dropped);
    }

    [Fact]
    public void DataErrorsNameTheFileAndLine()
    {
        var (configPath, _) = TinyRun("lora", dataFile: Path.Combine(Tiny.RepoRoot, "datasets", "samples", "completion.bad.jsonl"));
        var e = Assert.ThrowsAny<FormatException>(() => TrainRun.Run(TrainConfig.Load(configPath), _ => { })); // the data layer's DataLoadException
        Assert.Contains("train.jsonl line 4", e.Message);
        Assert.Contains("completion", e.Message);
    }
}
