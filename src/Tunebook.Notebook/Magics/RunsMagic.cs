using Tunebook.Interactive;

namespace Tunebook.Notebook.Magics;

public sealed class RunsOptions
{
    [Argument(0, "folder", Help = "The folder whose sub-folders are runs (default: runs, beside the notebook)", Required = false)] public string Folder { get; set; } = "runs";
    [Option("--last", Help = "Show only the N most recent runs")] public int? Last { get; set; }
}

/// <summary>#!runs [FOLDER] [--last N] → a table and a loss chart of the recorded runs (variable <c>runs</c>).</summary>
public sealed class RunsMagic : MagicCommand<RunsOptions>
{
    public override string Name => "runs";
    public override string Summary => "Show the recorded runs in a folder (default runs/): a table of their settings and results, and their loss curves";
    public override IReadOnlyList<string> Examples =>
    [
        "#!runs",
        "#!runs runs --last 5",
        "C#: Tune.Runs(\"runs\", last: 5)",
        "C#: Tune.Runs().Compare(\"lr-1e-3\", \"lr-2e-3\")",
    ];

    protected override Task RunAsync(RunsOptions o, IMagicContext context)
    {
        if (o.Last is < 1) throw new MagicUsageException($"--last: expected at least 1, got {o.Last}");
        var runs = Tune.Runs(o.Folder, o.Last);
        context.SetVariable("runs", runs);
        context.Host.Display(runs);
        return Task.CompletedTask;
    }
}
