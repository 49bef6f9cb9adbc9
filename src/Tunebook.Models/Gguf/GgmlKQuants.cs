using System.Buffers.Binary;

namespace Tunebook.Models.Gguf;

/// <summary>
/// ggml's K-quants: super-blocks of 256 values split into sub-blocks that each get their own scale (and
/// minimum), the sub-block scales themselves quantized against one float16 scale per super-block.
/// Follows ggml-quants.c's reference quantizers (<c>quantize_row_q4_K_ref</c>, <c>quantize_row_q5_K_ref</c>,
/// <c>quantize_row_q6_K_ref</c> with their helpers <c>make_qkx2_quants</c>, <c>make_qx_quants</c> and
/// <c>nearest_int</c>), which is what llama.cpp's quantizer runs without an importance matrix. The float
/// arithmetic is kept in the same order, in float32, so that the bytes equal ggml's: the scale searches
/// compare sums of squared errors, and a different rounding of one sum can pick another scale.
/// </summary>
static class GgmlKQuants
{
    const int QK = GgmlTypes.SuperBlock;

    /// <summary>ggml's GROUP_MAX_EPS: a sub-block whose largest magnitude is below it counts as all zero.</summary>
    const float GroupMaxEps = 1e-15f;

    /// <summary>
    /// ggml's nearest_int: adding 1.5·2²³ leaves the integer in the low mantissa bits, rounded half to even
    /// by the float adder (not C's roundf, which rounds halves away from zero).
    /// </summary>
    static int NearestInt(float value)
    {
        float shifted = value + 12582912f;
        return (BitConverter.SingleToInt32Bits(shifted) & 0x007fffff) - 0x00400000;
    }

    static float Half(ReadOnlySpan<byte> bytes, int offset) =>
        (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(bytes[offset..]));

    static void WriteHalf(Span<byte> bytes, int offset, float value) =>
        BinaryPrimitives.WriteUInt16LittleEndian(bytes[offset..], GgufQuantization.ToFloat16(value));

    /// <summary>
    /// Q4_K (144 bytes per 256 values, 4.5 bits): eight sub-blocks of 32 with a 6-bit scale and 6-bit minimum
    /// each; x ≈ d·scale·q − dmin·min with q in 0..15.
    /// </summary>
    public static void QuantizeQ4K(ReadOnlySpan<float> x, Span<byte> y) => QuantizeScaleMin(x, y, nmax: 15, rmin: -1f, rdelta: 0.1f, nstep: 20);

    /// <summary>Q5_K (176 bytes per 256 values, 5.5 bits): as Q4_K with q in 0..31, the fifth bits stored apart.</summary>
    public static void QuantizeQ5K(ReadOnlySpan<float> x, Span<byte> y) => QuantizeScaleMin(x, y, nmax: 31, rmin: -0.5f, rdelta: 0.1f, nstep: 15);

    /// <summary>
    /// The Q4_K/Q5_K layout: d, dmin (float16), 12 bytes of packed 6-bit scales and minimums, then for Q5_K
    /// 32 bytes of high bits, then 128 bytes of low nibbles (values j and j+32 of each 64 share a byte).
    /// </summary>
    static void QuantizeScaleMin(ReadOnlySpan<float> x, Span<byte> y, int nmax, float rmin, float rdelta, int nstep)
    {
        Span<byte> levels = stackalloc byte[QK];
        Span<byte> scratch = stackalloc byte[32];
        Span<float> weights = stackalloc float[32];
        Span<float> mins = stackalloc float[QK / 32];
        Span<float> scales = stackalloc float[QK / 32];
        float maxScale = 0, maxMin = 0; // the minimum is subtracted, so scales and minimums are never negative
        for (int j = 0; j < QK / 32; ++j)
        {
            var xs = x.Slice(32 * j, 32);
            float sumX2 = 0;
            for (int l = 0; l < 32; ++l) sumX2 += xs[l] * xs[l];
            float averageX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; ++l) weights[l] = averageX + MathF.Abs(xs[l]);
            scales[j] = MakeQkx2Quants(32, nmax, xs, weights, levels.Slice(32 * j, 32), out mins[j], scratch, rmin, rdelta, nstep);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }

        var packed = y.Slice(4, 12);
        float inverseScale = maxScale > 0 ? 63f / maxScale : 0f;
        float inverseMin = maxMin > 0 ? 63f / maxMin : 0f;
        for (int j = 0; j < QK / 32; ++j)
        {
            // C stores nearest_int's result in a uint8_t before clamping: keep that wrap.
            int ls = Math.Min(63, (int)(byte)NearestInt(inverseScale * scales[j]));
            int lm = Math.Min(63, (int)(byte)NearestInt(inverseMin * mins[j]));
            if (j < 4)
            {
                packed[j] = (byte)ls;
                packed[j + 4] = (byte)lm;
            }
            else
            {
                packed[j + 4] = (byte)((ls & 0xF) | ((lm & 0xF) << 4));
                packed[j - 4] |= (byte)((ls >> 4) << 6);
                packed[j] |= (byte)((lm >> 4) << 6);
            }
        }
        WriteHalf(y, 0, maxScale / 63f);
        WriteHalf(y, 2, maxMin / 63f);

        // Requantize every value against the scales as stored (float16 and 6-bit), as a reader will see them.
        float d0 = Half(y, 0), dmin0 = Half(y, 2);
        for (int j = 0; j < QK / 32; ++j)
        {
            var (sc, m) = ScaleMin(j, packed);
            float d = d0 * sc;
            if (d == 0) continue;
            float dm = dmin0 * m;
            for (int i = 0; i < 32; ++i)
            {
                int l = NearestInt((x[32 * j + i] + dm) / d);
                levels[32 * j + i] = (byte)Math.Max(0, Math.Min(nmax, l));
            }
        }

        if (nmax == 15)
        {
            var q = y.Slice(16, 128);
            for (int j = 0, o = 0; j < QK; j += 64, o += 32)
                for (int l = 0; l < 32; ++l) q[o + l] = (byte)(levels[j + l] | (levels[j + l + 32] << 4));
            return;
        }
        var high = y.Slice(16, 32);
        var low = y.Slice(48, 128);
        high.Clear();
        byte m1 = 1, m2 = 2;
        for (int n = 0, o = 0; n < QK; n += 64, o += 32)
        {
            for (int j = 0; j < 32; ++j)
            {
                int l1 = levels[n + j];
                if (l1 > 15) { l1 -= 16; high[j] |= m1; }
                int l2 = levels[n + j + 32];
                if (l2 > 15) { l2 -= 16; high[j] |= m2; }
                low[o + j] = (byte)(l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
        }
    }

    /// <summary>ggml's get_scale_min_k4: sub-block j's 6-bit scale and minimum from the 12 packed bytes.</summary>
    static (int Scale, int Min) ScaleMin(int j, ReadOnlySpan<byte> q) => j < 4
        ? (q[j] & 63, q[j + 4] & 63)
        : ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4));

    /// <summary>
    /// ggml's make_qkx2_quants: levels 0..nmax with a scale and a (non-positive) minimum for one sub-block,
    /// starting from the min–max fit and trying nstep+1 stretched scales, each refitted by weighted least
    /// squares; keeps the fit of least weighted squared error. Returns the scale; <paramref name="theMin"/> is −minimum.
    /// </summary>
    static float MakeQkx2Quants(int n, int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> levels, out float theMin,
        Span<byte> scratch, float rmin, float rdelta, int nstep)
    {
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; ++i)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (max == min)
        {
            levels[..n].Clear();
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = NearestInt(iscale * (x[i] - min));
            levels[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * levels[i] + min - x[i];
            bestError += weights[i] * (diff * diff);
        }
        for (int step = 0; step <= nstep; ++step)
        {
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = NearestInt(iscale * (x[i] - min));
                l = Math.Max(0, Math.Min(nmax, l));
                scratch[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float error = 0;
                for (int i = 0; i < n; ++i)
                {
                    float diff = thisScale * scratch[i] + thisMin - x[i];
                    error += weights[i] * (diff * diff);
                }
                if (error < bestError)
                {
                    scratch[..n].CopyTo(levels);
                    bestError = error;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    /// <summary>
    /// Q6_K (210 bytes per 256 values, 6.5625 bits): sixteen sub-blocks of 16 with an int8 scale each, x ≈ d·scale·(q − 32)
    /// with q in 0..63. Layout: 128 bytes of low nibbles, 64 bytes of two-bit highs, 16 int8 scales, d (float16).
    /// </summary>
    public static void QuantizeQ6K(ReadOnlySpan<float> x, Span<byte> y)
    {
        Span<sbyte> levels = stackalloc sbyte[QK];
        Span<float> scales = stackalloc float[QK / 16];
        float maxScale = 0, maxAbsScale = 0;
        for (int b = 0; b < QK / 16; ++b)
        {
            float scale = MakeQxQuants(16, 32, x.Slice(16 * b, 16), levels.Slice(16 * b, 16));
            scales[b] = scale;
            float abs = MathF.Abs(scale);
            if (abs > maxAbsScale)
            {
                maxAbsScale = abs;
                maxScale = scale;
            }
        }
        if (maxAbsScale < GroupMaxEps)
        {
            y.Clear(); // float16 zero is all zero bits
            return;
        }
        var scaleBytes = y.Slice(192, 16);
        float iscale = -128f / maxScale;
        WriteHalf(y, 208, 1 / iscale);
        for (int b = 0; b < QK / 16; ++b) scaleBytes[b] = (byte)(sbyte)Math.Min(127, NearestInt(iscale * scales[b]));

        float d0 = Half(y, 208);
        for (int j = 0; j < QK / 16; ++j)
        {
            float d = d0 * (sbyte)scaleBytes[j];
            if (d == 0) continue;
            for (int i = 0; i < 16; ++i)
            {
                int l = NearestInt(x[16 * j + i] / d);
                levels[16 * j + i] = (sbyte)(Math.Max(-32, Math.Min(31, l)) + 32);
            }
        }

        var ql = y[..128];
        var qh = y.Slice(128, 64);
        for (int j = 0, lo = 0, hi = 0; j < QK; j += 128, lo += 64, hi += 32)
        {
            for (int l = 0; l < 32; ++l)
            {
                int q1 = levels[j + l], q2 = levels[j + l + 32], q3 = levels[j + l + 64], q4 = levels[j + l + 96];
                ql[lo + l] = (byte)((q1 & 0xF) | ((q3 & 0xF) << 4));
                ql[lo + l + 32] = (byte)((q2 & 0xF) | ((q4 & 0xF) << 4));
                qh[hi + l] = (byte)((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) | ((q4 >> 4) << 6));
            }
        }
    }

    /// <summary>
    /// ggml's make_qx_quants with rmse_type 1 and no importance weights: symmetric levels −nmax..nmax−1
    /// (stored +nmax), the value of largest magnitude at −nmax; 18 stretched scales are tried and the one
    /// of least x²-weighted squared error kept. Returns the scale.
    /// </summary>
    static float MakeQxQuants(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> levels)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; ++i)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            levels[..n].Clear();
            return 0f;
        }
        float iscale = -nmax / max;
        float sumLX = 0, sumL2 = 0;
        for (int i = 0; i < n; ++i)
        {
            int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
            levels[i] = (sbyte)(l + nmax);
            float w = x[i] * x[i];
            sumLX += w * x[i] * l;
            sumL2 += w * l * l;
        }
        float scale = sumL2 != 0 ? sumLX / sumL2 : 0f;
        float best = scale * sumLX;
        for (int step = -9; step <= 9; ++step)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumLX = sumL2 = 0;
            for (int i = 0; i < n; ++i)
            {
                int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
                float w = x[i] * x[i];
                sumLX += w * x[i] * l;
                sumL2 += w * l * l;
            }
            if (sumL2 > 0 && sumLX * sumLX > best * sumL2)
            {
                for (int i = 0; i < n; ++i)
                    levels[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i]))));
                scale = sumLX / sumL2;
                best = scale * sumLX;
            }
        }
        return scale;
    }

    /// <summary>Q4_K/Q5_K/Q6_K blocks back to float32, as ggml's dequantize_row_q4_K/q5_K/q6_K compute them.</summary>
    public static void Dequantize(GgmlType type, ReadOnlySpan<byte> block, Span<float> y)
    {
        if (type == GgmlType.Q6_K)
        {
            float d = Half(block, 208);
            var ql = block[..128];
            var qh = block.Slice(128, 64);
            var sc = block.Slice(192, 16);
            for (int n = 0, lo = 0, hi = 0, s = 0; n < QK; n += 128, lo += 64, hi += 32, s += 8)
                for (int l = 0; l < 32; ++l)
                {
                    int b = l / 16;
                    int q1 = ((ql[lo + l] & 0xF) | (((qh[hi + l] >> 0) & 3) << 4)) - 32;
                    int q2 = ((ql[lo + l + 32] & 0xF) | (((qh[hi + l] >> 2) & 3) << 4)) - 32;
                    int q3 = ((ql[lo + l] >> 4) | (((qh[hi + l] >> 4) & 3) << 4)) - 32;
                    int q4 = ((ql[lo + l + 32] >> 4) | (((qh[hi + l] >> 6) & 3) << 4)) - 32;
                    y[n + l] = d * (sbyte)sc[s + b] * q1;
                    y[n + l + 32] = d * (sbyte)sc[s + b + 2] * q2;
                    y[n + l + 64] = d * (sbyte)sc[s + b + 4] * q3;
                    y[n + l + 96] = d * (sbyte)sc[s + b + 6] * q4;
                }
            return;
        }
        float dAll = Half(block, 0), minAll = Half(block, 2);
        var packed = block.Slice(4, 12);
        bool five = type == GgmlType.Q5_K;
        var qs = five ? block.Slice(48, 128) : block.Slice(16, 128);
        var high = block.Slice(16, 32);
        int u1 = 1, u2 = 2;
        for (int j = 0, o = 0, sub = 0; j < QK; j += 64, o += 32, sub += 2)
        {
            var (s1, m1) = ScaleMin(sub, packed);
            var (s2, m2) = ScaleMin(sub + 1, packed);
            float d1 = dAll * s1, min1 = minAll * m1, d2 = dAll * s2, min2 = minAll * m2;
            for (int l = 0; l < 32; ++l)
            {
                int lo = qs[o + l] & 0xF, hi = qs[o + l] >> 4;
                if (five)
                {
                    if ((high[l] & u1) != 0) lo += 16;
                    if ((high[l] & u2) != 0) hi += 16;
                }
                y[j + l] = d1 * lo - min1;
                y[j + l + 32] = d2 * hi - min2;
            }
            u1 <<= 2;
            u2 <<= 2;
        }
    }
}
