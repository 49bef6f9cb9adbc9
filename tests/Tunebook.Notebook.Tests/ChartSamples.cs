using Tunebook.Notebook.Charts;

namespace Tunebook.Notebook.Tests;

/// <summary>Figures shaped like the ones the product draws, shared by the JSON, SVG and browser tests.</summary>
static class ChartSamples
{
    /// <summary>A training run: 3,000 noisy train-loss steps, evaluation every 100 steps, perplexity on a right-hand axis.</summary>
    public static Figure LossCurves(int steps = 3000)
    {
        var rng = new Random(7);
        var x = Enumerable.Range(1, steps).ToArray();
        var train = x.Select(s => 2.4 * Math.Exp(-s / 700.0) + 0.6 + 0.08 * (rng.NextDouble() - 0.5)).ToArray();
        var evalSteps = x.Where(s => s % 100 == 0).ToArray();
        var val = evalSteps.Select(s => 2.4 * Math.Exp(-s / 800.0) + 0.72 + 0.0001 * Math.Max(0, s - 2200)).ToArray();
        int best = evalSteps[Array.IndexOf(val, val.Min())];
        return Figure.Create()
            .AddLine("train loss", x, train)
            .AddLine("val loss", evalSteps, val, markers: true)
            .AddLine("val perplexity", evalSteps, val.Select(Math.Exp), dash: LineDash.Dot, secondaryY: true)
            .AddVerticalLine(best, $"best step {best}")
            .WithTitle("Fine-tuning loss")
            .WithXAxis("step")
            .WithYAxis("loss")
            .WithSecondaryYAxis("perplexity", log: true);
    }

    /// <summary>A learning-rate sweep: five runs, one colour each, on a log loss axis.</summary>
    public static Figure Sweep()
    {
        var steps = Enumerable.Range(0, 50).Select(i => i * 20).ToArray();
        var figure = Figure.Create().WithTitle("Learning-rate sweep").WithXAxis("step").WithYAxis("val loss", log: true);
        foreach (var (lr, i) in new[] { 1e-5, 3e-5, 1e-4, 3e-4, 1e-3 }.Select((lr, i) => (lr, i)))
            figure.AddLine($"lr={lr:0e0}", steps, steps.Select(s => 3.0 * Math.Exp(-s * lr * 20) + 0.3 + 0.05 * i));
        return figure;
    }

    /// <summary>Trainable parameters and memory for full fine-tuning, LoRA and QLoRA: grouped bars with SI ticks.</summary>
    public static Figure MethodBars() => Figure.Create()
        .AddBar("trainable parameters", ["full", "LoRA r=16", "QLoRA r=16"], new long[] { 1_100_048_384, 12_615_680, 12_615_680 })
        .AddBar("peak memory (bytes)", ["full", "LoRA r=16", "QLoRA r=16"], new long[] { 17_600_000_000, 4_400_000_000, 1_900_000_000 })
        .WithTitle("Full vs LoRA vs QLoRA")
        .WithYAxis("count", tickFormat: "~s");

    /// <summary>Token lengths of a dataset with a max-length marker.</summary>
    public static Figure TokenLengths()
    {
        var rng = new Random(3);
        var lengths = Enumerable.Range(0, 5000).Select(_ => (int)Math.Round(Math.Exp(4.5 + 0.6 * Normal(rng)))).ToArray();
        return Figure.Create()
            .AddHistogram("examples", lengths, binWidth: 32)
            .AddVerticalLine(512, "max_length 512", color: "#d62728")
            .WithTitle("Token lengths")
            .WithXAxis("tokens per example")
            .WithYAxis("examples");
    }

    /// <summary>Two rows sharing the step axis: loss on top, learning rate below.</summary>
    public static Figure LossAndLearningRate()
    {
        var steps = Enumerable.Range(0, 600).ToArray();
        var loss = steps.Select(s => 2.0 * Math.Exp(-s / 150.0) + 0.5 + (s == 300 ? double.NaN : 0)).ToArray();
        var lr = steps.Select(s => s < 60 ? 2e-4 * s / 60 : 2e-4 * 0.5 * (1 + Math.Cos(Math.PI * (s - 60) / 540))).ToArray();
        return Figure.Create()
            .AddLine("loss", steps, loss)
            .AddLine("learning rate", steps, lr, color: "#2ca02c", row: 2)
            .AddHorizontalLine(0.6, "target 0.6", row: 1)
            .Annotate(300, 2.0 * Math.Exp(-2) + 0.5, "NaN step skipped")
            .WithTitle("Loss and schedule")
            .WithXAxis("step")
            .WithYAxis("loss", row: 1)
            .WithYAxis("lr", tickFormat: ".0e", row: 2);
    }

    /// <summary>A grid search of 30 runs with long names: more legend entries than fit, names that need shortening.</summary>
    public static Figure ManyRuns()
    {
        var steps = Enumerable.Range(0, 40).Select(i => i * 25).ToArray();
        var figure = Figure.Create().WithTitle("Grid search: learning rate × batch size × LoRA rank").WithXAxis("step").WithYAxis("val loss");
        int run = 0;
        foreach (var lr in new[] { 5e-5, 1e-4, 2e-4, 5e-4, 1e-3 })
            foreach (var batch in new[] { 8, 16, 32 })
                foreach (var rank in new[] { 8, 64 })
                {
                    int seed = run++;
                    figure.AddLine($"lr={lr:0e0} batch={batch} rank={rank} warmup=100 cosine schedule", steps,
                        steps.Select(s => 2.5 * Math.Exp(-s * lr * batch / 4) + 0.4 + 0.01 * seed));
                }
        return figure;
    }

    /// <summary>LoRA parameters per target module, stacked A and B: long category names that need turning.</summary>
    public static Figure ModuleParameters()
    {
        string[] modules = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];
        var names = Enumerable.Range(0, 2).SelectMany(layer => modules.Select(m => $"model.layers.{layer}.{(m.EndsWith("proj") && m.Length == 6 ? "self_attn" : "mlp")}.{m}")).ToArray();
        var a = names.Select(n => n.Contains("mlp") ? 16 * 2048.0 : 16 * 1024.0).ToArray();
        var b = names.Select(n => n.Contains("down") ? 16 * 1024.0 : n.Contains("mlp") ? 16 * 5632.0 : 16 * 1024.0).ToArray();
        return Figure.Create().AddBar("lora_A", names, a).AddBar("lora_B", names, b)
            .WithBarMode(BarMode.Stack).WithTitle("Trainable parameters per module").WithYAxis("parameters", tickFormat: "~s");
    }

    /// <summary>All the samples, by name (for screenshots).</summary>
    public static IEnumerable<(string Name, Figure Figure)> All() =>
    [
        ("loss-curves", LossCurves()), ("sweep", Sweep()), ("method-bars", MethodBars()),
        ("token-lengths", TokenLengths()), ("loss-and-lr", LossAndLearningRate()), ("many-runs", ManyRuns()), ("module-parameters", ModuleParameters()),
    ];

    static double Normal(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
