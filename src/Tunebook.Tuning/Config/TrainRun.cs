using System.Globalization;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Config;

/// <summary>
/// Runs a <see cref="TrainConfig"/> end to end, as <c>./tunebook train</c> does: load the model, prepare
/// LoRA / QLoRA / full fine-tuning, load the data, train with a progress line per logging step, and
/// write the result to the output folder: the adapter in PEFT's format (or the full model in Hugging
/// Face layout), metrics.jsonl, train_config.yaml (the resolved config) and, with checkpoint_every or
/// on interruption, a resumable checkpoint/.
/// </summary>
public static class TrainRun
{
    /// <summary>What a run produced.</summary>
    public sealed record Result(StopReason Reason, int Steps, double? FinalLoss, double? BestValidationLoss, int? BestStep, string OutputFolder);

    /// <summary>
    /// Trains as <paramref name="config"/> says. <paramref name="log"/> receives the progress lines;
    /// <paramref name="resume"/> continues from output/checkpoint; cancellation stops at a step boundary,
    /// saves a checkpoint and the adapter so far.
    /// </summary>
    public static Result Run(TrainConfig config, Action<string> log, bool resume = false, CancellationToken cancellationToken = default) =>
        Run(config, log, resume, stopAtStep: null, cancellationToken);

    /// <summary>
    /// As <see cref="Run(TrainConfig, Action{string}, bool, CancellationToken)"/>; <paramref name="stopAtStep"/> pauses the
    /// run after that step (the schedule stays the full run's, so the steps done are those of the full run), as replay
    /// --steps does. The output folder is also the run folder: run.json records what produced the run (Runs/RunRecord).
    /// </summary>
    public static Result Run(TrainConfig config, Action<string> log, bool resume, int? stopAtStep, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(log);
        var output = config.Resolve(config.Output);
        Directory.CreateDirectory(output);
        var device = Device.ParseSpec(config.Trainer.Device);
        if (device.IsCuda && !torch.cuda.is_available())
            throw new TrainConfigException(config.SourceFile, null, "trainer.device", $"'{config.Trainer.Device}' was asked for, but no CUDA device is available (libtorch {torch.__version__})");

        var folder = ModelFolder(config);
        log($"model: {folder}");
        using var scope = torch.NewDisposeScope();
        var model = CausalLM.FromPretrained(folder, device);
        var tokenizer = model.Tokenizer ?? throw new TrainConfigException(config.SourceFile, null, "model", $"{folder} has no tokenizer (tokenizer.json); training data cannot be tokenized");

        LoraModel? lora = null;
        switch (config.Adapter.Mode)
        {
            case "qlora":
                log(Nf4Quantizer.QuantizeModel(model).ToString());
                lora = LoraModel.Apply(model, config.Adapter.ToLoraConfig());
                break;
            case "lora":
                lora = LoraModel.Apply(model, config.Adapter.ToLoraConfig());
                break;
            default:
                model.requires_grad_(true);
                break;
        }
        log(Lora.TrainableParameters.Of(model).ToString());

        var (train, validation, report) = ConfigData.Load(config, tokenizer);
        log($"data: {train}{(validation is null ? "" : $"; validation: {validation.Examples.Count} examples")}");
        var options = config.Trainer.ToOptions();
        int plannedSteps = options.MaxSteps ?? options.Epochs!.Value * Math.Max(1, (train.Count + options.BatchSize - 1) / options.BatchSize / options.GradientAccumulation);
        foreach (var dropped in report.Dropped.Take(10))
            log($"dropped: {dropped.Location}: {dropped.Reason}");
        if (report.Dropped.Count > 10) log($"dropped: … and {report.Dropped.Count - 10} more examples");
        foreach (var warning in report.WarningsFor(plannedSteps, options.BatchSize, options.GradientAccumulation))
            log($"warning: {warning}");
        var checkpoint = Path.Combine(output, "checkpoint");
        // On resume the config's trainer settings apply (so raising trainer.steps extends a finished run).
        using var trainer = resume ? Trainer.Resume(checkpoint, model, train, validation, options) : new Trainer(model, train, validation, options);
        var dataFiles = new List<(string Role, string Path)> { ("train", config.Resolve(config.Data.File)) };
        if (config.Data.ValidationFile is { } vf) dataFiles.Add(("validation", config.Resolve(vf)));
        if (config.Data.HeldoutFile is { } hf) dataFiles.Add(("heldout", config.Resolve(hf)));
        // run.json and metrics.jsonl (fresh unless resuming); the inputs are hashed here, once.
        using var record = new Runs.RunRecorder(trainer, output, new Runs.RunInputs
        {
            ModelFolder = folder, DataFiles = dataFiles, Train = train, Validation = validation, StartedBy = "config",
            Options = new Dictionary<string, object?> { ["adapter"] = config.Adapter, ["data"] = config.Data },
            // The adapters' initialisation seed is LoraConfig's (the config has no field for it): recorded all the same.
            Seeds = lora?.Config.Seed is { } loraSeed
                ? new Dictionary<string, long> { ["data"] = config.Trainer.Seed, ["lora"] = loraSeed }
                : new Dictionary<string, long> { ["data"] = config.Trainer.Seed },
            Config = config.ToYaml(), ConfigFile = config.SourceFile is null ? null : Path.GetFullPath(config.SourceFile),
        });
        Tunebook.IO.AtomicFile.WriteAllText(Path.Combine(output, "train_config.yaml"), config.ToYaml());

        int logEvery = config.Trainer.LogEvery;
        int width = trainer.TotalSteps.ToString(CultureInfo.InvariantCulture).Length;
        // The bf16 cast happens when the run starts and outlives it (docs/tuning.md): say so.
        trainer.Started += s =>
        {
            if (s.PrecisionChoice is { } choice) log(choice);
            if (s.CastModelFrom is { } from) log($"model: cast from {from} to bfloat16 for bf16 training");
        };
        trainer.StepCompleted += s =>
        {
            if (s.Step % logEvery == 0 || s.Step == trainer.TotalSteps) log(ProgressLine(s, trainer.TotalSteps, width));
            if (config.Trainer.CheckpointEvery is { } every && s.Step % every == 0 && s.Step < trainer.TotalSteps) trainer.SaveCheckpoint(checkpoint);
        };
        trainer.Evaluated += e => log(string.Create(CultureInfo.InvariantCulture,
            $"eval  step {e.Step.ToString().PadLeft(width)}  val_loss {e.Loss:0.0000}  ppl {e.Perplexity:0.00}{(e.IsBest ? "  best" : "")}"));
        trainer.Warning += w => log($"warning: {w.Message}");

        var reason = stopAtStep is { } stop ? trainer.RunUntilStep(stop, cancellationToken) : trainer.Run(cancellationToken);
        if (reason == StopReason.Cancelled)
        {
            trainer.SaveCheckpoint(checkpoint);
            log($"interrupted at step {trainer.GlobalStep}; checkpoint saved to {checkpoint} (continue with --resume)");
        }
        else if (reason == StopReason.EarlyStopped)
        {
            log($"early stopping at step {trainer.GlobalStep}: best validation loss {trainer.BestLoss:0.0000} at step {trainer.BestStep} (weights restored)");
        }

        if (lora is not null)
        {
            lora.SaveAdapter(output, Path.GetFullPath(folder));
            log($"adapter saved to {output} ({LoraAdapter.ConfigFile}, {LoraAdapter.WeightsFile})");
            record.RecordOutput("adapter", output);
        }
        else
        {
            if (trainer.Options.Precision == TrainingPrecision.BFloat16)
                foreach (var (name, master) in trainer.OptimizedParameters) using (torch.no_grad()) model.get_parameter(name).copy_(master);
            model.SavePretrained(output);
            log($"model saved to {output}");
            record.RecordOutput("model", output);
        }
        var last = trainer.Steps.LastOrDefault();
        return new Result(reason, trainer.GlobalStep, last?.Loss, trainer.BestLoss, trainer.BestStep, output);
    }

    /// <summary>"step  12/200  epoch 0.48  loss 2.3456  lr 1.20e-04  grad 0.812  1234 tok/s  mem 512 MiB".</summary>
    public static string ProgressLine(StepCompleted s, int total, int width) => string.Create(CultureInfo.InvariantCulture,
        $"step {s.Step.ToString().PadLeft(width)}/{total}  epoch {s.Epoch:0.00}  loss {s.Loss:0.0000}  lr {s.LearningRate:0.00e+00}  grad {s.GradNorm:0.000}  {s.TokensPerSecond:0} tok/s  mem {ModelSummary.FormatBytes(s.PeakMemoryBytes)}");

    /// <summary>The model folder: the config's path, or datasets/starter for "starter".</summary>
    public static string ModelFolder(TrainConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        // A folder is relative to the config file; "starter" is found in the repository (RepositoryPaths).
        var model = config.Model.Equals(RepositoryPaths.Starter, StringComparison.OrdinalIgnoreCase) ? config.Model : config.Resolve(config.Model);
        try { return RepositoryPaths.ModelFolder(model); }
        catch (IOException e) { throw new TrainConfigException(config.SourceFile, null, "model", e.Message); }
    }
}
