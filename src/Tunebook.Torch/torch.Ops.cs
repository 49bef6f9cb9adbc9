namespace Tunebook.Torch;

// Functions over several tensors, and PyTorch's functional spellings of Tensor methods.
public static partial class torch
{
    /// <summary>Concatenates along an existing dimension.</summary>
    public static Tensor cat(Tensor[] tensors, int dim = 0)
    {
        CheckList(tensors, "cat");
        return Aten.Cat.Call(tensors, dim);
    }

    /// <summary>Stacks along a new dimension.</summary>
    public static Tensor stack(Tensor[] tensors, int dim = 0)
    {
        CheckList(tensors, "stack");
        return Aten.Stack.Call(tensors, dim);
    }

    static void CheckList(Tensor[] tensors, string operation)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if (tensors.Length == 0) throw new ArgumentException($"{operation}: expected a non-empty list of tensors");
        for (int k = 0; k < tensors.Length; k++)
            if (tensors[k] is null) throw new ArgumentNullException(nameof(tensors), $"{operation}: tensor {k} of the list is null");
    }

    /// <summary>Elementwise choice: <paramref name="x"/> where condition is true, else <paramref name="y"/>.</summary>
    public static Tensor where(Tensor condition, Tensor x, Tensor y) => Aten.Where_self.Call(condition, x, y);

    /// <summary>Elementwise choice between a tensor and a number.</summary>
    public static Tensor where(Tensor condition, Tensor x, double y) => Aten.Where_ScalarOther.Call(condition, x, y);

    /// <summary>Einstein summation, e.g. einsum("bij,bjk->bik", a, b).</summary>
    public static Tensor einsum(string equation, params Tensor[] operands) => Aten.Einsum.Call(equation, operands);

    public static Tensor matmul(Tensor a, Tensor b) => a.matmul(b);
    public static Tensor bmm(Tensor a, Tensor b) => a.bmm(b);
    public static Tensor outer(Tensor a, Tensor b) => a.outer(b);
    public static Tensor tril(Tensor x, long diagonal = 0) => x.tril(diagonal);
    public static Tensor triu(Tensor x, long diagonal = 0) => x.triu(diagonal);
    public static Tensor exp(Tensor x) => x.exp();
    public static Tensor log(Tensor x) => x.log();
    public static Tensor sqrt(Tensor x) => x.sqrt();
    public static Tensor rsqrt(Tensor x) => x.rsqrt();
    public static Tensor sin(Tensor x) => x.sin();
    public static Tensor cos(Tensor x) => x.cos();
    public static Tensor tanh(Tensor x) => x.tanh();
    public static Tensor sigmoid(Tensor x) => x.sigmoid();
    public static Tensor abs(Tensor x) => x.abs();
    public static Tensor pow(Tensor x, double exponent) => x.pow(exponent);
    public static Tensor maximum(Tensor a, Tensor b) => a.maximum(b);
    public static Tensor minimum(Tensor a, Tensor b) => a.minimum(b);
    public static Tensor clamp(Tensor x, double? min = null, double? max = null) => x.clamp(min, max);
    public static Tensor softmax(Tensor x, int dim) => x.softmax(dim);
    public static Tensor log_softmax(Tensor x, int dim) => x.log_softmax(dim);
    public static Tensor logsumexp(Tensor x, int dim, bool keepdim = false) => x.logsumexp(dim, keepdim);
    public static Tensor sum(Tensor x) => x.sum();
    public static Tensor mean(Tensor x) => x.mean();
    public static Tensor argmax(Tensor x, int? dim = null, bool keepdim = false) => x.argmax(dim, keepdim);
    public static Tensor[] chunk(Tensor x, int chunks, int dim = 0) => x.chunk(chunks, dim);
    public static Tensor[] split(Tensor x, long split_size, int dim = 0) => x.split(split_size, dim);
    public static Tensor narrow(Tensor x, int dim, long start, long length) => x.narrow(dim, start, length);
    public static Tensor index_select(Tensor x, int dim, Tensor index) => x.index_select(dim, index);
    public static Tensor gather(Tensor x, int dim, Tensor index) => x.gather(dim, index);
    public static Tensor reshape(Tensor x, params long[] shape) => x.reshape(shape);
    public static Tensor transpose(Tensor x, int dim0, int dim1) => x.transpose(dim0, dim1);
    public static Tensor permute(Tensor x, params long[] dims) => x.permute(dims);
    public static Tensor flatten(Tensor x, int start_dim = 0, int end_dim = -1) => x.flatten(start_dim, end_dim);
    public static Tensor multinomial(Tensor probs, long num_samples, bool replacement = false) => probs.multinomial(num_samples, replacement);
    public static (Tensor values, Tensor indices) topk(Tensor x, long k, int dim = -1, bool largest = true, bool sorted = true) => x.topk(k, dim, largest, sorted);
    public static bool allclose(Tensor a, Tensor b, double rtol = 1e-5, double atol = 1e-8, bool equal_nan = false) => a.allclose(b, rtol, atol, equal_nan);
    public static bool equal(Tensor a, Tensor b) => a.equal(b);
}
