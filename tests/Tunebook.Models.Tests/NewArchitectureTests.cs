using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

/// <summary>What loading Gemma 3, Phi-3 and SmolLM3 checkpoints must handle beyond the logits: image-and-text Gemma 3 folders and bad rope_scaling.</summary>
public class NewArchitectureTests
{
    /// <summary>
    /// A tiny Gemma 3 saved as transformers saves Gemma3ForConditionalGeneration: the text config nested under
    /// text_config, the language model's weights under a prefix, and vision weights beside them.
    /// </summary>
    static void SaveAsImageAndText(CausalLM text, string folder, bool currentLayout)
    {
        text.SavePretrained(folder);
        var inner = text.Config.ToJsonObject();
        inner.Remove("architectures");
        inner.Remove("bos_token_id");
        inner.Remove("eos_token_id");
        var outer = new JsonObject
        {
            ["architectures"] = new JsonArray("Gemma3ForConditionalGeneration"), ["model_type"] = "gemma3",
            ["text_config"] = inner,
            ["vision_config"] = new JsonObject { ["model_type"] = "siglip_vision_model", ["hidden_size"] = 16 },
            ["bos_token_id"] = 1, ["eos_token_id"] = new JsonArray(2, 3), ["mm_tokens_per_image"] = 4,
        };
        File.WriteAllText(Path.Combine(folder, "config.json"), outer.ToJsonString());
        var weights = Safetensors.Load(folder);
        var renamed = weights.ToDictionary(
            kv => currentLayout ? "model.language_model." + kv.Key["model.".Length..] : "language_model." + kv.Key,
            kv => kv.Value);
        var vision = currentLayout ? "model.vision_tower.vision_model.embeddings.patch_embedding.weight" : "vision_tower.vision_model.embeddings.patch_embedding.weight";
        renamed[vision] = torch.randn(16, 3, 2, 2);
        renamed[currentLayout ? "model.multi_modal_projector.mm_input_projection_weight" : "multi_modal_projector.mm_input_projection_weight"] = torch.randn(16, 32);
        if (currentLayout) renamed["lm_head.weight"] = text.OutputWeight.detach().clone();
        Safetensors.Save(Path.Combine(folder, "model.safetensors"), renamed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_Gemma3_image_and_text_checkpoint_loads_its_text_model_with_a_notice(bool currentLayout)
    {
        using var folder = new TempFolder();
        using var text = TinyModels.Create("gemma3", seed: 4);
        SaveAsImageAndText(text, folder.Path, currentLayout);
        using var loaded = CausalLM.FromPretrained(folder.Path, options: new LoadOptions { Strict = true });
        Assert.IsType<Tunebook.Models.Gemma3.Gemma3ForCausalLM>(loaded);
        Assert.Equal("gemma3_text", loaded.Config.ModelType);
        Assert.Equal([2, 3], loaded.Config.EosTokenIds);
        var notice = Assert.Single(loaded.LoadReport!.Notices);
        Assert.Contains("vision tower", notice);
        Assert.Contains("vision tower", loaded.LoadReport.ToString());
        Assert.Contains(loaded.LoadReport.IgnoredKeys, k => k.Contains("vision_tower"));
        Assert.Contains(loaded.LoadReport.IgnoredKeys, k => k.Contains("multi_modal_projector"));
        using var scope = torch.NewDisposeScope();
        var ids = TinyModels.Ids([Enumerable.Range(0, 20).Select(i => (long)(i * 7 % 97)).ToArray()]);
        ParityTests.AssertClose(text.Forward(ids), loaded.Forward(ids), 0, "image-and-text checkpoint");

        // Saved again, it is a text-only Gemma3ForCausalLM folder.
        using var again = new TempFolder();
        loaded.SavePretrained(again.Path);
        var config = ModelConfig.Load(again.Path);
        Assert.Equal("Gemma3ForCausalLM", config.Architecture);
        Assert.Null(config["text_config"]);
    }

    [Fact]
    public void A_gemma3_config_without_text_config_is_a_clear_error()
    {
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse("""{"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3"}""", "config.json"));
        Assert.Contains("config.json", e.Message);
        Assert.Contains("text_config", e.Message);
    }

    [Theory]
    [InlineData("rope_type", "rope_scaling.rope_type")]
    [InlineData("type", "rope_scaling.type")]
    public void An_unknown_rope_scaling_type_names_the_field_and_the_supported_values(string key, string field)
    {
        var json = TinyModels.Json("phi3-window");
        json["rope_scaling"] = new JsonObject { [key] = "yarn", ["factor"] = 4.0 };
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json.ToJsonString(), "config.json"));
        Assert.Contains(field, e.Message);
        Assert.Contains("'yarn'", e.Message);
        foreach (var supported in RopeScaling.SupportedTypes) Assert.Contains(supported, e.Message);
    }

    [Fact]
    public void Longrope_factors_must_cover_every_rotated_channel_pair()
    {
        var json = TinyModels.Json("phi4-longrope");
        json["rope_scaling"]!["long_factor"] = new JsonArray(1.0, 2.0);
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json.ToJsonString(), "config.json"));
        Assert.Contains("rope_scaling.long_factor", e.Message);
        Assert.Contains("3 (head_dim 8 × partial_rotary_factor 0.75 / 2)", e.Message);
        json["rope_scaling"]!.AsObject().Remove("long_factor");
        e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(json.ToJsonString(), "config.json"));
        Assert.Contains("rope_scaling.long_factor", e.Message);
        Assert.Contains("required", e.Message);
    }

    [Fact]
    public void Layer_types_and_no_rope_layers_are_read_as_transformers_reads_them()
    {
        var gemma = ModelConfig.FromJson(TinyModels.Json("gemma3-softcap")); // sliding_window_pattern 2
        Assert.Equal([5, null, 5], Enumerable.Range(0, 3).Select(gemma.SlidingWindowFor));
        var gemmaDefault = ModelConfig.Parse("""{"model_type": "gemma3_text", "num_hidden_layers": 12}""");
        Assert.Equal([5, 11], Enumerable.Range(0, 12).Where(i => gemmaDefault.SlidingWindowFor(i) is null));
        Assert.Equal(4096, gemmaDefault.SlidingWindow);
        Assert.Equal(256, gemmaDefault.HeadDim);
        Assert.True(gemmaDefault.TieWordEmbeddings);
        var smol = ModelConfig.FromJson(TinyModels.Json("smollm3"));
        Assert.Equal([true, true, true, false], Enumerable.Range(0, 4).Select(smol.UsesRope));
        Assert.All(Enumerable.Range(0, 4), i => Assert.Null(smol.SlidingWindowFor(i)));
        var windowed = ModelConfig.FromJson(TinyModels.Json("smollm3-window")); // no_rope_layers [1, 0, 1], window on the NoPE layer
        Assert.Equal([null, 4, null], Enumerable.Range(0, 3).Select(windowed.SlidingWindowFor));
        var bad = TinyModels.Json("gemma3");
        bad["layer_types"] = new JsonArray("sliding_attention", "chunked_attention", "full_attention");
        var e = Assert.Throws<ModelConfigException>(() => ModelConfig.Parse(bad.ToJsonString(), "config.json"));
        Assert.Contains("layer_types", e.Message);
        Assert.Contains("chunked_attention", e.Message);
    }
}
