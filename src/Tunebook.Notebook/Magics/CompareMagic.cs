using Tunebook.Interactive;

namespace Tunebook.Notebook.Magics;

public sealed class CompareOptions
{
    [Argument(0, "prompts", Help = "Prompts to answer (quote each)", Required = false)] public string[] Prompts { get; set; } = [];
    [Option("--heldout", Help = "Also take questions (and expected answers) from a chat JSONL file")] public string? HeldOut { get; set; }
    [Option("--count", Help = "How many questions to take from --heldout")] public int Count { get; set; } = 5;
    [Option("--max-tokens", Help = "New tokens at most per answer")] public int MaxTokens { get; set; } = 48;
}

/// <summary>#!compare "prompt" ... → base and tuned answers side by side (variable <c>comparison</c>).</summary>
public sealed class CompareMagic : MagicCommand<CompareOptions>
{
    public override string Name => "compare";
    public override string Summary => "Answer prompts with the adapters off (base) and on (tuned) on the same model; shows a before/after table";
    public override IReadOnlyList<string> Examples =>
    [
        "#!compare \"How do I list my zones?\" \"How do I add a zone?\"",
        "#!compare --heldout datasets/puddle/heldout.jsonl --count 5",
        "C#: var (q, a) = Tune.HeldOut(\"datasets/puddle/heldout.jsonl\", 5); var comparison = Tune.Compare(lora, q, a)",
    ];

    protected override Task RunAsync(CompareOptions o, IMagicContext context)
    {
        if (o.Count < 1) throw new MagicUsageException($"--count: expected at least 1, got {o.Count}");
        if (o.MaxTokens < 1) throw new MagicUsageException($"--max-tokens: expected at least 1, got {o.MaxTokens}");
        if (o.Prompts.Length == 0 && o.HeldOut is null) throw new MagicUsageException("give prompts or --heldout FILE");
        var prompts = new List<string>(o.Prompts);
        var references = new List<string?>(o.Prompts.Select(_ => (string?)null));
        if (o.HeldOut is not null)
        {
            var (q, a) = Tune.HeldOut(o.HeldOut, o.Count);
            prompts.AddRange(q);
            references.AddRange(a);
        }
        var lora = SessionVariables.RequireLora(context);
        var rows = Tune.Compare(lora, prompts, null, new Tunebook.Models.GenerationOptions { MaxNewTokens = o.MaxTokens, DoSample = false, CancellationToken = context.Host.Cancellation });
        var comparison = new Displays.Comparison(rows.Rows.Select((r, i) => r with { Reference = references[i] }).ToList());
        context.SetVariable("comparison", comparison);
        context.Host.Display(comparison);
        return Task.CompletedTask;
    }
}
