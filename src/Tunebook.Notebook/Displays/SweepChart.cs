using System.Globalization;
using Tunebook.Interactive;
using Tunebook.Notebook.Charts;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Displays;

/// <summary>One run of a sweep: its label (for example "lr 3e-4") and its trainer's history.</summary>
public sealed record SweepRun(string Label, IReadOnlyList<TrainingEvent> History)
{
    public IEnumerable<StepCompleted> Steps => History.OfType<StepCompleted>();
    public IEnumerable<Evaluated> Evaluations => History.OfType<Evaluated>();
    /// <summary>The lowest validation loss and its step, or null without evaluations.</summary>
    public Evaluated? Best => Evaluations.MinBy(e => e.Loss);
    public static SweepRun Of(string label, Trainer trainer) => new(label, trainer.History.ToList());
}

/// <summary>
/// Compares the runs of a learning-rate or batch-size sweep: train loss (solid) and validation loss (dashed
/// with markers) of every run on one chart, and a table with each run's final and best losses.
/// </summary>
public sealed class SweepChart(IReadOnlyList<SweepRun> runs, string? title = null) : Formatters.IRichDisplay
{
    public IReadOnlyList<SweepRun> Runs { get; } = runs ?? throw new ArgumentNullException(nameof(runs));
    public string Title { get; } = title ?? "Sweep";

    public Figure BuildFigure()
    {
        var fig = Figure.Create().WithTitle(Title).WithXAxis("step").WithYAxis("loss");
        for (int i = 0; i < Runs.Count; i++)
        {
            var run = Runs[i];
            var steps = run.Steps.Where(s => double.IsFinite(s.Loss)).ToList();
            fig.AddLine($"{run.Label} train", steps.Select(s => (double)s.Step), steps.Select(s => s.Loss), color: Colorway.At(i), width: 1.5);
            var evals = run.Evaluations.ToList();
            if (evals.Count > 0)
                fig.AddLine($"{run.Label} validation", evals.Select(e => (double)e.Step), evals.Select(e => e.Loss), markers: true, color: Colorway.At(i), dash: LineDash.Dash);
        }
        return fig;
    }

    IEnumerable<IReadOnlyList<string>> TableRows() => Runs.Select(r =>
    {
        var last = r.Steps.LastOrDefault();
        var lastEval = r.Evaluations.LastOrDefault();
        var best = r.Best;
        return (IReadOnlyList<string>)[Html.Encode(r.Label), last is null ? "–" : last.Step.ToString(CultureInfo.InvariantCulture),
            last is null ? "–" : Html.Num(last.Loss), lastEval is null ? "–" : Html.Num(lastEval.Loss),
            best is null ? "–" : $"{Html.Num(best.Loss)} (step {best.Step})"];
    });

    static readonly string[] Header = ["Run", "Steps", "Final train loss", "Final validation loss", "Best validation loss"];

    public override string ToString() =>
        string.Join("\n", TableRows().Select(r => string.Join(" | ", r.Select(c => System.Net.WebUtility.HtmlDecode(c)))).Prepend(string.Join(" | ", Header)));

    public MimeBundle ToMimeBundle()
    {
        var fig = BuildFigure().ToMimeBundle();
        var table = Html.Table(Header, TableRows(), Title);
        // The figure's bundle keeps its Plotly JSON and SVG; the table travels as HTML beside them.
        fig["text/plain"] = ToString();
        fig["text/html"] = (fig["text/html"] ?? fig[Figure.SvgMimeType] ?? "") + table;
        return fig;
    }
}
