using Tunebook.Models;
using Tunebook.Models.Gpt2;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Tuning.Quantization;

/// <summary>
/// A frozen linear layer whose weight is stored as NF4 (QLoRA's base layers). Forward dequantizes the
/// weight on the fly, without gradient, into the input's dtype and applies it: gradients flow to the
/// input only, which is all a LoRA adapter on top needs. The weight is kept in [out, in] layout; a
/// layer quantized from GPT-2's Conv1D remembers it (<see cref="FanInFanOut"/>) so dequantizing gives a
/// Conv1D back. The codes live on the device the layer was quantized on.
/// </summary>
public sealed class Nf4Linear : Module<Tensor, Tensor>
{
    /// <summary>The quantized weight, [out_features, in_features].</summary>
    public Nf4Tensor Weight { get; }
    /// <summary>The bias, frozen, in the original dtype (null without one).</summary>
    public Parameter? bias { get; }
    /// <summary>Input width.</summary>
    public long InFeatures { get; }
    /// <summary>Output width.</summary>
    public long OutFeatures { get; }
    /// <summary>True when quantized from a GPT-2 Conv1D (weight [in, out] in the checkpoint).</summary>
    public bool FanInFanOut { get; }
    /// <summary>Dtype of the weight before quantization.</summary>
    public ScalarType OriginalDType { get; }
    /// <summary>Device of the codes.</summary>
    public Device Device => Weight.Device;

    Nf4Linear(Tensor weightOutIn, Tensor? bias, bool fanInFanOut)
    {
        OriginalDType = weightOutIn.dtype;
        OutFeatures = weightOutIn.size(0);
        InFeatures = weightOutIn.size(1);
        FanInFanOut = fanInFanOut;
        Weight = Nf4.Quantize(weightOutIn);
        if (bias is not null)
        {
            using var scope = torch.NewDisposeScope();
            this.bias = RegisterParameter("bias", new Parameter(bias.detach().clone(), requires_grad: false));
        }
    }

    /// <summary>Quantizes a Linear's weight (the Linear itself is left untouched).</summary>
    public static Nf4Linear FromLinear(Linear linear)
    {
        ArgumentNullException.ThrowIfNull(linear);
        return new Nf4Linear(linear.weight, linear.bias, fanInFanOut: false);
    }

    /// <summary>Quantizes a GPT-2 Conv1D's weight, transposed to [out, in].</summary>
    public static Nf4Linear FromConv1D(Conv1D conv)
    {
        ArgumentNullException.ThrowIfNull(conv);
        using var scope = torch.NewDisposeScope();
        return new Nf4Linear(conv.weight.t().contiguous(), conv.bias, fanInFanOut: true);
    }

    /// <summary>x Wᵀ + b with W dequantized (no gradient to W) in x's dtype.</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var w = Weight.Dequantize(x.dtype);
        var b = bias is null ? null : bias.dtype == x.dtype ? bias : bias.to(x.dtype);
        return scope.MoveToOuter(functional.linear(x, w, b));
    }

    /// <summary>
    /// A plain layer with the dequantized weight in <paramref name="dtype"/> (plus <paramref name="delta"/>,
    /// in the checkpoint layout, when merging a LoRA update): a <see cref="Linear"/>, or a
    /// <see cref="Conv1D"/> when quantized from one.
    /// </summary>
    public Module<Tensor, Tensor> Dequantize(ScalarType dtype, Tensor? delta = null)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var w = Weight.Dequantize(ScalarType.Float32);
        if (FanInFanOut)
        {
            var conv = new Conv1D(InFeatures, OutFeatures, Device, dtype);
            var wt = w.t();
            conv.weight.copy_(delta is null ? wt : wt + delta);
            if (bias is not null) conv.bias.copy_(bias); else conv.bias.zero_();
            return conv;
        }
        var merged = (delta is null ? w : w + delta).to(dtype).clone();
        return new Linear(merged, bias?.to(dtype).clone());
    }

    /// <summary>The NF4 codes and scales travel with <c>model.to(device)</c>; <c>model.to(dtype)</c> leaves them as they are.</summary>
    protected override void MoveState(Device device) => Weight.To(device);

    /// <summary>Bytes of this layer's storage by dtype (codes, scales, bias).</summary>
    public IReadOnlyDictionary<ScalarType, long> BytesByDType()
    {
        var result = new Dictionary<ScalarType, long>(Weight.BytesByDType());
        if (bias is not null) result[bias.dtype] = result.GetValueOrDefault(bias.dtype) + bias.NumBytes;
        return result;
    }

    protected override string ExtraRepr() => $"in_features={InFeatures}, out_features={OutFeatures}, bias={(bias is null ? "False" : "True")}, nf4, blocksize={Nf4.BlockSize}, double_quant";
}
