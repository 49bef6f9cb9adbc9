using Tunebook.Notebook.Displays;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Tests;

/// <summary>The sweep chart, the comparison table and the HTML helpers: well-formed HTML carrying the numbers.</summary>
public class DisplayTests
{
    static SweepRun Run(string label, double start, double slope, double[] val) =>
        new(label, Enumerable.Range(1, 20).Select(s => (TrainingEvent)new StepCompleted(s, s / 20.0, start - slope * s, 1e-3, 1, 100, 10, s, 0))
            .Concat(val.Select((v, i) => (TrainingEvent)new Evaluated((i + 1) * 10, v, Math.Exp(v), 100, false))).ToList());

    [Fact]
    public void Sweep_chart_has_a_line_per_run_and_series_and_a_table_with_best_losses()
    {
        var sweep = new SweepChart([Run("lr 1e-4", 3, 0.01, [2.9, 2.8]), Run("lr 1e-3", 3, 0.1, [1.5, 1.9])], "Learning rate");
        var figure = sweep.BuildFigure();
        Assert.Equal(4, figure.Traces.Count);
        var bundle = sweep.ToMimeBundle();
        var html = bundle["text/html"]!;
        HtmlCheck.WellFormed(html);
        Assert.Contains("<svg", html);
        Assert.Contains("1.5 (step 10)", html);   // best validation loss of the second run
        Assert.Contains("2.8 (step 20)", html);   // of the first
        Assert.Contains("lr 1e-3 validation", bundle[Charts.Figure.PlotlyMimeType]);
        Assert.Equal(10, Run("x", 3, 0.1, [1.5, 1.9]).Best!.Step);
    }

    [Fact]
    public void Comparison_counts_exact_matches_and_encodes_html()
    {
        var c = new Comparison([
            new ComparisonRow("list <zones>?", "Run `x`.", "Run `puddle zone list`.", "Run `puddle zone list`."),
            new ComparisonRow("init?", "Run `puddle init`.", "Run `puddle nope`.", "Run `puddle init`."),
            new ComparisonRow("free prompt", "a", "b"),
        ]);
        Assert.Equal((1, 1, 2), c.Matches);
        var html = c.ToMimeBundle()["text/html"]!;
        HtmlCheck.WellFormed(html);
        Assert.Contains("list &lt;zones&gt;?", html);
        Assert.DoesNotContain("<zones>", html);
        Assert.Contains("base 1/2, tuned 1/2", c.ToString());
    }

    [Fact]
    public void Html_helpers_format_durations_numbers_and_progress()
    {
        Assert.Equal("12.3s", Html.Duration(12.34));
        Assert.Equal("2m 05s", Html.Duration(125));
        Assert.Equal("1h 01m", Html.Duration(3660));
        Assert.Equal("–", Html.Duration(double.NaN));
        Assert.Equal("–", Html.Num(double.NaN));
        Assert.Contains("width:50%", Html.ProgressBar(0.5));
        Assert.Contains("width:100%", Html.ProgressBar(3));
        HtmlCheck.WellFormed(Html.KeyValues([("a", "<b>")]));
        Assert.Contains("&lt;b&gt;", Html.KeyValues([("a", "<b>")]));
    }
}

/// <summary>Tune.Perplexity against the trainer's own measurement of the same windows.</summary>
public class PerplexityTests
{
    [Fact]
    public void Perplexity_matches_the_trainer_measure_on_the_same_windows()
    {
        var model = TinyModel.Create();
        var text = string.Join("\n", File.ReadLines(Path.Combine(ChartPaths.RepoRoot, "datasets/puddle/docs.txt")).Take(40));
        var ids = TinyModel.Tokenizer.EncodeToIds(text, false).Select(i => (long)i).ToArray();
        const int window = 64;
        var windows = ids.Chunk(window).Where(c => c.Length >= 2).ToList();
        var data = InMemoryTrainingData.FromSequences(windows);
        using var trainer = new Trainer(model, data, null, new TrainerOptions { MaxSteps = 1, BatchSize = 1 });
        var (loss, tokens) = trainer.Measure(data);
        Assert.Equal(ids.Length - windows.Count, tokens);
        Assert.Equal(Math.Exp(loss), Tune.Perplexity(model, text, window), 4);
        // An untrained model is close to uniform over the vocabulary.
        Assert.InRange(Tune.Perplexity(model, text, window), TinyModel.Tokenizer.VocabSize * 0.3, TinyModel.Tokenizer.VocabSize * 3.0);
    }
}
