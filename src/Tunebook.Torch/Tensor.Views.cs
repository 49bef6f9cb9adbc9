namespace Tunebook.Torch;

// Shape changes, views, indexing and joining.
public partial class Tensor
{
    /// <summary>A tensor with the same data and a new shape (-1 infers one size); copies only when needed.</summary>
    public Tensor reshape(params long[] shape) => Aten.Reshape.Call(this, shape);
    /// <summary>A view with a new shape; the tensor must be compatible (see <see cref="contiguous"/>).</summary>
    public Tensor view(params long[] shape) => Aten.View.Call(this, shape);
    public Tensor view_as(Tensor other) => view(other.shape);
    /// <summary>Reinterprets the bytes as another dtype (e.g. packed uint8 → int32); the last dimension scales by the size ratio.</summary>
    public Tensor view(ScalarType dtype) => Aten.View_dtype.Call(this, dtype);
    /// <summary>Same dtype as <paramref name="other"/>.</summary>
    public Tensor type_as(Tensor other) => to(other.dtype);
    public Tensor transpose(int dim0, int dim1) => Aten.Transpose_int.Call(this, dim0, dim1);
    /// <summary>Transpose of a 2-D tensor.</summary>
    public Tensor t() => Aten.T.Call(this);
    public Tensor T => t();
    public Tensor permute(params long[] dims) => Aten.Permute.Call(this, dims);
    /// <summary>The slice start..start+length of one dimension (a view).</summary>
    public Tensor narrow(int dim, long start, long length) => Aten.Narrow.Call(this, dim, start, length);
    /// <summary>Python's x[start:end:step] along one dimension (a view); null bounds mean the ends.</summary>
    public Tensor slice(int dim, long? start, long? end, long step = 1)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), step, "slice: step must be positive");
        return Aten.Slice_Tensor.Call(this, dim, OpArg.OptInt(start), OpArg.OptInt(end), step);
    }
    /// <summary>Index one position of a dimension, removing it (x[..., i, ...]).</summary>
    public Tensor select(int dim, long index) => Aten.Select_int.Call(this, dim, index);
    /// <summary>x[i] along the first dimension.</summary>
    public Tensor this[long index] => select(0, index);
    public Tensor index_select(int dim, Tensor index) => Aten.IndexSelect.Call(this, dim, index);
    /// <summary>Advanced indexing x[i0, i1, ...] with tensors (null entries keep a dimension whole).</summary>
    public Tensor index(params Tensor?[] indices) => Aten.Index_Tensor.Call(this, OpArg.OptionalTensors(indices));
    /// <summary>x[indices] = values, in place.</summary>
    public Tensor index_put_(Tensor?[] indices, Tensor values, bool accumulate = false)
    {
        Aten.IndexPut_.CallVoid(this, OpArg.OptionalTensors(indices), values, accumulate);
        return this;
    }
    public Tensor gather(int dim, Tensor index) => Aten.Gather.Call(this, dim, index);
    public Tensor scatter(int dim, Tensor index, Tensor src) => Aten.Scatter_src.Call(this, dim, index, src);
    public Tensor scatter_add(int dim, Tensor index, Tensor src) => Aten.ScatterAdd.Call(this, dim, index, src);
    public Tensor masked_select(Tensor mask) => Aten.MaskedSelect.Call(this, mask);
    public Tensor[] chunk(int chunks, int dim = 0) => Aten.Chunk.CallTensors(this, chunks, dim);
    /// <summary>Pieces of size <paramref name="split_size"/> (the last may be smaller).</summary>
    public Tensor[] split(long split_size, int dim = 0) => Aten.Split_Tensor.CallTensors(this, split_size, dim);
    /// <summary>Pieces of the given sizes.</summary>
    public Tensor[] split(long[] sizes, int dim = 0) => Aten.SplitWithSizes.CallTensors(this, sizes, dim);
    public Tensor[] unbind(int dim = 0) => Aten.Unbind_int.CallTensors(this, dim);
    /// <summary>Broadcast view to a larger shape (-1 keeps a size).</summary>
    public Tensor expand(params long[] shape) => Aten.Expand.Call(this, shape);
    public Tensor expand_as(Tensor other) => expand(other.shape);
    public Tensor contiguous() => Aten.Contiguous.Call(this);
    public Tensor squeeze() => Aten.Squeeze.Call(this);
    public Tensor squeeze(int dim) => Aten.Squeeze_dim.Call(this, dim);
    public Tensor unsqueeze(int dim) => Aten.Unsqueeze.Call(this, dim);
    public Tensor flatten(int start_dim = 0, int end_dim = -1) => Aten.Flatten_using_ints.Call(this, start_dim, end_dim);
    public Tensor repeat(params long[] repeats) => Aten.Repeat.Call(this, repeats);
    public Tensor repeat_interleave(long repeats, int? dim = null) => Aten.RepeatInterleave_self_int.Call(this, repeats, OpArg.OptInt(dim));
    public Tensor flip(params long[] dims) => Aten.Flip.Call(this, dims);
    public Tensor roll(long shifts, int dim) => Aten.Roll.Call(this, new[] { shifts }, new long[] { dim });
    /// <summary>Lower triangle (elements above diagonal set to zero).</summary>
    public Tensor tril(long diagonal = 0) => Aten.Tril.Call(this, diagonal);
    /// <summary>Upper triangle (elements below diagonal set to zero).</summary>
    public Tensor triu(long diagonal = 0) => Aten.Triu.Call(this, diagonal);
    /// <summary>Copy of this tensor (differentiable).</summary>
    public Tensor clone() => Aten.Clone.Call(this);
    public Tensor masked_fill(Tensor mask, double value) => Aten.MaskedFill_Scalar.Call(this, mask, value);
    public Tensor masked_fill(Tensor mask, Tensor value) => Aten.MaskedFill_Tensor.Call(this, mask, value);
    /// <summary>k largest (or smallest) values and their indices along a dimension.</summary>
    public (Tensor values, Tensor indices) topk(long k, int dim = -1, bool largest = true, bool sorted = true) => Aten.Topk.Call2(this, k, dim, largest, sorted);
    public (Tensor values, Tensor indices) sort(int dim = -1, bool descending = false) => Aten.Sort.Call2(this, dim, descending);
    public Tensor argsort(int dim = -1, bool descending = false) => Aten.Argsort.Call(this, dim, descending);
    public Tensor cumsum(int dim, ScalarType? dtype = null) => Aten.Cumsum.Call(this, dim, OpArg.OptDType(dtype));
    public Tensor cumprod(int dim, ScalarType? dtype = null) => Aten.Cumprod.Call(this, dim, OpArg.OptDType(dtype));
    /// <summary>Samples indices from the rows of a probability tensor.</summary>
    public Tensor multinomial(long num_samples, bool replacement = false) => Aten.Multinomial.Call(this, num_samples, replacement);
}
