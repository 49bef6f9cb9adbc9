using System.Globalization;
using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Tuning.Lora;

namespace Tunebook.Notebook.Displays;

/// <summary>What <c>#!lora</c> shows: trainable against total parameters, the adapted layers and the configuration.</summary>
public sealed class LoraSummary(LoraModel lora) : Formatters.IRichDisplay
{
    public LoraModel Lora { get; } = lora ?? throw new ArgumentNullException(nameof(lora));
    public TrainableParameters Parameters { get; } = lora.TrainableParameters();

    IReadOnlyList<(string, string)> Rows() =>
    [
        ("Trainable parameters", $"{ModelSummary.FormatCount(Parameters.Trainable)} of {ModelSummary.FormatCount(Parameters.Total)} ({Parameters.Percent.ToString("0.###", CultureInfo.InvariantCulture)}%)"),
        ("Adapted layers", $"{Lora.Layers.Count} ({string.Join(", ", Lora.Layers.Keys.Select(k => k.Split('.')[^1]).Distinct())})"),
        ("Rank / alpha", string.Create(CultureInfo.InvariantCulture, $"r = {Lora.Config.R}, alpha = {Lora.Config.Alpha}, scaling {Lora.Config.Scaling:0.###}{(Lora.Config.UseRsLora ? " (rsLoRA)" : "")}")),
        ("Dropout", Lora.Config.Dropout.ToString(CultureInfo.InvariantCulture)),
        ("Base weights", (Lora.IsQuantized ? "NF4 (QLoRA), frozen" : "frozen") + (Lora.SavedModules.Count > 0 ? " except the modules trained in full" : "")),
        .. Lora.SavedModules.Count == 0 ? Array.Empty<(string, string)>() :
        [("Trained in full", string.Join(", ", Lora.SavedModules.Select(m => $"{m.Key} ({ModelSummary.FormatCount(m.Value.parameters().Sum(p => p.numel()))})")))],
    ];

    public override string ToString() => Parameters.ToPeftString() + "\n" + string.Join("\n", Rows().Select(r => $"{r.Item1}: {r.Item2}"));

    public MimeBundle ToMimeBundle() => new MimeBundle(ToString()).With("text/html",
        Html.KeyValues(Rows(), "LoRA adapters") + Html.Note(Parameters.ToPeftString()));
}
