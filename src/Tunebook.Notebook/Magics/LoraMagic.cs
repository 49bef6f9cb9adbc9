using Tunebook.Interactive;
using Tunebook.Notebook.Displays;
using Tunebook.Tuning.Lora;

namespace Tunebook.Notebook.Magics;

public sealed class LoraOptions
{
    // Every default is LoraConfig's own, so #!lora and new LoraConfig { … } mean the same adapters.
    static readonly LoraConfig Defaults = new();

    [Option("--rank", Aliases = ["-r"], Help = "Rank r of the update B·A")] public int Rank { get; set; } = Defaults.R;
    [Option("--alpha", Help = "Scale: the update is multiplied by alpha / rank")] public double Alpha { get; set; } = Defaults.Alpha;
    [Option("--dropout", Help = "Dropout on the adapter input while training")] public double Dropout { get; set; } = Defaults.Dropout;
    [Option("--targets", Help = "Layer names (comma-separated), 'all-linear', or a regex")] public string[] Targets { get; set; } = [.. Defaults.Targets.ModuleNames!];
    [Option("--rslora", Help = "Scale by alpha / sqrt(rank) (rank-stabilised LoRA)")] public bool RsLora { get; set; } = Defaults.UseRsLora;
    [Option("--seed", Help = "Seed of the adapters' random initialisation (the same seed gives the same adapters)")] public long Seed { get; set; } = Defaults.Seed ?? 42;
    [Option("--modules-to-save", Help = "Modules trained in full beside the adapters (comma-separated), e.g. embed_tokens for words the model never saw")] public string[] ModulesToSave { get; set; } = [];
}

/// <summary>#!lora → adapters on <c>model</c>, variable <c>lora</c>, and the trainable-parameter summary.</summary>
public sealed class LoraMagic : MagicCommand<LoraOptions>
{
    public override string Name => "lora";
    public override string Summary => "Freeze `model` and add LoRA adapters (variable `lora`); shows the trainable parameters";
    public override IReadOnlyList<string> Examples =>
    [
        "#!lora --rank 8 --alpha 16",
        "#!lora --rank 16 --targets q_proj,k_proj,v_proj,o_proj --dropout 0.05",
        "#!lora --targets all-linear",
        "#!lora --targets all-linear --modules-to-save embed_tokens",
        "C#: var lora = Tune.ApplyLora(model, new LoraConfig { R = 8, Alpha = 16, Dropout = 0, Targets = LoraTargets.Parse([\"q_proj\", \"v_proj\"]) })",
    ];

    /// <summary>The options as a <see cref="LoraConfig"/>; invalid values are usage errors.</summary>
    public static LoraConfig ToConfig(LoraOptions o)
    {
        if (o.Rank < 1) throw new MagicUsageException($"--rank: expected at least 1, got {o.Rank}");
        if (!(o.Alpha > 0)) throw new MagicUsageException($"--alpha: expected a number > 0, got {o.Alpha}");
        if (o.Dropout is < 0 or >= 1) throw new MagicUsageException($"--dropout: expected a probability in [0, 1), got {o.Dropout}");
        if (o.Targets.Length == 0) throw new MagicUsageException("--targets: expected at least one layer name");
        var config = new LoraConfig { R = o.Rank, Alpha = o.Alpha, Dropout = o.Dropout, UseRsLora = o.RsLora, Targets = LoraTargets.Parse(o.Targets),
            ModulesToSave = o.ModulesToSave.Length > 0 ? o.ModulesToSave : null, Seed = o.Seed };
        try { config.Validate(); }
        catch (ArgumentException e) { throw new MagicUsageException(e.Message); }
        return config;
    }

    protected override Task RunAsync(LoraOptions o, IMagicContext context)
    {
        var config = ToConfig(o);
        var model = SessionVariables.RequireModel(context);
        var lora = Tune.ApplyLora(model, config);
        context.SetVariable(SessionVariables.Lora, lora);
        context.Host.Display(new LoraSummary(lora));
        return Task.CompletedTask;
    }
}
