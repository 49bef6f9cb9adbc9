using Tunebook.Interactive;
using Tunebook.Notebook.Magics;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Tests;

/// <summary>Parsing and validation of every magic's command line: good lines bind, bad ones are usage errors with the usage text.</summary>
public class MagicTests
{
    static MagicCommand M(string name) => NotebookExtension.Magics.Single(m => m.Name == name);

    static T Parse<T>(string name, string args) => (T)MagicParser.Parse(M(name), args);

    static MagicUsageException Bad(string name, string args) => Assert.Throws<MagicUsageException>(() => MagicParser.Parse(M(name), args));

    [Fact]
    public void Extension_registers_all_magics_with_help_naming_the_csharp_call()
    {
        Assert.Equal(["model", "data", "lora", "train", "generate", "compare", "save", "runs"], NotebookExtension.Magics.Select(m => m.Name));
        foreach (var magic in NotebookExtension.Magics)
        {
            var help = MagicHelp.Usage(magic);
            Assert.StartsWith($"Usage: #!{magic.Name}", help);
            Assert.Contains("Tune.", help); // each --help documents the equivalent C# call
        }
    }

    [Fact]
    public void Model_load_binds_path_and_options()
    {
        var o = Parse<ModelOptions>("model", "load starter --device cpu --dtype bfloat16 --quantize nf4");
        Assert.Equal(("load", "starter", "cpu", "bfloat16", "nf4"), (o.Action, o.Path, o.Device, o.DType, o.Quantize));
        Assert.Contains("--quantize", Bad("model", "load starter --quantize int8").Message);
        Assert.Contains("--device", Bad("model", "load starter --device tpu").Message);
        Bad("model", "load");
        Bad("model", "fetch starter");
    }

    [Fact]
    public void Data_load_binds_and_validates()
    {
        var o = Parse<DataOptions>("data", "load datasets/puddle/train.jsonl --format chat --val 0.2 --max-length 128");
        Assert.Equal(("datasets/puddle/train.jsonl", "chat", 0.2, 128), (o.File, o.Format, o.Val, o.MaxLength));
        Assert.Equal(Tunebook.Tuning.Data.DataFormat.PromptCompletion, DataMagic.ParseFormat("completion"));
        Bad("data", "load x.jsonl --format yaml");
        Bad("data", "load x.jsonl --val abc");
        Bad("data", "load x.jsonl --max-length 1.5");
    }

    [Fact]
    public void Lora_options_become_a_validated_config()
    {
        var o = Parse<LoraOptions>("lora", "--rank 4 --alpha 8 --dropout 0.1 --targets q_proj,k_proj");
        var config = LoraMagic.ToConfig(o);
        Assert.Equal((4, 8.0, 0.1), (config.R, config.Alpha, config.Dropout));
        Assert.Equal(2.0, config.Scaling);
        Assert.Null(config.ModulesToSave);
        Assert.Equal(["embed_tokens", "lm_head"], LoraMagic.ToConfig(Parse<LoraOptions>("lora", "--modules-to-save embed_tokens,lm_head")).ModulesToSave);
        Assert.Contains("--rank", Assert.Throws<MagicUsageException>(() => LoraMagic.ToConfig(Parse<LoraOptions>("lora", "--rank 0"))).Message);
        Assert.Contains("--dropout", Assert.Throws<MagicUsageException>(() => LoraMagic.ToConfig(Parse<LoraOptions>("lora", "--dropout 1.5"))).Message);
        Bad("lora", "--rank eight");
        Bad("lora", "--unknown 3");
    }

    [Fact]
    public void Train_options_map_to_trainer_options()
    {
        var o = Parse<TrainOptions>("train", "--steps 30 --lr 1e-3 --batch 8 --accum 2 --eval-every 10 --schedule cosine --warmup 5 --early-stopping 2");
        var t = TrainMagic.ToOptions(o);
        Assert.Equal((30, 1e-3, 8, 2, 10, LrScheduleKind.Cosine, 5, 2), (t.MaxSteps, t.LearningRate, t.BatchSize, t.GradientAccumulation, t.EvalEvery, t.Schedule, t.WarmupSteps, t.EarlyStoppingPatience));
        Assert.Equal(2, TrainMagic.ToOptions(Parse<TrainOptions>("train", "--epochs 2")).Epochs);
        Assert.Equal(TrainingPrecision.Float32, TrainMagic.ToOptions(Parse<TrainOptions>("train", "--steps 2")).Precision);
        Assert.Equal(TrainingPrecision.BFloat16, TrainMagic.ToOptions(Parse<TrainOptions>("train", "--steps 2 --bf16")).Precision);
        Assert.Equal(TrainingPrecision.BFloat16, TrainMagic.ToOptions(Parse<TrainOptions>("train", "--steps 2 --precision bf16")).Precision);
        Assert.Equal(TrainingPrecision.Auto, TrainMagic.ToOptions(Parse<TrainOptions>("train", "--steps 2 --precision auto")).Precision);
        Assert.Contains("disagree", Assert.Throws<MagicUsageException>(() => TrainMagic.ToOptions(Parse<TrainOptions>("train", "--steps 2 --bf16 --precision float32"))).Message);
        Bad("train", "--steps 2 --precision fp8");
        Assert.Contains("--steps", Assert.Throws<MagicUsageException>(() => TrainMagic.ToOptions(Parse<TrainOptions>("train", "--lr 1e-3"))).Message);
        Assert.Throws<MagicUsageException>(() => TrainMagic.ToOptions(Parse<TrainOptions>("train", "--steps 10 --lr -1")));
        Assert.Throws<MagicUsageException>(() => TrainMagic.ToOptions(Parse<TrainOptions>("train", "--steps 10 --batch 0")));
        Bad("train", "--steps 10 --schedule wavy");
        Bad("train", "pause");
    }

    [Fact]
    public void Magic_defaults_are_those_of_TrainerOptions_and_LoraConfig()
    {
        Assert.Equal(new TrainerOptions { MaxSteps = 9 }, TrainMagic.ToOptions(Parse<TrainOptions>("train", "--steps 9")));
        var lora = LoraMagic.ToConfig(Parse<LoraOptions>("lora", ""));
        var defaults = new Tunebook.Tuning.Lora.LoraConfig();
        Assert.Equal((defaults.R, defaults.Alpha, defaults.Dropout, defaults.UseRsLora, defaults.Seed, defaults.ModulesToSave),
            (lora.R, lora.Alpha, lora.Dropout, lora.UseRsLora, lora.Seed, lora.ModulesToSave));
        Assert.Equal(defaults.Targets.ModuleNames, lora.Targets.ModuleNames);
        // The YAML config of ./tunebook train has the same defaults (Tunebook.Tuning.Tests.DefaultsTests).
    }

    [Fact]
    public void Train_step_count_defaults_to_one_and_rejects_nonsense()
    {
        Assert.Equal(1, TrainMagic.StepCount(Parse<TrainOptions>("train", "step")));
        Assert.Equal(5, TrainMagic.StepCount(Parse<TrainOptions>("train", "step 5")));
        Assert.Equal("continue", Parse<TrainOptions>("train", "continue").Action);
        Assert.Equal("stop", Parse<TrainOptions>("train", "stop").Action);
        Assert.Throws<MagicUsageException>(() => TrainMagic.StepCount(Parse<TrainOptions>("train", "step -2")));
        Assert.Throws<MagicUsageException>(() => TrainMagic.StepCount(Parse<TrainOptions>("train", "step many")));
    }

    [Fact]
    public void Generate_options_validate_sampling_settings()
    {
        var o = Parse<GenerateOptions>("generate", "\"How do I list zones?\" --max-tokens 20 --temperature 0.7 --top-p 0.9 --seed 3");
        Assert.Equal("How do I list zones?", o.Prompt);
        var g = GenerateMagic.ToOptions(o);
        Assert.Equal((20, true, 0.7, 0.9, 3L), (g.MaxNewTokens, g.DoSample, g.Temperature, g.TopP, g.Seed));
        Assert.False(GenerateMagic.ToOptions(Parse<GenerateOptions>("generate", "hi")).DoSample);
        Assert.Throws<MagicUsageException>(() => GenerateMagic.ToOptions(Parse<GenerateOptions>("generate", "hi --top-p 1.5")));
        Assert.Throws<MagicUsageException>(() => GenerateMagic.ToOptions(Parse<GenerateOptions>("generate", "hi --max-tokens 0")));
        Bad("generate", "");
    }

    [Fact]
    public void Compare_and_save_bind_their_arguments()
    {
        var c = Parse<CompareOptions>("compare", "\"a b\" \"c\" --heldout datasets/puddle/heldout.jsonl --count 3");
        Assert.Equal(["a b", "c"], c.Prompts);
        Assert.Equal(("datasets/puddle/heldout.jsonl", 3), (c.HeldOut, c.Count));
        var s = Parse<SaveOptions>("save", "adapter out/x");
        Assert.Equal(("adapter", "out/x"), (s.What, s.Path));
        Bad("save", "weights out/x");
        Bad("save", "adapter");
        Bad("compare", "--count x");
    }

    [Fact]
    public async Task Magics_that_need_a_model_say_how_to_get_one()
    {
        var context = new FakeContext();
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => M("lora").RunAsync(MagicParser.Parse(M("lora"), ""), context));
        Assert.Contains("#!model load", e.Message);
        var t = await Assert.ThrowsAsync<InvalidOperationException>(() => M("train").RunAsync(MagicParser.Parse(M("train"), "continue"), context));
        Assert.Contains("#!train --steps", t.Message);
    }
}

/// <summary>An IMagicContext over a dictionary of variables and a recording host.</summary>
sealed class FakeContext : IMagicContext
{
    public Dictionary<string, object?> Variables { get; } = [];
    public RecordingHost Recorder { get; } = new();
    public INotebookHost Host => Recorder;
    public string CellBody => "";
    public StringWriter Output { get; } = new();
    public TextWriter Out => Output;
    public object? GetVariable(string name) => Variables.GetValueOrDefault(name);
    public void SetVariable(string name, object? value) => Variables[name] = value;
    public Task<object?> RunCodeAsync(string code, CancellationToken cancellation = default) => throw new NotSupportedException();
}
