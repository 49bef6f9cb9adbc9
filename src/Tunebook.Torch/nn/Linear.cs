namespace Tunebook.Torch.nn;

/// <summary>
/// y = x Wᵀ + b, with PyTorch's layout (weight [out_features, in_features]) and initialization
/// (Kaiming uniform, a = √5; bias uniform in ±1/√in_features). Subclass it or wrap it (LoRA wraps a
/// base Linear and replaces it with <see cref="Module.ReplaceModule"/>).
/// </summary>
public class Linear : Module<Tensor, Tensor>
{
    public long in_features { get; }
    public long out_features { get; }
    public Parameter weight { get; private set; }
    public Parameter? bias { get; private set; }

    public Linear(long in_features, long out_features, bool bias = true, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        if (in_features <= 0 || out_features <= 0)
            throw new ArgumentException($"Linear: in_features and out_features must be positive, got {in_features} and {out_features}");
        this.in_features = in_features;
        this.out_features = out_features;
        using (var scope = torch.NewDisposeScope())
        {
            weight = RegisterParameter("weight", new Parameter(torch.empty([out_features, in_features], dtype, device)))!;
            this.bias = RegisterParameter("bias", bias ? new Parameter(torch.empty([out_features], dtype, device)) : null);
        }
        reset_parameters();
    }

    /// <summary>Wraps existing tensors (e.g. loaded weights) as a Linear; the tensors' storage is shared.</summary>
    public Linear(Tensor weight, Tensor? bias = null)
    {
        var s = weight.shape;
        if (s.Length != 2) throw new ArgumentException($"Linear: weight must be 2-D [out, in], got shape {Tensor.ShapeString(s)}");
        out_features = s[0];
        in_features = s[1];
        if (bias is not null && !bias.shape.SequenceEqual(new[] { out_features }))
            throw new ArgumentException($"Linear: bias must have shape [{out_features}], got {Tensor.ShapeString(bias.shape)}");
        this.weight = RegisterParameter("weight", new Parameter(weight))!;
        this.bias = RegisterParameter("bias", bias is null ? null : new Parameter(bias));
    }

    public void reset_parameters()
    {
        init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is not null)
        {
            double bound = 1 / Math.Sqrt(in_features);
            init.uniform_(bias, -bound, bound);
        }
    }

    public override Tensor forward(Tensor input) => functional.linear(input, weight, bias);

    protected override string ExtraRepr() => $"in_features={in_features}, out_features={out_features}, bias={(bias is null ? "False" : "True")}";
}
