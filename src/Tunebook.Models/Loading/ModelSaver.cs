using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>Writes a model folder that transformers (and <see cref="ModelLoader"/>) read back.</summary>
static partial class ModelSaver
{
    public static void Save(CausalLM model, string folder, string maxShardSize)
    {
        ArgumentNullException.ThrowIfNull(folder);
        Directory.CreateDirectory(folder);
        using var scope = torch.NewDisposeScope();
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in model.CheckpointTensors()) tensors[name] = t.is_contiguous() ? t : t.contiguous();
        var result = Safetensors.SaveSharded(folder, tensors, maxShardSize);

        // Files of an earlier save with another shard count would confuse loaders: remove them.
        var written = new HashSet<string>(result.Files.Select(Path.GetFileName)!, StringComparer.Ordinal);
        if (result.IndexPath is not null) written.Add(Path.GetFileName(result.IndexPath));
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            var name = Path.GetFileName(file);
            if (written.Contains(name)) continue;
            if (name == "model.safetensors" || name == "model.safetensors.index.json" || ShardName().IsMatch(name)) File.Delete(file);
        }

        var config = model.Config;
        var savedDtype = model.DType.Name();
        if (config.TorchDtype is not null && config.TorchDtype != savedDtype)
            config = config.With(config["torch_dtype"] is not null ? "torch_dtype" : "dtype", JsonValue.Create(savedDtype));
        config.Save(folder);
        Tunebook.IO.AtomicFile.WriteAllText(Path.Combine(folder, "generation_config.json"),
            model.GenerationConfig.ToJsonObject().ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        model.Tokenizer?.Save(folder);
    }

    [GeneratedRegex(@"^model-\d{5}-of-\d{5}\.safetensors$")]
    private static partial Regex ShardName();
}
