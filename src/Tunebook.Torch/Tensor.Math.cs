using Tunebook.Torch.Interop;

namespace Tunebook.Torch;

// Elementwise arithmetic, unary functions, comparisons and operators.
public partial class Tensor
{
    // ---- arithmetic (hot paths call the shim directly) -----------------------------------------

    /// <summary>this + alpha × other (broadcasting).</summary>
    public Tensor add(Tensor other, double alpha = 1) => Wrap(NativeMethods.tb_add(Handle, Arg(other, "add").Handle, alpha), "add");
    public Tensor add(double other) => Wrap(NativeMethods.tb_add_scalar(Handle, other), "add");
    /// <summary>this + other with an integer scalar: integer tensors stay integer, as in PyTorch's <c>t + 1</c>.</summary>
    public Tensor add(long other) => Aten.Add_Scalar.Call(this, other, 1L);
    /// <summary>this − alpha × other (broadcasting).</summary>
    public Tensor sub(Tensor other, double alpha = 1) => Wrap(NativeMethods.tb_sub(Handle, Arg(other, "sub").Handle, alpha), "sub");
    public Tensor sub(double other) => Wrap(NativeMethods.tb_add_scalar(Handle, -other), "sub");
    public Tensor sub(long other) => Aten.Sub_Scalar.Call(this, other, 1L);
    public Tensor mul(Tensor other) => Wrap(NativeMethods.tb_mul(Handle, Arg(other, "mul").Handle), "mul");
    public Tensor mul(double other) => Wrap(NativeMethods.tb_mul_scalar(Handle, other), "mul");
    public Tensor mul(long other) => Aten.Mul_Scalar.Call(this, other);
    public Tensor div(Tensor other) => Wrap(NativeMethods.tb_div(Handle, Arg(other, "div").Handle), "div");
    public Tensor div(double other) => Aten.Div_Scalar.Call(this, other);
    /// <summary>Division with rounding: "trunc" or "floor".</summary>
    public Tensor div(Tensor other, string rounding_mode) => Aten.Div_Tensor_mode.Call(this, other, rounding_mode);
    public Tensor remainder(double other) => Aten.Remainder_Scalar.Call(this, other);
    public Tensor remainder(long other) => Aten.Remainder_Scalar.Call(this, other);

    public static Tensor operator +(Tensor a, Tensor b) => a.add(b);
    public static Tensor operator +(Tensor a, double b) => a.add(b);
    public static Tensor operator +(double a, Tensor b) => b.add(a);
    // Integer scalars keep integer tensors integer (C# picks these for int and long literals; a
    // float tensor gives the same result either way).
    public static Tensor operator +(Tensor a, long b) => a.add(b);
    public static Tensor operator +(long a, Tensor b) => b.add(a);
    public static Tensor operator -(Tensor a, long b) => a.sub(b);
    public static Tensor operator -(long a, Tensor b) => Aten.Rsub_Scalar.Call(b, a, 1L);
    public static Tensor operator *(Tensor a, long b) => a.mul(b);
    public static Tensor operator *(long a, Tensor b) => b.mul(a);
    public static Tensor operator %(Tensor a, long b) => a.remainder(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.sub(b);
    public static Tensor operator -(Tensor a, double b) => a.sub(b);
    public static Tensor operator -(double a, Tensor b) => Aten.Rsub_Scalar.Call(b, a);
    public static Tensor operator *(Tensor a, Tensor b) => a.mul(b);
    public static Tensor operator *(Tensor a, double b) => a.mul(b);
    public static Tensor operator *(double a, Tensor b) => b.mul(a);
    public static Tensor operator /(Tensor a, Tensor b) => a.div(b);
    public static Tensor operator /(Tensor a, double b) => a.div(b);
    public static Tensor operator /(double a, Tensor b) => b.reciprocal().mul_(a);
    public static Tensor operator -(Tensor a) => a.neg();
    public static Tensor operator %(Tensor a, double b) => a.remainder(b);
    public static Tensor operator &(Tensor a, Tensor b) => a.bitwise_and(b);
    public static Tensor operator |(Tensor a, Tensor b) => a.bitwise_or(b);
    public static Tensor operator ^(Tensor a, Tensor b) => a.bitwise_xor(b);
    public static Tensor operator ~(Tensor a) => a.bitwise_not();
    public static Tensor operator <<(Tensor a, int b) => Aten.BitwiseLeftShift_Tensor_Scalar.Call(a, b);
    public static Tensor operator >>(Tensor a, int b) => Aten.BitwiseRightShift_Tensor_Scalar.Call(a, b);

    // ---- unary ---------------------------------------------------------------------------------

    public Tensor neg() => Aten.Neg.Call(this);
    /// <summary>this + value·t1·t2 in one pass (broadcasting), with autograd.</summary>
    public Tensor addcmul(Tensor t1, Tensor t2, double value = 1) => Aten.Addcmul.Call(this, t1, t2, value);
    public Tensor abs() => Aten.Abs.Call(this);
    public Tensor exp() => Aten.Exp.Call(this);
    public Tensor log() => Aten.Log.Call(this);
    public Tensor log1p() => Aten.Log1p.Call(this);
    public Tensor sqrt() => Aten.Sqrt.Call(this);
    public Tensor rsqrt() => Aten.Rsqrt.Call(this);
    public Tensor reciprocal() => Aten.Reciprocal.Call(this);
    public Tensor pow(double exponent) => Aten.Pow_Tensor_Scalar.Call(this, exponent);
    public Tensor pow(Tensor exponent) => Aten.Pow_Tensor_Tensor.Call(this, exponent);
    public Tensor square() => Aten.Pow_Tensor_Scalar.Call(this, 2L);
    public Tensor sin() => Aten.Sin.Call(this);
    public Tensor cos() => Aten.Cos.Call(this);
    public Tensor tanh() => Aten.Tanh.Call(this);
    public Tensor sigmoid() => Aten.Sigmoid.Call(this);
    public Tensor relu() => Aten.Relu.Call(this);
    public Tensor silu() => Aten.Silu.Call(this);
    /// <summary>GELU; approximate is "none" (erf) or "tanh".</summary>
    public Tensor gelu(string approximate = "none") => Aten.Gelu.Call(this, approximate);
    public Tensor erf() => Aten.Erf.Call(this);
    public Tensor sign() => Aten.Sign.Call(this);
    public Tensor floor() => Aten.Floor.Call(this);
    public Tensor ceil() => Aten.Ceil.Call(this);
    public Tensor round() => Aten.Round.Call(this);
    public Tensor clamp(double? min = null, double? max = null)
    {
        if (min is null && max is null) throw new ArgumentException("clamp: at least one of min and max must be given");
        return Aten.Clamp.Call(this, OpArg.OptDouble(min), OpArg.OptDouble(max));
    }
    public Tensor clamp_min(double min) => clamp(min, null);
    public Tensor clamp_max(double max) => clamp(null, max);
    public Tensor minimum(Tensor other) => Aten.Minimum.Call(this, other);
    public Tensor maximum(Tensor other) => Aten.Maximum.Call(this, other);
    public Tensor nan_to_num(double nan = 0, double? posinf = null, double? neginf = null) => Aten.NanToNum.Call(this, nan, OpArg.OptDouble(posinf), OpArg.OptDouble(neginf));
    public Tensor logical_not() => Aten.LogicalNot.Call(this);
    public Tensor logical_and(Tensor other) => Aten.LogicalAnd.Call(this, other);
    public Tensor logical_or(Tensor other) => Aten.LogicalOr.Call(this, other);
    public Tensor bitwise_and(Tensor other) => Aten.BitwiseAnd_Tensor.Call(this, other);
    public Tensor bitwise_and(long other) => Aten.BitwiseAnd_Scalar.Call(this, other);
    public Tensor bitwise_or(Tensor other) => Aten.BitwiseOr_Tensor.Call(this, other);
    public Tensor bitwise_xor(Tensor other) => Aten.BitwiseXor_Tensor.Call(this, other);
    public Tensor bitwise_not() => Aten.BitwiseNot.Call(this);
    public Tensor bitwise_left_shift(int bits) => Aten.BitwiseLeftShift_Tensor_Scalar.Call(this, bits);
    public Tensor bitwise_right_shift(int bits) => Aten.BitwiseRightShift_Tensor_Scalar.Call(this, bits);

    // ---- comparisons (return bool tensors) -----------------------------------------------------

    public Tensor eq(Tensor other) => Aten.Eq_Tensor.Call(this, other);
    public Tensor eq(double other) => Aten.Eq_Scalar.Call(this, other);
    public Tensor eq(long other) => Aten.Eq_Scalar.Call(this, other);
    public Tensor ne(Tensor other) => Aten.Ne_Tensor.Call(this, other);
    public Tensor ne(double other) => Aten.Ne_Scalar.Call(this, other);
    public Tensor ne(long other) => Aten.Ne_Scalar.Call(this, other);
    public Tensor lt(Tensor other) => Aten.Lt_Tensor.Call(this, other);
    public Tensor lt(double other) => Aten.Lt_Scalar.Call(this, other);
    public Tensor lt(long other) => Aten.Lt_Scalar.Call(this, other);
    public Tensor le(Tensor other) => Aten.Le_Tensor.Call(this, other);
    public Tensor le(double other) => Aten.Le_Scalar.Call(this, other);
    public Tensor le(long other) => Aten.Le_Scalar.Call(this, other);
    public Tensor gt(Tensor other) => Aten.Gt_Tensor.Call(this, other);
    public Tensor gt(double other) => Aten.Gt_Scalar.Call(this, other);
    public Tensor gt(long other) => Aten.Gt_Scalar.Call(this, other);
    public Tensor ge(Tensor other) => Aten.Ge_Tensor.Call(this, other);
    public Tensor ge(double other) => Aten.Ge_Scalar.Call(this, other);
    public Tensor ge(long other) => Aten.Ge_Scalar.Call(this, other);
    public Tensor isnan() => Aten.Isnan.Call(this);
    public Tensor isinf() => Aten.Isinf.Call(this);
    public Tensor isfinite() => Aten.Isfinite.Call(this);

    /// <summary>True when shapes match and all elements are equal.</summary>
    public bool equal(Tensor other) => Aten.Equal.CallScalar(this, other) != 0;

    /// <summary>|this − other| ≤ atol + rtol × |other| everywhere.</summary>
    public bool allclose(Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false) =>
        Aten.Allclose.CallScalar(this, other, rtol, atol, equal_nan) != 0;

    // ---- linear algebra ------------------------------------------------------------------------

    /// <summary>Matrix product with broadcasting (torch.matmul).</summary>
    public Tensor matmul(Tensor other) => Wrap(NativeMethods.tb_matmul(Handle, Arg(other, "matmul").Handle), "matmul");
    /// <summary>Product of two matrices; float32 on the CPU runs on <see cref="torch.cpu_matmul"/>'s library.</summary>
    public Tensor mm(Tensor other) => Wrap(NativeMethods.tb_mm(Handle, Arg(other, "mm").Handle), "mm");
    /// <summary>Batched matrix product of [b, n, m] and [b, m, p].</summary>
    public Tensor bmm(Tensor other) => Aten.Bmm.Call(this, other);
    public Tensor outer(Tensor other) => Aten.Outer.Call(this, other);

    internal static Tensor Arg(Tensor? t, string operation, string name = "other") =>
        t ?? throw new ArgumentNullException(name, $"{operation}: '{name}' is null; expected a tensor");
}
