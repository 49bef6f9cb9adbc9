namespace Tunebook.Torch;

/// <summary>
/// Opens the weights of a Hugging Face style model folder, whichever way they are stored: a single
/// <c>model.safetensors</c> or shards listed in <c>model.safetensors.index.json</c>.
/// </summary>
public static class CheckpointReader
{
    /// <summary>
    /// Opens <paramref name="path"/>: a folder (looked up as <c>{baseName}.safetensors</c>, then
    /// <c>{baseName}.safetensors.index.json</c>; the single file wins when both exist, as in transformers),
    /// an index file, or a single .safetensors file.
    /// </summary>
    /// <param name="path">A model folder, an index file or a safetensors file.</param>
    /// <param name="baseName">File name stem inside a folder, e.g. <c>"adapter_model"</c> for PEFT adapters.</param>
    public static ISafetensorsReader Open(string path, string baseName = "model")
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        if (File.Exists(fullPath))
            return fullPath.EndsWith(".index.json", StringComparison.Ordinal)
                ? ShardedCheckpoint.Open(fullPath)
                : SafetensorsFile.Open(fullPath);
        if (!Directory.Exists(fullPath))
            throw new DirectoryNotFoundException($"{fullPath}: no such checkpoint folder or file");

        var single = System.IO.Path.Combine(fullPath, baseName + ".safetensors");
        if (File.Exists(single)) return SafetensorsFile.Open(single);
        var index = System.IO.Path.Combine(fullPath, baseName + ".safetensors.index.json");
        if (File.Exists(index)) return ShardedCheckpoint.Open(index);

        var present = Directory.EnumerateFiles(fullPath, "*.safetensors*").Select(System.IO.Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        throw new FileNotFoundException(
            $"{fullPath}: found neither {baseName}.safetensors nor {baseName}.safetensors.index.json" +
            (present.Length > 0 ? $" (safetensors files here: {string.Join(", ", present)}; pass baseName or the file itself)" : ""),
            single);
    }
}
