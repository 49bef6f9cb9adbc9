using Tunebook.Interactive;
using Tunebook.Models;

namespace Tunebook.Notebook.Magics;

public sealed class GenerateOptions
{
    [Argument(0, "prompt", Help = "The prompt (quote it); a user message when the tokenizer has a chat template")] public string Prompt { get; set; } = "";
    [Option("--max-tokens", Help = "New tokens at most")] public int MaxTokens { get; set; } = 64;
    [Option("--temperature", Help = "0 for greedy decoding; > 0 samples")] public double Temperature { get; set; }
    [Option("--top-p", Help = "Nucleus sampling threshold")] public double? TopP { get; set; }
    [Option("--top-k", Help = "Sample among the k most likely tokens")] public int? TopK { get; set; }
    [Option("--repetition-penalty", Help = "Penalty > 1 for tokens already present")] public double? RepetitionPenalty { get; set; }
    [Option("--seed", Help = "Sampling seed")] public long? Seed { get; set; }
    [Option("--raw", Help = "Continue the prompt as plain text instead of applying the chat template")] public bool Raw { get; set; }
}

/// <summary>#!generate "prompt" → streams the reply into an updating display; the result lands in <c>generation</c>.</summary>
public sealed class GenerateMagic : MagicCommand<GenerateOptions>
{
    public override string Name => "generate";
    public override string Summary => "Generate a reply from `model`, streaming tokens into the output (result in `generation`)";
    public override IReadOnlyList<string> Examples =>
    [
        "#!generate \"How do I list my zones?\"",
        "#!generate \"Once upon a time\" --raw --temperature 0.8 --top-p 0.95 --seed 1",
        "C#: var generation = Tune.Generate(model, \"How do I list my zones?\", new GenerationOptions { MaxNewTokens = 64, DoSample = false })",
    ];

    /// <summary>The options as <see cref="GenerationOptions"/>; invalid values are usage errors.</summary>
    public static GenerationOptions ToOptions(GenerateOptions o)
    {
        if (string.IsNullOrEmpty(o.Prompt)) throw new MagicUsageException("the prompt is empty");
        if (o.MaxTokens < 1) throw new MagicUsageException($"--max-tokens: expected at least 1, got {o.MaxTokens}");
        if (o.Temperature < 0 || double.IsNaN(o.Temperature)) throw new MagicUsageException($"--temperature: expected ≥ 0, got {o.Temperature}");
        if (o.TopP is { } p && !(p > 0 && p <= 1)) throw new MagicUsageException($"--top-p: expected a number in (0, 1], got {p}");
        if (o.TopK is < 1) throw new MagicUsageException($"--top-k: expected at least 1, got {o.TopK}");
        if (o.RepetitionPenalty is { } r && !(r > 0)) throw new MagicUsageException($"--repetition-penalty: expected a number > 0, got {r}");
        bool sample = o.Temperature > 0;
        return new GenerationOptions
        {
            MaxNewTokens = o.MaxTokens, DoSample = sample, Temperature = sample ? o.Temperature : null,
            TopP = o.TopP, TopK = o.TopK, RepetitionPenalty = o.RepetitionPenalty, Seed = o.Seed,
        };
    }

    protected override Task RunAsync(GenerateOptions o, IMagicContext context)
    {
        var options = ToOptions(o) with { CancellationToken = context.Host.Cancellation };
        var result = Tune.Generate(SessionVariables.RequireModel(context), o.Prompt, options, chat: !o.Raw);
        context.SetVariable("generation", result);
        return Task.CompletedTask;
    }
}
