using Tunebook.Models;
using Tunebook.Models.Gpt2;
using Tunebook.Torch;
using Tunebook.Torch.nn;
using Tunebook.Tuning.Lora;

namespace Tunebook.Tuning.Tests;

[Collection(TorchCollection.Name)]
public class LoraTests
{
    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void AtInitialisationTheOutputIsExactlyTheBaseModels(string kind)
    {
        using var scope = torch.NewDisposeScope();
        var model = kind == "llama" ? Tiny.Llama() : Tiny.Gpt2();
        var ids = Tiny.Ids(2, 9);
        model.eval();
        Tensor before;
        using (torch.no_grad()) before = model.Forward(ids);
        var lora = LoraModel.Apply(model, new LoraConfig { R = 4, Alpha = 8, Dropout = 0.1, Targets = LoraTargets.AllLinearLayers });
        Assert.NotEmpty(lora.Layers);
        foreach (var mode in new[] { false, true })
        {
            model.train(mode); // dropout on the adapter path changes nothing while B = 0
            using (torch.no_grad()) Assert.True(model.Forward(ids).equal(before), $"training={mode}");
        }
    }

    [Fact]
    public void InitialisationFollowsPeft()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(5);
        var baseLayer = new Linear(300, 40);
        var layer = LoraLinear.FromBase(baseLayer, r: 16, alpha: 32);
        // kaiming_uniform(a = √5) on [r, in]: bound = gain · √3 / √fan_in with gain = √(2 / (1 + 5)), i.e. 1/√in.
        double bound = 1 / Math.Sqrt(300);
        var a = Tiny.Values(layer.lora_A.weight);
        Assert.All(a, v => Assert.InRange(Math.Abs(v), 0, bound));
        Assert.True(a.Max() > 0.9 * bound && a.Min() < -0.9 * bound, "A should fill its range");
        Assert.All(Tiny.Values(layer.lora_B.weight), v => Assert.Equal(0f, v));
        Assert.Equal(new long[] { 16, 300 }, layer.lora_A.weight.shape);
        Assert.Equal(new long[] { 40, 16 }, layer.lora_B.weight.shape);
        Assert.False(baseLayer.weight.requires_grad);
        Assert.True(layer.lora_A.weight.requires_grad && layer.lora_B.weight.requires_grad);
        Assert.Equal(2.0, layer.Scaling);
        Assert.Equal(32 / 4.0, LoraLinear.FromBase(new Linear(8, 8), r: 16, alpha: 32, rslora: true).Scaling);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void MergedEqualsUnmerged(string kind)
    {
        using var scope = torch.NewDisposeScope();
        var model = kind == "llama" ? Tiny.Llama() : Tiny.Gpt2();
        var lora = LoraModel.Apply(model, new LoraConfig { R = 4, Alpha = 8, UseRsLora = kind == "gpt2", Targets = LoraTargets.AllLinearLayers });
        torch.manual_seed(11);
        using (torch.no_grad())
            foreach (var layer in lora.Layers.Values) layer.lora_B.weight.normal_(0, 0.2);
        var ids = Tiny.Ids(2, 7);
        model.eval();
        Tensor adapted;
        using (torch.no_grad()) adapted = model.Forward(ids);
        var merged = lora.MergeAndUnload();
        Assert.DoesNotContain(merged.named_modules(), m => m.module is LoraLinear);
        Assert.Equal(kind == "llama" ? typeof(Linear) : typeof(Conv1D), merged.get_submodule(kind == "llama" ? "model.layers.0.self_attn.q_proj" : "transformer.h.0.attn.c_attn").GetType());
        Tensor after;
        using (torch.no_grad()) after = merged.Forward(ids);
        Assert.True(Tiny.MaxAbsDiff(adapted, after) < 1e-4, $"max diff {Tiny.MaxAbsDiff(adapted, after)}");
        // and the update really changed the model (the comparison above could not pass by accident)
        using var fresh = kind == "llama" ? Tiny.Llama() : Tiny.Gpt2();
        fresh.eval();
        using (torch.no_grad()) Assert.True(Tiny.MaxAbsDiff(fresh.Forward(ids), after) > 1e-3);
        // the merged model saves with the base model's tensor names
        Assert.Equal(fresh.state_dict().Keys.Order(), merged.state_dict().Keys.Order());
    }

    [Fact]
    public void TargetsByNameRegexAndAllLinear()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Llama();
        Assert.Equal(new[] { "model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj", "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj" },
            LoraTargets.Names("q_proj", "v_proj").Resolve(model));
        Assert.Equal(new[] { "model.layers.1.mlp.down_proj" }, LoraTargets.Regex(@"model\.layers\.1\..*down_proj").Resolve(model));
        Assert.Empty(LoraTargets.Regex("down_proj").Resolve(model)); // a regex must match the whole path, as in PEFT
        var all = LoraTargets.AllLinearLayers.Resolve(model);
        Assert.Equal(14, all.Count); // 7 projections × 2 layers
        Assert.DoesNotContain("lm_head", all);
        Assert.Same(LoraTargets.AllLinearLayers, LoraTargets.Names("all-linear"));

        var gpt2 = Tiny.Gpt2();
        Assert.Equal(new[] { "transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn" }, LoraTargets.Names("c_attn").Resolve(gpt2));
    }

    [Fact]
    public void NoMatchingTargetIsAClearError()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Llama();
        var e = Assert.Throws<ArgumentException>(() => LoraModel.Apply(model, new LoraConfig { Targets = LoraTargets.Names("query_key_value") }));
        Assert.Contains("query_key_value", e.Message);
        Assert.Contains("q_proj", e.Message); // lists the names that exist
        Assert.Throws<ArgumentException>(() => LoraTargets.Regex("(unclosed"));
        Assert.Throws<ArgumentOutOfRangeException>(() => LoraModel.Apply(model, new LoraConfig { R = 0 }));
    }

    [Fact]
    public void BaseIsFrozenAndTheSummaryCountsLikePeft()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Llama();
        long total = model.parameters().Sum(p => p.numel());
        var lora = LoraModel.Apply(model, new LoraConfig { R = 8, Alpha = 16, Targets = LoraTargets.Names("q_proj", "k_proj", "v_proj", "o_proj") });
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.All(trainable, n => Assert.Matches(@"\.lora_[AB]\.weight$", n));
        // per layer: q 32→32, k 32→16, v 32→16, o 32→32: r·(in + out) each
        long expected = 2 * 8 * ((32 + 32) + (32 + 16) + (32 + 16) + (32 + 32));
        var summary = lora.TrainableParameters();
        Assert.Equal(expected, summary.Trainable);
        Assert.Equal(total + expected, summary.Total);
        Assert.Equal($"trainable params: {expected:N0} || all params: {total + expected:N0} || trainable%: {100.0 * expected / (total + expected):0.0000}", summary.ToPeftString());
        Assert.Matches(@"^trainable [\d.]+K of [\d.]+K, [\d.]+%$", summary.ToString());
    }

    [Fact]
    public void UnloadRestoresTheBaseLayers()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Llama();
        var q = model.get_submodule("model.layers.0.self_attn.q_proj");
        var lora = LoraModel.Apply(model, new LoraConfig());
        Assert.IsType<LoraLinear>(model.get_submodule("model.layers.0.self_attn.q_proj"));
        lora.Unload();
        Assert.Same(q, model.get_submodule("model.layers.0.self_attn.q_proj"));
    }
}
