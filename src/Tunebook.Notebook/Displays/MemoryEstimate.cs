using System.Globalization;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Torch.nn;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;

namespace Tunebook.Notebook.Displays;

/// <summary>Memory of one fine-tuning method, by component, in bytes.</summary>
/// <param name="Method">"Full", "LoRA" or "QLoRA".</param>
/// <param name="Weights">The model's weights as they are held during training.</param>
/// <param name="Gradients">float32 gradients of the trainable parameters.</param>
/// <param name="Optimizer">AdamW's two float32 moments per trainable parameter.</param>
/// <param name="Activations">Activations kept for the backward pass (rough; see <see cref="MemoryEstimate"/>).</param>
/// <param name="Trainable">Trainable parameters.</param>
public sealed record MethodMemory(string Method, long Weights, long Gradients, long Optimizer, long Activations, long Trainable)
{
    public long Total => Weights + Gradients + Optimizer + Activations;
}

/// <summary>
/// A back-of-the-envelope estimate of training memory for full fine-tuning, LoRA and QLoRA, the way the
/// PEFT and Unsloth docs reason about it:
/// <list type="bullet">
/// <item>weights: every parameter at the model's dtype; QLoRA stores the decoder's linear layers in NF4
/// (<see cref="Nf4.BytesPerWeight"/>: 4 bits, an 8-bit absmax code per 64 weights and a float32 scale per
/// 256 blocks ≈ 0.516 bytes per weight) and the rest as they are;</item>
/// <item>gradients and optimizer: 4 + 8 bytes per trainable parameter (float32 gradient, AdamW's two moments);</item>
/// <item>activations: per token and layer about 34·hidden + 5·heads·length bytes·(dtype size / 2) — the
/// figure from Korthikanti et al. (2022) for a transformer layer without recomputation — plus the
/// float32 logits and their gradient (2 × 4 × vocab bytes per token).</item>
/// </list>
/// Runtime overheads (allocator caches, libtorch's own buffers, temporary copies) come on top; treat the
/// numbers as the order of magnitude that decides "fits or not", not as a measurement.
/// </summary>
public sealed record MemoryEstimate(int BatchSize, int SequenceLength, int LoraRank, IReadOnlyList<string> LoraTargets, IReadOnlyList<MethodMemory> Methods)
{
    /// <summary>Estimates for <paramref name="model"/> with micro-batches of <paramref name="batchSize"/> × <paramref name="sequenceLength"/> tokens.</summary>
    public static MemoryEstimate For(CausalLM model, int batchSize = 4, int sequenceLength = 256, int loraRank = 8, IReadOnlyList<string>? loraTargets = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "expected at least 1");
        if (sequenceLength < 1) throw new ArgumentOutOfRangeException(nameof(sequenceLength), sequenceLength, "expected at least 1");
        if (loraRank < 1) throw new ArgumentOutOfRangeException(nameof(loraRank), loraRank, "expected at least 1");
        loraTargets ??= ["q_proj", "v_proj"];
        var c = model.Config;
        int elem = model.DType.ElementSize();

        // Count from the modules, not the config, so that LoRA-wrapped or quantized models count their base weights.
        long total = 0, decoderLinear = 0, lora = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.Contains("lora_", StringComparison.Ordinal)) continue;
            total += p.numel();
        }
        foreach (var (path, module) in model.named_modules())
        {
            if (path.Contains("lora_", StringComparison.Ordinal)) continue;
            // A LoRA-wrapped layer shows up twice (the wrapper and its base_layer): count the base, named after the wrapper.
            var parts = path.Split('.');
            var leaf = parts[^1] == "base_layer" && parts.Length > 1 ? parts[^2] : parts[^1];
            long inF, outF;
            if (module is Linear l) { outF = l.weight.size(0); inF = l.weight.size(1); }
            else if (module is Nf4Linear q) { inF = q.InFeatures; outF = q.OutFeatures; total += inF * outF; /* NF4 weights are not parameters */ }
            else if (module is Tunebook.Models.Gpt2.Conv1D cv) { inF = cv.in_features; outF = cv.out_features; }
            else continue;
            if (leaf == "lm_head") continue;
            decoderLinear += inF * outF;
            if (loraTargets.Contains(leaf) || loraTargets.Contains("all-linear")) lora += (long)loraRank * (inF + outF);
        }
        if (total == 0) total = c.VocabSize * c.HiddenSize;

        long tokens = (long)batchSize * sequenceLength;
        double perTokenLayer = (34.0 * c.HiddenSize + 5.0 * c.NumAttentionHeads * sequenceLength) * elem / 2.0;
        long activations = (long)(tokens * c.NumHiddenLayers * perTokenLayer + tokens * c.VocabSize * 8.0);

        long fullWeights = total * elem;
        long nf4Weights = (long)(decoderLinear * Nf4.BytesPerWeight) + (total - decoderLinear) * elem;
        var methods = new List<MethodMemory>
        {
            new("Full", fullWeights, total * 4, total * 8, activations, total),
            new("LoRA", fullWeights + lora * 4, lora * 4, lora * 8, activations, lora),
            new("QLoRA", nf4Weights + lora * 4, lora * 4, lora * 8, activations, lora),
        };
        return new MemoryEstimate(batchSize, sequenceLength, loraRank, loraTargets, methods);
    }

    public string Describe() =>
        $"batch {BatchSize} × {SequenceLength} tokens, LoRA rank {LoraRank} on {string.Join(", ", LoraTargets)}, AdamW";

    public override string ToString()
    {
        var lines = new List<string> { $"Training memory estimate ({Describe()}):" };
        foreach (var m in Methods)
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"  {m.Method,-6} total {ModelSummary.FormatBytes(m.Total),9} = weights {ModelSummary.FormatBytes(m.Weights)} + grads {ModelSummary.FormatBytes(m.Gradients)} + optimizer {ModelSummary.FormatBytes(m.Optimizer)} + activations {ModelSummary.FormatBytes(m.Activations)}"));
        return string.Join("\n", lines);
    }
}
