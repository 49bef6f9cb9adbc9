using System.Text.Json.Serialization;

namespace Tunebook.Tuning.Training;

/// <summary>Why a call to Step/RunUntil/Run returned.</summary>
public enum StopReason
{
    /// <summary>The run reached its last step (or epoch).</summary>
    Completed,
    /// <summary>The cancellation token fired; the trainer stopped at a step boundary and can continue.</summary>
    Cancelled,
    /// <summary>The validation loss stopped improving for the configured patience.</summary>
    EarlyStopped,
    /// <summary>The requested steps were done, or the RunUntil condition became true; the trainer can continue.</summary>
    Paused,
}

/// <summary>Base of everything the trainer reports; the history is a list of these, in order.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "event")]
[JsonDerivedType(typeof(TrainingStarted), "started")]
[JsonDerivedType(typeof(StepCompleted), "step")]
[JsonDerivedType(typeof(Evaluated), "eval")]
[JsonDerivedType(typeof(TrainingStopped), "stopped")]
[JsonDerivedType(typeof(TrainingWarning), "warning")]
public abstract record TrainingEvent;

/// <summary>Training started (or resumed) at <see cref="Step"/>.</summary>
/// <param name="CastModelFrom">
/// Under bf16 mixed precision, the dtype the model had before the trainer cast it to bfloat16 for this run
/// ("float32"); the model stays bfloat16 afterwards (<c>model.to(ScalarType.Float32)</c> casts it back).
/// Null when nothing was cast.
/// </param>
/// <param name="PrecisionChoice">What precision auto chose and why (<see cref="Trainer.PrecisionChoice"/>); null when the options named one.</param>
public sealed record TrainingStarted(int Step, int TotalSteps, int StepsPerEpoch, long TrainableParameters, bool Resumed,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? CastModelFrom = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? PrecisionChoice = null) : TrainingEvent;

/// <summary>One optimizer step is done.</summary>
/// <param name="Step">Steps done so far (1 for the first).</param>
/// <param name="Epoch">Fractional epoch: completed epochs plus the share of the current one.</param>
/// <param name="Loss">Mean loss per target token over the step's micro-batches (NaN when none had a target).</param>
/// <param name="LearningRate">The rate this update used.</param>
/// <param name="GradNorm">Global gradient norm before clipping.</param>
/// <param name="TokensPerSecond">Input tokens (not padding) processed per second in this step.</param>
/// <param name="TargetTokens">Tokens the loss was taken over.</param>
/// <param name="ElapsedSeconds">Training time so far (this trainer object, including evaluation).</param>
/// <param name="PeakMemoryBytes">Peak resident memory of the process on CPU; on cuda the CUDA caching allocator's peak of memory held by tensors.</param>
/// <param name="PeakMemoryOnGpu">True when <paramref name="PeakMemoryBytes"/> is the GPU's figure.</param>
/// <param name="Phases">
/// Where the step's wall time went. Not written to the history's JSON: timings differ from run to run, and
/// run records and checkpoints hold only what a replay can reproduce.
/// </param>
public sealed record StepCompleted(int Step, double Epoch, double Loss, double LearningRate, double GradNorm, double TokensPerSecond,
    long TargetTokens, double ElapsedSeconds, long PeakMemoryBytes, bool PeakMemoryOnGpu = false,
    [property: JsonIgnore] StepPhaseTimes? Phases = null) : TrainingEvent;

/// <summary>
/// The wall time of one optimizer step in seconds, split by phase, so the headroom is visible: the model's
/// forward pass and loss (with the block-wise loss of ChunkedCrossEntropy, also the loss's gradient by the
/// hidden states), the backward pass (with the recomputation under gradient checkpointing, and the
/// gradients' copy to the float32 masters under bf16), the optimizer (clipping, AdamW, the copy back to the
/// model) and the host (collating batches, zeroing gradients, freeing tensors: everything else). On a GPU
/// the kernels run asynchronously, so the phases there are the host's time to queue the work.
/// </summary>
public sealed record StepPhaseTimes(double Forward, double Backward, double Optimizer, double Host)
{
    /// <summary>The whole step.</summary>
    public double Total => Forward + Backward + Optimizer + Host;
}

/// <summary>An evaluation on the validation data.</summary>
public sealed record Evaluated(int Step, double Loss, double Perplexity, long TargetTokens, bool IsBest) : TrainingEvent;

/// <summary>A run call returned.</summary>
public sealed record TrainingStopped(int Step, StopReason Reason, int? BestStep, double? BestLoss) : TrainingEvent;

/// <summary>What <see cref="Trainer.Stop"/> did.</summary>
/// <param name="Step">The step the run stopped at.</param>
/// <param name="Evaluated">Whether it evaluated the final weights (the last evaluation was older).</param>
/// <param name="BestStep">Step of the lowest validation loss, when there was an evaluation.</param>
/// <param name="BestLoss">The lowest validation loss.</param>
/// <param name="RestoredBest">Whether the best evaluation's weights were put back.</param>
public sealed record StopSummary(int Step, bool Evaluated, int? BestStep, double? BestLoss, bool RestoredBest);

/// <summary>Something the user should know (an all-masked example, a skipped update).</summary>
public sealed record TrainingWarning(int Step, string Message) : TrainingEvent;
