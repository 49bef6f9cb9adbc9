namespace Tunebook.Torch;

// In-place operations (trailing underscore, as in PyTorch). Each returns this tensor.
public partial class Tensor
{
    public Tensor add_(Tensor other, double alpha = 1) { Aten.Add__Tensor.CallVoid(this, other, OpArg.Alpha(alpha)); return this; }
    public Tensor add_(double other) { Aten.Add__Scalar.CallVoid(this, other); return this; }
    public Tensor add_(long other) { Aten.Add__Scalar.CallVoid(this, other); return this; }
    public Tensor sub_(Tensor other, double alpha = 1) { Aten.Sub__Tensor.CallVoid(this, other, OpArg.Alpha(alpha)); return this; }
    public Tensor mul_(Tensor other) { Aten.Mul__Tensor.CallVoid(this, other); return this; }
    public Tensor mul_(double other) { Aten.Mul__Scalar.CallVoid(this, other); return this; }
    public Tensor mul_(long other) { Aten.Mul__Scalar.CallVoid(this, other); return this; }
    public Tensor div_(Tensor other) { Aten.Div__Tensor.CallVoid(this, other); return this; }
    public Tensor div_(double other) { Aten.Div__Scalar.CallVoid(this, other); return this; }
    /// <summary>this += value × t1 × t2.</summary>
    public Tensor addcmul_(Tensor t1, Tensor t2, double value = 1) { Aten.Addcmul_.CallVoid(this, t1, t2, value); return this; }
    /// <summary>this += value × t1 / t2.</summary>
    public Tensor addcdiv_(Tensor t1, Tensor t2, double value = 1) { Aten.Addcdiv_.CallVoid(this, t1, t2, value); return this; }
    /// <summary>this += weight × (end − this).</summary>
    public Tensor lerp_(Tensor end, double weight) { Aten.Lerp__Scalar.CallVoid(this, end, weight); return this; }
    /// <summary>Copies values from <paramref name="src"/> (broadcast, converting dtype and device).</summary>
    public Tensor copy_(Tensor src) { Aten.Copy_.CallVoid(this, src); return this; }
    public Tensor zero_() { Aten.Zero_.CallVoid(this); return this; }
    public Tensor fill_(double value) { Aten.Fill__Scalar.CallVoid(this, value); return this; }
    /// <summary>Fills with an integer exactly (a double cannot hold every int64).</summary>
    public Tensor fill_(long value) { Aten.Fill__Scalar.CallVoid(this, value); return this; }
    public Tensor clamp_(double? min = null, double? max = null) { Aten.Clamp_.CallVoid(this, OpArg.OptDouble(min), OpArg.OptDouble(max)); return this; }
    public Tensor sqrt_() { Aten.Sqrt_.CallVoid(this); return this; }
    public Tensor neg_() { Aten.Neg_.CallVoid(this); return this; }
    public Tensor exp_() { Aten.Exp_.CallVoid(this); return this; }
    public Tensor masked_fill_(Tensor mask, double value) { Aten.MaskedFill__Scalar.CallVoid(this, mask, value); return this; }
    public Tensor scatter_add_(int dim, Tensor index, Tensor src) { Aten.ScatterAdd_.CallVoid(this, dim, index, src); return this; }
    /// <summary>Fills with uniform samples from [from, to).</summary>
    public Tensor uniform_(double from = 0, double to = 1) { Aten.Uniform_.CallVoid(this, from, to); return this; }
    /// <summary>Fills with normal samples.</summary>
    public Tensor normal_(double mean = 0, double std = 1) { Aten.Normal_.CallVoid(this, mean, std); return this; }
}
