using System.Text.Json;

namespace Tunebook.Torch.Tests;

public sealed class SafetensorsShardedTests : IDisposable
{
    readonly SafetensorsScratch _scratch = new();

    public void Dispose() => _scratch.Dispose();

    static SafetensorsWriter Model(int layers, int floatsPerLayer, out Dictionary<string, byte[]> bytes, int seed = 1)
    {
        var random = new Random(seed);
        var writer = new SafetensorsWriter(new Dictionary<string, string> { ["format"] = "pt" });
        bytes = [];
        for (var i = 0; i < layers; i++)
        {
            var data = new byte[floatsPerLayer * 4];
            random.NextBytes(data);
            writer.Add($"model.layers.{i}.mlp.weight", SafetensorsDType.F32, [floatsPerLayer], data);
            bytes[$"model.layers.{i}.mlp.weight"] = data;
        }
        return writer;
    }

    string FolderOf(string name) => Path.Combine(_scratch.Folder, name);

    [Fact]
    public void Sharded_round_trip_splits_greedily_and_reads_as_one_checkpoint()
    {
        // 7 tensors of 400 bytes at a 1000-byte limit: two per shard, four shards.
        var writer = Model(7, 100, out var expected);
        var result = writer.WriteSharded(FolderOf("ckpt"), "1KB");
        Assert.Equal(4, result.Files.Count);
        Assert.Equal(["model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"],
            result.Files.Select(Path.GetFileName));
        Assert.Equal(2800, result.TotalSize);

        using (var index = JsonDocument.Parse(File.ReadAllText(result.IndexPath!)))
        {
            Assert.Equal(2800, index.RootElement.GetProperty("metadata").GetProperty("total_size").GetInt64());
            Assert.Equal("model-00001-of-00004.safetensors", index.RootElement.GetProperty("weight_map").GetProperty("model.layers.1.mlp.weight").GetString());
            Assert.Equal("model-00004-of-00004.safetensors", index.RootElement.GetProperty("weight_map").GetProperty("model.layers.6.mlp.weight").GetString());
        }

        using var checkpoint = CheckpointReader.Open(FolderOf("ckpt"));
        var sharded = Assert.IsType<ShardedCheckpoint>(checkpoint);
        Assert.Equal(4, sharded.Shards.Count);
        Assert.Equal(2800L, sharded.DeclaredTotalSize);
        Assert.Equal("pt", checkpoint.Metadata["format"]);
        Assert.Equal(expected.Keys.Order(), checkpoint.Names.Order());
        foreach (var (name, data) in expected)
            Assert.Equal(data, checkpoint.GetBytes(name).ToArray());
        Assert.Throws<KeyNotFoundException>(() => checkpoint.GetEntry("model.norm.weight"));
    }

    [Fact]
    public void A_tensor_larger_than_the_limit_gets_its_own_shard()
    {
        var writer = new SafetensorsWriter();
        writer.Add("a", SafetensorsDType.U8, [60], new byte[60]);
        writer.Add("huge", SafetensorsDType.U8, [500], new byte[500]);
        writer.Add("b", SafetensorsDType.U8, [30], new byte[30]);
        writer.Add("c", SafetensorsDType.U8, [30], new byte[30]);
        var result = writer.WriteSharded(FolderOf("big"), "100");
        using var checkpoint = ShardedCheckpoint.Open(result.IndexPath!);
        // As in huggingface_hub: the oversized tensor is emitted at once, the open shard continues.
        string ShardOf(string name) => Path.GetFileName(checkpoint.GetShard(name).Path);
        Assert.Equal("model-00001-of-00003.safetensors", ShardOf("huge"));
        Assert.Equal("model-00002-of-00003.safetensors", ShardOf("a"));
        Assert.Equal("model-00002-of-00003.safetensors", ShardOf("b"));
        Assert.Equal("model-00003-of-00003.safetensors", ShardOf("c"));
        Assert.Single(checkpoint.GetShard("huge").Entries);
    }

    [Fact]
    public void Everything_fitting_one_shard_is_saved_as_a_single_file_and_stale_files_are_removed()
    {
        var folder = FolderOf("single");
        Model(6, 100, out _).WriteSharded(folder, "1000");
        Assert.True(File.Exists(Path.Combine(folder, ShardedCheckpoint.DefaultIndexName)));
        File.WriteAllText(Path.Combine(folder, "config.json"), "{}");

        var result = Model(2, 10, out var expected, seed: 2).WriteSharded(folder, "5GB");
        Assert.Null(result.IndexPath);
        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(folder).Select(Path.GetFileName).Order());
        using var checkpoint = CheckpointReader.Open(folder);
        Assert.IsType<SafetensorsFile>(checkpoint);
        Assert.Equal(expected["model.layers.1.mlp.weight"], checkpoint.GetBytes("model.layers.1.mlp.weight").ToArray());

        // Going back to shards removes the single file so the folder never holds two checkpoints.
        Model(6, 100, out _).WriteSharded(folder, "1000");
        Assert.False(File.Exists(Path.Combine(folder, "model.safetensors")));
        Assert.Equal(["config.json", "model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors", "model.safetensors.index.json"],
            Directory.GetFiles(folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_failing_shard_write_leaves_the_previous_checkpoint_untouched()
    {
        var folder = FolderOf("atomic");
        Model(4, 100, out var original).WriteSharded(folder, "1000");
        var before = Directory.GetFiles(folder).ToDictionary(Path.GetFileName, File.ReadAllBytes);

        var failing = Model(4, 100, out _, seed: 3);
        failing.Add("last", SafetensorsDType.F32, [100], _ => throw new IOException("disk full"));
        Assert.Throws<IOException>(() => failing.WriteSharded(folder, "1000"));

        var after = Directory.GetFiles(folder).ToDictionary(Path.GetFileName, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, bytes) in before) Assert.Equal(bytes, after[name]);
        using var checkpoint = CheckpointReader.Open(folder);
        Assert.Equal(original["model.layers.3.mlp.weight"], checkpoint.GetBytes("model.layers.3.mlp.weight").ToArray());
    }

    [Fact]
    public void A_missing_shard_names_the_index_tensor_and_shard()
    {
        var result = Model(4, 100, out _).WriteSharded(FolderOf("missing"), "1000");
        File.Delete(result.Files[1]);
        var error = Assert.Throws<SafetensorsFormatException>(() => ShardedCheckpoint.Open(result.IndexPath!));
        Assert.Equal(result.IndexPath, error.FilePath);
        Assert.Equal("model.layers.2.mlp.weight", error.TensorName);
        Assert.Contains("model-00002-of-00002.safetensors", error.Message);
        Assert.Contains("does not exist", error.Message);
    }

    [Fact]
    public void A_tensor_absent_from_its_shard_is_reported()
    {
        var result = Model(4, 100, out _).WriteSharded(FolderOf("absent"), "1000");
        var index = File.ReadAllText(result.IndexPath!).Replace("\"model.layers.0.mlp.weight\"", "\"model.layers.9.mlp.weight\"");
        File.WriteAllText(result.IndexPath!, index);
        var error = Assert.Throws<SafetensorsFormatException>(() => ShardedCheckpoint.Open(result.IndexPath!));
        Assert.Equal("model.layers.9.mlp.weight", error.TensorName);
        Assert.Contains("that shard has no such tensor", error.Message);
    }

    [Theory]
    [InlineData("{\"weight_map\":{\"w\":\"../outside.safetensors\"}}", "outside the checkpoint folder")]
    [InlineData("{\"weight_map\":{\"w\":\"/etc/passwd\"}}", "relative to the checkpoint folder")]
    [InlineData("{\"weight_map\":{\"w\":3}}", "must map it to a shard file name")]
    [InlineData("{\"metadata\":{\"total_size\":-1},\"weight_map\":{}}", "total_size")]
    [InlineData("{\"weight_map\":[]}", "needs a \"weight_map\" object")]
    [InlineData("{\"metadata\":{}}", "needs a \"weight_map\" object")]
    [InlineData("{\"weight_map\":", "not valid JSON")]
    public void Malformed_indexes_are_rejected(string json, string fragment)
    {
        var folder = FolderOf("bad-index");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, ShardedCheckpoint.DefaultIndexName);
        File.WriteAllText(path, json);
        var error = Assert.Throws<SafetensorsFormatException>(() => ShardedCheckpoint.Open(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(fragment, error.Message);
    }

    [Fact]
    public void An_index_with_invalid_UTF_8_in_a_name_is_rejected_as_a_format_error()
    {
        var folder = FolderOf("bad-utf8-index");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, ShardedCheckpoint.DefaultIndexName);
        // One flipped bit in a tensor name makes a byte that starts no UTF-8 sequence (0xC1).
        File.WriteAllBytes(path, [.. "{\"weight_map\":{\"w"u8, 0xC1, .. "\":\"model.safetensors\"}}"u8]);
        var error = Assert.Throws<SafetensorsFormatException>(() => ShardedCheckpoint.Open(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains("not valid UTF-8", error.Message);
    }

    [Fact]
    public void A_corrupt_shard_is_reported_with_the_shard_path()
    {
        var result = Model(4, 100, out _).WriteSharded(FolderOf("corrupt"), "1000");
        var bytes = File.ReadAllBytes(result.Files[0]);
        File.WriteAllBytes(result.Files[0], bytes[..^10]);
        var error = Assert.Throws<SafetensorsFormatException>(() => CheckpointReader.Open(FolderOf("corrupt")));
        Assert.Equal(result.Files[0], error.FilePath);
        Assert.NotNull(error.TensorName);
    }

    [Fact]
    public void Checkpoint_reader_resolves_folders_files_and_base_names()
    {
        var folder = FolderOf("adapter");
        var writer = new SafetensorsWriter();
        writer.Add("lora_A", SafetensorsDType.F32, [2, 2], new byte[16]);
        writer.WriteSharded(folder, "5GB", baseName: "adapter_model");

        var error = Assert.Throws<FileNotFoundException>(() => CheckpointReader.Open(folder));
        Assert.Contains("adapter_model.safetensors", error.Message);
        using (var byName = CheckpointReader.Open(folder, "adapter_model")) Assert.True(byName.Contains("lora_A"));
        using (var byFile = CheckpointReader.Open(Path.Combine(folder, "adapter_model.safetensors"))) Assert.Single(byFile.Entries);
        Assert.Throws<DirectoryNotFoundException>(() => CheckpointReader.Open(FolderOf("nowhere")));
    }

    [Theory]
    [InlineData("5GB", 5_000_000_000L)]
    [InlineData("5GiB", 5L << 30)]
    [InlineData("500MB", 500_000_000L)]
    [InlineData("1.5 MiB", 1_572_864L)]
    [InlineData("10kb", 10_000L)]
    [InlineData("123", 123L)]
    [InlineData("64B", 64L)]
    public void Shard_sizes_parse_like_hugging_face(string text, long bytes) => Assert.Equal(bytes, ShardSize.Parse(text));

    [Theory]
    [InlineData("")]
    [InlineData("GB")]
    [InlineData("5 XB")]
    [InlineData("-5GB")]
    [InlineData("0")]
    public void Bad_shard_sizes_say_what_is_accepted(string text) =>
        Assert.Contains("KB", Assert.ThrowsAny<FormatException>(() => ShardSize.Parse(text)).Message);
}
