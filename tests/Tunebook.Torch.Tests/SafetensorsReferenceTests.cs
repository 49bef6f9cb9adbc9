using System.Text.Json;

namespace Tunebook.Torch.Tests;

/// <summary>
/// Parity with an independent implementation of the format (reference/safetensors_reference.py) whose
/// tensor bytes come from torch: files it writes read correctly here, files written here read correctly
/// there, and both lay files out identically.
/// </summary>
public sealed class SafetensorsReferenceTests(SafetensorsReferenceFiles reference) : IDisposable, IClassFixture<SafetensorsReferenceFiles>
{
    readonly SafetensorsScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    static byte[] Hex(JsonElement tensor) => Convert.FromHexString(tensor.GetProperty("hex").GetString()!);

    static long[] Shape(JsonElement tensor) => tensor.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();

    [Fact]
    public void Files_written_by_the_reference_read_back_every_tensor()
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(reference.PathOf("expected.json")));
        var tensors = expected.RootElement.GetProperty("tensors");
        var path = reference.PathOf("reference.safetensors");

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(tensors.EnumerateObject().Count(), file.Entries.Count);
        foreach (var tensor in tensors.EnumerateObject())
        {
            var entry = file.GetEntry(tensor.Name);
            Assert.Equal(tensor.Value.GetProperty("dtype").GetString(), entry.DType.ToSpecName());
            Assert.Equal(Shape(tensor.Value), entry.Shape);
            Assert.Equal(Hex(tensor.Value), file.GetBytes(tensor.Name).ToArray());
        }
        foreach (var item in expected.RootElement.GetProperty("metadata").EnumerateObject())
            Assert.Equal(item.Value.GetString(), file.Metadata[item.Name]);

        // Values decode as torch produced them (bytes are little-endian, row-major).
        var i64 = file.GetBytes("i64.positions");
        Assert.Equal(-3L << 40, BitConverter.ToInt64(i64[..8]));
        Assert.Equal(3.25f, BitConverter.ToSingle(file.GetBytes("scalar.f32")));
        var f32Values = tensors.GetProperty("f32.weight").GetProperty("values").EnumerateArray().Select(v => float.Parse(v.GetString()!)).ToArray();
        var f32 = file.GetBytes("f32.weight");
        for (var i = 0; i < f32Values.Length; i++) Assert.Equal(f32Values[i], BitConverter.ToSingle(f32[(i * 4)..]), 6);

        // Rewriting what we read gives the reference's file byte for byte: same order, header and padding.
        var copy = new SafetensorsWriter(file.Metadata);
        copy.AddAll(file);
        var rewritten = _scratch.PathOf("rewritten.safetensors");
        copy.WriteFile(rewritten);
        Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(rewritten));
    }

    [Fact]
    public void Files_written_here_pass_the_reference_validation_and_load_in_torch()
    {
        var random = new Random(5);
        var writer = new SafetensorsWriter(new Dictionary<string, string> { ["format"] = "pt", ["ünïcode"] = "välue\n" });
        var expected = new Dictionary<string, byte[]>();
        void Add(string name, SafetensorsDType dtype, long[] shape)
        {
            var bytes = new byte[dtype.ByteCount(shape.Aggregate(1L, (a, d) => a * d))!.Value];
            random.NextBytes(bytes);
            // Keep values torch can round-trip exactly: booleans are 0/1, floats avoid NaN payloads.
            if (dtype == SafetensorsDType.Bool) for (var i = 0; i < bytes.Length; i++) bytes[i] &= 1;
            if (dtype is SafetensorsDType.F16 or SafetensorsDType.BF16 or SafetensorsDType.F32 or SafetensorsDType.F64 or SafetensorsDType.C64)
            {
                var step = dtype switch { SafetensorsDType.F64 => 8, SafetensorsDType.F32 or SafetensorsDType.C64 => 4, _ => 2 };
                for (var i = step - 1; i < bytes.Length; i += step) bytes[i] &= 0x3F;
            }
            writer.Add(name, dtype, shape, bytes);
            expected[name] = bytes;
        }
        Add("model.embed_tokens.weight", SafetensorsDType.BF16, [5, 4]);
        Add("lm_head.weight", SafetensorsDType.F16, [4, 5]);
        Add("norm.weight", SafetensorsDType.F32, [4]);
        Add("scale", SafetensorsDType.F64, []);
        Add("z", SafetensorsDType.C64, [2]);
        Add("ids", SafetensorsDType.I64, [3]);
        Add("i32", SafetensorsDType.I32, [2, 2]);
        Add("i16", SafetensorsDType.I16, [3]);
        Add("i8", SafetensorsDType.I8, [5]);
        Add("u8", SafetensorsDType.U8, [1, 1, 3]);
        Add("mask", SafetensorsDType.Bool, [7]);
        Add("empty", SafetensorsDType.F32, [0]);
        Add("名前.with\"quote", SafetensorsDType.F32, [1]);
        // UTF-16 order puts the emoji (a surrogate pair) before U+FF21; UTF-8 byte order, the reference's, after.
        Add("\uFF21.fullwidth", SafetensorsDType.F32, [1]);
        Add("😀.emoji", SafetensorsDType.F32, [1]);
        Add("tab\tnewline\n\u0001", SafetensorsDType.F32, [1]);
        var path = _scratch.PathOf("ours.safetensors");
        writer.WriteFile(path);

        using var result = JsonDocument.Parse(SafetensorsReference.Run("read", path));
        Assert.True(result.RootElement.GetProperty("canonical").GetBoolean(), "the reference serializer lays the same tensors out differently");
        Assert.Equal("välue\n", result.RootElement.GetProperty("metadata").GetProperty("ünïcode").GetString());
        var tensors = result.RootElement.GetProperty("tensors");
        Assert.Equal(expected.Count, tensors.EnumerateObject().Count());
        foreach (var (name, bytes) in expected)
            Assert.Equal(bytes, Hex(tensors.GetProperty(name)));
    }

    [Fact]
    public void Sharded_checkpoints_written_by_the_reference_open_as_one()
    {
        using var expected = JsonDocument.Parse(File.ReadAllText(reference.PathOf("expected.json")));
        var sharded = expected.RootElement.GetProperty("sharded");

        using var checkpoint = (ShardedCheckpoint)CheckpointReader.Open(reference.PathOf("sharded"));
        Assert.Equal(sharded.GetProperty("counts").GetArrayLength(), checkpoint.Shards.Count);
        Assert.Equal(checkpoint.TotalSize, checkpoint.DeclaredTotalSize);
        foreach (var tensor in sharded.GetProperty("tensors").EnumerateObject())
        {
            Assert.Equal(Shape(tensor.Value), checkpoint.GetEntry(tensor.Name).Shape);
            Assert.Equal(Hex(tensor.Value), checkpoint.GetBytes(tensor.Name).ToArray());
        }

        // Our writer splits the same tensors, added in the same order, at the same limit into the same shards.
        var writer = new SafetensorsWriter(checkpoint.Metadata);
        foreach (var tensor in sharded.GetProperty("tensors").EnumerateObject())
            writer.Add(tensor.Name, SafetensorsDType.F32, Shape(tensor.Value), Hex(tensor.Value));
        var ours = Path.Combine(_scratch.Folder, "ours");
        var written = writer.WriteSharded(ours, "200");
        foreach (var file in Directory.EnumerateFiles(reference.PathOf("sharded")))
            Assert.Equal(File.ReadAllBytes(file), File.ReadAllBytes(Path.Combine(ours, Path.GetFileName(file))));
        Assert.Equal(Directory.GetFiles(ours).Length, written.Files.Count + 1);
    }

    [Fact]
    public void Sharded_checkpoints_written_here_load_with_the_reference()
    {
        var random = new Random(9);
        var writer = new SafetensorsWriter(new Dictionary<string, string> { ["format"] = "pt" });
        var expected = new Dictionary<string, byte[]>();
        for (var layer = 0; layer < 5; layer++)
        {
            var bytes = new byte[64 * (layer + 1)];
            random.NextBytes(bytes);
            writer.Add($"layers.{layer}.weight", SafetensorsDType.I32, [16, layer + 1], bytes);
            expected[$"layers.{layer}.weight"] = bytes;
        }
        var result = writer.WriteSharded(_scratch.Folder, "300B");
        Assert.NotNull(result.IndexPath);

        using var reference = JsonDocument.Parse(SafetensorsReference.Run("read-sharded", result.IndexPath));
        Assert.Equal(result.Files.Count, reference.RootElement.GetProperty("files").GetArrayLength());
        Assert.Equal(expected.Values.Sum(b => b.Length), reference.RootElement.GetProperty("total_size").GetInt64());
        foreach (var (name, bytes) in expected)
            Assert.Equal(bytes, Hex(reference.RootElement.GetProperty("tensors").GetProperty(name)));
    }
}

/// <summary>The files the reference script writes, generated once for all tests of the class.</summary>
public sealed class SafetensorsReferenceFiles : IDisposable
{
    readonly SafetensorsScratch _scratch = new();

    public SafetensorsReferenceFiles() => SafetensorsReference.Run("write", _scratch.Folder);

    public string PathOf(string name) => _scratch.PathOf(name);

    public void Dispose() => _scratch.Dispose();
}
