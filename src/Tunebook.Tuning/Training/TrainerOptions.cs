namespace Tunebook.Tuning.Training;

/// <summary>Numeric precision of training.</summary>
public enum TrainingPrecision
{
    /// <summary>Everything in float32.</summary>
    Float32,
    /// <summary>
    /// bf16 mixed precision: the model computes in bfloat16, the trainable parameters have float32
    /// master copies that the optimizer updates, gradients are accumulated in float32 and the loss is
    /// computed in float32.
    /// </summary>
    BFloat16,
    /// <summary>
    /// <see cref="BFloat16"/> where this device multiplies bfloat16 matrices at least 1.5× as fast as float32 ones
    /// (CPUs with AVX512-BF16 or AMX, GPUs with bfloat16 tensor cores), else <see cref="Float32"/>: measured once per
    /// process by <see cref="BFloat16Speed"/>. The trainer resolves it when it is created: its
    /// <see cref="Trainer.Options"/>, and so run records and checkpoints, hold the precision chosen.
    /// </summary>
    Auto,
}

/// <summary>
/// Everything that shapes a training run (transformers' TrainingArguments, the parts that matter here).
/// Give <see cref="MaxSteps"/> or <see cref="Epochs"/>; MaxSteps wins when both are set.
/// </summary>
public sealed record TrainerOptions
{
    /// <summary>Optimizer steps to run (each is <see cref="GradientAccumulation"/> micro-batches).</summary>
    public int? MaxSteps { get; init; }
    /// <summary>Passes over the training data, when <see cref="MaxSteps"/> is not set.</summary>
    public int? Epochs { get; init; }
    /// <summary>Peak learning rate.</summary>
    public double LearningRate { get; init; } = 2e-4;
    /// <summary>Schedule shape after warmup.</summary>
    public LrScheduleKind Schedule { get; init; } = LrScheduleKind.Linear;
    /// <summary>Linear warmup steps from 0 to the peak rate.</summary>
    public int WarmupSteps { get; init; }
    /// <summary>Examples per micro-batch.</summary>
    public int BatchSize { get; init; } = 4;
    /// <summary>Micro-batches per optimizer step; the loss is normalised by the target tokens of all of them together.</summary>
    public int GradientAccumulation { get; init; } = 1;
    /// <summary>Clip the global gradient norm to this value (null: no clipping; the norm is still reported).</summary>
    public double? MaxGradNorm { get; init; } = 1.0;
    /// <summary>AdamW's decoupled weight decay.</summary>
    public double WeightDecay { get; init; }
    /// <summary>AdamW β₁.</summary>
    public double Beta1 { get; init; } = 0.9;
    /// <summary>AdamW β₂.</summary>
    public double Beta2 { get; init; } = 0.999;
    /// <summary>AdamW ε.</summary>
    public double Epsilon { get; init; } = 1e-8;
    /// <summary>Evaluate on the validation data every N steps (null: only at the end).</summary>
    public int? EvalEvery { get; init; }
    /// <summary>Examples per evaluation batch (default: <see cref="BatchSize"/>).</summary>
    public int? EvalBatchSize { get; init; }
    /// <summary>Stop after this many evaluations without improvement (null: never stop early).</summary>
    public int? EarlyStoppingPatience { get; init; }
    /// <summary>An evaluation improves when its loss is below the best by more than this.</summary>
    public double EarlyStoppingMinDelta { get; init; }
    /// <summary>When there is validation data: put back the trainable weights of the best evaluation at the end (default true with early stopping).</summary>
    public bool? RestoreBestAtEnd { get; init; }
    /// <summary>Seeds the data order and torch's generator (dropout).</summary>
    public long Seed { get; init; } = 42;
    /// <summary>Shuffle the examples each epoch (with a seed derived from <see cref="Seed"/> and the epoch).</summary>
    public bool Shuffle { get; init; } = true;
    /// <summary>float32, bf16 mixed precision, or auto (bf16 where this device multiplies it clearly faster).</summary>
    public TrainingPrecision Precision { get; init; } = TrainingPrecision.Float32;
    /// <summary>Recompute each decoder layer in the backward pass instead of keeping its activations.</summary>
    public bool GradientCheckpointing { get; init; }

    /// <summary>Throws with the option's name when a value is out of range.</summary>
    public void Validate()
    {
        void Fail(string name, object? value, string expected) => throw new ArgumentOutOfRangeException(name, value, $"TrainerOptions.{name}: expected {expected}, got {value}");
        if (MaxSteps is null && Epochs is null) throw new ArgumentException("TrainerOptions: set MaxSteps or Epochs");
        if (MaxSteps is < 1) Fail(nameof(MaxSteps), MaxSteps, "at least 1");
        if (Epochs is < 1) Fail(nameof(Epochs), Epochs, "at least 1");
        if (!(LearningRate > 0) || double.IsInfinity(LearningRate)) Fail(nameof(LearningRate), LearningRate, "a number > 0");
        if (WarmupSteps < 0) Fail(nameof(WarmupSteps), WarmupSteps, "≥ 0");
        if (BatchSize < 1) Fail(nameof(BatchSize), BatchSize, "at least 1");
        if (GradientAccumulation < 1) Fail(nameof(GradientAccumulation), GradientAccumulation, "at least 1");
        if (MaxGradNorm is { } g && !(g > 0)) Fail(nameof(MaxGradNorm), g, "a number > 0 (or null for no clipping)");
        if (!(WeightDecay >= 0)) Fail(nameof(WeightDecay), WeightDecay, "≥ 0");
        if (EvalEvery is < 1) Fail(nameof(EvalEvery), EvalEvery, "at least 1");
        if (EvalBatchSize is < 1) Fail(nameof(EvalBatchSize), EvalBatchSize, "at least 1");
        if (EarlyStoppingPatience is < 1) Fail(nameof(EarlyStoppingPatience), EarlyStoppingPatience, "at least 1");
        if (!(EarlyStoppingMinDelta >= 0)) Fail(nameof(EarlyStoppingMinDelta), EarlyStoppingMinDelta, "≥ 0");
    }
}
