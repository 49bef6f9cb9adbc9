using Tunebook.Interactive;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Data.Quality;

namespace Tunebook.Notebook.Magics;

public sealed class DataOptions
{
    [Argument(0, "action", Help = "load", Choices = ["load"])] public string Action { get; set; } = "";
    [Argument(1, "file", Help = "JSONL, JSON, CSV or text file")] public string File { get; set; } = "";
    [Option("--format", Help = "Record format (default: detected)", Choices = ["alpaca", "chat", "completion", "text"])] public string? Format { get; set; }
    [Option("--val", Help = "Fraction held out for validation")] public double Val { get; set; } = 0.1;
    [Option("--max-length", Help = "Truncate examples to this many tokens")] public int MaxLength { get; set; } = 512;
    [Option("--packing", Help = "Pack several examples into each row")] public bool Packing { get; set; }
    [Option("--seed", Help = "Seed of the validation split")] public long Seed { get; set; } = 42;
    [Option("--heldout", Help = "Held-out file (questions asked after training) checked for leakage from the training data")] public string? HeldOut { get; set; }
    [Option("--redact", Help = "Replace secrets and personal data by placeholders (<EMAIL>, <SECRET>...) in the prepared data; the file is not changed")] public bool Redact { get; set; }
    [Option("--drop-leaks", Help = "Leave out of training the examples that leak into validation or held-out examples")] public bool DropLeaks { get; set; }
    [Option("--dedupe", Help = "Keep one example of each near-duplicate cluster in training")] public bool Dedupe { get; set; }
    [Option("--balance", Help = "Field whose values are counted (default: category, source, language... when present, else scripts)")] public string? Balance { get; set; }
    [Option("--near", Help = "Similarity at or above which two texts are near-copies (leakage, near-duplicates)")] public double Near { get; set; } = DataCheckOptions.Default.NearThreshold;

    /// <summary>The data-check options these flags ask for (defaults from <see cref="DataCheckOptions.Default"/>).</summary>
    public DataCheckOptions Checks() => DataCheckOptions.Default with
    {
        Redact = Redact, DropLeaks = DropLeaks, Dedupe = Dedupe, BalanceField = Balance, NearThreshold = Near,
    };
}

/// <summary>#!data load FILE → variable <c>data</c> (PreparedData) and the dataset report.</summary>
public sealed class DataMagic : MagicCommand<DataOptions>
{
    public override string Name => "data";
    public override string Summary => "Load, tokenize, mask and split a data file into `data`; shows the dataset report and the data checks (leakage, near-duplicates, secrets and personal data, balance)";
    public override IReadOnlyList<string> Examples =>
    [
        "#!data load datasets/puddle/train.jsonl --val 0.1",
        "#!data load my.alpaca.jsonl --format alpaca --max-length 256",
        "#!data load datasets/samples/checks.jsonl --heldout datasets/samples/checks.heldout.jsonl --redact --drop-leaks --dedupe",
        "C#: var data = Tune.LoadData(\"datasets/puddle/train.jsonl\", model.Tokenizer!, format: null, val: 0.1, maxLength: 512); Tune.Report(data, model.Tokenizer)",
    ];

    /// <summary>The magic's format names mapped to <see cref="DataFormat"/>.</summary>
    public static DataFormat? ParseFormat(string? name) => name?.ToLowerInvariant() switch
    {
        null => null,
        "alpaca" => DataFormat.Alpaca,
        "chat" => DataFormat.Chat,
        "completion" => DataFormat.PromptCompletion,
        "text" => DataFormat.Text,
        _ => throw new MagicUsageException($"--format: expected alpaca, chat, completion or text, got '{name}'"),
    };

    protected override Task RunAsync(DataOptions o, IMagicContext context)
    {
        if (o.Val is < 0 or >= 1) throw new MagicUsageException($"--val: expected a fraction in [0, 1), got {o.Val}");
        if (o.MaxLength < 8) throw new MagicUsageException($"--max-length: expected at least 8, got {o.MaxLength}");
        if (o.Near is <= 0 or > 1) throw new MagicUsageException($"--near: expected a similarity in (0, 1], got {o.Near}");
        var model = SessionVariables.RequireModel(context);
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("the model has no tokenizer: its folder needs tokenizer.json");
        var data = Tune.LoadData(o.File, tokenizer, ParseFormat(o.Format), o.Val, o.MaxLength, o.Packing, o.Seed, o.HeldOut, o.Checks());
        context.SetVariable(SessionVariables.Data, data);
        context.Host.Display(Tune.Report(data, tokenizer));
        return Task.CompletedTask;
    }
}
