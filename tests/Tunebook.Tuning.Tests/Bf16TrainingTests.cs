using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>
/// bf16 mixed precision (bfloat16 compute, float32 master weights) trains the same model as float32:
/// the same start, data and order, and the loss curves stay within bfloat16's rounding of each other.
/// </summary>
[Collection(TorchCollection.Name)]
public class Bf16TrainingTests
{
    const int Steps = 60;

    // bfloat16 keeps 8 significant bits (relative rounding 2⁻⁹ ≈ 0.2% per value), and over 60 updates the
    // two runs drift apart by about that much. Measured worst relative gap over the 60 steps: 0.19% for
    // LoRA, 0.20% for QLoRA; 1% leaves room for other CPUs' kernels, while a broken cast (adapters left at
    // zero, gradients lost in bf16, masters not copied back) moves the curve by far more.
    const double Tolerance = 0.01;

    static List<double> Losses(bool qlora, TrainingPrecision precision)
    {
        using var scope = torch.NewDisposeScope();
        using var model = Tiny.Llama(seed: 5);
        if (qlora) Nf4Quantizer.QuantizeModel(model);
        torch.manual_seed(6);
        LoraModel.Apply(model, new LoraConfig { R = 8, Alpha = 16, Targets = LoraTargets.AllLinearLayers });
        using var trainer = new Trainer(model, Tiny.Examples(32, seed: 4, minLength: 8, maxLength: 16), null, new TrainerOptions
        {
            MaxSteps = Steps, BatchSize = 8, LearningRate = 1e-2, WarmupSteps = 5, Schedule = LrScheduleKind.Cosine, Precision = precision,
        });
        trainer.Run();
        Assert.Equal(precision == TrainingPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32, model.DType);
        return trainer.Steps.Select(s => s.Loss).ToList();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Bf16LossTracksFloat32(bool qlora)
    {
        var fp32 = Losses(qlora, TrainingPrecision.Float32);
        var bf16 = Losses(qlora, TrainingPrecision.BFloat16);
        Assert.Equal(Steps, bf16.Count);
        var gaps = fp32.Zip(bf16, (a, b) => Math.Abs(a - b) / Math.Abs(a)).ToList();
        double worst = gaps.Max();
        int at = gaps.IndexOf(worst) + 1;
        Assert.True(worst <= Tolerance, $"worst relative gap {worst:P2} at step {at}: fp32 {fp32[at - 1]:F4}, bf16 {bf16[at - 1]:F4}");
        // Both learn, and by the same amount: the comparison above is of two curves that move.
        Assert.True(fp32[^1] < 0.8 * fp32[0], $"fp32 loss {fp32[0]:F3} → {fp32[^1]:F3}");
        Assert.True(bf16[^1] < 0.8 * bf16[0], $"bf16 loss {bf16[0]:F3} → {bf16[^1]:F3}");
        Console.WriteLine($"bf16 vs fp32 ({(qlora ? "QLoRA" : "LoRA")}, {Steps} steps): worst relative loss gap {worst:P2} at step {at}; final {fp32[^1]:F4} vs {bf16[^1]:F4}");
    }

    [Fact]
    public void TheSpeedWarningComparesTheBfloat16AndFloat32Rates()
    {
        Assert.Null(BFloat16Speed.Warning(400, 200));
        Assert.Null(BFloat16Speed.Warning(200, 200));
        var warning = BFloat16Speed.Warning(2.5, 100);
        Assert.NotNull(warning);
        Assert.Contains("2.5 GFLOP/s against 100.0 in float32 (40x slower", warning);
    }

    [Fact]
    public void AutoTakesBf16WhereBfloat16ProductsAreClearlyFaster()
    {
        Assert.Equal(TrainingPrecision.BFloat16, BFloat16Speed.Choose(410, 212, "cpu").Precision);
        Assert.Equal(TrainingPrecision.BFloat16, BFloat16Speed.Choose(300, 200, "cpu").Precision);   // exactly 1.5x
        Assert.Equal(TrainingPrecision.Float32, BFloat16Speed.Choose(290, 200, "cpu").Precision);
        Assert.Equal(TrainingPrecision.Float32, BFloat16Speed.Choose(2.5, 100, "cpu").Precision);      // AVX2: a generic loop
        Assert.Equal(TrainingPrecision.Float32, BFloat16Speed.Choose(double.NaN, 100, "cpu").Precision);
        var (_, reason) = BFloat16Speed.Choose(410, 212, "cpu");
        Assert.Equal("precision auto: bf16 (bfloat16 products at 410 GFLOP/s against 212 in float32 on cpu)", reason);
    }

    [Fact]
    public void AnAutoRunRecordsTheChoiceItMade()
    {
        using var scope = torch.NewDisposeScope();
        using var model = Tiny.Llama();
        LoraModel.Apply(model, new LoraConfig { R = 4, Targets = LoraTargets.AllLinearLayers });
        using var trainer = new Trainer(model, Tiny.Examples(4), null, new TrainerOptions { MaxSteps = 1, BatchSize = 2, Precision = TrainingPrecision.Auto });
        var (expected, reason) = BFloat16Speed.Choose(Device.CPU);
        // The options hold the precision chosen (so run records, checkpoints and replays name it), never Auto.
        Assert.Equal(expected, trainer.Options.Precision);
        Assert.Equal(reason, trainer.PrecisionChoice);
        trainer.Step();
        Assert.Equal(expected == TrainingPrecision.BFloat16 ? ScalarType.BFloat16 : ScalarType.Float32, model.DType);
        Assert.Equal(reason, trainer.History.OfType<TrainingStarted>().Single().PrecisionChoice);
    }

    [Fact]
    public void ABf16RunWarnsExactlyWhereBfloat16ProductsAreSlowerThanFloat32()
    {
        var (bf16, fp32) = BFloat16Speed.Measure(Device.CPU);
        Assert.True(bf16 > 0 && fp32 > 0, $"rates {bf16} and {fp32} GFLOP/s");
        foreach (var precision in new[] { TrainingPrecision.Float32, TrainingPrecision.BFloat16 })
        {
            using var scope = torch.NewDisposeScope();
            using var model = Tiny.Llama();
            LoraModel.Apply(model, new LoraConfig { R = 4, Targets = LoraTargets.AllLinearLayers });
            using var trainer = new Trainer(model, Tiny.Examples(4), null, new TrainerOptions { MaxSteps = 1, BatchSize = 2, Precision = precision });
            trainer.Step();
            bool warned = trainer.History.OfType<TrainingWarning>().Any(w => w.Message.StartsWith("bf16 on this CPU", StringComparison.Ordinal));
            Assert.Equal(precision == TrainingPrecision.BFloat16 && bf16 < fp32, warned);
        }
    }

    [Fact]
    public void EachStepReportsWhereItsTimeWent()
    {
        using var scope = torch.NewDisposeScope();
        using var model = Tiny.Llama();
        LoraModel.Apply(model, new LoraConfig { R = 4, Targets = LoraTargets.AllLinearLayers });
        using var trainer = new Trainer(model, Tiny.Examples(8), null, new TrainerOptions { MaxSteps = 3, BatchSize = 2, GradientAccumulation = 2, Precision = TrainingPrecision.BFloat16 });
        double before = 0;
        foreach (var step in Enumerable.Range(0, 3).Select(_ => trainer.Step()))
        {
            var p = Assert.IsType<StepPhaseTimes>(step.Phases);
            Assert.True(p.Forward > 0 && p.Backward > 0 && p.Optimizer > 0 && p.Host >= 0, p.ToString());
            // The phases split the step: together they are no longer than the training time it added.
            Assert.True(p.Total <= step.ElapsedSeconds - before + 1e-6, $"{p} against {step.ElapsedSeconds - before}s");
            before = step.ElapsedSeconds;
        }
        // Timings are not part of the recorded history (a replay could not reproduce them).
        Assert.DoesNotContain("Phases", MetricsLogger.ToJsonLine(trainer.Steps.First()));
    }
}
