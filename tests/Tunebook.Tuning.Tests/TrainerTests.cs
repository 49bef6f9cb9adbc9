using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

[Collection(TorchCollection.Name)]
public class TrainerTests
{
    static CausalLM LoraLlama(long seed = 1, double dropout = 0)
    {
        var model = Tiny.Llama(seed);
        torch.manual_seed(seed + 100);
        LoraModel.Apply(model, new LoraConfig { R = 4, Alpha = 8, Dropout = dropout, Targets = LoraTargets.AllLinearLayers });
        return model;
    }

    static Dictionary<string, float[]> Gradients(Trainer trainer) =>
        trainer.OptimizedParameters.ToDictionary(p => p.Name, p => { using var g = p.Parameter.grad!; return Tiny.Values(g); });

    [Fact]
    public void AccumulatingMicroBatchesEqualsOneBigBatchWithTokenNormalisation()
    {
        using var scope = torch.NewDisposeScope();
        // Examples of different lengths and prompt sizes: the micro-batches have unequal target-token counts.
        var data = Tiny.Examples(6, seed: 9, minLength: 4, maxLength: 14, prompt: 3);
        using var model = LoraLlama();
        using (torch.no_grad()) foreach (var (n, p) in model.named_parameters()) if (n.Contains("lora_B")) p.normal_(0, 0.1);
        using var trainer = new Trainer(model, data, null, new TrainerOptions { MaxSteps = 1, BatchSize = 2, GradientAccumulation = 3 });
        var counts = new[] { new[] { 0, 1 }, new[] { 2, 3 }, new[] { 4, 5 } }.Select(i => { using var b = data.Collate(i); return b.TargetTokens; }).ToArray();
        Assert.True(counts.Distinct().Count() > 1, "the test needs unequal token counts per micro-batch");

        double accumulatedLoss = trainer.AccumulateGradients([[0, 1], [2, 3], [4, 5]]);
        var accumulated = Gradients(trainer);
        double bigLoss = trainer.AccumulateGradients([[0, 1, 2, 3, 4, 5]]);
        var big = Gradients(trainer);
        Assert.Equal(bigLoss, accumulatedLoss, 5);
        foreach (var (name, g) in big)
            for (int i = 0; i < g.Length; i++)
                Assert.True(Math.Abs(g[i] - accumulated[name][i]) <= 1e-5 + 1e-4 * Math.Abs(g[i]), $"{name}[{i}]: {g[i]} vs {accumulated[name][i]}");

        // The average of per-micro-batch means is a different (wrong) gradient: the comparison above can fail.
        var perBatch = new[] { new[] { 0, 1 }, new[] { 2, 3 }, new[] { 4, 5 } }.Select(i => { trainer.AccumulateGradients([i]); return Gradients(trainer); }).ToList();
        double worst = big.Max(kv => kv.Value.Select((v, i) => Math.Abs(v - perBatch.Average(pb => pb[kv.Key][i]))).Max());
        Assert.True(worst > 1e-4, $"mean of means should differ, max diff {worst}");
    }

    [Fact]
    public void MaskedTokensContributeNoGradient()
    {
        using var scope = torch.NewDisposeScope();
        var ids = new long[] { 5, 9, 14, 3, 22, 40, 7, 8 };
        var labels = new long[] { -100, -100, -100, 3, 22, -100, 7, 8 };
        var data = new InMemoryTrainingData([(ids, labels)]);
        using var model = LoraLlama();
        using (torch.no_grad()) foreach (var (n, p) in model.named_parameters()) if (n.Contains("lora_B")) p.normal_(0, 0.1);
        using var trainer = new Trainer(model, data, null, new TrainerOptions { MaxSteps = 1, BatchSize = 1 });
        trainer.AccumulateGradients([[0]]);
        var viaTrainer = Gradients(trainer);

        // Reference: the loss written out over the predicted positions only (logit t predicts label t+1).
        model.zero_grad();
        var logits = model.Forward(torch.tensor(ids, [1, 8]));
        var kept = Enumerable.Range(0, 7).Where(t => labels[t + 1] != -100).ToArray();
        var picked = logits[0].index_select(0, torch.tensor(kept.Select(k => (long)k).ToArray()));
        var targets = torch.tensor(kept.Select(k => labels[k + 1]).ToArray());
        Tunebook.Torch.nn.functional.cross_entropy(picked, targets).backward();
        foreach (var (name, p) in trainer.OptimizedParameters)
        {
            var reference = Tiny.Values(p.grad!);
            for (int i = 0; i < reference.Length; i++)
                Assert.True(Math.Abs(reference[i] - viaTrainer[name][i]) <= 1e-6 + 1e-4 * Math.Abs(reference[i]), $"{name}[{i}]");
        }
    }

    [Fact]
    public void AnAllMaskedExampleIsReported()
    {
        using var scope = torch.NewDisposeScope();
        var data = new InMemoryTrainingData([
            (new long[] { 5, 6, 7, 8 }, new long[] { -100, 6, 7, 8 }),
            (new long[] { 9, 10, 11 }, new long[] { -100, -100, -100 }),
        ]);
        using var model = LoraLlama();
        using var trainer = new Trainer(model, data, null, new TrainerOptions { MaxSteps = 2, BatchSize = 1, Shuffle = false });
        trainer.Run();
        var warning = Assert.Single(trainer.History.OfType<TrainingWarning>(), w => w.Message.Contains("example 1 "));
        Assert.Contains("no target tokens", warning.Message);
        Assert.True(double.IsNaN(trainer.Steps.Last().Loss)); // the second step had nothing to learn from
        Assert.Contains(trainer.History.OfType<TrainingWarning>(), w => w.Message.Contains("update was skipped"));
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("full")]
    public void ATinyModelOverfitsATinyDataset(string mode)
    {
        using var scope = torch.NewDisposeScope();
        var data = Tiny.Examples(4, seed: 21, minLength: 8, maxLength: 8, prompt: 0);
        CausalLM model;
        if (mode == "lora")
        {
            model = Tiny.Llama();
            // lm_head too: with the final norm frozen, only the head can make the logits confident enough for a loss near 0.
            LoraModel.Apply(model, new LoraConfig { R = 8, Alpha = 16, Targets = LoraTargets.Names("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj", "lm_head") });
        }
        else
        {
            model = Tiny.Llama();
            model.requires_grad_(true);
        }
        using var trainer = new Trainer(model, data, null, new TrainerOptions
        {
            MaxSteps = 150, BatchSize = 4, LearningRate = 1e-2, Schedule = LrScheduleKind.Cosine, WarmupSteps = 10, MaxGradNorm = 1.0,
        });
        Assert.Equal(StopReason.Completed, trainer.Run());
        var losses = trainer.Steps.Select(s => s.Loss).ToList();
        string trace = string.Join(" ", losses.Where((_, i) => i % 10 == 0).Select(l => l.ToString("0.###")));
        Assert.True(losses[0] > 3.5, $"starts near ln(61) ≈ 4.1, got {losses[0]}");
        Assert.True(losses[^1] < 0.05, $"final loss {losses[^1]}; every 10th: {trace}");
        Assert.True(trainer.Measure(data).Loss < 0.05);
        model.Dispose();
    }

    [Fact]
    public void ResumingFromACheckpointReproducesTheLossesExactly()
    {
        var data = Tiny.Examples(10, seed: 4);
        var validation = Tiny.Examples(3, seed: 5);
        var options = new TrainerOptions
        {
            MaxSteps = 8, BatchSize = 2, GradientAccumulation = 2, LearningRate = 5e-3, Schedule = LrScheduleKind.Cosine, WarmupSteps = 2,
            EvalEvery = 3, Seed = 17, WeightDecay = 0.01,
        };
        List<double> straight, resumed;
        List<double> straightEval, resumedEval;
        using (var scope = torch.NewDisposeScope())
        {
            using var model = LoraLlama(dropout: 0.2);
            using var trainer = new Trainer(model, data, validation, options);
            trainer.Run();
            straight = trainer.Steps.Select(s => s.Loss).ToList();
            straightEval = trainer.Evaluations.Select(e => e.Loss).ToList();
        }
        var dir = Tiny.TempDir();
        using (var scope = torch.NewDisposeScope())
        {
            using var model = LoraLlama(dropout: 0.2);
            using var trainer = new Trainer(model, data, validation, options);
            Assert.Equal(StopReason.Paused, trainer.Step(5));
            trainer.SaveCheckpoint(Path.Combine(dir, "ckpt"));
            torch.manual_seed(999); // disturb the generator: resume must restore it
        }
        using (var scope = torch.NewDisposeScope())
        {
            using var model = LoraLlama(seed: 1, dropout: 0.2);
            using var trainer = Trainer.Resume(Path.Combine(dir, "ckpt"), model, data, validation);
            Assert.Equal(5, trainer.GlobalStep);
            Assert.Equal(StopReason.Completed, trainer.Run());
            resumed = trainer.Steps.Select(s => s.Loss).ToList();
            resumedEval = trainer.Evaluations.Select(e => e.Loss).ToList();
            Assert.Equal(8, trainer.GlobalStep);
        }
        Assert.Equal(8, straight.Count);
        Assert.Equal(straight.Select(BitConverter.DoubleToInt64Bits), resumed.Select(BitConverter.DoubleToInt64Bits));
        Assert.Equal(straightEval.Select(BitConverter.DoubleToInt64Bits), resumedEval.Select(BitConverter.DoubleToInt64Bits));
        Assert.False(Directory.EnumerateDirectories(dir).Any(d => d.Contains(".tmp-")), "no temp folder left behind");
    }

    [Fact]
    public void ResumeChecksTheModelAndData()
    {
        using var scope = torch.NewDisposeScope();
        var data = Tiny.Examples(4);
        var dir = Path.Combine(Tiny.TempDir(), "ckpt");
        using (var model = LoraLlama())
        using (var trainer = new Trainer(model, data, null, new TrainerOptions { MaxSteps = 3, BatchSize = 2 }))
        {
            trainer.Step();
            trainer.SaveCheckpoint(dir);
        }
        using var plain = Tiny.Llama();
        plain.requires_grad_(true);
        var e = Assert.Throws<InvalidDataException>(() => Trainer.Resume(dir, plain, data));
        Assert.Contains("trainable parameters differ", e.Message);
        using var other = LoraLlama();
        Assert.Contains("4 examples", Assert.Throws<InvalidDataException>(() => Trainer.Resume(dir, other, Tiny.Examples(5))).Message);
        Assert.Throws<FileNotFoundException>(() => Trainer.Resume(Tiny.TempDir(), other, data));
    }

    [Fact]
    public void StepControlPausesContinuesAndStops()
    {
        using var scope = torch.NewDisposeScope();
        var data = Tiny.Examples(8);
        using var model = LoraLlama();
        using var trainer = new Trainer(model, data, null, new TrainerOptions { Epochs = 3, BatchSize = 2, GradientAccumulation = 2 });
        var events = new List<TrainingEvent>();
        trainer.EventRaised += events.Add;
        Assert.Equal(2, trainer.StepsPerEpoch);
        Assert.Equal(6, trainer.TotalSteps);

        var first = trainer.Step();
        Assert.Equal(1, first.Step);
        Assert.Equal(StopReason.Paused, trainer.Step(2));
        Assert.Equal(3, trainer.GlobalStep);
        Assert.Equal(1, trainer.Epoch);
        Assert.Equal(StopReason.Paused, trainer.RunUntilEpoch(2));
        Assert.Equal(4, trainer.GlobalStep);
        Assert.Equal(StopReason.Paused, trainer.RunUntil(t => t.GlobalStep == 5));

        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.Equal(StopReason.Cancelled, trainer.Run(cts.Token));
        Assert.Equal(5, trainer.GlobalStep); // stops at a step boundary, before the next step

        Assert.Equal(StopReason.Completed, trainer.Run());
        Assert.Equal(6, trainer.GlobalStep);
        Assert.True(trainer.IsFinished);
        Assert.Throws<InvalidOperationException>(() => trainer.Step());

        Assert.IsType<TrainingStarted>(events[0]);
        Assert.Equal(1, events.OfType<TrainingStarted>().Count());
        Assert.Equal(new[] { StopReason.Paused, StopReason.Paused, StopReason.Paused, StopReason.Paused, StopReason.Cancelled, StopReason.Completed },
            events.OfType<TrainingStopped>().Select(s => s.Reason));
        Assert.Equal(Enumerable.Range(1, 6), events.OfType<StepCompleted>().Select(s => s.Step));
        Assert.Equal(events, trainer.History);
        var last = trainer.Steps.Last();
        Assert.Equal(3.0, last.Epoch);
        Assert.True(last.TokensPerSecond > 0 && last.PeakMemoryBytes > 0 && last.TargetTokens > 0 && last.GradNorm > 0);
    }

    [Fact]
    public void CancellationFromAHandlerStopsAtTheNextBoundary()
    {
        using var scope = torch.NewDisposeScope();
        using var model = LoraLlama();
        using var trainer = new Trainer(model, Tiny.Examples(8), null, new TrainerOptions { MaxSteps = 10, BatchSize = 2 });
        using var cts = new CancellationTokenSource();
        trainer.StepCompleted += s => { if (s.Step == 2) cts.Cancel(); };
        Assert.Equal(StopReason.Cancelled, trainer.Run(cts.Token));
        Assert.Equal(2, trainer.GlobalStep);
        Assert.False(trainer.IsFinished);
    }

    [Fact]
    public void EarlyStoppingRestoresTheBestWeights()
    {
        using var scope = torch.NewDisposeScope();
        using var model = LoraLlama();
        // A min delta no evaluation can beat: the first evaluation stays best, so training stops after `patience` more.
        using var trainer = new Trainer(model, Tiny.Examples(8), Tiny.Examples(2, seed: 8), new TrainerOptions
        {
            MaxSteps = 20, BatchSize = 2, LearningRate = 1e-2, EvalEvery = 1, EarlyStoppingPatience = 2, EarlyStoppingMinDelta = 100,
        });
        Dictionary<string, float[]>? atStep1 = null;
        trainer.StepCompleted += s =>
        {
            if (s.Step == 1) atStep1 = trainer.OptimizedParameters.ToDictionary(p => p.Name, p => Tiny.Values(p.Parameter));
        };
        Assert.Equal(StopReason.EarlyStopped, trainer.Run());
        Assert.Equal(3, trainer.GlobalStep);
        Assert.Equal(1, trainer.BestStep);
        Assert.Equal(new[] { true, false, false }, trainer.Evaluations.Select(e => e.IsBest));
        foreach (var (name, p) in trainer.OptimizedParameters)
            Assert.Equal(atStep1![name], Tiny.Values(p));
        var e = trainer.Evaluations.First();
        Assert.Equal(Math.Exp(e.Loss), e.Perplexity, 10);
        Assert.Equal(StopReason.EarlyStopped, Assert.IsType<TrainingStopped>(trainer.History[^1]).Reason);
    }

    [Fact]
    public void StepsReportTheScheduledRateAndThePreClippingNorm()
    {
        using var scope = torch.NewDisposeScope();
        var data = Tiny.Examples(4);
        using var model = LoraLlama();
        using (torch.no_grad()) foreach (var (n, p) in model.named_parameters()) if (n.Contains("lora_B")) p.normal_(0, 0.1);
        using var trainer = new Trainer(model, data, null, new TrainerOptions
        {
            MaxSteps = 6, BatchSize = 4, LearningRate = 1e-3, Schedule = LrScheduleKind.Linear, WarmupSteps = 2, MaxGradNorm = 1e-3, Shuffle = false,
        });
        trainer.AccumulateGradients([[0, 1, 2, 3]]);
        double norm = Math.Sqrt(trainer.OptimizedParameters.Sum(p => { using var g = p.Parameter.grad!; return Math.Pow(g.norm().item<double>(), 2); }));
        trainer.Run();
        var steps = trainer.Steps.ToList();
        Assert.Equal(norm, steps[0].GradNorm, 4);
        Assert.True(norm > 1e-3, "the test needs a gradient above the clipping threshold");
        // warmup 0, ½, then linear decay over the 4 remaining steps: 1, ¾, ½, ¼ (× 1e-3)
        Assert.Equal(new[] { 0.0, 0.5e-3, 1e-3, 0.75e-3, 0.5e-3, 0.25e-3 }, steps.Select(s => Math.Round(s.LearningRate, 12)));
        Assert.Equal(0.0, trainer.CurrentLearningRate);
    }

    [Fact]
    public void SchedulesFollowTransformersFormulas()
    {
        var linear = new LrSchedule(LrScheduleKind.Linear, 10, 110);
        Assert.Equal(0.0, linear.Factor(0));
        Assert.Equal(0.5, linear.Factor(5));
        Assert.Equal(1.0, linear.Factor(10));
        Assert.Equal(0.5, linear.Factor(60));
        Assert.Equal(0.0, linear.Factor(110));
        var cosine = new LrSchedule(LrScheduleKind.Cosine, 10, 110);
        Assert.Equal(1.0, cosine.Factor(10));
        Assert.Equal(0.5, cosine.Factor(60), 12);
        Assert.Equal(0.5 * (1 + Math.Cos(Math.PI * 0.25)), cosine.Factor(35), 12);
        var constant = new LrSchedule(LrScheduleKind.Constant, 4, 100);
        Assert.Equal(0.25, constant.Factor(1));
        Assert.Equal(1.0, constant.Factor(99));
    }

    [Fact]
    public void Bf16MixedPrecisionKeepsFloat32Masters()
    {
        using var scope = torch.NewDisposeScope();
        using var model = LoraLlama();
        using var trainer = new Trainer(model, Tiny.Examples(4), null, new TrainerOptions { MaxSteps = 3, BatchSize = 2, LearningRate = 1e-2, Precision = TrainingPrecision.BFloat16 });
        // The constructor leaves the model alone; the cast happens when the run starts, and says so.
        Assert.Equal(ScalarType.Float32, model.DType);
        trainer.Run();
        Assert.Equal(ScalarType.BFloat16, model.DType);
        Assert.Equal("float32", trainer.History.OfType<TrainingStarted>().Single().CastModelFrom);
        Assert.All(trainer.Steps, s => Assert.True(double.IsFinite(s.Loss)));
        Assert.All(trainer.OptimizedParameters, p => Assert.Equal(ScalarType.Float32, p.Parameter.dtype));
        var lora = model.named_parameters().First(p => p.name.EndsWith("lora_B.weight"));
        Assert.Equal(ScalarType.BFloat16, lora.parameter.dtype);
        var master = trainer.OptimizedParameters.First(p => p.Name == lora.name).Parameter;
        Assert.True(Tiny.MaxAbsDiff(master, lora.parameter) < 1e-2);
        Assert.True(master.abs().sum().item<double>() > 0, "B moved away from zero");
    }

    [Fact]
    public void The_constructor_leaves_the_model_alone_and_a_run_puts_checkpointing_back()
    {
        using var scope = torch.NewDisposeScope();
        using var model = LoraLlama();
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.clone());
        using var trainer = new Trainer(model, Tiny.Examples(4), null, new TrainerOptions { MaxSteps = 4, BatchSize = 2, GradientCheckpointing = true, Precision = TrainingPrecision.BFloat16 });
        Assert.False(model.GradientCheckpointing);
        Assert.All(model.named_parameters(), p => Assert.True(p.parameter.dtype == ScalarType.Float32 && Tiny.MaxAbsDiff(p.parameter, before[p.name]) == 0, p.name));

        bool checkpointingDuringStep = false;
        trainer.StepCompleted += _ => checkpointingDuringStep = model.GradientCheckpointing;
        trainer.Step(2);
        Assert.True(checkpointingDuringStep);
        Assert.False(model.GradientCheckpointing);
        // The cast is stated once (the first run call), and a second call does not cast again.
        trainer.Run();
        Assert.Equal("float32", Assert.Single(trainer.History.OfType<TrainingStarted>()).CastModelFrom);
        Assert.False(model.GradientCheckpointing);

        using var plain = new Trainer(LoraLlama(), Tiny.Examples(4), null, new TrainerOptions { MaxSteps = 1, BatchSize = 2 });
        plain.Run();
        Assert.Null(plain.History.OfType<TrainingStarted>().Single().CastModelFrom);
        Assert.Equal(ScalarType.Float32, plain.Model.DType);
    }

    [Fact]
    public void Stop_evaluates_the_final_weights_and_restores_the_best()
    {
        using var scope = torch.NewDisposeScope();
        using var model = LoraLlama();
        var data = Tiny.Examples(8);
        using var trainer = new Trainer(model, data, Tiny.Examples(4, seed: 9), new TrainerOptions { MaxSteps = 40, BatchSize = 2, LearningRate = 1e-2, EvalEvery = 2, RestoreBestAtEnd = true });
        Assert.True(trainer.HasValidation);
        trainer.Step(7);
        var before = trainer.Evaluations.Count();
        var summary = trainer.Stop();
        Assert.Equal(7, summary.Step);
        // Evaluations ran at steps 2, 4 and 6; stop adds one of the weights at step 7.
        Assert.True(summary.Evaluated);
        Assert.Equal(before + 1, trainer.Evaluations.Count());
        Assert.Equal(7, trainer.Evaluations.Last().Step);
        Assert.Equal(trainer.BestStep, summary.BestStep);
        Assert.Equal(trainer.BestLoss, summary.BestLoss);
        Assert.Contains(summary.BestStep!.Value, new[] { 2, 4, 6 });
        Assert.True(summary.RestoredBest);
        // The restored weights measure the best loss again.
        var (loss, _) = trainer.Measure(Tiny.Examples(4, seed: 9));
        Assert.Equal(summary.BestLoss!.Value, loss, 5);
        // Stopping again right away evaluates nothing new.
        Assert.False(trainer.Stop().Evaluated);

        using var without = new Trainer(LoraLlama(), data, null, new TrainerOptions { MaxSteps = 4, BatchSize = 2 });
        Assert.False(without.HasValidation);
        without.Step(2);
        Assert.Equal(new StopSummary(2, false, null, null, false), without.Stop());
        Assert.Empty(without.Evaluations);
    }

    [Fact]
    public void Weight_decay_skips_vectors_by_rank_which_matches_biases_and_norms_in_both_architectures()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var model in new[] { Tiny.Llama(), Tiny.Gpt2() })
        {
            foreach (var (name, p) in model.named_parameters())
            {
                bool biasOrNorm = name.EndsWith("bias", StringComparison.Ordinal) || name.Contains("norm", StringComparison.Ordinal) || name.Contains(".ln_", StringComparison.Ordinal) || name.StartsWith("ln_f", StringComparison.Ordinal) || name.Contains(".ln_f", StringComparison.Ordinal);
                Assert.True(Trainer.DecaysWeight(p) == !biasOrNorm, $"{name} {Tensor.ShapeString(p.shape)}");
            }
            model.Dispose();
        }
    }

    [Fact]
    public void GradientCheckpointingGivesTheSameGradients()
    {
        using var scope = torch.NewDisposeScope();
        var data = Tiny.Examples(4);
        Dictionary<string, float[]> Run(bool checkpointing)
        {
            using var model = LoraLlama();
            using (torch.no_grad()) foreach (var (n, p) in model.named_parameters()) if (n.Contains("lora_B")) p.fill_(0.05);
            using var trainer = new Trainer(model, data, null, new TrainerOptions { MaxSteps = 1, BatchSize = 4, GradientCheckpointing = checkpointing });
            trainer.AccumulateGradients([[0, 1, 2, 3]]);
            return Gradients(trainer);
        }
        var plain = Run(false);
        var recomputed = Run(true);
        foreach (var (name, g) in plain)
            Assert.True(g.Zip(recomputed[name]).All(p => Math.Abs(p.First - p.Second) <= 1e-6 + 1e-4 * Math.Abs(p.First)), name);
    }

    [Fact]
    public void MetricsLoggerWritesOneJsonLinePerEvent()
    {
        using var scope = torch.NewDisposeScope();
        var path = Path.Combine(Tiny.TempDir(), "metrics.jsonl");
        using var model = LoraLlama();
        using var trainer = new Trainer(model, Tiny.Examples(4), Tiny.Examples(2, seed: 6), new TrainerOptions { MaxSteps = 2, BatchSize = 2 });
        using (new MetricsLogger(trainer, path)) trainer.Run();
        var lines = File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(new[] { "started", "step", "step", "eval", "stopped" }, lines.Select(l => l["event"]!.GetValue<string>()));
        var step = lines[1];
        foreach (var field in new[] { "step", "epoch", "loss", "learning_rate", "grad_norm", "tokens_per_second", "target_tokens", "elapsed_seconds", "peak_memory_bytes" })
            Assert.NotNull(step[field]);
        Assert.Equal("completed", lines[^1]["reason"]!.GetValue<string>());
        Assert.Equal(trainer.History.Count, lines.Count);
    }

    [Fact]
    public void MetricsOfAResumedRunHoldEachStepOnce()
    {
        // A process that ran past its last checkpoint (killed, or interrupted without saving) left records of steps
        // the resumed run repeats: the file must hold each step once, as the uninterrupted run's file does.
        using var scope = torch.NewDisposeScope();
        var dir = Tiny.TempDir();
        var path = Path.Combine(dir, "metrics.jsonl");
        var data = Tiny.Examples(8);
        var options = new TrainerOptions { MaxSteps = 4, BatchSize = 2 };
        using (var model = LoraLlama())
        using (var trainer = new Trainer(model, data, null, options))
        using (new MetricsLogger(trainer, path))
        {
            trainer.RunUntilStep(2);
            trainer.SaveCheckpoint(Path.Combine(dir, "ckpt"));
            trainer.Run();
        }
        using (var model = LoraLlama())
        using (var trainer = Trainer.Resume(Path.Combine(dir, "ckpt"), model, data))
        using (new MetricsLogger(trainer, path))
            trainer.Run();
        var steps = File.ReadAllLines(path).Select(l => JsonNode.Parse(l)!.AsObject())
            .Where(l => l["event"]!.GetValue<string>() == "step").Select(l => l["step"]!.GetValue<int>());
        Assert.Equal(new[] { 1, 2, 3, 4 }, steps);
    }

    [Fact]
    public void FullFineTuningTrainsEveryParameter()
    {
        using var scope = torch.NewDisposeScope();
        using var model = Tiny.Llama();
        model.requires_grad_(true);
        var before = Tiny.Values(model.get_parameter("model.embed_tokens.weight"));
        using var trainer = new Trainer(model, Tiny.Examples(4), null, new TrainerOptions { MaxSteps = 2, BatchSize = 2, LearningRate = 1e-3 });
        Assert.Equal(model.parameters().Count(), trainer.TrainableParameterNames.Count);
        trainer.Run();
        Assert.NotEqual(before, Tiny.Values(model.get_parameter("model.embed_tokens.weight")));
    }

    [Fact]
    public void BadOptionsNameTheOption()
    {
        using var scope = torch.NewDisposeScope();
        using var model = LoraLlama();
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new Trainer(model, Tiny.Examples(2), null, new TrainerOptions { MaxSteps = 1, LearningRate = -1 }));
        Assert.Contains("LearningRate", e.Message);
        Assert.Throws<ArgumentException>(() => new Trainer(model, Tiny.Examples(2), null, new TrainerOptions()));
        using var frozen = Tiny.Llama();
        frozen.requires_grad_(false);
        Assert.Contains("no trainable parameters", Assert.Throws<InvalidOperationException>(() => new Trainer(frozen, Tiny.Examples(2), null, new TrainerOptions { MaxSteps = 1 })).Message);
    }
}
