using System.Text.Json;

namespace Tunebook.Torch.Tests;

/// <summary>Tensor-level loading and saving (Safetensors.Load/Save, GetTensor, sharded saves) over libtorch.</summary>
public sealed class SafetensorsTensorTests : IDisposable
{
    readonly SafetensorsScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    static readonly ScalarType[] Supported =
    [
        ScalarType.Bool, ScalarType.UInt8, ScalarType.Int8, ScalarType.Int16, ScalarType.Int32, ScalarType.Int64,
        ScalarType.Float16, ScalarType.BFloat16, ScalarType.Float32, ScalarType.Float64,
    ];

    static Tensor Sample(ScalarType dtype, long[] shape) => dtype switch
    {
        ScalarType.Bool => torch.rand(shape).gt(0.5),
        ScalarType.UInt8 => torch.randint(0, 256, shape, dtype),
        ScalarType.Int8 => torch.randint(-128, 128, shape, dtype),
        ScalarType.Int16 or ScalarType.Int32 or ScalarType.Int64 => torch.randint(-30000, 30000, shape, dtype),
        _ => torch.randn(shape, dtype),
    };

    [Fact]
    public void Save_then_load_gives_identical_tensors_for_every_dtype()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(1);
        var tensors = new Dictionary<string, Tensor>();
        foreach (var dtype in Supported)
        {
            tensors[$"{dtype.Name()}.matrix"] = Sample(dtype, [3, 4]);
            tensors[$"{dtype.Name()}.scalar"] = Sample(dtype, []);
            tensors[$"{dtype.Name()}.empty"] = Sample(dtype, [0, 2]);
        }
        var path = _scratch.PathOf("tensors.safetensors");
        Safetensors.Save(path, tensors);

        var loaded = Safetensors.Load(path);
        Assert.Equal(tensors.Keys.Order(), loaded.Keys.Order());
        foreach (var (name, original) in tensors)
        {
            var back = loaded[name];
            Assert.Equal(original.dtype, back.dtype);
            Assert.Equal(original.shape, back.shape);
            Assert.Equal(original.ToBytes(), back.ToBytes());
            Assert.True(original.equal(back), name);
        }
        Assert.Equal("pt", Safetensors.LoadMetadata(path)["format"]);
        foreach (var t in loaded.Values) t.Dispose();
    }

    [Fact]
    public void Strided_views_are_saved_as_their_logical_row_major_values()
    {
        using var scope = torch.NewDisposeScope();
        var matrix = torch.arange(0, 12, 1, ScalarType.Float32).reshape(3, 4);
        var transposed = matrix.t();
        Assert.False(transposed.is_contiguous());
        var path = _scratch.PathOf("strided.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["t"] = transposed });

        using var file = SafetensorsFile.Open(path);
        Assert.Equal([4L, 3], file.GetEntry("t").Shape);
        Assert.Equal(transposed.contiguous().ToBytes(), file.GetBytes("t").ToArray());
        var first = BitConverter.ToSingle(file.GetBytes("t")[4..8]);
        Assert.Equal(4f, first);   // element [0, 1] of the transpose is matrix[1, 0]
    }

    [Fact]
    public void Lazy_reads_convert_dtype_on_request()
    {
        using var scope = torch.NewDisposeScope();
        var weights = torch.randn([4, 4]);
        var path = _scratch.PathOf("lazy.safetensors");
        Safetensors.Save(path, new Dictionary<string, Tensor> { ["w"] = weights, ["ids"] = torch.arange(5) });

        using var reader = CheckpointReader.Open(path);
        var asBf16 = reader.GetTensor("w", dtype: ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, asBf16.dtype);
        Assert.True(asBf16.equal(weights.to(ScalarType.BFloat16)));
        Assert.Equal(Device.CPU, reader.GetTensor("ids").device);
        var onlyIds = reader.LoadAll(include: name => name == "ids");
        Assert.Equal(["ids"], onlyIds.Keys);
        Assert.Equal(new long[] { 0, 1, 2, 3, 4 }, onlyIds["ids"].data<long>());
    }

    [Fact]
    public void Tensors_load_from_files_written_by_torch_with_the_values_torch_printed()
    {
        using var scope = torch.NewDisposeScope();
        SafetensorsReference.Run("write", _scratch.Folder);
        using var expected = JsonDocument.Parse(File.ReadAllText(_scratch.PathOf("expected.json")));
        using var reader = CheckpointReader.Open(_scratch.PathOf("reference.safetensors"));
        // Complex tensors have no Tunebook.Torch dtype; everything else must load with torch's values.
        var tensors = reader.LoadAll(include: name => reader.GetEntry(name).DType != SafetensorsDType.C64);
        Assert.Equal(reader.Entries.Count - 1, tensors.Count);
        foreach (var entry in expected.RootElement.GetProperty("tensors").EnumerateObject())
        {
            if (!tensors.TryGetValue(entry.Name, out var tensor)) continue;
            var values = entry.Value.GetProperty("values").EnumerateArray().Select(v => v.GetString()!).ToArray();
            var asDouble = tensor.to(ScalarType.Float64);
            var actual = asDouble.numel() == 0 ? [] : asDouble.reshape(-1).data<double>();
            Assert.Equal(values.Length, Math.Min(actual.Length, 64));
            for (var i = 0; i < values.Length; i++)
            {
                var want = values[i] switch { "True" => 1.0, "False" => 0.0, var s => double.Parse(s) };
                Assert.Equal(want, actual[i], 12);
            }
        }
    }

    [Fact]
    public void Unsupported_dtypes_fail_clearly_but_their_bytes_stay_readable()
    {
        var writer = new SafetensorsWriter();
        writer.Add("fp8", SafetensorsDType.F8E4M3, [4], new byte[] { 0x38, 0x40, 0x44, 0x48 });
        writer.Add("ok", SafetensorsDType.F32, [1], BitConverter.GetBytes(1.5f));
        var path = _scratch.PathOf("fp8.safetensors");
        writer.WriteFile(path);

        using var reader = CheckpointReader.Open(path);
        var error = Assert.Throws<NotSupportedException>(() => reader.GetTensor("fp8"));
        Assert.Contains("tensor 'fp8'", error.Message);
        Assert.Contains("F8_E4M3", error.Message);
        Assert.Contains(path, error.Message);
        Assert.Equal(new byte[] { 0x38, 0x40, 0x44, 0x48 }, reader.GetBytes("fp8").ToArray());
        using var ok = reader.GetTensor("ok");
        Assert.Equal(1.5f, ok.item<float>());
        Assert.Throws<NotSupportedException>(() => Safetensors.Load(path));
    }

    [Fact]
    public void Sharded_saves_of_tensors_load_back_through_the_folder()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var tensors = new Dictionary<string, Tensor>();
        for (var i = 0; i < 5; i++) tensors[$"model.layers.{i}.weight"] = torch.randn([8, 8], ScalarType.BFloat16);   // 128 bytes each
        var folder = _scratch.PathOf("sharded");
        var result = Safetensors.SaveSharded(folder, tensors, "300B", new Dictionary<string, string> { ["epoch"] = "2" });
        Assert.Equal(3, result.Files.Count);

        var loaded = Safetensors.Load(folder);
        foreach (var (name, tensor) in tensors) Assert.True(tensor.equal(loaded[name]), name);
        using var checkpoint = CheckpointReader.Open(folder);
        Assert.Equal("pt", checkpoint.Metadata["format"]);   // added: transformers requires it
        Assert.Equal("2", checkpoint.Metadata["epoch"]);
        foreach (var t in loaded.Values) t.Dispose();
    }
}
