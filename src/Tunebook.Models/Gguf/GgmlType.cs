namespace Tunebook.Models.Gguf;

/// <summary>
/// Tensor encodings of ggml that Tunebook writes, with ggml's numeric ids (ggml.h <c>enum ggml_type</c>).
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    BF16 = 30,
}

/// <summary>Block sizes and byte counts of the <see cref="GgmlType"/> encodings.</summary>
public static class GgmlTypes
{
    /// <summary>Values per block (1 for the float types; 32 for Q8_0 and Q4_0).</summary>
    public static int BlockSize(this GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => 1,
        GgmlType.Q8_0 or GgmlType.Q4_0 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Bytes per block: Q8_0 is a float16 scale plus 32 int8 values; Q4_0 a float16 scale plus 32 nibbles.</summary>
    public static int BlockBytes(this GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 or GgmlType.BF16 => 2,
        GgmlType.Q8_0 => 2 + 32,
        GgmlType.Q4_0 => 2 + 16,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Bytes of <paramref name="count"/> values (a multiple of the block size).</summary>
    public static long ByteCount(this GgmlType type, long count) => count / type.BlockSize() * type.BlockBytes();

    /// <summary>Bits per weight of the encoding alone (8.5 for Q8_0, 4.5 for Q4_0).</summary>
    public static double BitsPerWeight(this GgmlType type) => 8.0 * type.BlockBytes() / type.BlockSize();
}
