using Tunebook.Interactive;
using Tunebook.Tuning.Data;

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
}

/// <summary>#!data load FILE → variable <c>data</c> (PreparedData) and the dataset report.</summary>
public sealed class DataMagic : MagicCommand<DataOptions>
{
    public override string Name => "data";
    public override string Summary => "Load, tokenize, mask and split a data file into `data`; shows the dataset report";
    public override IReadOnlyList<string> Examples =>
    [
        "#!data load datasets/puddle/train.jsonl --val 0.1",
        "#!data load my.alpaca.jsonl --format alpaca --max-length 256",
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
        var model = SessionVariables.RequireModel(context);
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("the model has no tokenizer: its folder needs tokenizer.json");
        var data = Tune.LoadData(o.File, tokenizer, ParseFormat(o.Format), o.Val, o.MaxLength, o.Packing, o.Seed);
        context.SetVariable(SessionVariables.Data, data);
        context.Host.Display(Tune.Report(data, tokenizer));
        return Task.CompletedTask;
    }
}
