using System.Text;
using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Tuning.Lora;

namespace Tunebook.Notebook.Displays;

/// <summary>
/// What <c>#!model load</c> shows: the architecture (from <see cref="ModelSummary"/>), parameter and
/// trainable-parameter counts, and the training-memory estimate for full fine-tuning, LoRA and QLoRA.
/// </summary>
public sealed class ModelCard : Formatters.IRichDisplay
{
    public ModelCard(CausalLM model, string? source = null, MemoryEstimate? memory = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Summary = model.Summary();
        Source = source ?? model.LoadReport?.Source;
        Memory = memory ?? MemoryEstimate.For(model, sequenceLength: (int)Math.Min(256, Math.Max(1, model.Config.MaxPositionEmbeddings)));
        TokenizerVocab = model.Tokenizer?.VocabSize;
        HasChatTemplate = model.Tokenizer?.Config.ChatTemplate is not null;
        Adapters = model.named_modules().Count(m => m.module is LoraLinear);
    }

    public ModelSummary Summary { get; }
    public string? Source { get; }
    public MemoryEstimate Memory { get; }
    public int? TokenizerVocab { get; }
    public bool HasChatTemplate { get; }
    /// <summary>Number of LoRA-wrapped layers.</summary>
    public int Adapters { get; }

    IEnumerable<(string, string)> ExtraRows()
    {
        if (Source is not null) yield return ("Source", DisplayPath.Of(Source));
        yield return ("Tokenizer", TokenizerVocab is { } v ? $"{v} tokens{(HasChatTemplate ? ", chat template" : ", no chat template")}" : "none loaded");
        if (Adapters > 0) yield return ("LoRA layers", Adapters.ToString());
    }

    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (var (l, v) in ExtraRows().Concat(Summary.Rows())) sb.AppendLine($"{l,-16} {v}");
        sb.Append(Memory.ToString());
        return sb.ToString();
    }

    public MimeBundle ToMimeBundle()
    {
        var sb = new StringBuilder("<div>");
        sb.Append(Html.KeyValues(ExtraRows().Concat(Summary.Rows()), "Model"));
        sb.Append(Html.Table(["Fine-tuning", "Trainable", "Weights", "Gradients", "Optimizer", "Activations", "Total"],
            Memory.Methods.Select(m => (IReadOnlyList<string>)[
                $"<b>{m.Method}</b>", ModelSummary.FormatCount(m.Trainable), ModelSummary.FormatBytes(m.Weights), ModelSummary.FormatBytes(m.Gradients),
                ModelSummary.FormatBytes(m.Optimizer), ModelSummary.FormatBytes(m.Activations), $"<b>{ModelSummary.FormatBytes(m.Total)}</b>"]),
            "Training memory estimate"));
        sb.Append(Html.Note($"{Memory.Describe()}. Weights at the model dtype (QLoRA: decoder linear layers in NF4, ≈0.56 bytes each); " +
                            "gradients and AdamW's two moments in float32 for trainable parameters only; activations are a rough per-layer figure " +
                            "plus the float32 logits. Allocator and runtime overheads come on top."));
        sb.Append("</div>");
        return new MimeBundle(ToString()).With("text/html", sb.ToString());
    }
}
