using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

public class ErrorTests
{
    static string SaveTiny(TempFolder folder, string kind = "llama")
    {
        using var model = TinyModels.Create(kind);
        model.SavePretrained(folder.Path);
        return folder.Path;
    }

    static void RewriteWeights(string folder, Action<Dictionary<string, Tensor>> edit)
    {
        var tensors = Safetensors.Load(folder);
        edit(tensors);
        Safetensors.Save(Path.Combine(folder, "model.safetensors"), tensors);
    }

    [Fact]
    public void UnsupportedArchitectureListsTheSupportedOnes()
    {
        var json = TinyModels.Json("llama");
        json["architectures"] = new JsonArray("FalconForCausalLM");
        json["model_type"] = "falcon";
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json.ToJsonString(), "config.json"));
        Assert.Contains("FalconForCausalLM", e.Message);
        foreach (var supported in ModelConfig.SupportedArchitectures) Assert.Contains(supported, e.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        using var folder = new TempFolder();
        SaveTiny(folder);
        RewriteWeights(folder.Path, t => t.Remove("model.layers.1.mlp.up_proj.weight"));
        var e = Assert.Throws<CheckpointMismatchException>(() => CausalLM.FromPretrained(folder.Path));
        Assert.Contains("'model.layers.1.mlp.up_proj.weight': missing", e.Message);
    }

    [Fact]
    public void WrongShapeIsNamedWithExpectedAndActual()
    {
        using var folder = new TempFolder();
        SaveTiny(folder);
        RewriteWeights(folder.Path, t => t["model.layers.0.self_attn.k_proj.weight"] = torch.zeros(24, 32));
        var e = Assert.Throws<CheckpointMismatchException>(() => CausalLM.FromPretrained(folder.Path));
        Assert.Contains("model.layers.0.self_attn.k_proj.weight", e.Message);
        Assert.Contains("[24, 32]", e.Message);
        Assert.Contains("[16, 32]", e.Message);
    }

    [Fact]
    public void UnexpectedTensorsAreReportedOrRejectedWhenStrict()
    {
        using var folder = new TempFolder();
        SaveTiny(folder);
        RewriteWeights(folder.Path, t =>
        {
            t["model.layers.0.self_attn.rotary_emb.inv_freq"] = torch.ones(4);
            t["model.extra_head.weight"] = torch.ones(3, 3);
        });
        using (var model = CausalLM.FromPretrained(folder.Path))
        {
            Assert.Equal(["model.extra_head.weight"], model.LoadReport!.UnexpectedKeys);
            Assert.Equal(["model.layers.0.self_attn.rotary_emb.inv_freq"], model.LoadReport.IgnoredKeys);
        }
        var e = Assert.Throws<CheckpointMismatchException>(() => CausalLM.FromPretrained(folder.Path, options: new LoadOptions { Strict = true }));
        Assert.Contains("model.extra_head.weight", e.Message);
    }

    [Theory]
    [InlineData("num_attention_heads", "\"four\"")]
    [InlineData("hidden_size", "32.5")]
    [InlineData("tie_word_embeddings", "\"yes\"")]
    [InlineData("rms_norm_eps", "[1]")]
    public void CorruptConfigFieldIsNamed(string field, string value)
    {
        using var folder = new TempFolder();
        SaveTiny(folder);
        var path = folder["config.json"];
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        json[field] = JsonNode.Parse(value);
        File.WriteAllText(path, json.ToJsonString());
        var e = Assert.Throws<ModelConfigException>(() => CausalLM.FromPretrained(folder.Path));
        Assert.Equal(field, e.Field);
        Assert.Contains(path, e.Message);
        Assert.Contains($"\"{field}\"", e.Message);
    }

    [Fact]
    public void InvalidJsonAndInconsistentSizesAreExplained()
    {
        var e1 = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse("{\"model_type\": \"llama\",", "c.json"));
        Assert.Contains("not valid JSON", e1.Message);
        var json = TinyModels.Json("llama");
        json["num_key_value_heads"] = 3;
        var e2 = Assert.Throws<ModelConfigException>(() => ModelConfig.FromJson(json));
        Assert.Equal("num_key_value_heads", e2.Field);
        json = TinyModels.Json("llama");
        json["rope_scaling"] = new JsonObject { ["rope_type"] = "yarn", ["factor"] = 4.0 };
        var e3 = Assert.Throws<ModelConfigException>(() => ModelConfig.FromJson(json));
        Assert.Contains("llama3", e3.Message);
        json["rope_scaling"] = new JsonObject { ["rope_type"] = "llama3", ["factor"] = 8.0 };
        var e4 = Assert.Throws<ModelConfigException>(() => ModelConfig.FromJson(json));
        Assert.Contains("low_freq_factor", e4.Message);
    }

    [Fact]
    public void BadForwardInputsAreRejectedWithShapes()
    {
        using var model = TinyModels.Create("llama");
        using var scope = torch.NewDisposeScope();
        var ids = TinyModels.Ids([[1, 2, 3]]);
        Assert.Contains("int64", Assert.Throws<ArgumentException>(() => model.Forward(ids.to(ScalarType.Float32))).Message);
        Assert.Contains("[1, 3]", Assert.Throws<ArgumentException>(() => model.Forward(ids, torch.ones([1, 4], ScalarType.Int64))).Message);
        Assert.Contains("[batch, length]", Assert.Throws<ArgumentException>(() => model.Forward(torch.ones([3], ScalarType.Int64))).Message);
        Assert.Contains("outside the vocabulary", Assert.Throws<ArgumentException>(() => model.Generate([new[] { 1, 500 }])).Message);
        using var gpt2 = TinyModels.Create("gpt2");
        var tooLong = torch.zeros([1, 65], ScalarType.Int64);
        Assert.Contains("n_positions", Assert.Throws<ArgumentException>(() => gpt2.Forward(tooLong)).Message);
        Assert.Contains("lower MaxNewTokens to at most 55", Assert.Throws<ArgumentException>(() => gpt2.Generate([new int[10]], new GenerationOptions { MaxNewTokens = 60 })).Message);
        Assert.Equal(55, gpt2.Generate([new int[10]], new GenerationOptions { MaxNewTokens = 55, EosTokenIds = [] }).Sequences[0].TokenIds.Count);
    }

    [Fact]
    public void FolderWithoutWeightsOrConfigIsExplained()
    {
        using var folder = new TempFolder();
        Assert.Contains("config.json", Assert.Throws<FileNotFoundException>(() => CausalLM.FromPretrained(folder.Path)).Message);
        TinyModels.Config("llama").Save(folder.Path);
        Assert.Contains("model.safetensors", Assert.Throws<FileNotFoundException>(() => CausalLM.FromPretrained(folder.Path)).Message);
    }
}
