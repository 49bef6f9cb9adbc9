namespace Tunebook.Torch.nn;

/// <summary>Layer normalization over the last dimensions (torch.nn.LayerNorm).</summary>
public class LayerNorm : Module<Tensor, Tensor>
{
    public long[] normalized_shape { get; }
    public double eps { get; }
    public Parameter? weight { get; }
    public Parameter? bias { get; }

    public LayerNorm(long[] normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        ArgumentNullException.ThrowIfNull(normalized_shape);
        if (normalized_shape.Length == 0 || normalized_shape.Any(s => s <= 0))
            throw new ArgumentException($"LayerNorm: normalized_shape must be non-empty and positive, got {Tensor.ShapeString(normalized_shape)}");
        this.normalized_shape = normalized_shape;
        this.eps = eps;
        if (elementwise_affine)
            using (torch.NewDisposeScope())
            {
                weight = RegisterParameter("weight", new Parameter(torch.ones(normalized_shape, dtype, device)));
                this.bias = RegisterParameter("bias", bias ? new Parameter(torch.zeros(normalized_shape, dtype, device)) : null);
            }
    }

    public LayerNorm(long normalized_shape, double eps = 1e-5, bool elementwise_affine = true, bool bias = true, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : this([normalized_shape], eps, elementwise_affine, bias, device, dtype) { }

    public override Tensor forward(Tensor input) => functional.layer_norm(input, normalized_shape, weight, bias, eps);

    protected override string ExtraRepr() => $"({string.Join(", ", normalized_shape)},), eps={eps}, elementwise_affine={(weight is null ? "False" : "True")}";
}

/// <summary>
/// Root-mean-square normalization as in Llama: x / √(mean(x²) + eps) × weight, computed in float32
/// and cast back to the input dtype (Hugging Face's LlamaRMSNorm).
/// </summary>
public class RMSNorm : Module<Tensor, Tensor>
{
    public long dim { get; }
    public double eps { get; }
    public Parameter weight { get; }

    public RMSNorm(long dim, double eps = 1e-6, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        if (dim <= 0) throw new ArgumentException($"RMSNorm: dim must be positive, got {dim}");
        this.dim = dim;
        this.eps = eps;
        using (torch.NewDisposeScope())
            weight = RegisterParameter("weight", new Parameter(torch.ones([dim], dtype, device)))!;
    }

    public override Tensor forward(Tensor input) => functional.rms_norm(input, weight, eps);

    protected override string ExtraRepr() => $"({dim},), eps={eps}";
}

/// <summary>Zeroes elements with probability p in training mode and scales the rest by 1/(1−p).</summary>
public class Dropout : Module<Tensor, Tensor>
{
    public double p { get; }

    public Dropout(double p = 0.5)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "Dropout: p must be in [0, 1]");
        this.p = p;
    }

    public override Tensor forward(Tensor input) => functional.dropout(input, p, training);

    protected override string ExtraRepr() => $"p={p}";
}
