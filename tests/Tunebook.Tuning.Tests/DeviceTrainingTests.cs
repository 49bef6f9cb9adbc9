using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>LoRA training on <see cref="TestDevice.Current"/> (TUNEBOOK_TEST_DEVICE; CPU by default).</summary>
[Collection(TorchCollection.Name)]
public class DeviceTrainingTests
{
    [Theory]
    [InlineData(TrainingPrecision.Float32)]
    [InlineData(TrainingPrecision.BFloat16)]
    public void LoraTrainingLowersTheLossAndReportsPeakMemoryOfTheRightKind(TrainingPrecision precision)
    {
        using var scope = torch.NewDisposeScope();
        var device = TestDevice.Current;
        var model = Tiny.Llama(seed: 4);
        model.to(device);
        torch.manual_seed(5);
        LoraModel.Apply(model, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.AllLinearLayers });
        var data = Tiny.Examples(4, seed: 6);
        using var trainer = new Trainer(model, data, null, new TrainerOptions { MaxSteps = 12, BatchSize = 4, LearningRate = 2e-2, Shuffle = false, Precision = precision });
        trainer.Step(12);
        var steps = trainer.Steps.ToList();
        Assert.Equal(12, steps.Count);
        Assert.True(steps[^1].Loss < steps[0].Loss - 0.05, $"{precision} on {device}: loss {steps[0].Loss} -> {steps[^1].Loss}");
        // On cuda the figure is the caching allocator's peak (the process RSS says nothing about the GPU).
        Assert.Equal(device.IsCuda, steps[^1].PeakMemoryOnGpu);
        Assert.True(steps[^1].PeakMemoryBytes > 0);
        // (On CPU the figure is the process's VmHWM, which other tests in the process may reset: no ordering is asserted.)
        if (device.IsCuda) Assert.InRange(steps[^1].PeakMemoryBytes, torch.cuda.memory_allocated(device.Index), torch.cuda.max_memory_allocated(device.Index));
    }
}
