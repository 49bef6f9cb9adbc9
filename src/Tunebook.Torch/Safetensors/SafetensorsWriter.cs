using Tunebook.IO;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace Tunebook.Torch;

/// <summary>Fills a tensor's bytes (little-endian, row-major) straight into the output file.</summary>
public delegate void SafetensorsFill(Span<byte> destination);

/// <summary>
/// Collects tensors (as bytes, or as callbacks that produce them) and writes them as one safetensors
/// file (<see cref="WriteFile"/>) or as a sharded checkpoint (<see cref="WriteSharded"/>).
/// <para>
/// Files are written to <c>&lt;path&gt;.tmp-&lt;random&gt;</c>, flushed, then renamed over the destination;
/// if anything throws, the temp file is removed and the destination is untouched. Within a file the
/// layout is the reference implementation's: tensors sorted by descending dtype alignment, then by name
/// (UTF-8 byte order), stored back to back after a header padded with spaces to a multiple of 8 bytes,
/// so identical inputs give byte-identical files and every tensor starts aligned to its element size.
/// </para>
/// </summary>
public sealed class SafetensorsWriter
{
    readonly List<Item> _items = [];
    readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Creates an empty writer.</summary>
    /// <param name="metadata">The <c>__metadata__</c> string map; null writes none.</param>
    public SafetensorsWriter(IReadOnlyDictionary<string, string>? metadata = null)
    {
        Metadata = metadata is null ? null : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
    }

    /// <summary>The <c>__metadata__</c> map written with every file; null writes none.</summary>
    public IDictionary<string, string>? Metadata { get; set; }

    /// <summary>Tensors added so far, in the order they were added.</summary>
    public IReadOnlyList<SafetensorsEntry> Pending => _items.Select(i => new SafetensorsEntry(i.Name, i.DType, i.Shape, 0, i.ByteLength)).ToArray();

    /// <summary>Total tensor bytes added so far.</summary>
    public long DataLength => _items.Sum(i => i.ByteLength);

    /// <summary>Adds a tensor from bytes already in memory; their length must be numel × element size.</summary>
    public void Add(string name, SafetensorsDType dtype, long[] shape, ReadOnlyMemory<byte> data)
    {
        var byteLength = Validate(name, dtype, shape);
        if (data.Length != byteLength)
            throw new ArgumentException($"tensor '{name}': {dtype.ToSpecName()} shape [{string.Join(", ", shape)}] needs {byteLength} bytes, got {data.Length}", nameof(data));
        Register(new Item(name, dtype, (long[])shape.Clone(), byteLength, data, null, null));
    }

    /// <summary>
    /// Adds a tensor whose bytes are produced at write time by <paramref name="fill"/>, directly into
    /// the output file (no intermediate buffer). The tensor must be under 2 GiB; see <see cref="AddStreamed"/>.
    /// </summary>
    public void Add(string name, SafetensorsDType dtype, long[] shape, SafetensorsFill fill)
    {
        ArgumentNullException.ThrowIfNull(fill);
        var byteLength = Validate(name, dtype, shape);
        if (byteLength > int.MaxValue)
            throw new ArgumentException($"tensor '{name}' has {byteLength} bytes, more than a span can hold; use AddStreamed", nameof(shape));
        Register(new Item(name, dtype, (long[])shape.Clone(), byteLength, null, fill, null));
    }

    /// <summary>
    /// Adds a tensor of any size whose bytes <paramref name="write"/> writes to the given stream at write
    /// time; it must write exactly numel × element-size bytes.
    /// </summary>
    public void AddStreamed(string name, SafetensorsDType dtype, long[] shape, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var byteLength = Validate(name, dtype, shape);
        Register(new Item(name, dtype, (long[])shape.Clone(), byteLength, null, null, write));
    }

    /// <summary>Copies every tensor of an open reader (bytes are read lazily at write time).</summary>
    public void AddAll(ISafetensorsReader source)
    {
        foreach (var entry in source.Entries)
        {
            var name = entry.Name;
            AddStreamed(name, entry.DType, entry.Shape, output =>
            {
                using var input = source.OpenRead(name);
                input.CopyTo(output, 1 << 20);
            });
        }
    }

    /// <summary>
    /// The entries as they will appear in a file holding all pending tensors: reference order, offsets
    /// assigned back to back.
    /// </summary>
    public IReadOnlyList<SafetensorsEntry> Layout() => Place(_items).Select(p => p.Entry).ToArray();

    /// <summary>Writes all tensors to one file, atomically.</summary>
    public void WriteFile(string path) => WriteItems(path, _items, Metadata is null ? null : new Dictionary<string, string>(Metadata));

    /// <summary>
    /// Writes all tensors as a Hugging Face style checkpoint in <paramref name="folder"/>: shards of at
    /// most <paramref name="maxShardSize"/> (e.g. <c>"5GB"</c>, <c>"500MiB"</c> or a byte count) named
    /// <c>model-00001-of-0000N.safetensors</c> plus <c>model.safetensors.index.json</c>, or a single
    /// <c>model.safetensors</c> when everything fits in one shard. See <see cref="ShardedCheckpoint.Write"/>.
    /// </summary>
    public ShardedCheckpoint.WriteResult WriteSharded(string folder, string maxShardSize = "5GB", string baseName = "model") =>
        ShardedCheckpoint.Write(this, folder, ShardSize.Parse(maxShardSize), baseName);

    internal IReadOnlyList<Item> Items => _items;

    internal static void WriteItems(string path, IReadOnlyList<Item> items, IReadOnlyDictionary<string, string>? metadata)
    {
        var fullPath = System.IO.Path.GetFullPath(path);
        var temp = AtomicFile.TempPathFor(fullPath);
        try
        {
            WriteUnsafe(temp, items, metadata);
            AtomicFile.Commit(temp, fullPath);
        }
        catch
        {
            AtomicFile.TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes the whole file through a writable mapping so fill callbacks write in place.</summary>
    internal static unsafe void WriteUnsafe(string path, IReadOnlyList<Item> items, IReadOnlyDictionary<string, string>? metadata)
    {
        var placed = Place(items);
        var header = SafetensorsHeader.Serialize(placed.Select(p => p.Entry), metadata);
        var dataStart = 8L + header.Length;
        var dataLength = placed.Count == 0 ? 0 : placed[^1].Entry.DataEnd;
        var fileLength = checked(dataStart + dataLength);

        using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
        stream.SetLength(fileLength);
        using (var map = MemoryMappedFile.CreateFromFile(stream, null, fileLength, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true))
        using (var view = map.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.ReadWrite))
        {
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            try
            {
                pointer += view.PointerOffset;
                BitConverter.TryWriteBytes(new Span<byte>(pointer, 8), (ulong)header.Length);
                if (!BitConverter.IsLittleEndian) new Span<byte>(pointer, 8).Reverse();
                header.CopyTo(new Span<byte>(pointer + 8, header.Length));
                foreach (var (item, entry) in placed)
                    item.WriteTo(pointer + dataStart + entry.DataBegin);
                view.Flush();
            }
            finally
            {
                view.SafeMemoryMappedViewHandle.ReleasePointer();
            }
        }
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Reference order: descending dtype alignment, then name by UTF-8 bytes; offsets back to back.</summary>
    static List<(Item Item, SafetensorsEntry Entry)> Place(IEnumerable<Item> items)
    {
        var ordered = items
            .OrderByDescending(i => i.DType)
            .ThenBy(i => i.Name, Utf8Order.Instance)
            .ToList();
        var placed = new List<(Item, SafetensorsEntry)>(ordered.Count);
        long offset = 0;
        foreach (var item in ordered)
        {
            var end = checked(offset + item.ByteLength);
            placed.Add((item, new SafetensorsEntry(item.Name, item.DType, item.Shape, offset, end)));
            offset = end;
        }
        return placed;
    }

    long Validate(string name, SafetensorsDType dtype, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        if (name == SafetensorsHeader.MetadataKey)
            throw new ArgumentException($"'{SafetensorsHeader.MetadataKey}' is reserved for the metadata map and cannot name a tensor", nameof(name));
        if (!IsWellFormedUtf16(name))
            throw new ArgumentException($"tensor name '{name}' contains an unpaired surrogate and cannot be stored as UTF-8", nameof(name));
        if (_names.Contains(name))
            throw new ArgumentException($"a tensor named '{name}' was already added", nameof(name));
        if (!Enum.IsDefined(dtype))
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, $"tensor '{name}': not a safetensors dtype");
        long elements = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] has a negative dimension", nameof(shape));
            elements = d == 0 || elements == 0 ? 0
                : elements > long.MaxValue / d ? throw new ArgumentException($"tensor '{name}': shape [{string.Join(", ", shape)}] has too many elements", nameof(shape))
                : elements * d;
        }
        return dtype.ByteCount(elements)
            ?? throw new ArgumentException($"tensor '{name}': {elements} elements of {dtype.ToSpecName()} do not fill a whole number of bytes", nameof(shape));
    }

    void Register(Item item)
    {
        _names.Add(item.Name);
        _items.Add(item);
    }

    static bool IsWellFormedUtf16(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
            else if (char.IsSurrogate(s[i])) return false;
        }
        return true;
    }

    /// <summary>One pending tensor and where its bytes come from.</summary>
    internal sealed record Item(string Name, SafetensorsDType DType, long[] Shape, long ByteLength,
        ReadOnlyMemory<byte>? Data, SafetensorsFill? Fill, Action<Stream>? Stream)
    {
        public unsafe void WriteTo(byte* destination)
        {
            if (Data is { } data)
            {
                data.Span.CopyTo(new Span<byte>(destination, data.Length));
            }
            else if (Fill is not null)
            {
                Fill(new Span<byte>(destination, checked((int)ByteLength)));
            }
            else
            {
                using var output = new TensorOutputStream(Name, destination, ByteLength);
                Stream!(output);
                if (output.Position != ByteLength)
                    throw new InvalidOperationException($"tensor '{Name}': the write callback wrote {output.Position} bytes, but its dtype and shape need {ByteLength}");
            }
        }
    }
}

/// <summary>
/// A forward-only stream over a tensor's slot in the output mapping; writing past the slot throws an
/// error naming the tensor rather than corrupting the next tensor.
/// </summary>
internal sealed unsafe class TensorOutputStream(string name, byte* destination, long length) : Stream
{
    long _position;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (buffer.Length > length - _position)
            throw new InvalidOperationException($"tensor '{name}': the write callback wrote more than the {length} bytes its dtype and shape need");
        buffer.CopyTo(new Span<byte>(destination + _position, buffer.Length));
        _position += buffer.Length;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void WriteByte(byte value) => Write([value]);
    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
