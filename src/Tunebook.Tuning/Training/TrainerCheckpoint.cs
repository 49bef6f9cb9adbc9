using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Torch.optim;

namespace Tunebook.Tuning.Training;

// Checkpoints: everything a run needs to continue exactly where it stopped.
public sealed partial class Trainer
{
    const string StateFile = "trainer_state.json";
    const string TrainableFile = "trainable.safetensors";
    const string OptimizerFile = "optimizer.safetensors";
    const string RngFile = "rng_state.safetensors";
    const string BestFile = "best.safetensors";
    const string Format = "tunebook-trainer-checkpoint";

    /// <summary>JSON settings for trainer state and metrics: enums as strings, NaN/∞ allowed, snake_case names.</summary>
    /// <remarks>Backed by source-generated metadata (<see cref="TuningJsonContext.Snake"/>), so it works where reflection is off.</remarks>
    public static JsonSerializerOptions JsonOptions => TuningJsonContext.Snake.Options;

    /// <summary>
    /// Writes a checkpoint folder: the trainable weights (float32 masters under bf16), the optimizer's
    /// moments and step counts, the torch RNG state, the counters, the options, the best-evaluation
    /// snapshot and the event history. Everything is written into a temporary sibling folder that then
    /// takes the place of <paramref name="folder"/> in one rename, so a crash never leaves a half-written checkpoint.
    /// </summary>
    public void SaveCheckpoint(string folder)
    {
        ArgumentNullException.ThrowIfNull(folder);
        // The folder is swapped in whole (AtomicFolder): a kill mid-save leaves the previous checkpoint.
        Tunebook.IO.AtomicFolder.Replace(folder, temp =>
        {
            using (var scope = torch.NewDisposeScope())
            {
                var weights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                for (int i = 0; i < _trainable.Count; i++) weights[_trainable[i].Name] = _optimized[i].detach().contiguous();
                Safetensors.Save(Path.Combine(temp, TrainableFile), weights);

                using var optState = _optimizer.state_dict();
                if (optState.Tensors.Count > 0) Safetensors.Save(Path.Combine(temp, OptimizerFile), optState.Tensors);
                Safetensors.Save(Path.Combine(temp, RngFile), new Dictionary<string, Tensor> { ["cpu"] = torch.get_rng_state() });
                if (_bestSnapshot is not null) Safetensors.Save(Path.Combine(temp, BestFile), _bestSnapshot);

                var state = new JsonObject
                {
                    ["format"] = Format,
                    ["version"] = 1,
                    ["global_step"] = GlobalStep,
                    ["epoch"] = Epoch,
                    ["batch_in_epoch"] = BatchInEpoch,
                    ["total_steps"] = TotalSteps,
                    ["finish_reason"] = FinishReason is { } r ? JsonValue.Create(r.ToString()) : null,
                    ["best_step"] = BestStep,
                    ["best_loss"] = BestLoss is { } b ? JsonSerializer.SerializeToNode(b, TuningJsonContext.Snake.Double) : null,
                    ["evals_without_improvement"] = _evalsWithoutImprovement,
                    ["last_eval_step"] = _lastEvalStep,
                    ["elapsed_seconds"] = Elapsed,
                    ["train_examples"] = _train.Count,
                    ["trainable_parameters"] = new JsonArray(_trainable.Select(t => (JsonNode)JsonValue.Create(t.Name)!).ToArray()),
                    ["reported_empty_examples"] = new JsonArray(_reportedEmptyExamples.Order().Select(i => (JsonNode)JsonValue.Create(i)!).ToArray()),
                    ["optimizer_scalars"] = JsonSerializer.SerializeToNode(optState.Scalars, TuningJsonContext.Snake.DictionaryStringDouble),
                    ["options"] = JsonSerializer.SerializeToNode(Options, TuningJsonContext.Snake.TrainerOptions),
                    ["history"] = JsonSerializer.SerializeToNode(_history, TuningJsonContext.Snake.ListTrainingEvent),
                };
                File.WriteAllText(Path.Combine(temp, StateFile), state.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            }
        });
    }

    /// <summary>
    /// Continues a run from a checkpoint folder. <paramref name="model"/> must be prepared as for the
    /// original run (same base weights, same adapters: the trainable parameter names must match) and
    /// <paramref name="train"/> must hold the same examples. The options are those of the checkpoint
    /// unless <paramref name="options"/> is given (e.g. to extend MaxSteps).
    /// </summary>
    public static Trainer Resume(string folder, CausalLM model, ITrainingData train, ITrainingData? validation = null, TrainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var statePath = Path.Combine(folder, StateFile);
        if (!File.Exists(statePath)) throw new FileNotFoundException($"{folder}: not a trainer checkpoint (no {StateFile})", statePath);
        JsonObject state;
        try { state = JsonNode.Parse(File.ReadAllText(statePath)) as JsonObject ?? throw new InvalidDataException($"{statePath}: expected a JSON object"); }
        catch (JsonException e) { throw new InvalidDataException($"{statePath}: invalid JSON: {e.Message}", e); }
        if (state["format"]?.GetValue<string>() != Format) throw new InvalidDataException($"{statePath}: not a Tunebook trainer checkpoint (field 'format')");

        T Field<T>(string name) => state[name] is { } node ? node.Deserialize((JsonTypeInfo<T>)TuningJsonContext.Snake.GetTypeInfo(typeof(T))!)! : throw new InvalidDataException($"{statePath}: missing field '{name}'");
        var saved = Field<TrainerOptions>("options");
        var trainer = new Trainer(model, train, validation, options ?? saved);
        try
        {
            var names = Field<string[]>("trainable_parameters");
            if (!names.SequenceEqual(trainer.TrainableParameterNames))
            {
                var missing = names.Except(trainer.TrainableParameterNames).Take(5);
                var extra = trainer.TrainableParameterNames.Except(names).Take(5);
                throw new InvalidDataException($"{folder}: the model's trainable parameters differ from the checkpoint's (in the checkpoint only: {string.Join(", ", missing)}; in the model only: {string.Join(", ", extra)}); prepare the model as for the original run (same adapters)");
            }
            int examples = Field<int>("train_examples");
            if (examples != train.Count)
                throw new InvalidDataException($"{folder}: the checkpoint was trained on {examples} examples, the training data now has {train.Count}; resume needs the same data");

            using (var scope = torch.NewDisposeScope())
            {
                trainer.LoadTrainable(Safetensors.Load(Path.Combine(folder, TrainableFile)));
                using var optState = new OptimizerState();
                foreach (var (k, v) in Field<Dictionary<string, double>>("optimizer_scalars")) optState.Scalars[k] = v;
                var optPath = Path.Combine(folder, OptimizerFile);
                if (File.Exists(optPath))
                    foreach (var (k, v) in Safetensors.Load(optPath)) optState.Tensors[k] = v.DetachFromDisposeScope();
                trainer._optimizer.load_state_dict(optState);
                var bestPath = Path.Combine(folder, BestFile);
                if (File.Exists(bestPath))
                    trainer._bestSnapshot = Safetensors.Load(bestPath).ToDictionary(kv => kv.Key, kv => kv.Value.DetachFromDisposeScope(), StringComparer.Ordinal);
                torch.set_rng_state(Safetensors.Load(Path.Combine(folder, RngFile))["cpu"]);
            }

            trainer.GlobalStep = Field<int>("global_step");
            trainer.Epoch = Field<int>("epoch");
            trainer.BatchInEpoch = Field<int>("batch_in_epoch");
            trainer.BestStep = state["best_step"]?.GetValue<int>();
            trainer.BestLoss = state["best_loss"]?.Deserialize(TuningJsonContext.Snake.Double);
            trainer._evalsWithoutImprovement = Field<int>("evals_without_improvement");
            trainer._lastEvalStep = Field<int>("last_eval_step");
            trainer._elapsedBefore = Field<double>("elapsed_seconds");
            foreach (var i in Field<int[]>("reported_empty_examples")) trainer._reportedEmptyExamples.Add(i);
            trainer._history.AddRange(Field<List<TrainingEvent>>("history"));
            if (state["finish_reason"]?.GetValue<string>() is { } reason && (options is null || trainer.GlobalStep >= trainer.TotalSteps))
                trainer.FinishReason = Enum.Parse<StopReason>(reason);
            trainer._resumed = true;
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }
}
