using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>
/// LoRA by PEFT's module names (Phi-3's fused qkv_proj and gate_up_proj included), QLoRA and full
/// fine-tuning on tiny Gemma 3, Phi-4-mini-shaped and SmolLM3 models.
/// </summary>
[Collection(TorchCollection.Name)]
public class NewArchitectureTuningTests
{
    static ModelConfig Config(string kind)
    {
        var j = new JsonObject
        {
            ["vocab_size"] = 61, ["hidden_size"] = 32, ["intermediate_size"] = 48, ["num_hidden_layers"] = 2,
            ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2, ["max_position_embeddings"] = 64,
            ["rms_norm_eps"] = 1e-6, ["rope_theta"] = 10000.0, ["initializer_range"] = 0.1,
            ["bos_token_id"] = 1, ["eos_token_id"] = 2, ["torch_dtype"] = "float32",
        };
        switch (kind)
        {
            case "gemma3":
                j["architectures"] = new JsonArray("Gemma3ForCausalLM"); j["model_type"] = "gemma3_text";
                j["head_dim"] = 8; j["query_pre_attn_scalar"] = 8; j["sliding_window"] = 4; j["sliding_window_pattern"] = 2;
                break;
            case "phi3":
                j["architectures"] = new JsonArray("Phi3ForCausalLM"); j["model_type"] = "phi3";
                j["partial_rotary_factor"] = 0.75; j["tie_word_embeddings"] = true;
                break;
            case "smollm3":
                j["architectures"] = new JsonArray("SmolLM3ForCausalLM"); j["model_type"] = "smollm3";
                j["tie_word_embeddings"] = true; j["no_rope_layer_interval"] = 2;
                break;
            default: throw new ArgumentException(kind);
        }
        return ModelConfig.FromJson(j);
    }

    static CausalLM Model(string kind, long seed = 1)
    {
        torch.manual_seed(seed);
        return CausalLM.FromConfig(Config(kind));
    }

    /// <summary>The projections PEFT's configs for these models name.</summary>
    static string[] PeftTargets(string kind) => kind == "phi3"
        ? ["qkv_proj", "o_proj", "gate_up_proj", "down_proj"]
        : ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public static TheoryData<string> Kinds => new() { "gemma3", "phi3", "smollm3" };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Peft_module_names_find_every_projection_and_merged_equals_unmerged(string kind)
    {
        using var scope = torch.NewDisposeScope();
        var model = Model(kind);
        model.eval();
        var ids = Tiny.Ids(2, 9);
        Tensor before;
        using (torch.no_grad()) before = model.Forward(ids);
        var targets = PeftTargets(kind);
        var allLinear = LoraTargets.AllLinearLayers.Resolve(model);
        var lora = LoraModel.Apply(model, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.Names(targets) });
        // Every named projection of every layer, and all-linear picks the same set (the head stays out).
        Assert.Equal(targets.Length * 2, lora.Layers.Count);
        foreach (var name in targets) Assert.Contains(lora.Layers.Keys, path => path.EndsWith("." + name));
        Assert.Equal(allLinear.Order(), lora.Layers.Keys.Order());
        using (torch.no_grad()) Assert.True(Tiny.MaxAbsDiff(before, model.Forward(ids)) == 0, "B = 0 must leave the output unchanged");

        // With random B the adapters change the output, and merging them into the fused weights reproduces it.
        torch.manual_seed(5);
        using (torch.no_grad()) foreach (var l in lora.Layers.Values) l.lora_B.weight.normal_(0, 0.1);
        Tensor adapted;
        using (torch.no_grad()) adapted = model.Forward(ids);
        Assert.True(Tiny.MaxAbsDiff(before, adapted) > 1e-3);
        var merged = lora.MergeAndUnload();
        using (torch.no_grad()) Assert.True(Tiny.MaxAbsDiff(adapted, merged.Forward(ids)) < 1e-5);
    }

    [Theory]
    [InlineData("gemma3", "lora")]
    [InlineData("gemma3", "qlora")]
    [InlineData("gemma3", "full")]
    [InlineData("phi3", "lora")]
    [InlineData("phi3", "qlora")]
    [InlineData("phi3", "full")]
    [InlineData("smollm3", "lora")]
    [InlineData("smollm3", "qlora")]
    [InlineData("smollm3", "full")]
    public void Fine_tuning_lowers_the_loss(string kind, string mode)
    {
        var model = Model(kind);
        if (mode == "full") model.requires_grad_(true);
        else
        {
            if (mode == "qlora")
            {
                var report = Nf4Quantizer.QuantizeModel(model);
                Assert.Equal(PeftTargets(kind).Length * 2, report.QuantizedLayers);
            }
            var lora = LoraModel.Apply(model, new LoraConfig { R = 8, Alpha = 16, Targets = LoraTargets.Names(PeftTargets(kind)) });
            Assert.Equal(mode == "qlora", lora.IsQuantized);
        }
        var data = Tiny.Examples(8, seed: 5);
        using var trainer = new Trainer(model, data, null, new TrainerOptions { MaxSteps = 30, BatchSize = 4, LearningRate = 1e-2, WarmupSteps = 2, MaxGradNorm = 1.0 });
        Assert.Equal(StopReason.Completed, trainer.Run());
        var losses = trainer.Steps.Select(s => s.Loss).ToList();
        double first = losses.Take(2).Average(), last = losses.TakeLast(5).Average();
        Assert.True(last < 0.8 * first, $"{kind} {mode}: loss {first:0.000} → {last:0.000} ({string.Join(" ", losses.Select(l => l.ToString("0.00")))})");
        model.Dispose();
    }
}
