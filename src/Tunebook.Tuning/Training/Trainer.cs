using System.Diagnostics;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Torch.nn;
using Tunebook.Torch.optim;

namespace Tunebook.Tuning.Training;

/// <summary>
/// Trains the parameters of a causal LM that require gradients (LoRA adapters, or all of them for full
/// fine-tuning) with AdamW, a warmup schedule, token-normalised gradient accumulation, gradient
/// clipping, optional bf16 mixed precision and gradient checkpointing, evaluation and early stopping.
/// It is driven step by step and keeps its state between calls, so a notebook can do
/// <code>
/// var trainer = new Trainer(model, train, validation, new TrainerOptions { MaxSteps = 200, EvalEvery = 20 });
/// trainer.Step(10);            // ten optimizer steps, then return
/// // … look at trainer.History, generate a sample …
/// trainer.Run(cancellation);   // continue to the end (or until the token fires, at a step boundary)
/// </code>
/// It renders nothing: subscribe to <see cref="EventRaised"/> (or the typed events) to draw progress;
/// <see cref="History"/> keeps every event. <see cref="SaveCheckpoint"/> and <see cref="Resume"/> continue
/// a run bit-exactly on CPU (weights, optimizer moments, schedule, data order, dropout RNG, counters).
/// </summary>
public sealed partial class Trainer : IDisposable
{
    readonly CausalLM _model;
    readonly ITrainingData _train;
    readonly ITrainingData? _validation;
    readonly List<(string Name, Parameter Param)> _trainable;
    // With bf16 the optimizer updates float32 master copies; otherwise these are the parameters themselves.
    readonly List<Parameter> _optimized;
    readonly Dictionary<Parameter, Parameter>? _masters;
    readonly AdamW _optimizer;
    readonly LrSchedule _schedule;
    readonly List<TrainingEvent> _history = new();
    readonly HashSet<int> _reportedEmptyExamples = new();
    readonly Stopwatch _clock = new();
    double _elapsedBefore;
    int[]? _epochOrder;
    int _epochOrderFor = -1;
    bool _started;
    bool _resumed;
    bool _castDone;
    Dictionary<string, Tensor>? _bestSnapshot;
    int _evalsWithoutImprovement;
    int _lastEvalStep = -1;
    // Phase times of the step in progress (StepPhaseTimes), summed over its micro-batches.
    double _forwardSeconds, _backwardSeconds;

    /// <summary>
    /// Prepares training of <paramref name="model"/>'s parameters that have requires_grad. Nothing happens to
    /// the model here: under bf16 the trainer keeps float32 master copies of the trainable weights and casts
    /// the model to bfloat16 when the first run call starts (see <see cref="TrainingStarted.CastModelFrom"/>);
    /// gradient checkpointing is switched to <see cref="TrainerOptions.GradientCheckpointing"/> for each run
    /// call and put back when it returns.
    /// </summary>
    public Trainer(CausalLM model, ITrainingData train, ITrainingData? validation, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (options.Precision == TrainingPrecision.Auto)
        {
            (var chosen, PrecisionChoice) = BFloat16Speed.Choose(model.Device);
            options = options with { Precision = chosen };
        }
        if (train.Count == 0) throw new ArgumentException("Trainer: the training data has no examples");
        if (validation is { Count: 0 }) throw new ArgumentException("Trainer: the validation data has no examples (pass null for none)");
        _model = model;
        _train = train;
        _validation = validation;
        Options = options;

        _trainable = _model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        if (_trainable.Count == 0)
            throw new InvalidOperationException("Trainer: the model has no trainable parameters; apply LoRA (LoraModel.Apply) or call model.requires_grad_(true) for full fine-tuning");
        foreach (var (name, p) in _trainable)
            if (p.dtype != ScalarType.Float32)
                throw new ArgumentException($"Trainer: trainable parameter '{name}' is {p.dtype.Name()}; trainable weights must be float32 (use Precision = BFloat16 for bf16 compute with float32 master weights)");

        if (options.Precision == TrainingPrecision.BFloat16)
        {
            CheckBf16Support(_model.Device);
            _masters = new Dictionary<Parameter, Parameter>(ReferenceEqualityComparer.Instance);
            using (var scope = torch.NewDisposeScope())
            using (torch.no_grad())
                foreach (var (name, p) in _trainable)
                    _masters[p] = new Parameter(p.clone()) { Name = name };
            _optimized = _trainable.Select(t => _masters[t.Param]).ToList();
        }
        else
        {
            _optimized = _trainable.Select(t => t.Param).ToList();
        }

        _optimizer = new AdamW(ParamGroups(), lr: options.LearningRate, beta1: options.Beta1, beta2: options.Beta2, eps: options.Epsilon, weight_decay: options.WeightDecay);
        MicroBatchesPerEpoch = (_train.Count + options.BatchSize - 1) / options.BatchSize;
        StepsPerEpoch = (MicroBatchesPerEpoch + options.GradientAccumulation - 1) / options.GradientAccumulation;
        TotalSteps = options.MaxSteps ?? checked(options.Epochs!.Value * StepsPerEpoch);
        _schedule = new LrSchedule(options.Schedule, options.WarmupSteps, TotalSteps);
        torch.manual_seed(options.Seed);
    }

    /// <summary>
    /// Under bf16, casts the model to bfloat16 (once; the float32 masters stay the weights the optimizer
    /// updates) and returns the dtype it had, or null when nothing was cast. The cast is not undone when
    /// a run ends: frozen float32 weights rounded to bfloat16 cannot be put back without a second copy of
    /// the model, so the trainer states it instead (the started event, and the training view).
    /// </summary>
    ScalarType? CastModelForPrecision()
    {
        if (_masters is null || _castDone) return null;
        _castDone = true;
        var before = _model.DType;
        if (_model.parameters().All(p => !p.is_floating_point() || p.dtype == ScalarType.BFloat16)) return null;
        _model.to(ScalarType.BFloat16);
        return before == ScalarType.BFloat16 ? null : before;
    }

    /// <summary>Switches gradient checkpointing to the options' setting for one run call; disposing puts back the model's own.</summary>
    IDisposable CheckpointingForRun()
    {
        bool before = _model.GradientCheckpointing;
        _model.GradientCheckpointing = Options.GradientCheckpointing;
        return new Restore(() => _model.GradientCheckpointing = before);
    }

    sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }

    IEnumerable<ParamGroup> ParamGroups()
    {
        if (Options.WeightDecay == 0) return [new ParamGroup(_optimized)];
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var p in _optimized) (DecaysWeight(p) ? decay : noDecay).Add(p);
        var groups = new List<ParamGroup>();
        if (decay.Count > 0) groups.Add(new ParamGroup(decay));
        if (noDecay.Count > 0) groups.Add(new ParamGroup(noDecay, weight_decay: 0));
        return groups;
    }

    /// <summary>
    /// Whether weight decay applies to <paramref name="parameter"/>: matrices (and higher-rank weights) decay,
    /// vectors — biases and norm weights — do not, as in nanoGPT's configure_optimizers.
    /// </summary>
    public static bool DecaysWeight(Tensor parameter) => parameter.dim() >= 2;

    static void CheckBf16Support(Device device)
    {
        try
        {
            using var scope = torch.NewDisposeScope();
            var a = torch.ones([4, 4], ScalarType.BFloat16, device);
            a.matmul(a).sum().item<double>();
        }
        catch (TorchException e)
        {
            throw new NotSupportedException($"bf16 training: this libtorch cannot compute in bfloat16 on {device} ({e.Message}); use precision float32", e);
        }
    }

    // ---- state ----------------------------------------------------------------------------------

    /// <summary>The options of this run.</summary>
    public TrainerOptions Options { get; }

    /// <summary>
    /// When the options asked for <see cref="TrainingPrecision.Auto"/>: what it chose and why ("precision auto: bf16
    /// (bfloat16 products at 410 GFLOP/s against 212 in float32 on cpu)"); <see cref="Options"/> holds the choice.
    /// Null otherwise.
    /// </summary>
    public string? PrecisionChoice { get; }
    /// <summary>The model being trained.</summary>
    public CausalLM Model => _model;
    /// <summary>Optimizer steps done.</summary>
    public int GlobalStep { get; private set; }
    /// <summary>Completed passes over the training data.</summary>
    public int Epoch { get; private set; }
    /// <summary>Next micro-batch within the current epoch.</summary>
    public int BatchInEpoch { get; private set; }
    /// <summary>Epochs as a fraction (completed epochs plus the share of the current one).</summary>
    public double FractionalEpoch => Epoch + (double)BatchInEpoch / MicroBatchesPerEpoch;
    /// <summary>Micro-batches in one epoch.</summary>
    public int MicroBatchesPerEpoch { get; }
    /// <summary>Optimizer steps in one epoch (the last may have fewer micro-batches).</summary>
    public int StepsPerEpoch { get; }
    /// <summary>Steps of the whole run.</summary>
    public int TotalSteps { get; }
    /// <summary>True once the run completed or stopped early; further steps are refused.</summary>
    public bool IsFinished => FinishReason is not null;
    /// <summary>Completed or EarlyStopped once finished; null while the run can continue.</summary>
    public StopReason? FinishReason { get; private set; }
    /// <summary>Learning rate the next step will use.</summary>
    public double CurrentLearningRate => Options.LearningRate * _schedule.Factor(GlobalStep);
    /// <summary>Step of the lowest validation loss so far.</summary>
    public int? BestStep { get; private set; }
    /// <summary>Lowest validation loss so far.</summary>
    public double? BestLoss { get; private set; }
    /// <summary>Every event so far, in order (for a resumed trainer, including the events before the checkpoint).</summary>
    public IReadOnlyList<TrainingEvent> History => _history;
    /// <summary>The step events of <see cref="History"/>.</summary>
    public IEnumerable<StepCompleted> Steps => _history.OfType<StepCompleted>();
    /// <summary>The evaluation events of <see cref="History"/>.</summary>
    public IEnumerable<Evaluated> Evaluations => _history.OfType<Evaluated>();
    /// <summary>Whether the trainer has validation data (evaluations, best weights, early stopping).</summary>
    public bool HasValidation => _validation is not null;
    /// <summary>Whether the best evaluation's weights are put back at the end of the run (or by <see cref="Stop"/>).</summary>
    public bool RestoresBestAtEnd => Options.RestoreBestAtEnd ?? Options.EarlyStoppingPatience is not null;
    /// <summary>Names of the trainable parameters.</summary>
    public IReadOnlyList<string> TrainableParameterNames => _trainable.Select(t => t.Name).ToList();

    // ---- events ---------------------------------------------------------------------------------

    /// <summary>Every event, as it happens (a logger subscribes here).</summary>
    public event Action<TrainingEvent>? EventRaised;
    /// <summary>The first run call of this trainer object.</summary>
    public event Action<TrainingStarted>? Started;
    /// <summary>After each optimizer step.</summary>
    public event Action<StepCompleted>? StepCompleted;
    /// <summary>After each evaluation.</summary>
    public event Action<Evaluated>? Evaluated;
    /// <summary>When a run call returns.</summary>
    public event Action<TrainingStopped>? Stopped;
    /// <summary>Warnings (all-masked examples, skipped updates).</summary>
    public event Action<TrainingWarning>? Warning;

    void Raise(TrainingEvent e)
    {
        _history.Add(e);
        switch (e)
        {
            case TrainingStarted s: Started?.Invoke(s); break;
            case StepCompleted s: StepCompleted?.Invoke(s); break;
            case Evaluated s: Evaluated?.Invoke(s); break;
            case TrainingStopped s: Stopped?.Invoke(s); break;
            case TrainingWarning s: Warning?.Invoke(s); break;
        }
        EventRaised?.Invoke(e);
    }

    // ---- running --------------------------------------------------------------------------------

    /// <summary>One optimizer step; returns its metrics.</summary>
    public StepCompleted Step()
    {
        RunCore(1, null, CancellationToken.None);
        return Steps.Last();
    }

    /// <summary>Up to <paramref name="steps"/> optimizer steps (fewer when the run ends or the token fires).</summary>
    public StopReason Step(int steps, CancellationToken cancellationToken = default)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "Step: expected a number of steps ≥ 0");
        return RunCore(steps, null, cancellationToken);
    }

    /// <summary>Runs until <see cref="GlobalStep"/> reaches <paramref name="step"/>.</summary>
    public StopReason RunUntilStep(int step, CancellationToken cancellationToken = default) =>
        RunCore(Math.Max(0, step - GlobalStep), null, cancellationToken);

    /// <summary>Runs until <paramref name="epoch"/> epochs are complete.</summary>
    public StopReason RunUntilEpoch(int epoch, CancellationToken cancellationToken = default) =>
        Epoch >= epoch ? RunCore(0, null, cancellationToken) : RunCore(int.MaxValue, t => t.Epoch >= epoch, cancellationToken);

    /// <summary>Runs until <paramref name="condition"/> holds after a step (checked after every step).</summary>
    public StopReason RunUntil(Func<Trainer, bool> condition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return RunCore(int.MaxValue, condition, cancellationToken);
    }

    /// <summary>Runs to the end of the run (max steps or epochs), or until the token fires.</summary>
    public StopReason Run(CancellationToken cancellationToken = default) => RunCore(int.MaxValue, null, cancellationToken);

    StopReason RunCore(int maxSteps, Func<Trainer, bool>? condition, CancellationToken cancellationToken)
    {
        if (IsFinished)
            throw new InvalidOperationException($"the run is finished ({FinishReason} at step {GlobalStep} of {TotalSteps}); create a new Trainer (or Resume with larger MaxSteps) to train further");
        var castFrom = CastModelForPrecision();
        if (!_started)
        {
            _started = true;
            Raise(new TrainingStarted(GlobalStep, TotalSteps, StepsPerEpoch, _trainable.Sum(t => t.Param.numel()), _resumed, castFrom?.Name(), PrecisionChoice));
            if (_masters is not null && !_model.Device.IsCuda && BFloat16Speed.Measure(_model.Device) is var (bf16, fp32) && BFloat16Speed.Warning(bf16, fp32) is { } slow)
                Raise(new TrainingWarning(GlobalStep, slow));
        }
        using var checkpointing = CheckpointingForRun();
        _clock.Start();
        try
        {
            int done = 0;
            while (true)
            {
                if (IsFinished) return Return(FinishReason!.Value);
                if (done >= maxSteps) return Return(StopReason.Paused);
                if (cancellationToken.IsCancellationRequested) return Return(StopReason.Cancelled);
                TrainStep();
                done++;
                if (!IsFinished && condition is not null && condition(this)) return Return(StopReason.Paused);
            }
        }
        finally
        {
            _clock.Stop();
        }
    }

    StopReason Return(StopReason reason)
    {
        Raise(new TrainingStopped(GlobalStep, reason, BestStep, BestLoss));
        return reason;
    }

    /// <summary>
    /// Ends a run early, by the user's decision: evaluates on the validation data (when there is some and the
    /// last evaluation is older than the current step), puts back the best weights when
    /// <see cref="RestoresBestAtEnd"/>, and says what it did. The trainer is not marked finished.
    /// </summary>
    public StopSummary Stop()
    {
        bool evaluated = false;
        if (HasValidation && GlobalStep > 0 && Evaluations.LastOrDefault()?.Step != GlobalStep)
        {
            Evaluate();
            evaluated = true;
        }
        bool restored = false;
        if (RestoresBestAtEnd && BestStep is { } best && best != GlobalStep && _bestSnapshot is not null)
        {
            RestoreBest();
            restored = true;
        }
        return new StopSummary(GlobalStep, evaluated, BestStep, BestLoss, restored);
    }

    double Elapsed => _elapsedBefore + _clock.Elapsed.TotalSeconds;

    // ---- one step -------------------------------------------------------------------------------

    void TrainStep()
    {
        var stepClock = Stopwatch.StartNew();
        _forwardSeconds = _backwardSeconds = 0;
        double optimizerSeconds = 0;
        var group = NextGroup();
        double lr = Options.LearningRate * _schedule.Factor(GlobalStep);
        double loss = 0, gradNorm = 0;
        long targetTokens = 0, tokens = 0;
        using (var scope = torch.NewDisposeScope())
        {
            _model.train();
            var batches = group.Select(_train.Collate).ToList();
            try
            {
                foreach (var b in batches)
                {
                    targetTokens += b.TargetTokens;
                    tokens += b.Tokens;
                    ReportEmptyExamples(b);
                }
                _optimizer.zero_grad();
                foreach (var p in _trainable) p.Param.grad = null;
                if (targetTokens == 0)
                {
                    loss = double.NaN;
                    Raise(new TrainingWarning(GlobalStep + 1, $"step {GlobalStep + 1}: no target tokens in its {batches.Count} micro-batch(es) (all labels are -100); the update was skipped"));
                }
                else
                {
                    loss = ForwardBackward(batches, targetTokens);
                    long optimizerStart = Stopwatch.GetTimestamp();
                    gradNorm = utils.clip_grad_norm_(_optimized, Options.MaxGradNorm ?? double.PositiveInfinity);
                    _optimizer.lr = lr;
                    _optimizer.step();
                    if (_masters is not null) CopyMastersToModel();
                    optimizerSeconds = Stopwatch.GetElapsedTime(optimizerStart).TotalSeconds;
                }
                _optimizer.zero_grad();
                foreach (var p in _trainable) p.Param.grad = null;
            }
            finally
            {
                foreach (var b in batches) b.Dispose();
            }
        }
        GlobalStep++;
        double seconds = stepClock.Elapsed.TotalSeconds;
        var (peakBytes, peakOnGpu) = PeakMemory.Measure(_model.Device);
        var phases = new StepPhaseTimes(_forwardSeconds, _backwardSeconds, optimizerSeconds,
            Math.Max(0, seconds - _forwardSeconds - _backwardSeconds - optimizerSeconds));
        Raise(new StepCompleted(GlobalStep, FractionalEpoch, loss, lr, gradNorm, seconds > 0 ? tokens / seconds : 0,
            targetTokens, Elapsed, peakBytes, peakOnGpu, phases));

        if (_validation is not null && Options.EvalEvery is { } every && GlobalStep % every == 0) EvaluateAndTrack();
        if (IsFinished) return; // early stopping
        if (GlobalStep >= TotalSteps) Finish(StopReason.Completed);
    }

    /// <summary>
    /// Forward and backward over the micro-batches of one accumulation group, each contributing
    /// sum(token losses) / <paramref name="groupTargetTokens"/>, so the accumulated gradient is that of
    /// the mean token loss over the whole group (not an average of per-batch means). Returns that loss.
    /// </summary>
    double ForwardBackward(IReadOnlyList<TrainingBatch> batches, long groupTargetTokens)
    {
        var device = _model.Device;
        double loss = 0;
        foreach (var b in batches)
        {
            if (b.TargetTokens == 0) continue;
            using var scope = torch.NewDisposeScope();
            long start = Stopwatch.GetTimestamp(), forwardEnd = 0;
            var labels = b.Labels.to(device);
            double denominator = groupTargetTokens;
            // The loss is the last thing the forward pass computes (forwardDone marks it); it is taken block by
            // block with the output projection where the model allows it (ChunkedCrossEntropy), so the batch's
            // logits never exist at once.
            var value = _model.ForwardBackward(b.InputIds, labels, 1.0 / denominator, b.AttentionMask, b.PositionIds, b.SegmentIds,
                forwardDone: () => forwardEnd = Stopwatch.GetTimestamp());
            loss += value.item<double>();
            if (_masters is not null) HarvestGradients();
            _forwardSeconds += Stopwatch.GetElapsedTime(start, forwardEnd).TotalSeconds;
            _backwardSeconds += Stopwatch.GetElapsedTime(forwardEnd).TotalSeconds;
        }
        return loss;
    }

    /// <summary>
    /// Computes the token-normalised loss of the given micro-batches (dataset indices) as one
    /// accumulation group and leaves its gradient in the trainable parameters (the float32 masters
    /// under bf16), without updating anything or advancing the run. For inspecting gradients.
    /// </summary>
    public double AccumulateGradients(IReadOnlyList<IReadOnlyList<int>> microBatches)
    {
        ArgumentNullException.ThrowIfNull(microBatches);
        CastModelForPrecision();
        using var checkpointing = CheckpointingForRun();
        var batches = microBatches.Select(_train.Collate).ToList();
        try
        {
            _model.train();
            _optimizer.zero_grad();
            foreach (var p in _trainable) p.Param.grad = null;
            long tokens = batches.Sum(b => b.TargetTokens);
            return tokens == 0 ? double.NaN : ForwardBackward(batches, tokens);
        }
        finally
        {
            foreach (var b in batches) b.Dispose();
        }
    }

    /// <summary>The parameters the optimizer updates, by name: the trainable parameters, or their float32 masters under bf16.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> OptimizedParameters =>
        _trainable.Select((t, i) => (t.Name, _optimized[i])).ToList();

    /// <summary>The next accumulation group: up to GradientAccumulation micro-batches, never crossing an epoch boundary.</summary>
    List<int[]> NextGroup()
    {
        var group = new List<int[]>();
        for (int k = 0; k < Options.GradientAccumulation && BatchInEpoch < MicroBatchesPerEpoch; k++)
        {
            var order = OrderOf(Epoch);
            int start = BatchInEpoch * Options.BatchSize;
            int count = Math.Min(Options.BatchSize, order.Length - start);
            group.Add(order.AsSpan(start, count).ToArray());
            BatchInEpoch++;
        }
        if (BatchInEpoch >= MicroBatchesPerEpoch)
        {
            Epoch++;
            BatchInEpoch = 0;
        }
        return group;
    }

    int[] OrderOf(int epoch)
    {
        if (_epochOrderFor != epoch)
        {
            _epochOrder = DataOrder.ForEpoch(_train.Count, Options.Seed, epoch, Options.Shuffle);
            _epochOrderFor = epoch;
        }
        return _epochOrder!;
    }

    void ReportEmptyExamples(TrainingBatch batch)
    {
        var perRow = batch.TargetTokensPerRow;
        for (int row = 0; row < perRow.Length; row++)
        {
            if (perRow[row] != 0) continue;
            int index = row < batch.ExampleIndices.Count ? batch.ExampleIndices[row] : -1;
            if (!_reportedEmptyExamples.Add(index)) continue;
            Raise(new TrainingWarning(GlobalStep + 1, index >= 0
                ? $"training example {index} has no target tokens (every label is -100, e.g. the prompt filled max_length); it adds nothing to the loss"
                : $"a training example has no target tokens (every label is -100); it adds nothing to the loss"));
        }
    }

    void HarvestGradients()
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, p) in _trainable)
        {
            var g = p.grad;
            if (g is null) continue;
            var master = _masters![p];
            var mg = master.grad;
            if (mg is null) master.grad = g.to(ScalarType.Float32, copy: true);
            else mg.add_(g);
            p.grad = null;
        }
    }

    void CopyMastersToModel()
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, p) in _trainable) p.copy_(_masters![p]);
    }

    void Finish(StopReason reason)
    {
        if (_validation is not null && _lastEvalStep != GlobalStep && reason == StopReason.Completed) EvaluateAndTrack();
        if (FinishReason is not null) return;
        FinishReason = reason;
        if (_bestSnapshot is not null && RestoresBestAtEnd) RestoreBest();
    }

    // ---- evaluation -----------------------------------------------------------------------------

    /// <summary>
    /// Loss per target token on the validation data (and perplexity = exp(loss)), in eval mode without
    /// gradients; raises <see cref="Evaluated"/> but does not affect early stopping.
    /// </summary>
    public Evaluated Evaluate()
    {
        if (_validation is null) throw new InvalidOperationException("Evaluate: the trainer has no validation data");
        var (loss, tokens) = Measure(_validation);
        var e = new Evaluated(GlobalStep, loss, Math.Exp(loss), tokens, false);
        Raise(e);
        return e;
    }

    /// <summary>Mean loss per target token of <paramref name="data"/> (fixed order, eval mode, no gradient).</summary>
    public (double Loss, long TargetTokens) Measure(ITrainingData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int batchSize = Options.EvalBatchSize ?? Options.BatchSize;
        double sum = 0;
        long tokens = 0;
        bool wasTraining = _model.training;
        _model.eval();
        try
        {
            using var noGrad = torch.no_grad();
            for (int start = 0; start < data.Count; start += batchSize)
            {
                using var scope = torch.NewDisposeScope();
                var indices = Enumerable.Range(start, Math.Min(batchSize, data.Count - start)).ToArray();
                using var b = data.Collate(indices);
                long n = b.TargetTokens;
                if (n == 0) continue;
                sum += _model.LossSum(b.InputIds, b.Labels.to(_model.Device), b.AttentionMask, b.PositionIds, b.SegmentIds).item<double>();
                tokens += n;
            }
        }
        finally
        {
            _model.train(wasTraining);
        }
        return (tokens == 0 ? double.NaN : sum / tokens, tokens);
    }

    void EvaluateAndTrack()
    {
        var (loss, tokens) = Measure(_validation!);
        _lastEvalStep = GlobalStep;
        bool isBest = !double.IsNaN(loss) && (BestLoss is null || loss < BestLoss.Value - Options.EarlyStoppingMinDelta);
        if (isBest)
        {
            BestLoss = loss;
            BestStep = GlobalStep;
            _evalsWithoutImprovement = 0;
            SnapshotBest();
        }
        else
        {
            _evalsWithoutImprovement++;
        }
        Raise(new Evaluated(GlobalStep, loss, Math.Exp(loss), tokens, isBest));
        if (Options.EarlyStoppingPatience is { } patience && _evalsWithoutImprovement >= patience && FinishReason is null)
            Finish(StopReason.EarlyStopped);
    }

    void SnapshotBest()
    {
        DisposeSnapshot();
        using var noGrad = torch.no_grad();
        _bestSnapshot = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        for (int i = 0; i < _trainable.Count; i++)
            _bestSnapshot[_trainable[i].Name] = _optimized[i].clone().DetachFromDisposeScope();
    }

    /// <summary>Puts the trainable weights of the best evaluation back into the model (no-op without one).</summary>
    public void RestoreBest()
    {
        if (_bestSnapshot is null) return;
        LoadTrainable(_bestSnapshot);
    }

    void LoadTrainable(IReadOnlyDictionary<string, Tensor> values)
    {
        using var noGrad = torch.no_grad();
        for (int i = 0; i < _trainable.Count; i++)
        {
            var (name, p) = _trainable[i];
            if (!values.TryGetValue(name, out var v)) throw new InvalidDataException($"no saved value for trainable parameter '{name}'");
            if (!v.shape.SequenceEqual(p.shape)) throw new InvalidDataException($"saved '{name}' has shape {Tensor.ShapeString(v.shape)}, the model's parameter {Tensor.ShapeString(p.shape)}");
            _optimized[i].copy_(v);
            if (_masters is not null) p.copy_(v);
        }
    }

    void DisposeSnapshot()
    {
        if (_bestSnapshot is null) return;
        foreach (var t in _bestSnapshot.Values) t.Dispose();
        _bestSnapshot = null;
    }

    /// <summary>Frees the optimizer state, the best snapshot and master weights (not the model).</summary>
    public void Dispose()
    {
        _optimizer.Dispose();
        DisposeSnapshot();
        if (_masters is not null) foreach (var m in _masters.Values) m.Dispose();
    }
}
