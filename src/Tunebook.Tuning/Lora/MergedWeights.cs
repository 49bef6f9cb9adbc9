using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Torch;
using Tunebook.Torch.nn;
using Tunebook.Tuning.Quantization;

namespace Tunebook.Tuning.Lora;

/// <summary>
/// The checkpoint tensors a model would have with its adapters merged (W + scaling·B·A) and any NF4
/// weights dequantized, computed beside the model, which keeps its adapters and goes on training or
/// generating. Exports (GGUF) use it so that saving never changes the model in the notebook.
/// </summary>
public static class MergedWeights
{
    /// <summary>
    /// Hugging Face checkpoint names → float32 tensors of the merged model (new tensors for merged and
    /// dequantized layers, the model's own for the rest). Costs one merged copy of each adapted matrix.
    /// </summary>
    public static Dictionary<string, Tensor> Of(CausalLM model, IReadOnlyDictionary<string, LoraLinear>? adapters = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        // Without a LoraModel at hand, the adapters are the LoraLinear layers found in the model.
        adapters ??= model.named_modules().Where(m => m.module is LoraLinear).ToDictionary(m => m.name, m => (LoraLinear)m.module);
        var tensors = model.CheckpointTensors();
        var replaced = new Dictionary<string, Module>(StringComparer.Ordinal);
        foreach (var (path, layer) in adapters) replaced[path] = layer.Merge(ScalarType.Float32);
        // QLoRA quantizes layers LoRA may not target: those are dequantized too.
        foreach (var (path, module) in model.named_modules())
            if (module is Nf4Linear q && !replaced.ContainsKey(path) && !IsInside(path, adapters.Keys))
                replaced[path] = q.Dequantize(ScalarType.Float32);
        foreach (var (path, module) in replaced)
        {
            foreach (var key in tensors.Keys.Where(k => k.StartsWith(path + ".", StringComparison.Ordinal)).ToList()) tensors.Remove(key);
            foreach (var (name, p) in module.named_parameters()) tensors[$"{path}.{name}"] = p.detach();
        }
        return tensors;
    }

    static bool IsInside(string path, IEnumerable<string> parents) => parents.Any(p => path.StartsWith(p + ".", StringComparison.Ordinal));

    /// <summary>The merged weights of a LoRA (or QLoRA) model; the model keeps its adapters.</summary>
    public static Dictionary<string, Tensor> Of(LoraModel lora)
    {
        ArgumentNullException.ThrowIfNull(lora);
        return Of(lora.Model, lora.Layers);
    }

    /// <summary>
    /// Writes the model with its adapters merged as GGUF (and an Ollama Modelfile beside it), leaving
    /// the LoRA model as it is. See <see cref="GgufExport"/>.
    /// </summary>
    public static GgufExportResult SaveGguf(LoraModel lora, string path, GgufFileType type = GgufFileType.Q8_0, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(lora);
        var model = lora.Model;
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("GGUF export: the model has no tokenizer; llama.cpp needs one");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return GgufExport.Save(model.Config, tokenizer, Of(lora), path, type, name);
    }

    /// <summary>Writes a model as GGUF: LoRA layers it holds are merged and NF4 layers dequantized, beside the model, which is unchanged.</summary>
    public static GgufExportResult SaveGguf(CausalLM model, string path, GgufFileType type = GgufFileType.Q8_0, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("GGUF export: the model has no tokenizer; llama.cpp needs one");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        return GgufExport.Save(model.Config, tokenizer, Of(model), path, type, name);
    }
}
