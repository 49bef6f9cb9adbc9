// Chart rendering cost in Tunebook: build a loss-curve Figure (train loss every step, val loss every 100 steps
// with markers, perplexity on a log right-hand axis, a marker line) and produce its whole MIME bundle
// (SVG + Plotly JSON + summary), the work a live chart redoes on every redraw.
// Run by tests/bench/charts.sh, which measures the python reference in the same run.
#:project ../../src/Tunebook.Notebook/Tunebook.Notebook.csproj
#:property PublishAot=false
using System.Diagnostics;
using System.Text.Json;
using Tunebook.Notebook.Charts;

var sizes = args.Select(int.Parse).ToArray();
foreach (var n in sizes)
{
    var rng = new Random(1);
    var steps = Enumerable.Range(1, n).ToArray();
    var loss = steps.Select(s => 2.4 * Math.Exp(-s * 4.0 / n) + 0.6 + 0.05 * rng.NextDouble()).ToArray();
    var evalSteps = steps.Where(s => s % 100 == 0).ToArray();
    var val = evalSteps.Select(s => loss[s - 1] + 0.1).ToArray();

    Figure Build() => Figure.Create()
        .AddLine("train loss", steps, loss)
        .AddLine("val loss", evalSteps, val, markers: true)
        .AddLine("val perplexity", evalSteps, val.Select(Math.Exp), secondaryY: true)
        .AddVerticalLine(n / 2, "best step")
        .WithTitle("Fine-tuning loss").WithXAxis("step").WithYAxis("loss").WithSecondaryYAxis("perplexity", log: true);

    // Untimed runs first so JIT compilation is not measured; then the median of several.
    int repeats = n >= 50_000 ? 5 : 15;
    for (int i = 0; i < 3; i++) Build().ToMimeBundle();
    double Median(Func<double> run) => Enumerable.Range(0, repeats).Select(_ => run()).Order().ElementAt(repeats / 2);
    double svg = Median(() => { var f = Build(); var c = Stopwatch.StartNew(); f.ToSvg(); return c.Elapsed.TotalSeconds; });
    double json = Median(() => { var f = Build(); var c = Stopwatch.StartNew(); f.ToPlotlyJson(); return c.Elapsed.TotalSeconds; });
    double bundle = Median(() => { var c = Stopwatch.StartNew(); Build().ToMimeBundle(); return c.Elapsed.TotalSeconds; });
    var b = Build().ToMimeBundle();
    Console.WriteLine(JsonSerializer.Serialize(new
    {
        points = n, svg_s = svg, json_s = json, bundle_s = bundle,
        svg_bytes = b[Figure.SvgMimeType]!.Length, json_bytes = b[Figure.PlotlyMimeType]!.Length,
    }));
}
