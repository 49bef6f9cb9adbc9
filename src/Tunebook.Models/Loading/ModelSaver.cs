using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>Writes a model folder that transformers (and <see cref="ModelLoader"/>) read back.</summary>
static partial class ModelSaver
{
    /// <summary>
    /// Writes the weights (sharded past <paramref name="maxShardSize"/>), config, generation config and tokenizer
    /// into a temp folder that then replaces <paramref name="folder"/> in one rename (AtomicFolder): a kill
    /// mid-save leaves the previous model whole. Other files already in the folder are kept; weight files of an
    /// earlier save (another shard count) are not, since they would confuse loaders.
    /// </summary>
    public static void Save(CausalLM model, string folder, string maxShardSize)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ShardSize.Parse(maxShardSize);
        Tunebook.IO.AtomicFolder.Replace(folder, temp => Write(model, temp, maxShardSize), carryOver: name => !IsWeightFile(name));
    }

    static void Write(CausalLM model, string folder, string maxShardSize)
    {
        using (var scope = torch.NewDisposeScope())
        {
            var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            foreach (var (name, t) in model.CheckpointTensors()) tensors[name] = t.is_contiguous() ? t : t.contiguous();
            Safetensors.SaveSharded(folder, tensors, maxShardSize);
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

    static bool IsWeightFile(string name) => name == "model.safetensors" || name == "model.safetensors.index.json" || ShardName().IsMatch(name);

    [GeneratedRegex(@"^model-\d{5}-of-\d{5}\.safetensors$")]
    private static partial Regex ShardName();
}
