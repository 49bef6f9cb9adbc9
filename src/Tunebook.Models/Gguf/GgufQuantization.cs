using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Tunebook.Models.Gguf;

/// <summary>
/// float32 values → the bytes of a ggml tensor encoding, following ggml's reference functions
/// (ggml-quants.c <c>quantize_row_q8_0_ref</c>, <c>quantize_row_q4_0_ref</c>, <c>quantize_row_q5_0_ref</c>,
/// <c>quantize_row_q5_1_ref</c>, the K-quants in <see cref="GgmlKQuants"/>; ggml-impl.h's float16 and
/// bfloat16 conversions), so that a file written here holds what llama.cpp's own tools would write.
/// </summary>
public static class GgufQuantization
{
    /// <summary>Encodes <paramref name="values"/> into <paramref name="output"/> (exactly <see cref="GgmlTypes.ByteCount"/> bytes).</summary>
    public static void Encode(GgmlType type, ReadOnlySpan<float> values, Span<byte> output)
    {
        if (values.Length % type.BlockSize() != 0)
            throw new ArgumentException($"{type} needs a multiple of {type.BlockSize()} values, got {values.Length}");
        if (output.Length != type.ByteCount(values.Length))
            throw new ArgumentException($"{type} of {values.Length} values takes {type.ByteCount(values.Length)} bytes, the buffer has {output.Length}");
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(output[(4 * i)..], values[i]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(output[(2 * i)..], ToFloat16(values[i]));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(output[(2 * i)..], ToBFloat16(values[i]));
                break;
            case GgmlType.Q8_0:
                EncodeBlocks(type, values, output, QuantizeQ8_0);
                break;
            case GgmlType.Q4_0:
                EncodeBlocks(type, values, output, QuantizeQ4_0);
                break;
            case GgmlType.Q5_0:
                EncodeBlocks(type, values, output, QuantizeQ5_0);
                break;
            case GgmlType.Q5_1:
                EncodeBlocks(type, values, output, QuantizeQ5_1);
                break;
            case GgmlType.Q4_K:
                EncodeBlocks(type, values, output, GgmlKQuants.QuantizeQ4K);
                break;
            case GgmlType.Q5_K:
                EncodeBlocks(type, values, output, GgmlKQuants.QuantizeQ5K);
                break;
            case GgmlType.Q6_K:
                EncodeBlocks(type, values, output, GgmlKQuants.QuantizeQ6K);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }

    delegate void BlockEncoder(ReadOnlySpan<float> values, Span<byte> block);

    /// <summary>Blocks are independent: large tensors are encoded in parallel chunks.</summary>
    static unsafe void EncodeBlocks(GgmlType type, ReadOnlySpan<float> values, Span<byte> output, BlockEncoder encode)
    {
        int blockSize = type.BlockSize(), blockBytes = type.BlockBytes();
        int blocks = values.Length / blockSize;
        int chunk = 131072 / blockSize;
        fixed (float* x = values)
        fixed (byte* y = output)
        {
            float* xs = x;
            byte* ys = y;
            Parallel.For(0, (blocks + chunk - 1) / chunk, c =>
            {
                int end = Math.Min(blocks, (c + 1) * chunk);
                for (int b = c * chunk; b < end; b++)
                {
                    var input = new ReadOnlySpan<float>(xs + (long)blockSize * b, blockSize);
                    var block = new Span<byte>(ys + (long)blockBytes * b, blockBytes);
                    encode(input, block);
                }
            });
        }
    }

    /// <summary>The bytes back to float32 values (what llama.cpp computes with); for tests and error reports.</summary>
    public static float[] Decode(GgmlType type, ReadOnlySpan<byte> bytes, long count)
    {
        var values = new float[count];
        switch (type)
        {
            case GgmlType.F32:
                for (int i = 0; i < count; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                break;
            case GgmlType.F16:
                for (int i = 0; i < count; i++) values[i] = (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]));
                break;
            case GgmlType.BF16:
                for (int i = 0; i < count; i++) values[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16);
                break;
            case GgmlType.Q8_0:
                for (int b = 0; b < count / 32; b++)
                {
                    var block = bytes.Slice(34 * b, 34);
                    float d = Float16At(block);
                    for (int j = 0; j < 32; j++) values[32 * b + j] = (sbyte)block[2 + j] * d;
                }
                break;
            case GgmlType.Q4_0:
                for (int b = 0; b < count / 32; b++)
                {
                    var block = bytes.Slice(18 * b, 18);
                    float d = Float16At(block);
                    for (int j = 0; j < 16; j++)
                    {
                        values[32 * b + j] = ((block[2 + j] & 0x0F) - 8) * d;
                        values[32 * b + 16 + j] = ((block[2 + j] >> 4) - 8) * d;
                    }
                }
                break;
            case GgmlType.Q5_0:
            case GgmlType.Q5_1:
                bool offset = type == GgmlType.Q5_1;
                int size = type.BlockBytes();
                for (int b = 0; b < count / 32; b++)
                {
                    var block = bytes.Slice(size * b, size);
                    float d = Float16At(block), m = offset ? Float16At(block[2..]) : 0;
                    uint qh = BinaryPrimitives.ReadUInt32LittleEndian(block[(size - 20)..]);
                    var qs = block[(size - 16)..];
                    for (int j = 0; j < 16; j++)
                    {
                        int x0 = (qs[j] & 0x0F) | (int)(((qh >> j) << 4) & 0x10);
                        int x1 = (qs[j] >> 4) | (int)((qh >> (j + 12)) & 0x10);
                        values[32 * b + j] = offset ? x0 * d + m : (x0 - 16) * d;
                        values[32 * b + 16 + j] = offset ? x1 * d + m : (x1 - 16) * d;
                    }
                }
                break;
            case GgmlType.Q4_K:
            case GgmlType.Q5_K:
            case GgmlType.Q6_K:
                int blockBytes = type.BlockBytes();
                for (int b = 0; b < count / GgmlTypes.SuperBlock; b++)
                    GgmlKQuants.Dequantize(type, bytes.Slice(blockBytes * b, blockBytes), values.AsSpan(GgmlTypes.SuperBlock * b, GgmlTypes.SuperBlock));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
        return values;
    }

    static float Float16At(ReadOnlySpan<byte> block) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(block));

    /// <summary>Round-to-nearest-even float16, as ggml's GGML_FP32_TO_FP16 (and numpy's astype(float16)).</summary>
    public static ushort ToFloat16(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    /// <summary>
    /// ggml's GGML_FP32_TO_BF16: round to nearest even on the upper 16 bits; NaN stays a quiet NaN
    /// (the rounding would otherwise carry a NaN's payload into the exponent).
    /// </summary>
    public static ushort ToBFloat16(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    /// <summary>
    /// Q8_0 block: scale d = max|x| / 127 stored as float16, values round(x / d) as int8 (C's roundf, halves
    /// away from zero). The division uses the float32 d, not its float16 rounding, as ggml does.
    /// </summary>
    static void QuantizeQ8_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            QuantizeQ8_0Vector(x, block);
            return;
        }
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, ToFloat16(d));
        for (int j = 0; j < 32; j++) block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    /// <summary>
    /// <see cref="QuantizeQ8_0"/> on four 8-wide vectors: the export's hot loop (most of a Q8_0 file). Rounding
    /// halves away from zero is truncation plus one step toward the sign where the dropped fraction is at
    /// least one half; the fraction x − trunc(x) is exact in float32, so this equals roundf.
    /// </summary>
    static void QuantizeQ8_0Vector(ReadOnlySpan<float> x, Span<byte> block)
    {
        ref float start = ref MemoryMarshal.GetReference(x);
        var v0 = Vector256.LoadUnsafe(ref start, 0);
        var v1 = Vector256.LoadUnsafe(ref start, 8);
        var v2 = Vector256.LoadUnsafe(ref start, 16);
        var v3 = Vector256.LoadUnsafe(ref start, 24);
        var m = Vector256.Max(Vector256.Max(Vector256.Abs(v0), Vector256.Abs(v1)), Vector256.Max(Vector256.Abs(v2), Vector256.Abs(v3)));
        var m4 = Vector128.Max(m.GetLower(), m.GetUpper());
        float amax = MathF.Max(MathF.Max(m4[0], m4[1]), MathF.Max(m4[2], m4[3]));
        float d = amax / 127;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, ToFloat16(d));
        var scale = Vector256.Create(id);
        var q01 = Vector256.Narrow(RoundHalfAway(v0 * scale), RoundHalfAway(v1 * scale));
        var q23 = Vector256.Narrow(RoundHalfAway(v2 * scale), RoundHalfAway(v3 * scale));
        Vector256.Narrow(q01, q23).AsByte().StoreUnsafe(ref block[2]);
    }

    static Vector256<int> RoundHalfAway(Vector256<float> v)
    {
        var whole = Vector256.Truncate(v);
        var up = Vector256.GreaterThanOrEqual(Vector256.Abs(v - whole), Vector256.Create(0.5f));
        var step = Vector256.CopySign(Vector256.Create(1f), v);
        return Vector256.ConvertToInt32(whole + (step & up));
    }

    /// <summary>
    /// Q4_0 block: the value of largest magnitude maps to -8, so d = that value / -8; each x becomes
    /// min(15, trunc(x / d + 8.5)) in a nibble, the first 16 values in the low nibbles and the last 16 in
    /// the high nibbles of the 16 bytes.
    /// </summary>
    static void QuantizeQ4_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        float d = LargestMagnitude(x) / -8;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, ToFloat16(d));
        for (int j = 0; j < 16; j++)
        {
            // C's (int8_t) cast truncates toward zero; x*id + 8.5 lies in [0.5, 16.5] for finite input.
            int lo = Math.Min(15, (int)(sbyte)(x[j] * id + 8.5f));
            int hi = Math.Min(15, (int)(sbyte)(x[16 + j] * id + 8.5f));
            block[2 + j] = (byte)(lo | (hi << 4));
        }
    }

    /// <summary>
    /// The block's value of largest magnitude, with its sign; the first of equals, as ggml's loop keeps it
    /// (Q4_0 and Q5_0 map it to the most negative code).
    /// </summary>
    static float LargestMagnitude(ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++)
        {
            float a = MathF.Abs(x[j]);
            if (amax < a) { amax = a; max = x[j]; }
        }
        return max;
    }

    /// <summary>
    /// Q5_0 block (22 bytes): like Q4_0 with 5-bit values, the value of largest magnitude at −16, so
    /// d = that value / −16 and q = min(31, trunc(x / d + 16.5)); the fifth bits of the 32 values in a uint32.
    /// </summary>
    static void QuantizeQ5_0(ReadOnlySpan<float> x, Span<byte> block)
    {
        float d = LargestMagnitude(x) / -16;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, ToFloat16(d));
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            int lo = Math.Min(31, (int)(sbyte)(x[j] * id + 16.5f));
            int hi = Math.Min(31, (int)(sbyte)(x[16 + j] * id + 16.5f));
            block[6 + j] = (byte)((lo & 0x0F) | ((hi & 0x0F) << 4));
            qh |= (uint)((lo & 0x10) >> 4) << j;
            qh |= (uint)((hi & 0x10) >> 4) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[2..], qh);
    }

    /// <summary>
    /// Q5_1 block (24 bytes): d = (max − min) / 31 and the minimum, both float16; q = trunc((x − min) / d + 0.5),
    /// the fifth bits in a uint32 as for Q5_0.
    /// </summary>
    static void QuantizeQ5_1(ReadOnlySpan<float> x, Span<byte> block)
    {
        float min = float.MaxValue, max = -float.MaxValue;
        for (int j = 0; j < 32; j++)
        {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
        float d = (max - min) / 31;
        float id = d != 0 ? 1.0f / d : 0.0f;
        BinaryPrimitives.WriteUInt16LittleEndian(block, ToFloat16(d));
        BinaryPrimitives.WriteUInt16LittleEndian(block[2..], ToFloat16(min));
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            int lo = (byte)((x[j] - min) * id + 0.5f);
            int hi = (byte)((x[16 + j] - min) * id + 0.5f);
            block[8 + j] = (byte)((lo & 0x0F) | ((hi & 0x0F) << 4));
            qh |= (uint)((lo & 0x10) >> 4) << j;
            qh |= (uint)((hi & 0x10) >> 4) << (j + 16);
        }
        BinaryPrimitives.WriteUInt32LittleEndian(block[4..], qh);
    }
}
