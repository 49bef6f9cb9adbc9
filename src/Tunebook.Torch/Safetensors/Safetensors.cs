namespace Tunebook.Torch;

/// <summary>
/// Loading and saving name → tensor maps as safetensors, the way <c>safetensors.torch.load_file</c> /
/// <c>save_file</c> and <c>save_pretrained</c> do. For lazy access to single tensors use
/// <see cref="CheckpointReader.Open"/> with <see cref="SafetensorsTensorExtensions.GetTensor"/>.
/// </summary>
public static class Safetensors
{
    /// <summary>
    /// Loads every tensor from a .safetensors file, a sharded checkpoint's index file, or a model folder
    /// holding either; onto <paramref name="device"/> (default CPU), converted to <paramref name="dtype"/> when given.
    /// </summary>
    public static Dictionary<string, Tensor> Load(string path, Device? device = null, ScalarType? dtype = null)
    {
        using var reader = CheckpointReader.Open(path);
        return reader.LoadAll(device, dtype);
    }

    /// <summary>Reads only the string metadata of a file or checkpoint.</summary>
    public static IReadOnlyDictionary<string, string> LoadMetadata(string path)
    {
        using var reader = CheckpointReader.Open(path);
        return new Dictionary<string, string>(reader.Metadata);
    }

    /// <summary>
    /// Saves tensors to one file, atomically. The metadata always carries <c>"format"</c> (default
    /// <c>"pt"</c>): transformers refuses safetensors weights whose metadata lacks it.
    /// </summary>
    public static void Save(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var writer = new SafetensorsWriter(WithFormat(metadata));
        writer.AddAll(tensors);
        writer.WriteFile(path);
    }

    /// <summary>
    /// Saves tensors into <paramref name="folder"/> as <c>model.safetensors</c>, or as shards of at most
    /// <paramref name="maxShardSize"/> plus <c>model.safetensors.index.json</c>; shards follow the
    /// dictionary's order. See <see cref="ShardedCheckpoint.Write"/>.
    /// </summary>
    public static ShardedCheckpoint.WriteResult SaveSharded(string folder, IReadOnlyDictionary<string, Tensor> tensors, string maxShardSize = "5GB",
        IReadOnlyDictionary<string, string>? metadata = null, string baseName = "model")
    {
        var writer = new SafetensorsWriter(WithFormat(metadata));
        writer.AddAll(tensors);
        return writer.WriteSharded(folder, maxShardSize, baseName);
    }

    static Dictionary<string, string> WithFormat(IReadOnlyDictionary<string, string>? metadata)
    {
        var result = metadata is null ? new Dictionary<string, string>(StringComparer.Ordinal) : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        result.TryAdd("format", "pt");
        return result;
    }
}
