namespace Tunebook.Torch;

// Reductions over all elements or over dimensions.
public partial class Tensor
{
    public Tensor sum(ScalarType? dtype = null) => Aten.Sum.Call(this, OpArg.OptDType(dtype));
    public Tensor sum(int dim, bool keepdim = false, ScalarType? dtype = null) => Aten.Sum_dim_IntList.Call(this, new long[] { dim }, keepdim, OpArg.OptDType(dtype));
    public Tensor sum(long[] dims, bool keepdim = false, ScalarType? dtype = null) => Aten.Sum_dim_IntList.Call(this, dims, keepdim, OpArg.OptDType(dtype));
    public Tensor mean(ScalarType? dtype = null) => Aten.Mean.Call(this, OpArg.OptDType(dtype));
    public Tensor mean(int dim, bool keepdim = false, ScalarType? dtype = null) => Aten.Mean_dim.Call(this, new long[] { dim }, keepdim, OpArg.OptDType(dtype));
    public Tensor mean(long[] dims, bool keepdim = false, ScalarType? dtype = null) => Aten.Mean_dim.Call(this, dims, keepdim, OpArg.OptDType(dtype));
    public Tensor prod(ScalarType? dtype = null) => Aten.Prod.Call(this, OpArg.OptDType(dtype));
    /// <summary>Largest element.</summary>
    public Tensor max() => Aten.Max.Call(this);
    /// <summary>Largest values along a dimension and their indices.</summary>
    public (Tensor values, Tensor indices) max(int dim, bool keepdim = false) => Aten.Max_dim.Call2(this, dim, keepdim);
    public Tensor min() => Aten.Min.Call(this);
    public (Tensor values, Tensor indices) min(int dim, bool keepdim = false) => Aten.Min_dim.Call2(this, dim, keepdim);
    public Tensor amax(long[] dims, bool keepdim = false) => Aten.Amax.Call(this, dims, keepdim);
    public Tensor amin(long[] dims, bool keepdim = false) => Aten.Amin.Call(this, dims, keepdim);
    /// <summary>Index of the largest element (of the flattened tensor when dim is null).</summary>
    public Tensor argmax(int? dim = null, bool keepdim = false) => Aten.Argmax.Call(this, OpArg.OptInt(dim), keepdim);
    public Tensor argmin(int? dim = null, bool keepdim = false) => Aten.Argmin.Call(this, OpArg.OptInt(dim), keepdim);
    /// <summary>log(sum(exp(x))) along dimensions, computed stably.</summary>
    public Tensor logsumexp(int dim, bool keepdim = false) => Aten.Logsumexp.Call(this, new long[] { dim }, keepdim);
    public Tensor logsumexp(long[] dims, bool keepdim = false) => Aten.Logsumexp.Call(this, dims, keepdim);
    /// <summary>p-norm of all elements.</summary>
    public Tensor norm(double p = 2) => Aten.Norm_Scalar.Call(this, p);
    /// <summary>p-norm along dimensions.</summary>
    public Tensor norm(double p, long[] dims, bool keepdim = false) => Aten.Norm_ScalarOpt_dim.Call(this, p, dims, keepdim);
    public Tensor var(long[]? dims = null, bool unbiased = true, bool keepdim = false) => Aten.Var_dim.Call(this, dims is null ? OpArg.None : (OpArg)dims, unbiased, keepdim);
    public Tensor std(long[]? dims = null, bool unbiased = true, bool keepdim = false) => Aten.Std_dim.Call(this, dims is null ? OpArg.None : (OpArg)dims, unbiased, keepdim);
    public Tensor all() => Aten.All.Call(this);
    public Tensor any() => Aten.Any.Call(this);
    public Tensor softmax(int dim, ScalarType? dtype = null) => Aten.Softmax_int.Call(this, dim, OpArg.OptDType(dtype));
    public Tensor log_softmax(int dim, ScalarType? dtype = null) => Aten.LogSoftmax_int.Call(this, dim, OpArg.OptDType(dtype));
}
