using Tunebook.Models;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Lora;

namespace Tunebook.Tuning.Runs;

public sealed partial record RunInputs
{
    /// <summary>
    /// The inputs of a run built from the objects a notebook cell has: the model (loaded from a folder, with whatever adapters
    /// <see cref="LoraModel.Apply"/> put on it), the prepared data (with its <see cref="DataRecipe"/> when it came from files) and,
    /// optionally, the generation settings used for samples. <c>#!train</c>, <c>Tune.Train</c> and
    /// <c>new RunRecorder(trainer, folder, RunInputs.Of(model, data))</c> beside <c>new Trainer(…)</c> all record this.
    /// </summary>
    public static RunInputs Of(CausalLM model, PreparedData data, GenerationOptions? generation = null, string startedBy = "trainer")
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        var source = model.LoadReport?.Source
            ?? throw new InvalidOperationException("the model was not loaded from a folder, so the run record cannot name its weights (load it with Tune.LoadModel, #!model load or CausalLM.FromPretrained)");
        var adapter = RecordedAdapter.Of(model);
        var options = new Dictionary<string, object?>
        {
            ["model"] = RunSettingsJson.ToNode(RecordedModelSettings.Of(model)),
            ["adapter"] = RunSettingsJson.ToNode(adapter),
        };
        if (generation is not null) options["generation"] = new System.Text.Json.Nodes.JsonArray(RunSettingsJson.ToNode(RecordedGeneration.Of(generation)));
        var seeds = new Dictionary<string, long>();
        if (adapter.Seed is { } loraSeed) seeds["lora"] = loraSeed;
        if (data.Recipe is { } recipe) seeds["data"] = recipe.Prepare.Seed;
        return new RunInputs
        {
            ModelFolder = File.Exists(source) ? Path.GetDirectoryName(Path.GetFullPath(source))! : source,
            Train = data.Train, Validation = data.Validation, Recipe = data.Recipe,
            NoRecipeReason = data.Recipe is null ? data.NoRecipeReason ?? $"the data ({data.Report.Source}) has no recipe" : null,
            Options = options, Seeds = seeds, StartedBy = startedBy, SaveOutput = true,
        };
    }
}
