using Tunebook.Torch.nn;

namespace Tunebook.Torch.optim;

/// <summary>Stochastic gradient descent with optional momentum, dampening, Nesterov and (coupled) weight decay, as torch.optim.SGD.</summary>
public sealed class SGD : Optimizer
{
    readonly Dictionary<Parameter, Tensor> _momentumBuffers = new(ReferenceEqualityComparer.Instance);

    public double momentum { get; }
    public double dampening { get; }
    public bool nesterov { get; }
    public bool maximize { get; }

    public SGD(IEnumerable<Parameter> parameters, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false)
        : this(Single(parameters), lr, momentum, dampening, weight_decay, nesterov, maximize) { }

    public SGD(IEnumerable<ParamGroup> groups, double lr, double momentum = 0, double dampening = 0, double weight_decay = 0, bool nesterov = false, bool maximize = false)
        : base(groups, lr, weight_decay)
    {
        if (momentum < 0) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "SGD: momentum must be non-negative");
        if (nesterov && (momentum <= 0 || dampening != 0)) throw new ArgumentException("SGD: Nesterov momentum requires a momentum and zero dampening");
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
        this.maximize = maximize;
    }

    public override void step()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (_, group, p) in AllParameters())
        {
            var grad = p.grad;
            if (grad is null) continue;
            // Same operations and order as torch.optim.SGD (single-tensor path).
            var d_p = maximize ? grad.neg() : grad;
            if (group.WeightDecay != 0) d_p = d_p.add(p, alpha: group.WeightDecay);
            if (momentum != 0)
            {
                if (!_momentumBuffers.TryGetValue(p, out var buf))
                {
                    buf = d_p.clone().detach().DetachFromDisposeScope();
                    _momentumBuffers[p] = buf;
                }
                else
                {
                    buf.mul_(momentum).add_(d_p, alpha: 1 - dampening);
                }
                d_p = nesterov ? d_p.add(buf, alpha: momentum) : buf;
            }
            p.add_(d_p, alpha: -group.LearningRate);
        }
    }

    protected override void SaveState(OptimizerState saved)
    {
        foreach (var (i, _, p) in AllParameters())
            if (_momentumBuffers.TryGetValue(p, out var buf))
                saved.Tensors[$"state.{i}.momentum_buffer"] = buf.clone().DetachFromDisposeScope();
    }

    protected override void LoadState(OptimizerState saved)
    {
        foreach (var b in _momentumBuffers.Values) b.Dispose();
        _momentumBuffers.Clear();
        foreach (var (i, _, p) in AllParameters())
            if (saved.Tensors.ContainsKey($"state.{i}.momentum_buffer"))
                _momentumBuffers[p] = RestoreLike(saved, $"state.{i}.momentum_buffer", p);
    }

    public override void Dispose()
    {
        foreach (var b in _momentumBuffers.Values) b.Dispose();
        _momentumBuffers.Clear();
    }
}
