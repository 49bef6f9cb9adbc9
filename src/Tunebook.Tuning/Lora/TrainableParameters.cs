using System.Globalization;
using Tunebook.Models;

namespace Tunebook.Tuning.Lora;

/// <summary>
/// How many parameters train, like PEFT's print_trainable_parameters. Quantized weights count with their
/// original number of elements, so the total is the model's size whatever the storage.
/// </summary>
public sealed record TrainableParameters(long Trainable, long Total)
{
    /// <summary>Trainable share in percent.</summary>
    public double Percent => Total == 0 ? 0 : 100.0 * Trainable / Total;

    /// <summary>"trainable 1.6M of 135M, 1.2%".</summary>
    public override string ToString() =>
        $"trainable {ModelSummary.FormatCount(Trainable)} of {ModelSummary.FormatCount(Total)}, {Percent.ToString(Percent < 1 ? "0.###" : "0.#", CultureInfo.InvariantCulture)}%";

    /// <summary>PEFT's wording: "trainable params: 1,600,000 || all params: 135,000,000 || trainable%: 1.1852".</summary>
    public string ToPeftString() =>
        $"trainable params: {Trainable.ToString("N0", CultureInfo.InvariantCulture)} || all params: {Total.ToString("N0", CultureInfo.InvariantCulture)} || trainable%: {Percent.ToString("0.0000", CultureInfo.InvariantCulture)}";

    /// <summary>Counts the parameters of <paramref name="model"/> (NF4 layers by their logical weight size).</summary>
    public static TrainableParameters Of(Tunebook.Torch.nn.Module model)
    {
        long trainable = 0, total = 0;
        foreach (var (_, p) in model.named_parameters())
        {
            long n = p.numel();
            total += n;
            if (p.requires_grad) trainable += n;
        }
        foreach (var (_, m) in model.named_modules())
            if (m is Quantization.Nf4Linear q) total += q.Weight.Numel;
        return new TrainableParameters(trainable, total);
    }
}
