using Tunebook.Tuning.Config;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>A YAML config that leaves keys out means what <c>new TrainerOptions</c> and <c>new LoraConfig</c> mean.</summary>
public class DefaultsTests
{
    [Fact]
    public void A_minimal_yaml_config_has_the_defaults_of_TrainerOptions_and_LoraConfig()
    {
        var config = TrainConfig.Parse("""
            model: starter
            output: out/defaults
            data:
              file: datasets/puddle/train.jsonl
            trainer:
              steps: 7
            """);
        Assert.Equal(new TrainerOptions { MaxSteps = 7 }, config.Trainer.ToOptions());

        var lora = config.Adapter.ToLoraConfig();
        var defaults = new LoraConfig();
        Assert.Equal((defaults.R, defaults.Alpha, defaults.Dropout, defaults.UseRsLora, defaults.Scaling),
            (lora.R, lora.Alpha, lora.Dropout, lora.UseRsLora, lora.Scaling));
        Assert.Equal(defaults.Targets.ModuleNames, lora.Targets.ModuleNames);
        Assert.Equal(0, lora.Dropout);
    }

    [Theory]
    [InlineData("fp32", TrainingPrecision.Float32)]
    [InlineData("float32", TrainingPrecision.Float32)]
    [InlineData("bf16", TrainingPrecision.BFloat16)]
    [InlineData("BFloat16", TrainingPrecision.BFloat16)]
    public void The_trainer_dtype_is_read_by_the_one_dtype_parser(string dtype, TrainingPrecision expected)
    {
        var config = TrainConfig.Parse($"""
            model: starter
            output: out/defaults
            data:
              file: datasets/puddle/train.jsonl
            trainer:
              steps: 7
              dtype: {dtype}
            """);
        Assert.Equal(expected, config.Trainer.ToOptions().Precision);
        Assert.Equal(expected == TrainingPrecision.BFloat16 ? "bfloat16" : "float32", config.Trainer.DType);
    }

    [Fact]
    public void A_dtype_that_is_not_for_training_is_an_error_with_its_line()
    {
        var e = Assert.Throws<TrainConfigException>(() => TrainConfig.Parse("""
            model: starter
            output: out/defaults
            data:
              file: datasets/puddle/train.jsonl
            trainer:
              steps: 7
              dtype: float16
            """, "run.yaml"));
        Assert.Contains("trainer.dtype", e.Message);
        Assert.StartsWith("run.yaml:7:", e.Message);
        Assert.Contains("float16", e.Message);
    }
}
