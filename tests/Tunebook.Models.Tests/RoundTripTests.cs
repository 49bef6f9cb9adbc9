using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

public class RoundTripTests
{
    static readonly long[][] Prompt = [[5, 17, 3, 44, 90, 12, 7, 61, 33, 8]];

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void SavedAndReloadedModelGivesIdenticalLogits(string kind)
    {
        using var folder = new TempFolder();
        using var model = TinyModels.Create(kind);
        using var scope = torch.NewDisposeScope();
        var ids = TinyModels.Ids(Prompt);
        var before = model.Forward(ids);
        Assert.Equal(new long[] { 1, 10, 97 }, before.shape);
        model.SavePretrained(folder.Path);
        Assert.True(File.Exists(folder["model.safetensors"]));
        using var loaded = CausalLM.FromPretrained(folder.Path);
        Assert.Equal(model.GetType(), loaded.GetType());
        Assert.Equal(model.Config.Architecture, loaded.Config.Architecture);
        var after = loaded.Forward(ids);
        Assert.True(before.equal(after), $"{kind}: logits differ after save/load");
        // Unknown config fields survive the round trip.
        var saved = JsonNode.Parse(File.ReadAllText(folder["config.json"]))!.AsObject();
        Assert.NotNull(saved["some_unknown_field"]);
        Assert.Equal(TinyModels.Json(kind)["some_unknown_field"]!.ToJsonString(), saved["some_unknown_field"]!.ToJsonString());
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    [InlineData("qwen3-qknorm")]
    public void ShardedCheckpointEqualsSingleFile(string kind)
    {
        using var single = new TempFolder();
        using var sharded = new TempFolder();
        using var model = TinyModels.Create(kind);
        model.SavePretrained(single.Path);
        model.SavePretrained(sharded.Path, maxShardSize: "20KB");
        Assert.True(File.Exists(sharded["model.safetensors.index.json"]));
        Assert.False(File.Exists(sharded["model.safetensors"]));
        Assert.True(Directory.GetFiles(sharded.Path, "model-*-of-*.safetensors").Length > 1);
        using var scope = torch.NewDisposeScope();
        using var a = CausalLM.FromPretrained(single.Path);
        using var b = CausalLM.FromPretrained(sharded.Path);
        var ids = TinyModels.Ids(Prompt);
        Assert.True(a.Forward(ids).equal(b.Forward(ids)));
        // Saving again unsharded removes the stale shards and index.
        model.SavePretrained(sharded.Path);
        Assert.False(File.Exists(sharded["model.safetensors.index.json"]));
        Assert.Empty(Directory.GetFiles(sharded.Path, "model-*-of-*.safetensors"));
    }

    [Fact]
    public void SavingOverAFolderSwapsItWholeKeepsForeignFilesAndSweepsTempsOfKilledSaves()
    {
        using var parent = new TempFolder();
        var folder = Path.Combine(parent.Path, "model");
        using var model = TinyModels.Create("llama");
        model.SavePretrained(folder, maxShardSize: "20KB");
        File.WriteAllText(Path.Combine(folder, "README.md"), "notes");
        Directory.CreateDirectory(Path.Combine(folder, "runs", "a"));
        File.WriteAllText(Path.Combine(folder, "runs", "a", "metrics.jsonl"), "{}\n");
        // What a save killed mid-write leaves: a temp folder beside the model and a temp file inside it.
        var stale = Path.Combine(parent.Path, "model.tmp-0123456789ab");
        Directory.CreateDirectory(stale);
        File.WriteAllText(Path.Combine(stale, "config.json"), "{");
        model.SavePretrained(folder);
        Assert.Equal("notes", File.ReadAllText(Path.Combine(folder, "README.md")));
        Assert.Equal("{}\n", File.ReadAllText(Path.Combine(folder, "runs", "a", "metrics.jsonl")));
        Assert.Empty(Directory.GetFiles(folder, "model-*-of-*.safetensors"));
        Assert.Equal(["model"], Directory.GetFileSystemEntries(parent.Path).Select(Path.GetFileName));
        using var scope = torch.NewDisposeScope();
        using var loaded = CausalLM.FromPretrained(folder);
        var ids = TinyModels.Ids(Prompt);
        Assert.True(model.Forward(ids).equal(loaded.Forward(ids)));
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void TiedModelsSaveNoLmHeadAndShareTheEmbedding(string kind)
    {
        using var folder = new TempFolder();
        using var model = TinyModels.Create(kind);
        Assert.True(model.Config.TieWordEmbeddings);
        Assert.Same(model.InputEmbeddings.weight, model.OutputWeight);
        model.SavePretrained(folder.Path);
        using var reader = CheckpointReader.Open(folder.Path);
        Assert.DoesNotContain(reader.Names, n => n.StartsWith("lm_head"));
        Assert.Contains(kind == "gpt2" ? "transformer.wte.weight" : "model.embed_tokens.weight", reader.Names);
    }

    [Theory]
    [InlineData(ScalarType.BFloat16)]
    [InlineData(ScalarType.Float16)]
    public void LoadsWithADtypeCastAndSavesInThatDtype(ScalarType dtype)
    {
        using var folder = new TempFolder();
        using var half = new TempFolder();
        using var model = TinyModels.Create("llama");
        model.SavePretrained(folder.Path);
        using var scope = torch.NewDisposeScope();
        using var cast = CausalLM.FromPretrained(folder.Path, dtype: dtype);
        Assert.Equal(dtype, cast.DType);
        var ids = TinyModels.Ids(Prompt);
        foreach (var (name, p) in model.named_parameters())
            Assert.True(p.to(dtype).equal(cast.get_parameter(name)), $"{name} was not cast exactly");
        cast.SavePretrained(half.Path);
        var saved = JsonNode.Parse(File.ReadAllText(half["config.json"]))!;
        Assert.Equal(dtype.Name(), saved["torch_dtype"]!.GetValue<string>());
        using var reloaded = CausalLM.FromPretrained(half.Path, dtype: dtype);
        Assert.Equal(dtype, reloaded.DType);
        using (var auto = CausalLM.FromPretrained(half.Path))
            Assert.Equal(dtype == ScalarType.Float16 ? ScalarType.Float32 : dtype, auto.DType); // float16 cannot run on the CPU
        foreach (var (name, p) in cast.named_parameters())
            Assert.True(p.equal(reloaded.get_parameter(name)), $"{name} changed in the {dtype.Name()} round trip");
        // libtorch 1.13 has no float16 matrix multiply on the CPU (it has one for bfloat16); float16 runs on CUDA.
        if (dtype == ScalarType.Float16 && !cast.Device.IsCuda) return;
        var reference = model.Forward(ids);
        var low = cast.Forward(ids);
        Assert.Equal(dtype, low.dtype);
        Assert.True(low.to(ScalarType.Float32).allclose(reference, rtol: 0.05, atol: 0.05), "reduced-precision logits far from float32");
        Assert.True(reloaded.Forward(ids).equal(low));
    }

    [Fact]
    public void GptCheckpointWithoutTransformerPrefixAndMaskBuffersLoads()
    {
        // The original openai-community/gpt2 upload stores "h.0.attn.c_attn.weight" and causal-mask buffers "h.0.attn.bias".
        using var folder = new TempFolder();
        using var model = TinyModels.Create("gpt2");
        model.Config.Save(folder.Path);
        using var scope = torch.NewDisposeScope();
        var tensors = model.state_dict().ToDictionary(kv => kv.Key["transformer.".Length..], kv => kv.Value);
        for (int i = 0; i < 2; i++) tensors[$"h.{i}.attn.bias"] = torch.ones(1, 1, 64, 64).tril();
        Safetensors.Save(folder["model.safetensors"], tensors);
        using var loaded = CausalLM.FromPretrained(folder.Path);
        Assert.Equal(new[] { "h.0.attn.bias", "h.1.attn.bias" }, loaded.LoadReport!.IgnoredKeys);
        Assert.Empty(loaded.LoadReport.UnexpectedKeys);
        var ids = TinyModels.Ids(Prompt);
        Assert.True(model.Forward(ids).equal(loaded.Forward(ids)));
    }

    [Fact]
    public void ParameterNamesAreHuggingFaceCheckpointKeys()
    {
        using var llama = TinyModels.Create("qwen2-bias");
        var names = llama.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var expected in new[] { "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.q_proj.bias",
                     "model.layers.1.self_attn.k_proj.bias", "model.layers.1.self_attn.v_proj.weight", "model.layers.1.self_attn.o_proj.weight",
                     "model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight", "model.layers.0.mlp.down_proj.weight",
                     "model.layers.0.input_layernorm.weight", "model.layers.0.post_attention_layernorm.weight", "model.norm.weight", "lm_head.weight" })
            Assert.Contains(expected, names);
        Assert.DoesNotContain("model.layers.0.self_attn.o_proj.bias", names); // Qwen2's bias is q/k/v only
        using var qwen3 = TinyModels.Create("qwen3-qknorm");
        Assert.Contains("model.layers.0.self_attn.q_norm.weight", qwen3.named_parameters().Select(p => p.name));
        Assert.Equal(new long[] { 16 }, qwen3.get_parameter("model.layers.0.self_attn.k_norm.weight").shape);
        using var gpt2 = TinyModels.Create("gpt2");
        var g = gpt2.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var expected in new[] { "transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.bias",
                     "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight", "transformer.h.0.ln_1.weight", "transformer.ln_f.bias" })
            Assert.Contains(expected, g);
        Assert.Equal(new long[] { 32, 96 }, gpt2.get_parameter("transformer.h.0.attn.c_attn.weight").shape); // Conv1D: [in, out]
        Assert.True(((Gpt2.Conv1D)gpt2.get_submodule("transformer.h.0.mlp.c_fc")).FanInFanOut);
    }
}
