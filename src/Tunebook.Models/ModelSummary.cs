using System.Globalization;
using System.Text;
using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>
/// A model at a glance: architecture, sizes, parameter counts, dtype, device and weight memory.
/// <see cref="ToString"/> gives an aligned text table; <see cref="Rows"/> gives (label, value) pairs for
/// an HTML table.
/// </summary>
public sealed record ModelSummary(
    string Architecture,
    string ModelType,
    long Parameters,
    long TrainableParameters,
    int Layers,
    int Heads,
    int KeyValueHeads,
    long HeadDim,
    long Hidden,
    long Intermediate,
    long Vocab,
    long MaxPositions,
    bool TiedEmbeddings,
    ScalarType DType,
    Device Device,
    long ParameterBytes)
{
    /// <summary>KV-cache bytes per token of context (keys and values of every layer) in the model dtype.</summary>
    public long KVCacheBytesPerToken => 2L * Layers * KeyValueHeads * HeadDim * DType.ElementSize();

    internal static ModelSummary Of(CausalLM model)
    {
        long total = 0, trainable = 0, bytes = 0;
        foreach (var (_, p) in model.named_parameters())
        {
            long n = p.numel();
            total += n;
            if (p.requires_grad) trainable += n;
            bytes += p.NumBytes;
        }
        var c = model.Config;
        return new ModelSummary(c.Architecture, c.ModelType, total, trainable, c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads,
            c.HeadDim, c.HiddenSize, c.IntermediateSize, c.VocabSize, c.MaxPositionEmbeddings, c.TieWordEmbeddings, model.DType, model.Device, bytes);
    }

    /// <summary>(label, value) rows in display order.</summary>
    public IReadOnlyList<(string Label, string Value)> Rows() =>
    [
        ("Architecture", $"{Architecture} ({ModelType})"),
        ("Parameters", $"{FormatCount(Parameters)} ({Parameters.ToString("N0", CultureInfo.InvariantCulture)})"),
        ("Trainable", $"{FormatCount(TrainableParameters)} ({(Parameters == 0 ? 0 : 100.0 * TrainableParameters / Parameters).ToString("0.##", CultureInfo.InvariantCulture)}%)"),
        ("Layers", Layers.ToString(CultureInfo.InvariantCulture)),
        ("Attention heads", Heads.ToString(CultureInfo.InvariantCulture)),
        ("Key/value heads", KeyValueHeads == Heads ? $"{KeyValueHeads} (multi-head)" : $"{KeyValueHeads} (grouped-query, {Heads / KeyValueHeads} queries per key)"),
        ("Head dim", HeadDim.ToString(CultureInfo.InvariantCulture)),
        ("Hidden size", Hidden.ToString(CultureInfo.InvariantCulture)),
        ("MLP size", Intermediate.ToString(CultureInfo.InvariantCulture)),
        ("Vocabulary", Vocab.ToString(CultureInfo.InvariantCulture)),
        ("Context", MaxPositions.ToString(CultureInfo.InvariantCulture)),
        ("Tied embeddings", TiedEmbeddings ? "yes" : "no"),
        ("Dtype", DType.Name()),
        ("Device", Device.ToString()),
        ("Weights memory", FormatBytes(ParameterBytes)),
        ("KV cache", $"{FormatBytes(KVCacheBytesPerToken)} per token ({FormatBytes(KVCacheBytesPerToken * MaxPositions)} at full context, batch 1)"),
    ];

    /// <summary>An aligned two-column text table.</summary>
    public override string ToString()
    {
        var rows = Rows();
        int width = rows.Max(r => r.Label.Length);
        var sb = new StringBuilder();
        foreach (var (label, value) in rows) sb.Append(label.PadRight(width)).Append("  ").Append(value).Append('\n');
        return sb.ToString().TrimEnd('\n');
    }

    /// <summary>1.23M, 135M, 7.2B.</summary>
    public static string FormatCount(long n) => n switch
    {
        >= 1_000_000_000 => (n / 1e9).ToString(n >= 10_000_000_000 ? "0.#" : "0.##", CultureInfo.InvariantCulture) + "B",
        >= 1_000_000 => (n / 1e6).ToString(n >= 100_000_000 ? "0" : "0.##", CultureInfo.InvariantCulture) + "M",
        >= 1_000 => (n / 1e3).ToString("0.##", CultureInfo.InvariantCulture) + "K",
        _ => n.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Bytes in binary units: 512 B, 1.5 KiB, 270.3 MiB, 2.1 GiB.</summary>
    public static string FormatBytes(long bytes) => bytes switch
    {
        >= 1L << 30 => (bytes / (double)(1L << 30)).ToString("0.0", CultureInfo.InvariantCulture) + " GiB",
        >= 1L << 20 => (bytes / (double)(1L << 20)).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        >= 1L << 10 => (bytes / (double)(1L << 10)).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        _ => bytes.ToString(CultureInfo.InvariantCulture) + " B",
    };
}
