namespace Tunebook.Tuning.Lora;

/// <summary>
/// The hyperparameters of a LoRA adapter (PEFT's LoraConfig): rank, α, dropout, rsLoRA and the target
/// layers. <code>new LoraConfig { R = 8, Alpha = 16, Dropout = 0.05, Targets = LoraTargets.Names("q_proj", "v_proj") }</code>
/// </summary>
public sealed record LoraConfig
{
    /// <summary>Rank r of the update B·A (PEFT's r). Typical: 8–64.</summary>
    public int R { get; init; } = 8;
    /// <summary>α (PEFT's lora_alpha): the update is scaled by α/r (α/√r with <see cref="UseRsLora"/>).</summary>
    public double Alpha { get; init; } = 16;
    /// <summary>Dropout on the adapter input during training (PEFT's lora_dropout).</summary>
    public double Dropout { get; init; }
    /// <summary>Scale by α/√r instead of α/r (rank-stabilised LoRA).</summary>
    public bool UseRsLora { get; init; }
    /// <summary>Which layers get adapters. Default: the attention projections q_proj and v_proj, PEFT's default for Llama.</summary>
    public LoraTargets Targets { get; init; } = LoraTargets.Names("q_proj", "v_proj");
    /// <summary>
    /// Modules trained in full beside the adapters (PEFT's modules_to_save), by name ("embed_tokens",
    /// "lm_head") or dotted path. Train the token embeddings when the data uses words or tokens the base
    /// model has barely seen: their rows were never trained, and low-rank updates of the other layers cannot
    /// make the model read or write them (docs/concepts/lora.md). Their weights go into the adapter file.
    /// </summary>
    public IReadOnlyList<string>? ModulesToSave { get; init; }
    /// <summary>
    /// Seed of the adapters' random initialisation (A is Kaiming-uniform), so the same config gives the same
    /// adapters in every run, as Unsloth's random_state does; the global generator's state is left as it was.
    /// Null draws from the global generator (PEFT's behaviour: reproducible only after torch.manual_seed).
    /// </summary>
    public long? Seed { get; init; } = 42;

    /// <summary>The scaling this config gives.</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(R) : Alpha / R;

    /// <summary>Throws with a message naming the field when a value is out of range.</summary>
    public void Validate()
    {
        if (R < 1) throw new ArgumentOutOfRangeException(nameof(R), R, "LoRA r must be at least 1");
        if (!(Alpha > 0) || double.IsInfinity(Alpha)) throw new ArgumentOutOfRangeException(nameof(Alpha), Alpha, "LoRA alpha must be a positive number");
        if (!(Dropout >= 0 && Dropout < 1)) throw new ArgumentOutOfRangeException(nameof(Dropout), Dropout, "LoRA dropout must be in [0, 1)");
        ArgumentNullException.ThrowIfNull(Targets, nameof(Targets));
        if (ModulesToSave is not null && ModulesToSave.Any(string.IsNullOrWhiteSpace))
            throw new ArgumentException("LoRA modules_to_save: module names must not be empty", nameof(ModulesToSave));
    }
}
