using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;

namespace Tunebook.Tuning.Tests;

[Collection(TorchCollection.Name)]
public class PeftExportTests
{
    static LoraModel Adapted(CausalLM model, LoraConfig config)
    {
        var lora = LoraModel.Apply(model, config);
        torch.manual_seed(12);
        using (torch.no_grad()) foreach (var l in lora.Layers.Values) l.lora_B.weight.normal_(0, 0.1);
        return lora;
    }

    [Fact]
    public void LlamaAdapterHasPeftNamesShapesAndConfig()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Tiny.TempDir();
        var lora = Adapted(Tiny.Llama(), new LoraConfig { R = 4, Alpha = 16, Dropout = 0.05, UseRsLora = true, Targets = LoraTargets.Names("q_proj", "v_proj", "down_proj") });
        lora.SaveAdapter(dir, "HuggingFaceTB/SmolLM2-135M");

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
        Assert.Equal("LORA", config["peft_type"]!.GetValue<string>());
        Assert.Equal("CAUSAL_LM", config["task_type"]!.GetValue<string>());
        Assert.Equal(4, config["r"]!.GetValue<int>());
        Assert.Equal(16, config["lora_alpha"]!.GetValue<int>());
        Assert.Equal(0.05, config["lora_dropout"]!.GetValue<double>());
        Assert.True(config["use_rslora"]!.GetValue<bool>());
        Assert.False(config["fan_in_fan_out"]!.GetValue<bool>());
        Assert.Equal("none", config["bias"]!.GetValue<string>());
        Assert.True(config["inference_mode"]!.GetValue<bool>());
        Assert.Null(config["modules_to_save"]);
        Assert.Equal("HuggingFaceTB/SmolLM2-135M", config["base_model_name_or_path"]!.GetValue<string>());
        Assert.Equal(new[] { "down_proj", "q_proj", "v_proj" }, config["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));

        var tensors = Safetensors.Load(Path.Combine(dir, "adapter_model.safetensors"));
        Assert.Equal(2 * 3 * 2, tensors.Count);
        Assert.Equal(new long[] { 4, 32 }, tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"].shape);
        Assert.Equal(new long[] { 32, 4 }, tensors["base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight"].shape);
        Assert.Equal(new long[] { 16, 4 }, tensors["base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"].shape);
        Assert.Equal(new long[] { 4, 48 }, tensors["base_model.model.model.layers.1.mlp.down_proj.lora_A.weight"].shape);
        Assert.Equal("pt", Safetensors.LoadMetadata(Path.Combine(dir, "adapter_model.safetensors"))["format"]);
    }

    [Fact]
    public void Gpt2AdapterIsFanInFanOutWithConv1DShapes()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Tiny.TempDir();
        Adapted(Tiny.Gpt2(), new LoraConfig { R = 2, Alpha = 4, Targets = LoraTargets.Names("c_attn") }).SaveAdapter(dir);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
        Assert.True(config["fan_in_fan_out"]!.GetValue<bool>());
        Assert.Equal(new[] { "c_attn" }, config["target_modules"]!.AsArray().Select(n => n!.GetValue<string>()));
        var tensors = Safetensors.Load(Path.Combine(dir, "adapter_model.safetensors"));
        // PEFT's shapes do not depend on Conv1D's storage: A [r, in], B [out, r]
        Assert.Equal(new long[] { 2, 32 }, tensors["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"].shape);
        Assert.Equal(new long[] { 96, 2 }, tensors["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"].shape);
    }

    [Fact]
    public void TargetModulesFallBackToFullPathsWhenSuffixesWouldOverMatch()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Tiny.TempDir();
        // Only the attention c_proj: the suffix "c_proj" would also select mlp.c_proj in PEFT.
        Adapted(Tiny.Gpt2(), new LoraConfig { R = 2, Targets = LoraTargets.Regex(@".*\.attn\.c_proj") }).SaveAdapter(dir);
        var targets = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!["target_modules"]!.AsArray().Select(n => n!.GetValue<string>());
        Assert.Equal(new[] { "transformer.h.0.attn.c_proj", "transformer.h.1.attn.c_proj" }, targets);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void LoadingBackGivesTheSameOutputs(string kind)
    {
        using var scope = torch.NewDisposeScope();
        var dir = Tiny.TempDir();
        var trained = kind == "llama" ? Tiny.Llama() : Tiny.Gpt2();
        Adapted(trained, new LoraConfig { R = 4, Alpha = 8, Targets = LoraTargets.AllLinearLayers }).SaveAdapter(dir);
        var ids = Tiny.Ids(2, 6);
        trained.eval();
        Tensor expected;
        using (torch.no_grad()) expected = trained.Forward(ids);

        var fresh = kind == "llama" ? Tiny.Llama() : Tiny.Gpt2();
        using var adapter = LoraAdapter.Load(dir);
        Assert.Equal(4, adapter.Config.R);
        var lora = adapter.ApplyTo(fresh);
        fresh.eval();
        using (torch.no_grad()) Assert.True(fresh.Forward(ids).equal(expected));
        Assert.Equal(14 + (kind == "gpt2" ? -6 : 0), lora.Layers.Count); // GPT-2: c_attn, c_proj, c_fc, mlp.c_proj per layer
    }

    [Fact]
    public void MismatchedAdaptersFailWithClearErrors()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Tiny.TempDir();
        Adapted(Tiny.Llama(), new LoraConfig { R = 4, Targets = LoraTargets.Names("q_proj") }).SaveAdapter(dir);

        // A model whose q_proj has another width: the error names the tensor and both shapes.
        var json = Tiny.LlamaConfig().ToJsonObject();
        json["hidden_size"] = 48;
        json["intermediate_size"] = 64;
        torch.manual_seed(1);
        var wider = CausalLM.FromConfig(ModelConfig.FromJson(json));
        using var adapter = LoraAdapter.Load(dir);
        var e = Assert.Throws<InvalidDataException>(() => adapter.ApplyTo(wider));
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", e.Message);
        Assert.Contains("[4, 32]", e.Message);
        Assert.Contains("[4, 48]", e.Message);
        Assert.DoesNotContain(wider.named_modules(), m => m.module is LoraLinear); // the model is left as it was

        // Config problems name the field.
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
        config["use_dora"] = true;
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), config.ToJsonString());
        Assert.Contains("use_dora", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(dir)).Message);
        config["use_dora"] = false;
        config["r"] = "eight";
        File.WriteAllText(Path.Combine(dir, "adapter_config.json"), config.ToJsonString());
        Assert.Contains("'r'", Assert.Throws<InvalidDataException>(() => LoraAdapter.Load(dir)).Message);
        Assert.Throws<FileNotFoundException>(() => LoraAdapter.Load(Tiny.TempDir()));
    }

    [Fact]
    public void MergeAndSavePretrainedWritesAHuggingFaceCheckpoint()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Tiny.TempDir();
        var model = Tiny.Llama();
        var lora = Adapted(model, new LoraConfig { R = 4, Targets = LoraTargets.Names("q_proj", "o_proj") });
        var ids = Tiny.Ids(1, 5);
        model.eval();
        Tensor expected;
        using (torch.no_grad()) expected = model.Forward(ids);
        lora.MergeAndUnload().SavePretrained(dir);
        var loaded = CausalLM.FromPretrained(dir);
        using (torch.no_grad()) Assert.True(Tiny.MaxAbsDiff(expected, loaded.Forward(ids)) < 1e-4);
        Assert.DoesNotContain(Safetensors.Load(dir).Keys, k => k.Contains("lora") || k.Contains("base_layer"));
    }
}
