using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Tuning.Quantization;

/// <summary>
/// 4-bit NormalFloat (NF4) quantization with double-quantized scales, as defined in the QLoRA paper
/// (Dettmers et al., 2023) and implemented by bitsandbytes:
/// <list type="number">
/// <item>the weight is cut into blocks of 64 values; each block is divided by its absolute maximum
/// (its "absmax", one float32 per block) so it lies in [−1, 1];</item>
/// <item>each value becomes the index (0..15) of the nearest entry of the NF4 code table, and two
/// indices are packed into one byte (first value in the high nibble);</item>
/// <item>double quantization: the absmax values, minus their mean, are quantized again to 8-bit codes
/// of bitsandbytes' dynamic map in blocks of 256, each block with its own float32 scale.</item>
/// </list>
/// That is 4 + 8/64 + 32/(64·256) ≈ 4.127 bits per weight instead of 32.
/// </summary>
public static class Nf4
{
    /// <summary>Values per first-level block (bitsandbytes' default for NF4).</summary>
    public const int BlockSize = 64;

    /// <summary>Absmax values per second-level block in double quantization.</summary>
    public const int ScaleBlockSize = 256;

    /// <summary>
    /// Bytes an NF4 tensor holds per weight, from the block sizes: half a byte of code, one 8-bit absmax code
    /// per <see cref="BlockSize"/> weights and one float32 scale per <see cref="ScaleBlockSize"/> blocks
    /// (≈ 0.516 bytes, 4.127 bits). Padding of the last block and the one float32 offset per tensor come on top.
    /// </summary>
    public const double BytesPerWeight = 0.5 + 1.0 / BlockSize + 4.0 / ((double)BlockSize * ScaleBlockSize);

    /// <summary>
    /// The 16 NF4 values, computed from the definition: the quantiles of N(0, 1) at 8 evenly spaced
    /// probabilities from δ to ½ for the positive half and 7 for the negative half (so that 0 is exactly
    /// representable and the table is asymmetric), divided by the largest so they span [−1, 1]. δ is
    /// 1 − ½(1/32 + 1/30) = 0.96770833…, which bitsandbytes' create_normal_map writes rounded to
    /// 0.9677083; the published constants come from the rounded value, spaced in float32 by
    /// torch.linspace and normalised in float32, and so do these.
    /// </summary>
    public static float[] CodeTable { get; } = ComputeCodeTable();

    /// <summary>bitsandbytes' signed 8-bit dynamic map (create_dynamic_map): the codes for the absmax values.</summary>
    public static float[] DynamicMap { get; } = ComputeDynamicMap();

    static float[] ComputeCodeTable()
    {
        double delta = 0.5 * (1.0 / 32 + 1.0 / 30);
        float offset = (float)Math.Round(1 - delta, 7); // 0.9677083, as published
        var positive = LinspaceF32(offset, 0.5f, 9).Take(8).Select(p => NormalDistribution.InverseCdf(p));
        var negative = LinspaceF32(offset, 0.5f, 8).Take(7).Select(p => -NormalDistribution.InverseCdf(p));
        var values = positive.Concat([0.0]).Concat(negative).OrderBy(v => v).ToArray();
        float max = (float)values.Max();
        return values.Select(v => (float)v / max).ToArray();
    }

    static float[] ComputeDynamicMap()
    {
        // Signed, 7 exponent bits, 8 bits total: for exponent i the fraction grid has 2^i + 1 points in
        // [0.1, 1]; the codes are the midpoints scaled by 10^(i−6), with both signs; plus 0 and 1.
        var data = new List<float>();
        for (int i = 0; i < 7; i++)
        {
            var b = LinspaceF32(0.1f, 1f, (1 << i) + 1);
            float scale = (float)Math.Pow(10, i - 6);
            for (int k = 0; k + 1 < b.Length; k++)
            {
                float mean = (b[k] + b[k + 1]) / 2f;
                data.Add(scale * mean);
                data.Add(-scale * mean);
            }
        }
        data.Add(0f);
        data.Add(1f);
        data.Sort();
        return data.ToArray();
    }

    /// <summary>torch.linspace in float32 (the CPU kernel fills the first half from start, the second from end).</summary>
    static float[] LinspaceF32(float start, float end, int steps)
    {
        var result = new float[steps];
        float step = (end - start) / (steps - 1);
        int halfway = steps / 2;
        for (int i = 0; i < steps; i++)
            result[i] = i < halfway ? start + step * i : end - step * (steps - i - 1);
        return result;
    }

    /// <summary>Quantizes a floating-point tensor (any shape) to NF4 with double-quantized scales.</summary>
    public static Nf4Tensor Quantize(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (!weight.is_floating_point()) throw new ArgumentException($"Nf4.Quantize: expected a floating-point tensor, got {weight.dtype.Name()}");
        long n = weight.numel();
        if (n == 0) throw new ArgumentException("Nf4.Quantize: the tensor is empty");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var device = weight.device;
        var (table, map, _) = Tables(device);

        // First level: blocks of 64, absmax-normalised, nearest NF4 code, two codes per byte.
        var flat = PadTo(weight.detach().to(ScalarType.Float32).reshape(-1), BlockSize);
        long blocks = flat.numel() / BlockSize;
        var grid = flat.view(blocks, BlockSize);
        var absmax = grid.abs().amax([1]);
        var safe = torch.where(absmax.eq(0), torch.ones_like(absmax), absmax);
        var codes = Nearest(grid.div(safe.unsqueeze(1)).reshape(-1), table).view(blocks, BlockSize);
        var packed = codes.slice(1, 0, null, 2).bitwise_left_shift(4).bitwise_or(codes.slice(1, 1, null, 2)).reshape(-1).contiguous();

        // Second level: absmax − mean in blocks of 256, 8-bit dynamic codes, one float32 scale per block.
        var offset = absmax.mean();
        var centered = PadTo(absmax - offset, ScaleBlockSize);
        long scaleBlocks = centered.numel() / ScaleBlockSize;
        var scaleGrid = centered.view(scaleBlocks, ScaleBlockSize);
        var scaleAbsmax = scaleGrid.abs().amax([1]);
        var scaleSafe = torch.where(scaleAbsmax.eq(0), torch.ones_like(scaleAbsmax), scaleAbsmax);
        var scaleCodes = Nearest(scaleGrid.div(scaleSafe.unsqueeze(1)).reshape(-1).narrow(0, 0, blocks), map).contiguous();

        return new Nf4Tensor(weight.shape, blocks,
            packed.DetachFromDisposeScope(), scaleCodes.DetachFromDisposeScope(), scaleAbsmax.contiguous().DetachFromDisposeScope(),
            offset.DetachFromDisposeScope());
    }

    static readonly Dictionary<Device, (Tensor Table, Tensor Map, Tensor Pairs)> _tables = new();

    /// <summary>
    /// The code table, the dynamic map and the byte table (row b: the values of b's high and low nibble) as
    /// float32 tensors on <paramref name="device"/>, shared by every NF4 tensor there.
    /// </summary>
    internal static (Tensor Table, Tensor Map, Tensor Pairs) Tables(Device device)
    {
        lock (_tables)
        {
            if (!_tables.TryGetValue(device, out var t))
            {
                var pairs = new float[256 * 2];
                for (int b = 0; b < 256; b++) { pairs[2 * b] = CodeTable[b >> 4]; pairs[2 * b + 1] = CodeTable[b & 15]; }
                t = (torch.tensor(CodeTable, device: device).DetachFromDisposeScope(), torch.tensor(DynamicMap, device: device).DetachFromDisposeScope(),
                     torch.tensor(pairs, device: device).view(256, 2).DetachFromDisposeScope());
                _tables[device] = t;
            }
            return t;
        }
    }

    static Tensor PadTo(Tensor flat, int multiple)
    {
        long n = flat.numel();
        long padded = (n + multiple - 1) / multiple * multiple;
        return padded == n ? flat : functional.pad(flat, [0, padded - n]);
    }

    /// <summary>Index of the nearest table entry for each value, as uint8; chunked so the [chunk, K] distance matrix stays small.</summary>
    static Tensor Nearest(Tensor values, Tensor table)
    {
        const long chunk = 1 << 18;
        long n = values.numel();
        var parts = new List<Tensor>();
        for (long start = 0; start < n; start += chunk)
        {
            var piece = values.narrow(0, start, Math.Min(chunk, n - start));
            parts.Add(piece.unsqueeze(1).sub(table.unsqueeze(0)).abs().argmin(1).to(ScalarType.UInt8));
        }
        return parts.Count == 1 ? parts[0] : torch.cat(parts.ToArray());
    }
}

/// <summary>
/// A tensor stored as NF4 (see <see cref="Nf4"/>): packed 4-bit codes, 8-bit codes of the block scales,
/// one float32 scale per 256 block scales and their mean. Owns its tensors; dispose it (or the
/// <see cref="Nf4Linear"/> holding it) to free them.
/// </summary>
public sealed class Nf4Tensor : IDisposable
{
    internal Nf4Tensor(long[] shape, long blocks, Tensor packed, Tensor scaleCodes, Tensor scaleScales, Tensor scaleOffset)
    {
        Shape = shape;
        Blocks = blocks;
        Packed = packed;
        ScaleCodes = scaleCodes;
        ScaleScales = scaleScales;
        ScaleOffset = scaleOffset;
    }

    /// <summary>Shape of the original tensor.</summary>
    public long[] Shape { get; }
    /// <summary>Number of elements of the original tensor.</summary>
    public long Numel => Shape.Aggregate(1L, (a, b) => a * b);
    /// <summary>Number of 64-value blocks (the last one zero-padded when needed).</summary>
    public long Blocks { get; }
    /// <summary>uint8 [blocks × 32]: two 4-bit codes per byte, first in the high nibble.</summary>
    public Tensor Packed { get; private set; }
    /// <summary>uint8 [blocks]: 8-bit dynamic-map codes of (absmax − mean) / the scale of its group of 256.</summary>
    public Tensor ScaleCodes { get; private set; }
    /// <summary>float32 [⌈blocks/256⌉]: the absolute maximum of each block of 256 centred absmax values.</summary>
    public Tensor ScaleScales { get; private set; }
    /// <summary>float32 scalar: the mean absmax subtracted before the second quantization.</summary>
    public Tensor ScaleOffset { get; private set; }
    /// <summary>float32 [16]: the NF4 values (shared by all NF4 tensors on the device).</summary>
    public Tensor CodeTable => Nf4.Tables(Device).Table;
    /// <summary>float32 [256]: the 8-bit dynamic map (shared).</summary>
    public Tensor DynamicMap => Nf4.Tables(Device).Map;

    /// <summary>Device of the stored codes.</summary>
    public Device Device => Packed.device;

    /// <summary>Bytes held, by dtype (the packed codes and scale codes are uint8; the shared code tables are not counted).</summary>
    public IReadOnlyDictionary<ScalarType, long> BytesByDType()
    {
        var result = new Dictionary<ScalarType, long>();
        foreach (var t in new[] { Packed, ScaleCodes, ScaleScales, ScaleOffset })
            result[t.dtype] = result.GetValueOrDefault(t.dtype) + t.NumBytes;
        return result;
    }

    /// <summary>The first-level block scales (absmax per 64 values), recovered from their 8-bit codes: float32 [blocks].</summary>
    public Tensor BlockScales()
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var groupScales = ScaleScales.repeat_interleave(Nf4.ScaleBlockSize).narrow(0, 0, Blocks);
        var decoded = DynamicMap.index_select(0, ScaleCodes.to(ScalarType.Int64)) * groupScales;
        return scope.MoveToOuter(decoded + ScaleOffset);
    }

    /// <summary>
    /// The dequantized tensor in <paramref name="dtype"/>: table[code] × block scale, built from engine ops
    /// (look up each byte's two values, multiply by the scales), without gradient.
    /// </summary>
    public Tensor Dequantize(ScalarType dtype = ScalarType.Float32)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        // Each byte holds two codes, high nibble first: one gather from the 256-row table of value pairs unpacks
        // both, where shifting, masking and interleaving the nibbles and gathering each code took five passes
        // over tensors up to eight times the bytes' size (QLoRA dequantizes every frozen weight each step).
        var values = Nf4.Tables(Device).Pairs.index_select(0, Packed.to(ScalarType.Int32)).view(Blocks, Nf4.BlockSize);
        values.mul_(BlockScales().unsqueeze(1));
        var result = values.reshape(-1).narrow(0, 0, Numel).view(Shape);
        return scope.MoveToOuter(dtype == ScalarType.Float32 ? result.contiguous() : result.to(dtype));
    }

    /// <summary>Moves the stored codes and scales to a device (in place).</summary>
    public void To(Device device)
    {
        if (device == Device) return;
        Packed = Move(Packed, device);
        ScaleCodes = Move(ScaleCodes, device);
        ScaleScales = Move(ScaleScales, device);
        ScaleOffset = Move(ScaleOffset, device);
    }

    static Tensor Move(Tensor t, Device device)
    {
        var moved = t.to(device).DetachFromDisposeScope();
        t.Dispose();
        return moved;
    }

    public void Dispose()
    {
        Packed.Dispose();
        ScaleCodes.Dispose();
        ScaleScales.Dispose();
        ScaleOffset.Dispose();
    }
}
