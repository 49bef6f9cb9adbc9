using Tunebook.Models.Gpt2;
using Tunebook.Torch;
using Tunebook.Torch.nn;
using Tunebook.Tuning.Quantization;

namespace Tunebook.Tuning.Lora;

/// <summary>
/// A frozen linear layer plus a trainable low-rank update (Hu et al., 2021):
/// <code>y = base(x) + (dropout(x) Aᵀ Bᵀ) · scaling</code>
/// with A [r, in] and B [out, r]. A starts Kaiming-uniform (a = √5) and B at zero, so at
/// initialisation the layer computes exactly what the base layer computes, as in PEFT. The scaling is
/// α / r, or α / √r with rsLoRA (Kalajdzievski, 2023), which keeps the update's size stable as r grows.
/// The base layer may be a <see cref="Linear"/>, GPT-2's <see cref="Conv1D"/> (weight stored [in, out],
/// PEFT's fan_in_fan_out) or an <see cref="Nf4Linear"/> (QLoRA).
/// </summary>
public sealed class LoraLinear : Module<Tensor, Tensor>
{
    /// <summary>The wrapped layer; its parameters are frozen.</summary>
    public Module<Tensor, Tensor> base_layer { get; }
    /// <summary>Down-projection A, weight [r, in_features].</summary>
    public Linear lora_A { get; }
    /// <summary>Up-projection B, weight [out_features, r], zero at initialisation.</summary>
    public Linear lora_B { get; }

    /// <summary>Rank r.</summary>
    public int Rank { get; }
    /// <summary>α, the numerator of the scaling.</summary>
    public double Alpha { get; }
    /// <summary>Dropout probability on the adapter's input (the base path sees the undropped input).</summary>
    public double Dropout { get; }
    /// <summary>Whether the scaling is α/√r (rsLoRA) instead of α/r.</summary>
    public bool UseRsLora { get; }
    /// <summary>The factor applied to B·A: α/r, or α/√r with rsLoRA.</summary>
    public double Scaling { get; }
    /// <summary>True when the base weight is stored [in, out] (GPT-2's Conv1D): merging adds (B·A)ᵀ.</summary>
    public bool FanInFanOut { get; }
    /// <summary>Input width.</summary>
    public long InFeatures { get; }
    /// <summary>Output width.</summary>
    public long OutFeatures { get; }

    LoraLinear(Module<Tensor, Tensor> baseLayer, long inFeatures, long outFeatures, bool fanInFanOut, Device device,
        int r, double alpha, double dropout, bool rslora)
    {
        if (r < 1) throw new ArgumentOutOfRangeException(nameof(r), r, "LoRA rank r must be at least 1");
        if (!(alpha > 0) || double.IsInfinity(alpha)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "LoRA alpha must be a positive number");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "LoRA dropout must be in [0, 1)");
        base_layer = RegisterModule("base_layer", baseLayer);
        base_layer.requires_grad_(false);
        Rank = r;
        Alpha = alpha;
        Dropout = dropout;
        UseRsLora = rslora;
        Scaling = rslora ? alpha / Math.Sqrt(r) : alpha / r;
        FanInFanOut = fanInFanOut;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        // Adapter weights are float32 whatever the base dtype: they are the optimizer's master weights.
        lora_A = RegisterModule("lora_A", new Linear(inFeatures, r, bias: false, device: device, dtype: ScalarType.Float32));
        lora_B = RegisterModule("lora_B", new Linear(r, outFeatures, bias: false, device: device, dtype: ScalarType.Float32));
        init.kaiming_uniform_(lora_A.weight, a: Math.Sqrt(5));
        init.zeros_(lora_B.weight);
    }

    /// <summary>
    /// Wraps <paramref name="baseLayer"/> (a <see cref="Linear"/>, <see cref="Conv1D"/> or <see cref="Nf4Linear"/>)
    /// with a rank-<paramref name="r"/> adapter. The base layer's parameters are frozen; A and B are
    /// created on the base layer's device, in float32.
    /// </summary>
    public static LoraLinear FromBase(Module<Tensor, Tensor> baseLayer, int r, double alpha, double dropout = 0, bool rslora = false)
    {
        ArgumentNullException.ThrowIfNull(baseLayer);
        return baseLayer switch
        {
            Linear l => new LoraLinear(l, l.in_features, l.out_features, false, l.weight.device, r, alpha, dropout, rslora),
            Conv1D c => new LoraLinear(c, c.in_features, c.out_features, true, c.weight.device, r, alpha, dropout, rslora),
            Nf4Linear q => new LoraLinear(q, q.InFeatures, q.OutFeatures, q.FanInFanOut, q.Device, r, alpha, dropout, rslora),
            LoraLinear => throw new ArgumentException("LoraLinear.FromBase: the layer already has a LoRA adapter"),
            _ => throw new ArgumentException($"LoraLinear.FromBase: LoRA wraps Linear, Conv1D or Nf4Linear layers, not {baseLayer.GetType().Name}"),
        };
    }

    /// <summary>base(x) + B(A(dropout(x))) · scaling.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var result = base_layer.forward(x);
        // The adapter computes in the input's dtype (bf16 under mixed precision, where the float32
        // master weights live in the trainer, not here).
        var dtype = x.dtype;
        var a = lora_A.weight.dtype == dtype ? lora_A.weight : lora_A.weight.to(dtype);
        // The scaling goes onto B ([out, r]) rather than onto the [.., out] update: the same product,
        // without a pass over the layer's output forward and another over its gradient backward.
        var b = (lora_B.weight.dtype == dtype ? lora_B.weight : lora_B.weight.to(dtype)) * Scaling;
        var input = x.dtype == dtype ? x : x.to(dtype);
        if (Dropout > 0 && training) input = functional.dropout(input, Dropout, true);
        var update = functional.linear(functional.linear(input, a), b);
        if (update.dtype != result.dtype) update = update.to(result.dtype);
        return scope.MoveToOuter(result + update);
    }

    /// <summary>The weight update ΔW = scaling · B·A, [out, in] in float32 (transposed to [in, out] when <see cref="FanInFanOut"/>).</summary>
    public Tensor DeltaWeight()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var delta = lora_B.weight.matmul(lora_A.weight) * Scaling;
        return scope.MoveToOuter(FanInFanOut ? delta.t().contiguous() : delta);
    }

    /// <summary>
    /// A plain layer equal to this one: the base weight plus ΔW, in <paramref name="dtype"/> (default:
    /// the base weight's dtype; an NF4 base is dequantized to float32 unless told otherwise). The result is
    /// a new <see cref="Linear"/> or <see cref="Conv1D"/> with frozen parameters; this layer is unchanged.
    /// </summary>
    public Module<Tensor, Tensor> Merge(ScalarType? dtype = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var delta = DeltaWeight();
        Module<Tensor, Tensor> merged;
        switch (base_layer)
        {
            case Linear l:
            {
                var target = dtype ?? l.weight.dtype;
                var w = (l.weight.to(ScalarType.Float32) + delta).to(target);
                merged = new Linear(w.clone(), l.bias?.to(target).clone());
                break;
            }
            case Conv1D c:
            {
                var target = dtype ?? c.weight.dtype;
                var conv = new Conv1D(c.in_features, c.out_features, c.weight.device, target);
                conv.weight.copy_(c.weight.to(ScalarType.Float32) + delta);
                conv.bias.copy_(c.bias);
                merged = conv;
                break;
            }
            case Nf4Linear q:
            {
                var target = dtype ?? ScalarType.Float32;
                merged = q.Dequantize(target, delta);
                break;
            }
            default:
                throw new InvalidOperationException($"LoraLinear.Merge: unsupported base layer {base_layer.GetType().Name}");
        }
        merged.requires_grad_(false);
        return merged;
    }

    protected override string ExtraRepr() =>
        $"in_features={InFeatures}, out_features={OutFeatures}, r={Rank}, alpha={Alpha}, dropout={Dropout}, scaling={Scaling:0.####}{(UseRsLora ? ", rslora" : "")}{(FanInFanOut ? ", fan_in_fan_out" : "")}";
}
