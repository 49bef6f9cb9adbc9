using Tunebook.Models.Gguf;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>A GGUF reader written from the specification, for checking what the writer (or llama.cpp's quantizer) wrote.</summary>
sealed class GgufFile
{
    public Dictionary<string, object> Metadata { get; } = new();
    public List<(string Name, long[] Dims, uint Type, ulong Offset)> Tensors { get; } = new();
    public long DataStart { get; }
    readonly byte[] bytes;

    public GgufFile(string path)
    {
        bytes = File.ReadAllBytes(path);
        using var r = new BinaryReader(new MemoryStream(bytes));
        Assert.Equal("GGUF", System.Text.Encoding.ASCII.GetString(r.ReadBytes(4)));
        Assert.Equal(3u, r.ReadUInt32());
        ulong tensors = r.ReadUInt64(), kvs = r.ReadUInt64();
        for (ulong i = 0; i < kvs; i++) { var key = Str(r); Metadata[key] = Value(r, r.ReadUInt32()); }
        for (ulong i = 0; i < tensors; i++)
        {
            var name = Str(r);
            var dims = new long[r.ReadUInt32()];
            for (int d = 0; d < dims.Length; d++) dims[d] = (long)r.ReadUInt64();
            Tensors.Add((name, dims, r.ReadUInt32(), r.ReadUInt64()));
        }
        long alignment = Metadata.TryGetValue("general.alignment", out var a) ? Convert.ToInt64(a) : 32;
        DataStart = (r.BaseStream.Position + alignment - 1) / alignment * alignment;
    }

    static string Str(BinaryReader r) => System.Text.Encoding.UTF8.GetString(r.ReadBytes((int)r.ReadUInt64()));

    static object Value(BinaryReader r, uint type) => type switch
    {
        0 => r.ReadByte(), 1 => r.ReadSByte(), 2 => r.ReadUInt16(), 3 => r.ReadInt16(),
        4 => r.ReadUInt32(), 5 => r.ReadInt32(), 6 => r.ReadSingle(), 7 => r.ReadByte() != 0, 8 => Str(r),
        9 => ReadArray(r), 10 => r.ReadUInt64(), 11 => r.ReadInt64(), 12 => r.ReadDouble(),
        _ => throw new InvalidDataException($"value type {type}"),
    };

    static object ReadArray(BinaryReader r)
    {
        uint type = r.ReadUInt32();
        ulong n = r.ReadUInt64();
        var list = new List<object>();
        for (ulong i = 0; i < n; i++) list.Add(Value(r, type));
        return list;
    }

    public ReadOnlySpan<byte> Data(string name, long length)
    {
        var t = Tensors.Single(x => x.Name == name);
        return bytes.AsSpan((int)(DataStart + (long)t.Offset), (int)length);
    }

    /// <summary>A tensor's encoding and its bytes (the size its type and dimensions give).</summary>
    public (GgmlType Type, byte[] Bytes) Tensor(string name)
    {
        var t = Tensors.Single(x => x.Name == name);
        var type = (GgmlType)t.Type;
        return (type, Data(name, type.ByteCount(t.Dims.Aggregate(1L, (a, b) => a * b))).ToArray());
    }
}
