using System.Text;

namespace Tunebook.Torch.Tests;

/// <summary>Malformed files: each must fail with a <see cref="SafetensorsFormatException"/> naming the file and, where one is involved, the tensor.</summary>
public sealed class SafetensorsValidationTests : IDisposable
{
    readonly SafetensorsScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    SafetensorsFormatException Rejects(string path, string? tensor, string fragment)
    {
        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path).Dispose());
        Assert.Equal(Path.GetFullPath(path), error.FilePath);
        Assert.Contains(Path.GetFullPath(path), error.Message);
        Assert.Equal(tensor, error.TensorName);
        if (tensor is not null) Assert.Contains($"tensor '{tensor}'", error.Message);
        Assert.Contains(fragment, error.Message);
        return error;
    }

    string Valid()
    {
        var writer = new SafetensorsWriter();
        writer.Add("a", SafetensorsDType.F32, [2, 2], new byte[16]);
        writer.Add("b", SafetensorsDType.I64, [1], new byte[8]);
        var path = _scratch.PathOf("valid.safetensors");
        writer.WriteFile(path);
        return path;
    }

    [Fact]
    public void Empty_and_tiny_files_are_rejected()
    {
        var empty = _scratch.PathOf("empty.safetensors");
        File.WriteAllBytes(empty, []);
        Rejects(empty, null, "shorter than the 8-byte");
        var tiny = _scratch.PathOf("tiny.safetensors");
        File.WriteAllBytes(tiny, [1, 2, 3]);
        Rejects(tiny, null, "shorter than the 8-byte");
    }

    [Fact]
    public void Truncated_file_names_the_tensor_whose_bytes_are_missing()
    {
        var bytes = File.ReadAllBytes(Valid());
        var truncated = _scratch.PathOf("truncated.safetensors");
        File.WriteAllBytes(truncated, bytes[..^4]);
        // The layout is b (I64) then a (F32): a's range now runs past the end.
        Rejects(truncated, "a", "reach past the end");

        var cutInHeader = _scratch.PathOf("cut-header.safetensors");
        File.WriteAllBytes(cutInHeader, bytes[..20]);
        Rejects(cutInHeader, null, "truncated file");
    }

    [Fact]
    public void Header_length_beyond_the_file_or_the_limit_is_rejected()
    {
        Rejects(_scratch.WriteRaw("long.safetensors", 1000, Encoding.UTF8.GetBytes("{}"), []), null, "only 2 bytes follow");
        Rejects(_scratch.WriteRaw("huge.safetensors", 100_000_001, Encoding.UTF8.GetBytes("{}"), []), null, "more than the 100000000-byte limit");
        Rejects(_scratch.WriteRaw("max.safetensors", ulong.MaxValue, Encoding.UTF8.GetBytes("{}"), []), null, "limit");

        // A caller can lower the limit for files from untrusted sources.
        var path = Valid();
        var error = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path, maxHeaderBytes: 16));
        Assert.Contains("16-byte limit", error.Message);
    }

    [Theory]
    [InlineData("{\"a\":", "not valid JSON")]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("\"text\"", "must be a JSON object")]
    [InlineData("", "not valid JSON")]
    public void Invalid_json_is_rejected(string header, string fragment) =>
        Rejects(_scratch.WriteRaw("bad.safetensors", header, []), null, fragment);

    [Fact]
    public void Invalid_utf8_is_rejected() =>
        Rejects(_scratch.WriteRaw("utf8.safetensors", 4, [(byte)'{', 0xC3, 0x28, (byte)'}'], []), null, "not valid UTF-8");

    [Fact]
    public void Unknown_dtype_names_the_tensor_and_lists_the_known_ones()
    {
        var error = Rejects(_scratch.WriteRaw("dtype.safetensors", "{\"w\":{\"dtype\":\"float32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "w", "unknown dtype 'float32'");
        Assert.Contains("BF16", error.Message);
        Rejects(_scratch.WriteRaw("lower.safetensors", "{\"w\":{\"dtype\":\"f32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4]), "w", "unknown dtype");
    }

    [Theory]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,12]}}", 12, "span 12 bytes but F32 shape [2] needs 8")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4, "needs 8")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, "reach past the end of the 4-byte data section")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, "end before they begin")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0]}}", 8, "[begin, end]")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}}", 8, "cannot be negative")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,18446744073709551615]}}", 8, "not an integer in [0, 2^63)")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8, "\"shape\"[0] is -2")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}}", 8, "not an integer")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}}", 8, "must be a non-negative integer")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,8]}}", 8, "more elements than a 64-bit count")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2305843009213693952],\"data_offsets\":[0,8]}}", 8, "size overflows")]
    [InlineData("{\"w\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2, "do not fill a whole number of bytes")]
    [InlineData("{\"w\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "missing \"dtype\"")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", 8, "missing \"shape\"")]
    [InlineData("{\"w\":{\"dtype\":\"F32\",\"shape\":[2]}}", 8, "missing \"data_offsets\"")]
    [InlineData("{\"w\":[1,2]}", 8, "expected an object")]
    public void Bad_tensor_entries_name_the_tensor(string header, int dataLength, string fragment) =>
        Rejects(_scratch.WriteRaw("entry.safetensors", header, new byte[dataLength]), "w", fragment);

    [Fact]
    public void Overlapping_offsets_name_both_tensors()
    {
        var error = Rejects(_scratch.WriteRaw("overlap.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", new byte[12]),
            "b", "overlap tensor 'a'");
        Assert.Contains("[0, 8]", error.Message);

        // Two tensors sharing the same bytes are an overlap too (the format has no aliasing).
        Rejects(_scratch.WriteRaw("alias.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", new byte[8]),
            "b", "overlap tensor 'a'");
    }

    [Fact]
    public void Gaps_and_trailing_bytes_are_rejected()
    {
        Rejects(_scratch.WriteRaw("gap.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]),
            "b", "leave bytes [4, 8) of the data section unused");
        Rejects(_scratch.WriteRaw("trailing.safetensors",
            "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[6]),
            null, "2 trailing bytes");
    }

    [Fact]
    public void Duplicate_names_and_bad_metadata_are_rejected()
    {
        Rejects(_scratch.WriteRaw("dup.safetensors",
            "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", new byte[2]),
            "a", "more than once");
        Rejects(_scratch.WriteRaw("meta.safetensors", "{\"__metadata__\":{\"n\":1}}", []), null, "value for key 'n' must be a string");
        Rejects(_scratch.WriteRaw("meta2.safetensors", "{\"__metadata__\":[\"x\"]}", []), null, "must be an object of strings");
    }

    [Fact]
    public void Valid_hand_written_files_are_accepted_in_any_header_order()
    {
        // Offsets need not follow the header order; padding, unknown fields and null metadata are fine.
        var path = _scratch.WriteRaw("ok.safetensors",
            "{\"late\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[4,6],\"extra\":true},\"__metadata__\":null,\"early\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[0,4]}}   ",
            [1, 0, 2, 0, 7, 8]);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["early", "late"], file.Entries.Select(e => e.Name));
        Assert.Equal(new byte[] { 7, 8 }, file.GetBytes("late").ToArray());
        Assert.False(file.Header.HasMetadata);
    }

    [Fact]
    public void Missing_tensors_and_disposed_files_fail_clearly()
    {
        var path = Valid();
        var file = SafetensorsFile.Open(path);
        var missing = Assert.Throws<KeyNotFoundException>(() => file.GetEntry("nope"));
        Assert.Contains("'nope'", missing.Message);
        Assert.Contains(path, missing.Message);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.GetBytes("a").Length);
        Assert.Throws<FileNotFoundException>(() => SafetensorsFile.Open(_scratch.PathOf("absent.safetensors")));
    }

    [Fact]
    public void Random_corruption_never_escapes_as_anything_but_a_format_error()
    {
        // Flip bytes in the header of a valid file: every outcome is either a successful open whose
        // entries still tile the data, or a SafetensorsFormatException; never a crash or another exception.
        var bytes = File.ReadAllBytes(Valid());
        var random = new Random(11);
        for (var trial = 0; trial < 400; trial++)
        {
            var corrupt = (byte[])bytes.Clone();
            var flips = random.Next(1, 4);
            for (var f = 0; f < flips; f++) corrupt[random.Next(0, Math.Min(corrupt.Length, 100))] = (byte)random.Next(256);
            var path = _scratch.PathOf("fuzz.safetensors");
            File.WriteAllBytes(path, corrupt);
            try
            {
                using var file = SafetensorsFile.Open(path);
                foreach (var entry in file.Entries) Assert.Equal(entry.ByteLength, file.GetBytes(entry.Name).Length);
            }
            catch (SafetensorsFormatException)
            {
            }
        }
    }
}
