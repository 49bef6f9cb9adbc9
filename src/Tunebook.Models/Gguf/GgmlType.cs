namespace Tunebook.Models.Gguf;

/// <summary>
/// Tensor encodings of ggml that Tunebook writes, with ggml's numeric ids (ggml.h <c>enum ggml_type</c>).
/// </summary>
public enum GgmlType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    BF16 = 30,
}

/// <summary>Block sizes and byte counts of the <see cref="GgmlType"/> encodings (ggml-common.h's block structs).</summary>
public static class GgmlTypes
{
    /// <summary>Values in a K-quant super-block (ggml's QK_K).</summary>
    public const int SuperBlock = 256;

    /// <summary>Values per block: 1 for the float types, 32 for Q8_0/Q5_x/Q4_0, 256 for the K-quants.</summary>
    public static int BlockSize(this GgmlType type) => type switch
    {
        GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => 1,
        GgmlType.Q8_0 or GgmlType.Q4_0 or GgmlType.Q5_0 or GgmlType.Q5_1 => 32,
        GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => SuperBlock,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>
    /// Bytes per block. Q8_0: float16 scale + 32 int8. Q4_0: float16 scale + 32 nibbles. Q5_0: scale, 32 high
    /// bits, 32 nibbles; Q5_1 adds a float16 minimum. Q4_K: float16 scale and minimum, 12 bytes of eight 6-bit
    /// sub-block scales and minimums, 256 nibbles. Q5_K: as Q4_K plus 256 high bits. Q6_K: 256 low nibbles,
    /// 256 two-bit highs, sixteen int8 sub-block scales, a float16 scale.
    /// </summary>
    public static int BlockBytes(this GgmlType type) => type switch
    {
        GgmlType.F32 => 4,
        GgmlType.F16 or GgmlType.BF16 => 2,
        GgmlType.Q8_0 => 2 + 32,
        GgmlType.Q4_0 => 2 + 16,
        GgmlType.Q5_0 => 2 + 4 + 16,
        GgmlType.Q5_1 => 2 + 2 + 4 + 16,
        GgmlType.Q4_K => 2 + 2 + 12 + 128,
        GgmlType.Q5_K => 2 + 2 + 12 + 32 + 128,
        GgmlType.Q6_K => 128 + 64 + 16 + 2,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>Bytes of <paramref name="count"/> values (a multiple of the block size).</summary>
    public static long ByteCount(this GgmlType type, long count) => count / type.BlockSize() * type.BlockBytes();

    /// <summary>Bits per weight of the encoding alone (8.5 for Q8_0, 4.5 for Q4_0 and Q4_K, 6.5625 for Q6_K).</summary>
    public static double BitsPerWeight(this GgmlType type) => 8.0 * type.BlockBytes() / type.BlockSize();
}
