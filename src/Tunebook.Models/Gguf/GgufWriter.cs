using System.Buffers.Binary;
using System.Text;
using Tunebook.Torch;

namespace Tunebook.Models.Gguf;

/// <summary>
/// Writes a GGUF v3 file (the container llama.cpp, Ollama and LM Studio load): the header, typed
/// metadata key/value pairs, the tensor directory and the tensor data, each tensor aligned to
/// <see cref="Alignment"/> bytes. Layout per the GGUF specification (ggml docs/gguf.md): every integer
/// little-endian, strings as a uint64 byte count plus UTF-8 bytes, tensor dimensions innermost first.
/// Tensors are produced one at a time while writing, so a model is never held twice in memory;
/// the file appears under its name only when complete (temp file, then rename).
/// </summary>
public sealed class GgufWriter
{
    /// <summary>Byte alignment of the tensor data (GGUF's default, general.alignment).</summary>
    public const int Alignment = 32;

    enum ValueType : uint { UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7, String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12 }

    readonly List<(string Key, ValueType Type, object Value)> metadata = [];
    readonly List<TensorEntry> tensors = [];
    readonly HashSet<string> keys = new(StringComparer.Ordinal);

    /// <summary>A tensor to write: its shape as PyTorch gives it (outermost first), encoding, and a producer of its values.</summary>
    sealed record TensorEntry(string Name, long[] Shape, GgmlType Type, Func<Tensor> Produce)
    {
        public long Count => Shape.Aggregate(1L, (a, b) => a * b);
        public long Bytes => Type.ByteCount(Count);
    }

    /// <summary>Metadata keys in insertion order.</summary>
    public IEnumerable<string> Keys => metadata.Select(m => m.Key);

    /// <summary>Tensor names, encodings and PyTorch shapes in insertion order.</summary>
    public IEnumerable<(string Name, GgmlType Type, long[] Shape)> Tensors => tensors.Select(t => (t.Name, t.Type, t.Shape));

    public void Add(string key, string value) => AddValue(key, ValueType.String, value);
    public void Add(string key, uint value) => AddValue(key, ValueType.UInt32, value);
    public void Add(string key, int value) => AddValue(key, ValueType.Int32, value);
    public void Add(string key, float value) => AddValue(key, ValueType.Float32, value);
    public void Add(string key, bool value) => AddValue(key, ValueType.Bool, value);
    public void Add(string key, IReadOnlyList<string> values) => AddValue(key, ValueType.Array, (ValueType.String, (System.Collections.IList)values.ToList()));
    public void Add(string key, IReadOnlyList<float> values) => AddValue(key, ValueType.Array, (ValueType.Float32, (System.Collections.IList)values.ToList()));
    public void Add(string key, IReadOnlyList<int> values) => AddValue(key, ValueType.Array, (ValueType.Int32, (System.Collections.IList)values.ToList()));

    void AddValue(string key, ValueType type, object value)
    {
        if (!keys.Add(key)) throw new ArgumentException($"GGUF metadata key '{key}' is set twice");
        metadata.Add((key, type, value));
    }

    /// <summary>
    /// Adds a tensor. <paramref name="shape"/> is the PyTorch shape ([out, in] for a linear weight);
    /// GGUF stores it reversed. <paramref name="produce"/> is called once while writing and may return
    /// any dtype: values are converted to float32 and then encoded as <paramref name="type"/>, whose
    /// block size must divide the innermost dimension.
    /// </summary>
    public void AddTensor(string name, long[] shape, GgmlType type, Func<Tensor> produce)
    {
        if (tensors.Any(t => t.Name == name)) throw new ArgumentException($"GGUF tensor '{name}' is added twice");
        if (Encoding.UTF8.GetByteCount(name) >= 64) throw new ArgumentException($"GGUF tensor name '{name}' is longer than ggml's 63 bytes");
        if (shape.Length is 0 or > 4) throw new ArgumentException($"GGUF tensor '{name}': ggml tensors have 1 to 4 dimensions, got {shape.Length}");
        if (shape[^1] % type.BlockSize() != 0)
            throw new ArgumentException($"GGUF tensor '{name}': {type} encodes rows in blocks of {type.BlockSize()} values, but a row has {shape[^1]}");
        tensors.Add(new TensorEntry(name, (long[])shape.Clone(), type, produce));
    }

    /// <summary>Bytes of tensor data (after alignment padding) the file will hold.</summary>
    public long TensorDataBytes => tensors.Sum(t => Align(t.Bytes));

    /// <summary>Writes the file (temp file, then rename); returns its size in bytes.</summary>
    public long Write(string path)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        var temp = Tunebook.IO.AtomicFile.TempPathFor(path);
        try
        {
            long size;
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                WriteTo(stream);
                size = stream.Length;
                stream.Flush(flushToDisk: true);
            }
            Tunebook.IO.AtomicFile.Commit(temp, path);
            return size;
        }
        catch
        {
            Tunebook.IO.AtomicFile.TryDelete(temp);
            throw;
        }
    }

    /// <summary>Writes the whole file to a stream.</summary>
    public void WriteTo(Stream stream)
    {
        var header = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        header.Write("GGUF"u8);
        header.Write(3u);
        header.Write((ulong)tensors.Count);
        header.Write((ulong)metadata.Count);
        foreach (var (key, type, value) in metadata)
        {
            WriteString(header, key);
            header.Write((uint)type);
            WriteValue(header, type, value);
        }
        long offset = 0;
        foreach (var t in tensors)
        {
            WriteString(header, t.Name);
            header.Write((uint)t.Shape.Length);
            for (int d = t.Shape.Length - 1; d >= 0; d--) header.Write((ulong)t.Shape[d]);
            header.Write((uint)t.Type);
            header.Write((ulong)offset);
            offset += Align(t.Bytes);
        }
        header.Flush();
        Pad(stream);

        // One float buffer and one byte buffer, sized for the largest tensor, serve every tensor: a fresh
        // array per tensor meant zeroing (and collecting) hundreds of megabytes of large-object heap.
        long maxCount = tensors.Count == 0 ? 0 : tensors.Max(t => t.Count);
        long maxBytes = tensors.Count == 0 ? 0 : tensors.Max(t => t.Bytes);
        var floats = GC.AllocateUninitializedArray<float>(checked((int)maxCount));
        var buffer = GC.AllocateUninitializedArray<byte>(checked((int)maxBytes));
        foreach (var t in tensors)
        {
            var bytes = buffer.AsSpan(0, (int)t.Bytes);
            using (var scope = torch.NewDisposeScope())
            {
                var tensor = t.Produce();
                if (tensor.numel() != t.Count)
                    throw new InvalidOperationException($"GGUF tensor '{t.Name}': expected {t.Count} values for shape [{string.Join(", ", t.Shape)}], the producer gave {tensor.numel()}");
                var values = tensor.to(ScalarType.Float32).cpu().contiguous();
                if (t.Type is GgmlType.F16 or GgmlType.BF16)
                {
                    // libtorch's vectorised conversion rounds to nearest even exactly as GgufQuantization.ToFloat16/ToBFloat16
                    // (checked value by value in the tests), from float32 values like the other encodings.
                    values.to(t.Type == GgmlType.F16 ? ScalarType.Float16 : ScalarType.BFloat16).contiguous().CopyToBytes(bytes);
                }
                else
                {
                    var span = floats.AsSpan(0, (int)t.Count);
                    values.CopyTo<float>(span);
                    GgufQuantization.Encode(t.Type, span, bytes);
                }
            }
            stream.Write(bytes);
            Pad(stream);
        }
    }

    static long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;

    static void Pad(Stream stream)
    {
        long padding = Align(stream.Position) - stream.Position;
        if (padding > 0) stream.Write(new byte[padding]);
    }

    static void WriteString(BinaryWriter w, string s)
    {
        var bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    static void WriteValue(BinaryWriter w, ValueType type, object value)
    {
        switch (type)
        {
            case ValueType.String: WriteString(w, (string)value); break;
            case ValueType.UInt32: w.Write((uint)value); break;
            case ValueType.Int32: w.Write((int)value); break;
            case ValueType.Float32: w.Write((float)value); break;
            case ValueType.Bool: w.Write((byte)((bool)value ? 1 : 0)); break;
            case ValueType.Array:
                var (elementType, items) = ((ValueType, System.Collections.IList))value;
                w.Write((uint)elementType);
                w.Write((ulong)items.Count);
                foreach (var item in items) WriteValue(w, elementType, item!);
                break;
            default: throw new ArgumentOutOfRangeException(nameof(type), type, null);
        }
    }
}
