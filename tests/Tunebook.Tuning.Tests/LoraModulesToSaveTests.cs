using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>
/// modules_to_save: modules trained in full beside the adapters (PEFT's name), e.g. the token embeddings
/// when the data uses words the base model never saw. Exactness at start, switching back to the base
/// weights, export under PEFT's names, reload, merge and unload.
/// </summary>
[Collection(TorchCollection.Name)]
public class LoraModulesToSaveTests
{
    static readonly LoraConfig Config = new() { R = 4, Alpha = 8, Targets = LoraTargets.Names("q_proj", "v_proj"), ModulesToSave = ["embed_tokens"] };

    /// <summary>A few optimizer steps so both the adapters and the embeddings move away from their start.</summary>
    static void Train(CausalLM model)
    {
        using var trainer = new Trainer(model, Tiny.Examples(8), null, new TrainerOptions { MaxSteps = 3, LearningRate = 1e-2, BatchSize = 4 });
        trainer.Run();
    }

    [Fact]
    public void EmbeddingsTrainBesideTheAdaptersAndStartExact()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Llama();
        var ids = Tiny.Ids(2, 6);
        var baseline = model.Forward(ids).detach().clone();
        var embedding = model.get_submodule("model.embed_tokens").parameters().Single();
        long adapters;
        {
            var plain = LoraModel.Apply(Tiny.Llama(), Config with { ModulesToSave = null });
            adapters = plain.TrainableParameters().Trainable;
        }
        var lora = LoraModel.Apply(model, Config);
        Assert.Equal(["model.embed_tokens"], lora.SavedModules.Keys);
        Assert.True(embedding.requires_grad);
        Assert.Equal(adapters + embedding.numel(), lora.TrainableParameters().Trainable);
        Assert.Equal(0, Tiny.MaxAbsDiff(model.Forward(ids), baseline));

        var before = embedding.detach().clone();
        Train(model);
        Assert.True(Tiny.MaxAbsDiff(embedding, before) > 0, "the embeddings did not train");
    }

    [Fact]
    public void SwitchingToTheOriginalWeightsGivesTheBaseModelExactly()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Llama();
        var ids = Tiny.Ids(2, 6);
        var baseline = model.Forward(ids).detach().clone();
        var lora = LoraModel.Apply(model, Config);
        Train(model);
        var tuned = model.Forward(ids).detach().clone();
        Assert.True(Tiny.MaxAbsDiff(tuned, baseline) > 1e-4);

        // Adapters off (B zeroed) and the original embeddings back: exactly the base model; then the tuned one again.
        using (lora.DisableAdapters())
            Assert.Equal(0, Tiny.MaxAbsDiff(model.Forward(ids), baseline));
        Assert.Equal(0, Tiny.MaxAbsDiff(model.Forward(ids), tuned));
    }

    [Fact]
    public void ExportUsesPeftNamesAndReloadsToTheSameModel()
    {
        using var scope = torch.NewDisposeScope();
        var dir = Tiny.TempDir();
        var model = Tiny.Llama();
        var lora = LoraModel.Apply(model, Config);
        Train(model);
        var ids = Tiny.Ids(2, 6);
        var tuned = model.Forward(ids).detach().clone();
        lora.SaveAdapter(dir);

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "adapter_config.json")))!.AsObject();
        Assert.Equal(["embed_tokens"], config["modules_to_save"]!.AsArray().Select(n => n!.GetValue<string>()));
        var names = Safetensors.Load(Path.Combine(dir, "adapter_model.safetensors")).Keys.ToHashSet();
        Assert.Contains("base_model.model.model.embed_tokens.weight", names);
        Assert.Contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", names);

        using var adapter = LoraAdapter.Load(dir);
        Assert.Equal(["embed_tokens"], adapter.Config.ModulesToSave);
        var fresh = Tiny.Llama();
        var reloaded = adapter.ApplyTo(fresh);
        Assert.Equal(0, Tiny.MaxAbsDiff(fresh.Forward(ids), tuned));

        // Merging keeps the trained embeddings; unloading puts the original ones back.
        var merged = reloaded.MergeAndUnload();
        Assert.True(Tiny.MaxAbsDiff(merged.Forward(ids), tuned) < 1e-5);
        Assert.False(merged.get_submodule("model.embed_tokens").parameters().Single().requires_grad);

        var other = Tiny.Llama();
        var baseline = other.Forward(ids).detach().clone();
        var again = adapter.ApplyTo(other);
        again.Unload();
        Assert.Equal(0, Tiny.MaxAbsDiff(other.Forward(ids), baseline));
    }

    [Fact]
    public void BadModulesToSaveAreClearErrors()
    {
        using var scope = torch.NewDisposeScope();
        var unknown = Assert.Throws<ArgumentException>(() => LoraModel.Apply(Tiny.Llama(), Config with { ModulesToSave = ["embeddings"] }));
        Assert.Contains("'embeddings' matches no module", unknown.Message);
        Assert.Contains("model.embed_tokens", unknown.Message);
        var overlap = Assert.Throws<ArgumentException>(() => LoraModel.Apply(Tiny.Llama(), Config with { ModulesToSave = ["q_proj"] }));
        Assert.Contains("overlaps a layer that gets an adapter", overlap.Message);

        // An adapter file whose modules_to_save weights are missing names the tensor.
        var dir = Tiny.TempDir();
        LoraModel.Apply(Tiny.Llama(), Config with { ModulesToSave = null }).SaveAdapter(dir);
        var configPath = Path.Combine(dir, "adapter_config.json");
        var json = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        json["modules_to_save"] = new JsonArray("embed_tokens");
        File.WriteAllText(configPath, json.ToJsonString());
        using var adapter = LoraAdapter.Load(dir);
        var missing = Assert.Throws<InvalidDataException>(() => adapter.ApplyTo(Tiny.Llama()));
        Assert.Contains("missing tensor 'base_model.model.model.embed_tokens.weight' (modules_to_save)", missing.Message);
    }

    [Fact]
    public void AdaptersInitialiseFromTheirSeedWithoutTouchingTheGlobalGenerator()
    {
        using var scope = torch.NewDisposeScope();
        // Tiny.Llama() seeds the global generator itself, so every model is built before the state is set.
        Tensor FirstA(CausalLM m, LoraConfig c) => LoraModel.Apply(m, c).Layers.Values.First().lora_A.weight.detach().clone();
        var config = Config with { ModulesToSave = null, Seed = 7 };
        var models = Enumerable.Range(0, 5).Select(_ => Tiny.Llama()).ToArray();
        torch.manual_seed(1);
        var expectedNext = torch.rand(3).data<float>();
        torch.manual_seed(1);
        var a = FirstA(models[0], config);
        Assert.Equal(expectedNext, torch.rand(3).data<float>()); // the global stream is where it was
        torch.manual_seed(99);
        Assert.True(a.equal(FirstA(models[1], config)), "the same seed gives the same adapters whatever the global state");
        Assert.False(a.equal(FirstA(models[2], config with { Seed = 8 })));
        torch.manual_seed(5);
        var fromGlobal = FirstA(models[3], config with { Seed = null });
        torch.manual_seed(5);
        Assert.True(fromGlobal.equal(FirstA(models[4], config with { Seed = null })));
    }
}
