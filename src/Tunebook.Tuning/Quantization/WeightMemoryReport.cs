using System.Text;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Tuning.Quantization;

/// <summary>Bytes of a model's weights by dtype before and after quantization (QLoRA's memory saving, measured).</summary>
public sealed record WeightMemoryReport(IReadOnlyDictionary<ScalarType, long> Before, IReadOnlyDictionary<ScalarType, long> After, int QuantizedLayers)
{
    /// <summary>Total bytes before.</summary>
    public long BytesBefore => Before.Values.Sum();
    /// <summary>Total bytes after.</summary>
    public long BytesAfter => After.Values.Sum();

    /// <summary>Bytes of every parameter and NF4 layer of <paramref name="model"/>, by dtype.</summary>
    public static Dictionary<ScalarType, long> Measure(Module model)
    {
        var result = new Dictionary<ScalarType, long>();
        foreach (var (_, p) in model.named_parameters())
            result[p.dtype] = result.GetValueOrDefault(p.dtype) + p.NumBytes;
        foreach (var (_, m) in model.named_modules())
            if (m is Nf4Linear q)
                foreach (var (dtype, bytes) in q.Weight.BytesByDType())
                    result[dtype] = result.GetValueOrDefault(dtype) + bytes;
        return result;
    }

    /// <summary>Two lines: "before: 128.0 MiB (float32 128.0 MiB)" / "after: 20.1 MiB (uint8 15.9 MiB, float32 4.2 MiB)".</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append($"base weights before: {ModelSummary.FormatBytes(BytesBefore)} ({Describe(Before)})\n");
        sb.Append($"base weights after:  {ModelSummary.FormatBytes(BytesAfter)} ({Describe(After)}), {QuantizedLayers} layers in NF4, ");
        sb.Append(BytesAfter == 0 ? "" : $"{(double)BytesBefore / BytesAfter:0.0}× smaller");
        return sb.ToString();
    }

    static string Describe(IReadOnlyDictionary<ScalarType, long> bytes) =>
        string.Join(", ", bytes.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key.Name()} {ModelSummary.FormatBytes(kv.Value)}"));
}
