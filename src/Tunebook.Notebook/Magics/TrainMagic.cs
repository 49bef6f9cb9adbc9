using Tunebook.Interactive;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Magics;

public sealed class TrainOptions
{
    // Every default is the trainer's own, so #!train and new TrainerOptions { … } mean the same run.
    static readonly TrainerOptions Defaults = new();

    [Argument(0, "action", Help = "Omit to start a run; step [N], continue or stop act on `trainer`", Required = false, Choices = ["step", "continue", "stop"])]
    public string? Action { get; set; }
    [Argument(1, "n", Help = "Steps for 'step' (default 1)", Required = false)] public string? Count { get; set; }
    [Option("--steps", Help = "Optimizer steps to run")] public int? Steps { get; set; }
    [Option("--epochs", Help = "Passes over the data (when --steps is not given)")] public int? Epochs { get; set; }
    [Option("--lr", Help = "Peak learning rate")] public double LearningRate { get; set; } = Defaults.LearningRate;
    [Option("--batch", Help = "Examples per micro-batch")] public int Batch { get; set; } = Defaults.BatchSize;
    [Option("--accum", Help = "Micro-batches per optimizer step (gradient accumulation)")] public int Accum { get; set; } = Defaults.GradientAccumulation;
    [Option("--eval-every", Help = "Evaluate on the validation data every N steps")] public int? EvalEvery { get; set; }
    [Option("--schedule", Help = "Learning-rate schedule after warmup")] public LrScheduleKind Schedule { get; set; } = Defaults.Schedule;
    [Option("--warmup", Help = "Linear warmup steps")] public int Warmup { get; set; } = Defaults.WarmupSteps;
    [Option("--weight-decay", Help = "AdamW weight decay")] public double WeightDecay { get; set; } = Defaults.WeightDecay;
    [Option("--max-grad-norm", Help = "Clip the gradient norm (0: no clipping)")] public double MaxGradNorm { get; set; } = Defaults.MaxGradNorm ?? 0;
    [Option("--early-stopping", Help = "Stop after N evaluations without improvement")] public int? Patience { get; set; }
    [Option("--seed", Help = "Seed of the data order and dropout")] public long Seed { get; set; } = Defaults.Seed;
    [Option("--bf16", Help = "bf16 mixed precision (the same as --precision bf16)")] public bool BFloat16 { get; set; }
    [Option("--precision", Help = "float32, bf16 (mixed precision), or auto: bf16 where this device multiplies bfloat16 at least 1.5x as fast as float32", Choices = ["float32", "bf16", "auto"])]
    public string? Precision { get; set; }
    [Option("--run", Help = "Name of the run folder under runs/ (default: the date and time)")] public string? Run { get; set; }
    [Option("--no-record", Help = "Do not write a run record (runs/NAME/run.json, metrics.jsonl)")] public bool NoRecord { get; set; }
}

/// <summary>#!train → variable <c>trainer</c>, with the live view; #!train step [N] | continue | stop act on it.</summary>
public sealed class TrainMagic : MagicCommand<TrainOptions>
{
    public override string Name => "train";
    public override string Summary => "Train `model` on `data` (variable `trainer`) with a live view; step [N], continue and stop control the run";
    public override IReadOnlyList<string> Examples =>
    [
        "#!train --steps 60 --lr 2e-3 --batch 8 --eval-every 20      (records the run in runs/DATE-TIME; --run NAME, --no-record)",
        "#!train --epochs 2 --schedule cosine --warmup 10 --early-stopping 3 --eval-every 10",
        "#!train step 5        C#: Tune.Step(trainer, 5)",
        "#!train continue      C#: Tune.Continue(trainer)",
        "#!train stop          C#: Tune.Stop(trainer)",
        "C#: var trainer = Tune.Train(model, data, new TrainerOptions { MaxSteps = 60, LearningRate = 2e-3, BatchSize = 8, EvalEvery = 20 }, Cancellation)",
    ];

    /// <summary>The options as <see cref="TrainerOptions"/>; invalid values are usage errors.</summary>
    public static TrainerOptions ToOptions(TrainOptions o)
    {
        if (o.Steps is null && o.Epochs is null) throw new MagicUsageException("give --steps N or --epochs N");
        var options = new TrainerOptions
        {
            MaxSteps = o.Steps, Epochs = o.Steps is null ? o.Epochs : null, LearningRate = o.LearningRate, BatchSize = o.Batch,
            GradientAccumulation = o.Accum, EvalEvery = o.EvalEvery, Schedule = o.Schedule, WarmupSteps = o.Warmup,
            WeightDecay = o.WeightDecay, MaxGradNorm = o.MaxGradNorm > 0 ? o.MaxGradNorm : null, EarlyStoppingPatience = o.Patience,
            Seed = o.Seed, Precision = PrecisionOf(o),
        };
        try { options.Validate(); }
        catch (ArgumentException e) { throw new MagicUsageException(e.Message.Replace("TrainerOptions.", "")); }
        if (o.MaxGradNorm < 0) throw new MagicUsageException($"--max-grad-norm: expected ≥ 0, got {o.MaxGradNorm}");
        return options;
    }

    /// <summary>
    /// Where the run is recorded: runs/NAME beside the notebook (NAME: --run, else the date and time, made unique), or null
    /// with --no-record. A model built in memory rather than loaded from a folder has no weights files to name, so it is
    /// recorded only when --run asks for it (and then the error says why it cannot be).
    /// </summary>
    public static string? RunFolder(TrainOptions o, Tunebook.Models.CausalLM model)
    {
        if (o.NoRecord) return null;
        if (o.Run is not null) return System.IO.Path.Combine("runs", o.Run);
        if (model.LoadReport is null) return null;
        var name = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var folder = System.IO.Path.Combine("runs", name);
        for (int i = 2; Directory.Exists(folder); i++) folder = System.IO.Path.Combine("runs", $"{name}-{i}");
        return folder;
    }

    static TrainingPrecision PrecisionOf(TrainOptions o)
    {
        var named = o.Precision switch
        {
            null => (TrainingPrecision?)null,
            "float32" => TrainingPrecision.Float32,
            "bf16" => TrainingPrecision.BFloat16,
            "auto" => TrainingPrecision.Auto,
            _ => throw new MagicUsageException($"--precision: expected float32, bf16 or auto, got {o.Precision}"),
        };
        if (o.BFloat16 && named is { } p && p != TrainingPrecision.BFloat16)
            throw new MagicUsageException($"--bf16 and --precision {o.Precision} disagree; give one of them");
        return named ?? (o.BFloat16 ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32);
    }

    /// <summary>Steps for "step [N]".</summary>
    public static int StepCount(TrainOptions o)
    {
        if (o.Count is null) return o.Steps ?? 1;
        if (!int.TryParse(o.Count, out int n) || n < 1) throw new MagicUsageException($"step: expected a positive number of steps, got '{o.Count}'");
        return n;
    }

    // An interrupt: the trainer stops at a step boundary, Tune's live view says "stopped at step N" and how to
    // resume, and Tune throws the OperationCanceledException that ends the cell as interrupted.
    protected override Task RunAsync(TrainOptions o, IMagicContext context)
    {
        var cancel = context.Host.Cancellation;
        switch (o.Action?.ToLowerInvariant())
        {
            case null:
            {
                if (o.Count is not null) throw new MagicUsageException($"unexpected argument '{o.Count}'");
                var options = ToOptions(o);
                var model = SessionVariables.RequireModel(context);
                var data = SessionVariables.RequireData(context);
                var runFolder = RunFolder(o, model);
                var trainer = Tune.CreateTrainer(model, data, options, runFolder);
                // The variable exists before the run, so an interrupted run can be continued.
                context.SetVariable(SessionVariables.Trainer, trainer);
                Tune.Continue(trainer, cancel);
                break;
            }
            case "step":
            {
                int n = StepCount(o);
                var trainer = SessionVariables.RequireTrainer(context);
                Tune.Step(trainer, n, cancel);
                break;
            }
            case "continue":
                if (o.Count is not null) throw new MagicUsageException($"continue takes no count, got '{o.Count}'");
                Tune.Continue(SessionVariables.RequireTrainer(context), cancel);
                break;
            case "stop":
                if (o.Count is not null) throw new MagicUsageException($"stop takes no count, got '{o.Count}'");
                Tune.Stop(SessionVariables.RequireTrainer(context));
                break;
        }
        return Task.CompletedTask;
    }
}
