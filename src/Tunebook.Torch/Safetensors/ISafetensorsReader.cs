namespace Tunebook.Torch;

/// <summary>
/// Read access to named tensors stored as safetensors: one file (<see cref="SafetensorsFile"/>) or a
/// sharded checkpoint (<see cref="ShardedCheckpoint"/>). Bytes are read lazily, tensor by tensor.
/// </summary>
public interface ISafetensorsReader : IDisposable
{
    /// <summary>Where the tensors come from: the file, or the index file of a sharded checkpoint.</summary>
    string Path { get; }

    /// <summary>Every tensor's description.</summary>
    IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The tensor names.</summary>
    IEnumerable<string> Names => Entries.Select(e => e.Name);

    /// <summary>The string metadata (the file's <c>__metadata__</c>; for shards, that of the index's <c>metadata</c> and the first shard).</summary>
    IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether a tensor of this name exists.</summary>
    bool Contains(string name);

    /// <summary>Describes one tensor; throws <see cref="KeyNotFoundException"/> naming the file when absent.</summary>
    SafetensorsEntry GetEntry(string name);

    /// <summary>
    /// The tensor's bytes, little-endian and row-major, straight from the memory mapping. The span is
    /// valid until the reader is disposed. Tensors of 2 GiB and more need <see cref="OpenRead"/>.
    /// </summary>
    ReadOnlySpan<byte> GetBytes(string name);

    /// <summary>A read-only stream over the tensor's bytes; works for tensors of any size.</summary>
    Stream OpenRead(string name);

    /// <summary>
    /// The address of the tensor's first byte in the memory mapping, for native copies of tensors of any
    /// size (<see cref="SafetensorsEntry.ByteLength"/> bytes); valid until the reader is disposed.
    /// </summary>
    IntPtr GetDataAddress(string name);
}
