namespace Tunebook.Torch;

/// <summary>
/// One tensor described by a safetensors header: its dtype, shape and where its bytes lie in the
/// data section (offsets relative to the first byte after the header, end exclusive).
/// </summary>
public sealed record SafetensorsEntry(string Name, SafetensorsDType DType, long[] Shape, long DataBegin, long DataEnd)
{
    /// <summary>Bytes the tensor occupies; always equal to the element count times the element size.</summary>
    public long ByteLength => DataEnd - DataBegin;

    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar, shape []).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The shape as the spec writes it, e.g. <c>[2, 3]</c>.</summary>
    public string ShapeText => Tensor.ShapeString(Shape);

    /// <inheritdoc />
    public override string ToString() => $"{Name}: {DType.ToSpecName()} {ShapeText}";
}
