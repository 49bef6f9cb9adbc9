using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Gpt2;

/// <summary>
/// GPT-2's "Conv1D": a linear layer whose weight is stored transposed, [in_features, out_features]
/// (y = x W + b). The name is historical; there is no convolution. Adapters must know the layout:
/// <see cref="FanInFanOut"/> is true, as PEFT's fan_in_fan_out flag expects for these layers.
/// </summary>
public sealed class Conv1D : Module<Tensor, Tensor>
{
    public long in_features { get; }
    public long out_features { get; }
    /// <summary>[in_features, out_features].</summary>
    public Parameter weight { get; }
    public Parameter bias { get; }

    /// <summary>Always true: the weight is [in, out], the transpose of <see cref="Linear"/>'s.</summary>
    public bool FanInFanOut => true;

    public Conv1D(long in_features, long out_features, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        if (in_features <= 0 || out_features <= 0)
            throw new ArgumentException($"Conv1D: sizes must be positive, got {in_features} and {out_features}");
        this.in_features = in_features;
        this.out_features = out_features;
        using (torch.NewDisposeScope())
        {
            weight = RegisterParameter("weight", new Parameter(torch.empty([in_features, out_features], dtype, device)))!;
            bias = RegisterParameter("bias", new Parameter(torch.zeros([out_features], dtype, device)))!;
        }
        init.normal_(weight, 0, 0.02);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        return scope.MoveToOuter(functional.linear(input, weight.t(), bias));
    }

    protected override string ExtraRepr() => $"nf={out_features}, nx={in_features}";
}
