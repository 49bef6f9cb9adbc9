using Tunebook.IO;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Tunebook.Torch;

/// <summary>
/// A Hugging Face sharded checkpoint: <c>model.safetensors.index.json</c>
/// (<c>{"metadata": {"total_size": N}, "weight_map": {tensor: shard file}}</c>) next to the shard files.
/// Opening validates the index, opens (memory-maps) every shard and checks that each tensor the index
/// names is in the shard it points to; lookups then behave as if it were one file.
/// </summary>
public sealed class ShardedCheckpoint : ISafetensorsReader
{
    /// <summary>The index file name Hugging Face uses for safetensors weights.</summary>
    public const string DefaultIndexName = "model.safetensors.index.json";

    readonly Dictionary<string, (SafetensorsFile Shard, SafetensorsEntry Entry)> _lookup;
    readonly List<SafetensorsFile> _shards;

    ShardedCheckpoint(string indexPath, Dictionary<string, string> weightMap, Dictionary<string, string> indexMetadata, long? declaredTotalSize,
        List<SafetensorsFile> shards, Dictionary<string, (SafetensorsFile, SafetensorsEntry)> lookup, List<SafetensorsEntry> entries)
    {
        Path = indexPath;
        WeightMap = weightMap;
        IndexMetadata = indexMetadata;
        DeclaredTotalSize = declaredTotalSize;
        _shards = shards;
        _lookup = lookup;
        Entries = entries;
        Metadata = shards.Count > 0 ? shards[0].Metadata : new Dictionary<string, string>();
    }

    /// <summary>The index file.</summary>
    public string Path { get; }

    /// <summary>The folder holding the index and the shards.</summary>
    public string Folder => System.IO.Path.GetDirectoryName(Path)!;

    /// <summary>Tensor name → shard file name, as the index lists them.</summary>
    public IReadOnlyDictionary<string, string> WeightMap { get; }

    /// <summary>The index's <c>metadata</c> object: strings as they are, other values as their JSON text.</summary>
    public IReadOnlyDictionary<string, string> IndexMetadata { get; }

    /// <summary>The index's <c>metadata.total_size</c>, when present (not checked: writers disagree on what it counts).</summary>
    public long? DeclaredTotalSize { get; }

    /// <summary>The open shard files, in the order the index first names them.</summary>
    public IReadOnlyList<SafetensorsFile> Shards => _shards;

    /// <summary>The tensors the index lists, in index order.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The first shard's <c>__metadata__</c> (writers give every shard the same map).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Total bytes of the listed tensors.</summary>
    public long TotalSize => Entries.Sum(e => e.ByteLength);

    /// <inheritdoc />
    public bool Contains(string name) => _lookup.ContainsKey(name);

    /// <inheritdoc />
    public SafetensorsEntry GetEntry(string name) => Find(name).Entry;

    /// <summary>The shard that holds <paramref name="name"/>.</summary>
    public SafetensorsFile GetShard(string name) => Find(name).Shard;

    /// <inheritdoc />
    public ReadOnlySpan<byte> GetBytes(string name) => Find(name).Shard.GetBytes(name);

    /// <inheritdoc />
    public Stream OpenRead(string name) => Find(name).Shard.OpenRead(name);

    /// <inheritdoc />
    public IntPtr GetDataAddress(string name) => Find(name).Shard.GetDataAddress(name);

    (SafetensorsFile Shard, SafetensorsEntry Entry) Find(string name) =>
        _lookup.TryGetValue(name, out var found)
            ? found
            : throw new KeyNotFoundException($"{Path}: the index lists no tensor named '{name}'");

    /// <summary>Closes every shard.</summary>
    public void Dispose()
    {
        foreach (var shard in _shards) shard.Dispose();
    }

    /// <summary>
    /// Opens a checkpoint from its index file. Throws <see cref="SafetensorsFormatException"/> naming the
    /// index or shard and tensor when the index is malformed, a shard is missing or invalid, or a tensor
    /// is not in the shard the index names.
    /// </summary>
    public static ShardedCheckpoint Open(string indexPath)
    {
        var fullPath = System.IO.Path.GetFullPath(indexPath);
        var folder = System.IO.Path.GetDirectoryName(fullPath)!;
        var (weightMap, order, indexMetadata, totalSize) = ReadIndex(fullPath);

        var shards = new List<SafetensorsFile>();
        var byFile = new Dictionary<string, SafetensorsFile>(StringComparer.Ordinal);
        try
        {
            var lookup = new Dictionary<string, (SafetensorsFile, SafetensorsEntry)>(StringComparer.Ordinal);
            var entries = new List<SafetensorsEntry>(order.Count);
            foreach (var name in order)
            {
                var file = weightMap[name];
                if (!byFile.TryGetValue(file, out var shard))
                {
                    var shardPath = ResolveShard(fullPath, folder, name, file);
                    if (!File.Exists(shardPath))
                        throw new SafetensorsFormatException(fullPath, name, $"the index puts it in shard '{file}', which does not exist in {folder}");
                    shard = SafetensorsFile.Open(shardPath);
                    shards.Add(shard);
                    byFile[file] = shard;
                }
                if (!shard.Header.TryGetEntry(name, out var entry))
                    throw new SafetensorsFormatException(fullPath, name, $"the index puts it in shard '{file}', but that shard has no such tensor");
                lookup[name] = (shard, entry);
                entries.Add(entry);
            }
            return new ShardedCheckpoint(fullPath, weightMap, indexMetadata, totalSize, shards, lookup, entries);
        }
        catch
        {
            foreach (var shard in shards) shard.Dispose();
            throw;
        }
    }

    static (Dictionary<string, string> WeightMap, List<string> Order, Dictionary<string, string> Metadata, long? TotalSize) ReadIndex(string indexPath)
    {
        var bytes = File.ReadAllBytes(indexPath);
        // JsonDocument checks UTF-8 inside strings only when they are read, and then throws InvalidOperationException.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
            throw new SafetensorsFormatException(indexPath, null, "the index is not valid UTF-8 text");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(indexPath, null, $"the index is not valid JSON ({e.Message})", e);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(indexPath, null, "the index must be a JSON object with \"weight_map\"");

            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            long? totalSize = null;
            if (root.TryGetProperty("metadata", out var meta) && meta.ValueKind != JsonValueKind.Null)
            {
                if (meta.ValueKind != JsonValueKind.Object)
                    throw new SafetensorsFormatException(indexPath, null, "\"metadata\" must be an object");
                foreach (var item in meta.EnumerateObject())
                    metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String ? item.Value.GetString()! : item.Value.GetRawText();
                if (meta.TryGetProperty("total_size", out var total))
                {
                    if (total.ValueKind != JsonValueKind.Number || !total.TryGetDouble(out var value) || value < 0 || value != Math.Floor(value) || value > long.MaxValue)
                        throw new SafetensorsFormatException(indexPath, null, $"\"metadata.total_size\" must be a non-negative integer, found {total.GetRawText()}");
                    totalSize = (long)value;
                }
            }

            if (!root.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(indexPath, null, "the index needs a \"weight_map\" object mapping tensor names to shard files");
            var weightMap = new Dictionary<string, string>(StringComparer.Ordinal);
            var order = new List<string>();
            foreach (var item in map.EnumerateObject())
            {
                if (item.Value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(item.Value.GetString()))
                    throw new SafetensorsFormatException(indexPath, item.Name, $"\"weight_map\" must map it to a shard file name, found {item.Value.GetRawText()}");
                if (!weightMap.TryAdd(item.Name, item.Value.GetString()!))
                    throw new SafetensorsFormatException(indexPath, item.Name, "\"weight_map\" lists it more than once");
                order.Add(item.Name);
            }
            return (weightMap, order, metadata, totalSize);
        }
    }

    /// <summary>Shard names come from an untrusted file: they must stay inside the checkpoint folder.</summary>
    static string ResolveShard(string indexPath, string folder, string tensor, string file)
    {
        if (System.IO.Path.IsPathRooted(file) || file.Contains('\0'))
            throw new SafetensorsFormatException(indexPath, tensor, $"shard '{file}' must be a file name relative to the checkpoint folder");
        var resolved = System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, file));
        var root = System.IO.Path.TrimEndingDirectorySeparator(folder) + System.IO.Path.DirectorySeparatorChar;
        if (!resolved.StartsWith(root, StringComparison.Ordinal))
            throw new SafetensorsFormatException(indexPath, tensor, $"shard '{file}' points outside the checkpoint folder {folder}");
        return resolved;
    }

    // ---- Writing -------------------------------------------------------------------------------------

    /// <summary>What <see cref="Write"/> produced.</summary>
    /// <param name="Files">Full paths of the safetensors files written, in shard order.</param>
    /// <param name="IndexPath">The index file, or null when everything fit in a single file.</param>
    /// <param name="TotalSize">Total tensor bytes (the index's <c>metadata.total_size</c>).</param>
    public sealed record WriteResult(IReadOnlyList<string> Files, string? IndexPath, long TotalSize);

    /// <summary>
    /// Writes the writer's tensors into <paramref name="folder"/> the way Hugging Face's
    /// <c>save_pretrained</c> does: tensors are taken in the order they were added and a new shard starts
    /// whenever the next tensor would push the current one past <paramref name="maxShardBytes"/> (a tensor
    /// larger than the limit gets a shard of its own). Several shards are named
    /// <c>{baseName}-00001-of-0000N.safetensors</c> and listed in <c>{baseName}.safetensors.index.json</c>;
    /// a single shard is written as <c>{baseName}.safetensors</c> with no index.
    /// <para>
    /// Atomic as a whole: every shard is written to a temp file first; only when all succeeded are they
    /// renamed into place, then the index (last, so a reader never sees an index pointing at missing
    /// shards). Files left from an earlier save under the same base name (shards of another count, a stale
    /// single file or index) are removed afterwards so the folder holds exactly one checkpoint.
    /// </para>
    /// </summary>
    public static WriteResult Write(SafetensorsWriter writer, string folder, long maxShardBytes, string baseName = "model")
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxShardBytes, 1);
        if (string.IsNullOrWhiteSpace(baseName) || baseName.IndexOfAny(['/', '\\', '\0']) >= 0)
            throw new ArgumentException($"base name '{baseName}' must be a plain file name prefix such as \"model\"", nameof(baseName));

        var fullFolder = System.IO.Path.GetFullPath(folder);
        Directory.CreateDirectory(fullFolder);
        var metadata = writer.Metadata is null ? null : new Dictionary<string, string>(writer.Metadata);
        var shards = PlanShards(writer.Items, maxShardBytes);
        var totalSize = writer.Items.Sum(i => i.ByteLength);
        var singlePath = System.IO.Path.Combine(fullFolder, baseName + ".safetensors");
        var indexPath = System.IO.Path.Combine(fullFolder, baseName + ".safetensors.index.json");

        if (shards.Count <= 1)
        {
            SafetensorsWriter.WriteItems(singlePath, shards.Count == 0 ? [] : shards[0], metadata);
            RemoveStale(fullFolder, baseName, keep: [singlePath]);
            return new WriteResult([singlePath], null, totalSize);
        }

        var names = Enumerable.Range(1, shards.Count).Select(i => $"{baseName}-{i:00000}-of-{shards.Count:00000}.safetensors").ToArray();
        var finals = names.Select(n => System.IO.Path.Combine(fullFolder, n)).ToArray();
        var temps = finals.Select(AtomicFile.TempPathFor).ToArray();
        try
        {
            for (var i = 0; i < shards.Count; i++)
                SafetensorsWriter.WriteUnsafe(temps[i], shards[i], metadata);
        }
        catch
        {
            foreach (var temp in temps) AtomicFile.TryDelete(temp);
            throw;
        }
        for (var i = 0; i < shards.Count; i++) AtomicFile.Commit(temps[i], finals[i]);

        var weightMap = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < shards.Count; i++)
            foreach (var item in shards[i]) weightMap[item.Name] = names[i];
        AtomicFile.WriteAllText(indexPath, IndexJson(totalSize, weightMap));
        RemoveStale(fullFolder, baseName, keep: [.. finals, indexPath]);
        return new WriteResult(finals, indexPath, totalSize);
    }

    /// <summary>Hugging Face's greedy split, in insertion order.</summary>
    static List<List<SafetensorsWriter.Item>> PlanShards(IReadOnlyList<SafetensorsWriter.Item> items, long maxShardBytes)
    {
        var shards = new List<List<SafetensorsWriter.Item>>();
        var current = new List<SafetensorsWriter.Item>();
        long currentSize = 0;
        foreach (var item in items)
        {
            if (item.ByteLength > maxShardBytes)
            {
                shards.Add([item]);
                continue;
            }
            if (currentSize + item.ByteLength > maxShardBytes && current.Count > 0)
            {
                shards.Add(current);
                current = [];
                currentSize = 0;
            }
            current.Add(item);
            currentSize += item.ByteLength;
        }
        if (current.Count > 0) shards.Add(current);
        return shards;
    }

    /// <summary>The index as transformers writes it: sorted keys, two-space indent, trailing newline.</summary>
    static string IndexJson(long totalSize, SortedDictionary<string, string> weightMap)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            json.WriteStartObject("metadata");
            json.WriteNumber("total_size", totalSize);
            json.WriteEndObject();
            json.WriteStartObject("weight_map");
            foreach (var (name, file) in weightMap) json.WriteString(name, file);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(buffer.ToArray()).ReplaceLineEndings("\n") + "\n";
    }

    static void RemoveStale(string folder, string baseName, string[] keep)
    {
        var kept = new HashSet<string>(keep, StringComparer.Ordinal);
        var shardPattern = new Regex("^" + Regex.Escape(baseName) + @"-\d{5}-of-\d{5}\.safetensors$");
        foreach (var path in Directory.EnumerateFiles(folder))
        {
            var name = System.IO.Path.GetFileName(path);
            var ours = shardPattern.IsMatch(name) || name == baseName + ".safetensors" || name == baseName + ".safetensors.index.json";
            if (ours && !kept.Contains(path)) AtomicFile.TryDelete(path);
        }
    }
}
