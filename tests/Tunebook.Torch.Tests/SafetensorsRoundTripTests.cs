using System.Buffers.Binary;
using System.Text;

namespace Tunebook.Torch.Tests;

public sealed class SafetensorsRoundTripTests : IDisposable
{
    readonly SafetensorsScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    static byte[] RandomBytes(Random random, long count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    static long ElementCount(long[] shape) => shape.Aggregate(1L, (a, d) => a * d);

    [Fact]
    public void Every_dtype_round_trips_bytes_shape_and_dtype()
    {
        var random = new Random(7);
        var writer = new SafetensorsWriter(new Dictionary<string, string> { ["format"] = "pt" });
        var expected = new Dictionary<string, (SafetensorsDType, long[], byte[])>();
        foreach (var dtype in SafetensorsDTypes.All)
        {
            // Packed dtypes need a whole number of bytes: 4 elements of F4 or F6 do.
            long[] shape = dtype.BitsPerElement() % 8 == 0 ? [3, 5] : [2, 4];
            var bytes = RandomBytes(random, dtype.ByteCount(ElementCount(shape))!.Value);
            var name = "t." + dtype.ToSpecName();
            writer.Add(name, dtype, shape, bytes);
            expected[name] = (dtype, shape, bytes);
        }
        var path = _scratch.PathOf("all.safetensors");
        writer.WriteFile(path);

        using var file = SafetensorsFile.Open(path);
        Assert.Equal(expected.Count, file.Entries.Count);
        Assert.Equal("pt", file.Metadata["format"]);
        foreach (var (name, (dtype, shape, bytes)) in expected)
        {
            var entry = file.GetEntry(name);
            Assert.Equal(dtype, entry.DType);
            Assert.Equal(shape, entry.Shape);
            Assert.Equal(bytes, file.GetBytes(name).ToArray());
            using var stream = file.OpenRead(name);
            var copy = new MemoryStream();
            stream.CopyTo(copy);
            Assert.Equal(bytes, copy.ToArray());
        }
    }

    [Fact]
    public void Scalars_and_empty_tensors_round_trip()
    {
        var writer = new SafetensorsWriter();
        writer.Add("scalar", SafetensorsDType.F32, [], BitConverter.GetBytes(2.5f));
        writer.Add("empty", SafetensorsDType.BF16, [0, 4], Array.Empty<byte>());
        writer.Add("empty2", SafetensorsDType.I64, [3, 0], Array.Empty<byte>());
        var path = _scratch.PathOf("small.safetensors");
        writer.WriteFile(path);

        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.GetEntry("scalar").Shape);
        Assert.Equal(1, file.GetEntry("scalar").ElementCount);
        Assert.Equal(2.5f, BitConverter.ToSingle(file.GetBytes("scalar")));
        Assert.Equal([0L, 4], file.GetEntry("empty").Shape);
        Assert.Equal(0, file.GetBytes("empty").Length);
        Assert.Equal(0, file.GetBytes("empty2").Length);
        Assert.False(file.Header.HasMetadata);
    }

    [Fact]
    public void A_file_with_no_tensors_matches_the_reference_bytes()
    {
        // Expected bytes are the reference implementation's own test vectors (tensor.rs, test_empty).
        var path = _scratch.PathOf("empty.safetensors");
        new SafetensorsWriter().WriteFile(path);
        Assert.Equal(new byte[] { 8, 0, 0, 0, 0, 0, 0, 0, 123, 125, 32, 32, 32, 32, 32, 32 }, File.ReadAllBytes(path));

        new SafetensorsWriter(new Dictionary<string, string> { ["framework"] = "pt" }).WriteFile(path);
        var expected = new byte[] { 40, 0, 0, 0, 0, 0, 0, 0 }.Concat(Encoding.ASCII.GetBytes("{\"__metadata__\":{\"framework\":\"pt\"}}     ")).ToArray();
        Assert.Equal(expected, File.ReadAllBytes(path));
        using var file = SafetensorsFile.Open(path);
        Assert.Empty(file.Entries);
        Assert.Equal("pt", file.Metadata["framework"]);
    }

    [Fact]
    public void Serialization_matches_the_reference_test_vector()
    {
        // tensor.rs test_serialization: "attn.0" F32 [1, 2, 3] holding 0..5.
        var data = new float[] { 0, 1, 2, 3, 4, 5 }.SelectMany(BitConverter.GetBytes).ToArray();
        var writer = new SafetensorsWriter();
        writer.Add("attn.0", SafetensorsDType.F32, [1, 2, 3], data);
        var path = _scratch.PathOf("vector.safetensors");
        writer.WriteFile(path);
        var expected = new byte[]
        {
            64, 0, 0, 0, 0, 0, 0, 0, 123, 34, 97, 116, 116, 110, 46, 48, 34, 58, 123, 34, 100,
            116, 121, 112, 101, 34, 58, 34, 70, 51, 50, 34, 44, 34, 115, 104, 97, 112, 101, 34,
            58, 91, 49, 44, 50, 44, 51, 93, 44, 34, 100, 97, 116, 97, 95, 111, 102, 102, 115,
            101, 116, 115, 34, 58, 91, 48, 44, 50, 52, 93, 125, 125, 0, 0, 0, 0, 0, 0, 128, 63,
            0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64, 0, 0, 160, 64,
        };
        Assert.Equal(expected, File.ReadAllBytes(path));
    }

    [Fact]
    public void Layout_sorts_by_descending_alignment_then_name_and_aligns_every_tensor()
    {
        var writer = new SafetensorsWriter();
        writer.Add("b", SafetensorsDType.U8, [3], new byte[3]);
        writer.Add("a", SafetensorsDType.F16, [1], new byte[2]);
        writer.Add("z", SafetensorsDType.F64, [1], new byte[8]);
        writer.Add("c", SafetensorsDType.F32, [1], new byte[4]);
        writer.Add("a2", SafetensorsDType.F64, [2], new byte[16]);
        Assert.Equal(["a2", "z", "c", "a", "b"], writer.Layout().Select(e => e.Name));

        var path = _scratch.PathOf("order.safetensors");
        writer.WriteFile(path);
        var headerLength = BinaryPrimitives.ReadInt64LittleEndian(File.ReadAllBytes(path).AsSpan(0, 8));
        Assert.Equal(0, headerLength % 8);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["a2", "z", "c", "a", "b"], file.Entries.Select(e => e.Name));
        foreach (var entry in file.Entries)
        {
            var size = Math.Max(1, entry.DType.BitsPerElement() / 8);
            Assert.Equal(0, (8 + headerLength + entry.DataBegin) % size);
            Assert.Equal(0, file.GetDataAddress(entry.Name) % size);
        }
    }

    [Fact]
    public void Fill_and_stream_callbacks_write_in_place()
    {
        var writer = new SafetensorsWriter();
        writer.Add("filled", SafetensorsDType.I32, [4], span =>
        {
            for (var i = 0; i < 4; i++) BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], i * 10);
        });
        writer.AddStreamed("streamed", SafetensorsDType.U8, [5], stream => stream.Write([1, 2, 3, 4, 5]));
        var path = _scratch.PathOf("callbacks.safetensors");
        writer.WriteFile(path);

        using var file = SafetensorsFile.Open(path);
        var filled = file.GetBytes("filled").ToArray();
        Assert.Equal([0, 10, 20, 30], Enumerable.Range(0, 4).Select(i => BinaryPrimitives.ReadInt32LittleEndian(filled.AsSpan(i * 4))));
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5 }, file.GetBytes("streamed").ToArray());
    }

    [Fact]
    public void Copying_a_reader_reproduces_the_file_byte_for_byte()
    {
        var random = new Random(3);
        var writer = new SafetensorsWriter(new Dictionary<string, string> { ["k"] = "v" });
        writer.Add("x", SafetensorsDType.BF16, [2, 3], RandomBytes(random, 12));
        writer.Add("y", SafetensorsDType.I64, [2], RandomBytes(random, 16));
        var first = _scratch.PathOf("first.safetensors");
        writer.WriteFile(first);

        var second = _scratch.PathOf("second.safetensors");
        using (var source = SafetensorsFile.Open(first))
        {
            var copy = new SafetensorsWriter(source.Metadata);
            copy.AddAll(source);
            copy.WriteFile(second);
        }
        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
    }

    [Fact]
    public void Writer_rejects_inconsistent_tensors_with_the_tensor_name()
    {
        var writer = new SafetensorsWriter();
        Assert.Contains("'w'", Assert.Throws<ArgumentException>(() => writer.Add("w", SafetensorsDType.F32, [2, 2], new byte[15])).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => writer.Add("n", SafetensorsDType.F32, [-1], new byte[0])).Message);
        Assert.Contains("too many", Assert.Throws<ArgumentException>(() => writer.Add("big", SafetensorsDType.F32, [long.MaxValue, 4], new byte[0])).Message);
        Assert.Contains("whole number of bytes", Assert.Throws<ArgumentException>(() => writer.Add("f4", SafetensorsDType.F4, [3], new byte[1])).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => writer.Add("__metadata__", SafetensorsDType.U8, [0], new byte[0])).Message);
        Assert.Contains("surrogate", Assert.Throws<ArgumentException>(() => writer.Add("bad\ud800", SafetensorsDType.U8, [0], new byte[0])).Message);
        writer.Add("ok", SafetensorsDType.U8, [1], new byte[1]);
        Assert.Contains("already", Assert.Throws<ArgumentException>(() => writer.Add("ok", SafetensorsDType.U8, [1], new byte[1])).Message);
    }

    [Fact]
    public void A_throwing_callback_leaves_no_partial_file_and_keeps_the_previous_version()
    {
        var path = _scratch.PathOf("model.safetensors");
        var good = new SafetensorsWriter();
        good.Add("w", SafetensorsDType.U8, [2], new byte[] { 9, 9 });
        good.WriteFile(path);
        var before = File.ReadAllBytes(path);

        var bad = new SafetensorsWriter();
        bad.Add("a", SafetensorsDType.U8, [4], new byte[4]);
        bad.Add("b", SafetensorsDType.U8, [4], _ => throw new InvalidOperationException("device lost mid-save"));
        var error = Assert.Throws<InvalidOperationException>(() => bad.WriteFile(path));
        Assert.Equal("device lost mid-save", error.Message);

        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["model.safetensors"], Directory.EnumerateFiles(_scratch.Folder).Select(Path.GetFileName));

        // A new destination is not created at all.
        Assert.Throws<InvalidOperationException>(() => bad.WriteFile(_scratch.PathOf("new.safetensors")));
        Assert.False(File.Exists(_scratch.PathOf("new.safetensors")));
        Assert.Single(Directory.EnumerateFiles(_scratch.Folder));
    }

    [Fact]
    public void A_stream_callback_must_write_exactly_the_declared_bytes()
    {
        var shortWriter = new SafetensorsWriter();
        shortWriter.AddStreamed("s", SafetensorsDType.F32, [2], stream => stream.Write(new byte[7]));
        Assert.Contains("wrote 7 bytes", Assert.Throws<InvalidOperationException>(() => shortWriter.WriteFile(_scratch.PathOf("s.safetensors"))).Message);

        var longWriter = new SafetensorsWriter();
        longWriter.AddStreamed("l", SafetensorsDType.F32, [2], stream => stream.Write(new byte[9]));
        Assert.Contains("'l'", Assert.ThrowsAny<Exception>(() => longWriter.WriteFile(_scratch.PathOf("l.safetensors"))).Message);
        Assert.Empty(Directory.EnumerateFiles(_scratch.Folder));
    }

    [Fact]
    public void Random_tensor_sets_round_trip_exactly()
    {
        // Property: for random names, dtypes, shapes (including zeros and scalars), metadata and bytes,
        // write then read gives back the same tensors; and rewriting what was read gives the same file.
        var random = new Random(20240611);
        for (var trial = 0; trial < 60; trial++)
        {
            var writer = new SafetensorsWriter(random.Next(2) == 0 ? null : new Dictionary<string, string> { ["trial"] = trial.ToString(), ["é\n\"x"] = "y\\" });
            var expected = new Dictionary<string, (SafetensorsDType, long[], byte[])>();
            var count = random.Next(0, 9);
            for (var i = 0; i < count; i++)
            {
                var dtype = SafetensorsDTypes.All[random.Next(SafetensorsDTypes.All.Count)];
                long[] shape = Enumerable.Range(0, random.Next(0, 4)).Select(_ => (long)random.Next(0, 5)).ToArray();
                if (dtype.ByteCount(ElementCount(shape)) is null) shape = [.. shape, 8];
                var bytes = RandomBytes(random, dtype.ByteCount(ElementCount(shape))!.Value);
                var name = $"n{random.Next(1000)}.{(char)('a' + random.Next(26))}{(random.Next(5) == 0 ? "ü😀" : "")}{i}";
                writer.Add(name, dtype, shape, bytes);
                expected[name] = (dtype, shape, bytes);
            }
            var path = _scratch.PathOf($"p{trial}.safetensors");
            writer.WriteFile(path);
            using var file = SafetensorsFile.Open(path);
            Assert.Equal(expected.Keys.Order(), file.Entries.Select(e => e.Name).Order());
            foreach (var (name, (dtype, shape, bytes)) in expected)
            {
                Assert.Equal(dtype, file.GetEntry(name).DType);
                Assert.Equal(shape, file.GetEntry(name).Shape);
                Assert.True(file.GetBytes(name).SequenceEqual(bytes), $"trial {trial}: bytes of {name}");
            }
            var again = new SafetensorsWriter(file.Header.HasMetadata ? file.Metadata : null);
            again.AddAll(file);
            var copy = _scratch.PathOf($"p{trial}-copy.safetensors");
            again.WriteFile(copy);
            Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(copy));
        }
    }
}
