using Tunebook.Models;
using Tunebook.Notebook.Displays;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Runs;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Tests;

/// <summary>Runs recorded from the notebook API, listed in a table with their loss curves, and compared field by field.</summary>
[Collection(HostCollection.Name)]
public class RunsViewTests
{
    [Fact]
    public void Recorded_notebook_runs_are_listed_charted_and_compared()
    {
        var dir = TinyModel.TempDir();
        var modelFolder = Path.Combine(dir, "model");
        using (var tiny = TinyModel.Create())
        {
            tiny.SavePretrained(modelFolder);
            tiny.Tokenizer!.Save(modelFolder);
        }
        var data = Tune.LoadData("datasets/puddle/train.jsonl", TinyModel.Tokenizer, val: 0.1, maxLength: 64);
        var runs = Path.Combine(dir, "runs");
        foreach (var (name, lr) in new[] { ("lr-1e-3", 1e-3), ("lr-3e-3", 3e-3) })
        {
            using var model = CausalLM.FromPretrained(modelFolder);
            LoraModel.Apply(model, new LoraConfig { R = 4, Alpha = 8 });
            using var trainer = Tune.CreateTrainer(model, data, new TrainerOptions { MaxSteps = 3, LearningRate = lr, BatchSize = 4, EvalEvery = 3 }, Path.Combine(runs, name));
            trainer.Run();
        }

        var view = Tune.Runs(runs);
        Assert.Equal(["lr-1e-3", "lr-3e-3"], view.Runs.Select(r => r.Name));
        var rows = view.TableRows();
        Assert.Equal("model", rows[0][2]);
        Assert.Equal("train.jsonl", rows[0][3]);
        Assert.Equal("lora", rows[0][4]);
        Assert.Equal("4/8", rows[0][5]);
        Assert.Equal(["0.001", "0.003"], rows.Select(r => r[6]));
        Assert.Equal("3", rows[1][8]);
        var best = view.Runs[1].History.OfType<Evaluated>().Single();
        Assert.Equal($"{best.Loss.ToString("0.0000", System.Globalization.CultureInfo.InvariantCulture)} (3)", rows[1][9]);
        Assert.Equal("cpu", rows[1][11]);
        Assert.Equal(4, view.BuildFigure().Traces.Count); // train and validation of each run
        var html = view.ToMimeBundle()["text/html"]!;
        Assert.Contains("lr-3e-3", html);
        Assert.Contains($"Runs in {DisplayPath.Of(runs)}", html);
        Assert.All(rows.SelectMany(r => r), cell => Assert.False(Path.IsPathRooted(cell), cell)); // no absolute path in the table

        Assert.Single(Tune.Runs(runs, last: 1).Runs, r => r.Name == "lr-3e-3");

        var diff = view.Compare("lr-1e-3", "lr-3e-3");
        Assert.Contains(diff.Fields, f => f.Field == "options.trainer.learning_rate" && f.A == "0.001" && f.B == "0.003");
        Assert.Contains(diff.Fields, f => f.Field == "name");
        Assert.DoesNotContain(diff.Fields, f => f.Field.StartsWith("model.files", StringComparison.Ordinal)); // same weights
        Assert.DoesNotContain(diff.Fields, f => f.Field == "data.train_fingerprint");                          // same prepared data
        Assert.Throws<KeyNotFoundException>(() => view.Compare("lr-1e-3", "nope"));
    }

    [Fact]
    public void A_notebook_run_records_its_data_recipe_and_samples_and_replays_bit_for_bit()
    {
        var dir = TinyModel.TempDir();
        var modelFolder = Path.Combine(dir, "model");
        using (var tiny = TinyModel.Create())
        {
            tiny.SavePretrained(modelFolder);
            tiny.Tokenizer!.Save(modelFolder);
        }
        var file = Path.Combine(dir, "train.jsonl");
        File.WriteAllLines(file, File.ReadLines(Tune.RepoPath("datasets/puddle/train.jsonl")!).Take(24));
        var run = Path.Combine(dir, "runs", "notebook");
        using (var model = Tune.LoadModel(modelFolder))
        {
            var data = Tune.LoadData(file, model.Tokenizer!, val: 0.25, maxLength: 64);
            Tune.ApplyLora(model, new LoraConfig { R = 4, Alpha = 8, Dropout = 0.1 });
            using var trainer = Tune.CreateTrainer(model, data, new TrainerOptions { MaxSteps = 3, LearningRate = 3e-3, BatchSize = 4, EvalEvery = 3 }, run);
            trainer.Run();
            Tune.Generate(model, "How do I list my zones?", new GenerationOptions { MaxNewTokens = 3, DoSample = false });
        }

        var record = RunRecord.Load(run);
        Assert.Equal("notebook", record.StartedBy);
        Assert.Equal("train.jsonl", Path.GetFileName((string)record.Options["data"]!["path"]!));
        Assert.Equal(42, record.Seeds["lora"]);
        Assert.Equal(3, (int)record.Options["generation"]![0]!["max_new_tokens"]!);
        Assert.Equal("adapter", record.Output!.Kind);

        var report = Tune.Replay(run);
        Assert.True(report.BitIdentical, report.ToString());
        Assert.Equal(3 + 1, report.Losses.Count);
    }
}
