namespace Tunebook.Tuning.Training;

/// <summary>Learning-rate schedule shapes, each with a linear warmup from 0 (as transformers' get_*_schedule_with_warmup).</summary>
public enum LrScheduleKind
{
    /// <summary>Warmup, then the base rate.</summary>
    Constant,
    /// <summary>Warmup, then linear decay to 0 at the last step.</summary>
    Linear,
    /// <summary>Warmup, then half a cosine wave down to 0 at the last step.</summary>
    Cosine,
}

/// <summary>
/// The learning-rate multiplier at each optimizer step, with transformers' formulas: during warmup
/// step / warmup; then 1 (constant), (total − step) / (total − warmup) (linear) or
/// ½(1 + cos(π · progress)) (cosine). Step counts from 0: the first update uses the factor at 0.
/// </summary>
public sealed record LrSchedule(LrScheduleKind Kind, int WarmupSteps, int TotalSteps)
{
    /// <summary>The multiplier for the update at (0-based) <paramref name="step"/>.</summary>
    public double Factor(int step)
    {
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        if (Kind == LrScheduleKind.Constant) return 1.0;
        double remaining = Math.Max(1, TotalSteps - WarmupSteps);
        if (Kind == LrScheduleKind.Linear) return Math.Max(0.0, (TotalSteps - step) / remaining);
        double progress = (step - WarmupSteps) / remaining;
        return Math.Max(0.0, 0.5 * (1.0 + Math.Cos(Math.PI * progress)));
    }

    /// <summary>Parses "constant", "linear", "cosine" (case-insensitive).</summary>
    public static LrScheduleKind ParseKind(string name) => name.Trim().ToLowerInvariant() switch
    {
        "constant" => LrScheduleKind.Constant,
        "linear" => LrScheduleKind.Linear,
        "cosine" => LrScheduleKind.Cosine,
        _ => throw new ArgumentException($"unknown learning-rate schedule '{name}'; expected constant, linear or cosine"),
    };
}
