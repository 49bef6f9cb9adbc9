using Tunebook.Torch.nn;

namespace Tunebook.Torch.optim;

/// <summary>A set of parameters sharing a learning rate and weight decay (PyTorch's param_groups entry).</summary>
public sealed class ParamGroup
{
    public ParamGroup(IEnumerable<Parameter> parameters, double? lr = null, double? weight_decay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters.ToList();
        LearningRateOverride = lr;
        WeightDecayOverride = weight_decay;
    }

    /// <summary>The parameters updated by this group.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Current learning rate; schedulers set it every step.</summary>
    public double LearningRate { get; set; }

    /// <summary>Learning rate the group started with (schedulers scale from it, like PyTorch's initial_lr).</summary>
    public double InitialLearningRate { get; set; }

    /// <summary>Weight decay of this group.</summary>
    public double WeightDecay { get; set; }

    internal double? LearningRateOverride { get; }
    internal double? WeightDecayOverride { get; }
}

/// <summary>
/// The saved state of an optimizer: per-parameter tensors named "state.{index}.{name}" (index counts
/// parameters across groups, as in PyTorch) and numbers such as "state.{index}.step" and
/// "param_groups.{g}.lr". Write both into a checkpoint to resume training bit-exactly.
/// </summary>
public sealed class OptimizerState : IDisposable
{
    public Dictionary<string, Tensor> Tensors { get; } = new();
    public Dictionary<string, double> Scalars { get; } = new();

    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
        Tensors.Clear();
    }
}

/// <summary>Base class of optimizers: parameter groups, zero_grad, state save/restore.</summary>
public abstract class Optimizer : IDisposable
{
    readonly List<ParamGroup> _groups;

    protected Optimizer(IEnumerable<ParamGroup> groups, double lr, double weightDecay)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (lr < 0 || double.IsNaN(lr)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "learning rate must be non-negative");
        if (weightDecay < 0) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weight decay must be non-negative");
        this._groups = groups.ToList();
        if (this._groups.Count == 0) throw new ArgumentException("optimizer got an empty list of parameter groups");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var g in this._groups)
        {
            g.LearningRate = g.LearningRateOverride ?? lr;
            g.InitialLearningRate = g.LearningRate;
            g.WeightDecay = g.WeightDecayOverride ?? weightDecay;
            foreach (var p in g.Parameters)
            {
                if (p is null) throw new ArgumentException("optimizer got a null parameter");
                if (!seen.Add(p)) throw new ArgumentException($"parameter {p.Name ?? "(unnamed)"} appears in more than one parameter group");
            }
        }
        if (seen.Count == 0) throw new ArgumentException("optimizer got an empty parameter list");
    }

    protected static IEnumerable<ParamGroup> Single(IEnumerable<Parameter> parameters) => [new ParamGroup(parameters)];

    /// <summary>The parameter groups; set <see cref="ParamGroup.LearningRate"/> to change a group's rate.</summary>
    public IReadOnlyList<ParamGroup> param_groups => _groups;

    /// <summary>Learning rate of the first group; setting it sets every group's.</summary>
    public double lr
    {
        get => _groups[0].LearningRate;
        set { foreach (var g in _groups) g.LearningRate = value; }
    }

    /// <summary>All parameters in group order (their position is the state index).</summary>
    protected IEnumerable<(int index, ParamGroup group, Parameter parameter)> AllParameters()
    {
        int i = 0;
        foreach (var g in _groups)
            foreach (var p in g.Parameters)
                yield return (i++, g, p);
    }

    /// <summary>Clears (default) or zeroes every parameter's gradient.</summary>
    public void zero_grad(bool set_to_none = true)
    {
        foreach (var (_, _, p) in AllParameters())
        {
            if (set_to_none) { p.grad = null; continue; }
            using var g = p.grad;
            g?.zero_();
        }
    }

    /// <summary>Applies one update using the parameters' current gradients (parameters without one are skipped).</summary>
    public abstract void step();

    /// <summary>A copy of the optimizer's state (see <see cref="OptimizerState"/>); the caller disposes it.</summary>
    public OptimizerState state_dict()
    {
        var s = new OptimizerState();
        for (int g = 0; g < _groups.Count; g++)
        {
            s.Scalars[$"param_groups.{g}.lr"] = _groups[g].LearningRate;
            s.Scalars[$"param_groups.{g}.initial_lr"] = _groups[g].InitialLearningRate;
            s.Scalars[$"param_groups.{g}.weight_decay"] = _groups[g].WeightDecay;
        }
        SaveState(s);
        return s;
    }

    /// <summary>Restores a state from <see cref="state_dict"/> (copies; the argument stays owned by the caller).</summary>
    public void load_state_dict(OptimizerState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        for (int g = 0; g < _groups.Count; g++)
        {
            if (state.Scalars.TryGetValue($"param_groups.{g}.lr", out var lrValue)) _groups[g].LearningRate = lrValue;
            if (state.Scalars.TryGetValue($"param_groups.{g}.initial_lr", out var initial)) _groups[g].InitialLearningRate = initial;
            if (state.Scalars.TryGetValue($"param_groups.{g}.weight_decay", out var wd)) _groups[g].WeightDecay = wd;
        }
        LoadState(state);
    }

    protected abstract void SaveState(OptimizerState state);
    protected abstract void LoadState(OptimizerState state);

    /// <summary>Copy of a saved state tensor, checked against the parameter it belongs to.</summary>
    protected static Tensor RestoreLike(OptimizerState state, string key, Parameter like)
    {
        if (!state.Tensors.TryGetValue(key, out var saved))
            throw new ArgumentException($"optimizer state has no tensor '{key}'");
        var want = like.shape;
        var got = saved.shape;
        if (!want.SequenceEqual(got))
            throw new ArgumentException($"optimizer state '{key}' has shape {Tensor.ShapeString(got)}, but its parameter has shape {Tensor.ShapeString(want)}");
        using var noGrad = torch.no_grad();
        return saved.to(like.device, like.dtype, copy: true).DetachFromDisposeScope();
    }

    public virtual void Dispose() { }
}
