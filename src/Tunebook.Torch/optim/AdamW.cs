using Tunebook.Torch.Interop;
using Tunebook.Torch.nn;

namespace Tunebook.Torch.optim;

/// <summary>
/// Adam with decoupled weight decay (Loshchilov &amp; Hutter), the same update, in the same order of
/// operations, as torch.optim.AdamW, so a run matches PyTorch's bit for bit on the same libtorch.
/// </summary>
public sealed class AdamW : Optimizer
{
    sealed class State
    {
        public long Step;
        public Tensor ExpAvg = null!;
        public Tensor ExpAvgSq = null!;
        public Tensor? MaxExpAvgSq;
    }

    readonly Dictionary<Parameter, State> _state = new(ReferenceEqualityComparer.Instance);

    public double beta1 { get; }
    public double beta2 { get; }
    public double eps { get; }
    public bool amsgrad { get; }
    public bool maximize { get; }

    public AdamW(IEnumerable<Parameter> parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false)
        : this(Single(parameters), lr, beta1, beta2, eps, weight_decay, amsgrad, maximize) { }

    public AdamW(IEnumerable<ParamGroup> groups, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8,
        double weight_decay = 1e-2, bool amsgrad = false, bool maximize = false)
        : base(groups, lr, weight_decay)
    {
        if (beta1 < 0 || beta1 >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "AdamW: beta1 must be in [0, 1)");
        if (beta2 < 0 || beta2 >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "AdamW: beta2 must be in [0, 1)");
        if (eps < 0) throw new ArgumentOutOfRangeException(nameof(eps), eps, "AdamW: eps must be non-negative");
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.amsgrad = amsgrad;
        this.maximize = maximize;
    }

    public override void step()
    {
        using var scope = torch.NewDisposeScope();
        foreach (var (_, group, p) in AllParameters())
        {
            var grad = p.grad;
            if (grad is null) continue;
            if (!_state.TryGetValue(p, out var s))
            {
                using var noGrad = torch.no_grad();
                s = new State
                {
                    ExpAvg = torch.zeros_like(p).DetachFromDisposeScope(),
                    ExpAvgSq = torch.zeros_like(p).DetachFromDisposeScope(),
                    MaxExpAvgSq = amsgrad ? torch.zeros_like(p).DetachFromDisposeScope() : null,
                };
                _state[p] = s;
            }
            s.Step++;
            TorchException.Check(NativeMethods.tb_adamw_step(p.Handle, grad.Handle, s.ExpAvg.Handle, s.ExpAvgSq.Handle,
                s.MaxExpAvgSq?.Handle ?? IntPtr.Zero, s.Step, group.LearningRate, beta1, beta2, eps, group.WeightDecay,
                amsgrad ? 1 : 0, maximize ? 1 : 0), $"AdamW.step ({p.Name ?? "parameter"})");
        }
    }

    protected override void SaveState(OptimizerState saved)
    {
        using var noGrad = torch.no_grad();
        foreach (var (i, _, p) in AllParameters())
        {
            if (!_state.TryGetValue(p, out var s)) continue;
            saved.Scalars[$"state.{i}.step"] = s.Step;
            saved.Tensors[$"state.{i}.exp_avg"] = s.ExpAvg.clone().DetachFromDisposeScope();
            saved.Tensors[$"state.{i}.exp_avg_sq"] = s.ExpAvgSq.clone().DetachFromDisposeScope();
            if (s.MaxExpAvgSq is not null) saved.Tensors[$"state.{i}.max_exp_avg_sq"] = s.MaxExpAvgSq.clone().DetachFromDisposeScope();
        }
    }

    protected override void LoadState(OptimizerState saved)
    {
        DisposeState();
        foreach (var (i, _, p) in AllParameters())
        {
            if (!saved.Scalars.TryGetValue($"state.{i}.step", out var step)) continue;
            _state[p] = new State
            {
                Step = (long)step,
                ExpAvg = RestoreLike(saved, $"state.{i}.exp_avg", p),
                ExpAvgSq = RestoreLike(saved, $"state.{i}.exp_avg_sq", p),
                MaxExpAvgSq = amsgrad ? RestoreLike(saved, $"state.{i}.max_exp_avg_sq", p) : null,
            };
        }
    }

    void DisposeState()
    {
        foreach (var s in _state.Values) { s.ExpAvg.Dispose(); s.ExpAvgSq.Dispose(); s.MaxExpAvgSq?.Dispose(); }
        _state.Clear();
    }

    public override void Dispose() => DisposeState();
}
