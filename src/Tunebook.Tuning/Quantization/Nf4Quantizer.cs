using Tunebook.Models;
using Tunebook.Models.Gpt2;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Tuning.Quantization;

/// <summary>Turns a model's linear layers into <see cref="Nf4Linear"/> layers (QLoRA's 4-bit base model).</summary>
public static class Nf4Quantizer
{
    /// <summary>
    /// Quantizes every Linear / Conv1D layer of <paramref name="model"/> except the output head (as
    /// transformers' bitsandbytes integration does: lm_head stays in full precision), in place, on the
    /// device the model is on, and frees the original weights. <paramref name="include"/> narrows the
    /// layers by path. Returns the weight memory before and after.
    /// </summary>
    public static WeightMemoryReport QuantizeModel(Module model, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var before = WeightMemoryReport.Measure(model);
        var targets = model.named_modules()
            .Where(m => m.name.Length > 0 && m.module is Linear or Conv1D && !IsHead(m.name) && (include?.Invoke(m.name) ?? true))
            .ToList();
        if (targets.Count == 0) throw new ArgumentException("Nf4Quantizer: the model has no linear layers to quantize");
        foreach (var (path, module) in targets)
        {
            Nf4Linear quantized = module switch
            {
                Linear l => Nf4Linear.FromLinear(l),
                Conv1D c => Nf4Linear.FromConv1D(c),
                _ => throw new InvalidOperationException(),
            };
            var old = model.ReplaceModule(path, quantized);
            old.Dispose();
        }
        model.requires_grad_(false);
        return new WeightMemoryReport(before, WeightMemoryReport.Measure(model), targets.Count);
    }

    static bool IsHead(string path) => path == "lm_head" || path.EndsWith(".lm_head", StringComparison.Ordinal);
}
