using Tunebook.Text.Tokenizers;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Config;

/// <summary>
/// The data section of a training config, handed to the data layer (<see cref="Dataset.Load"/> and
/// <see cref="RawDataset.Prepare"/>): loading with format detection, chat-template rendering,
/// completion-only labels, truncation, packing and the seeded validation split.
/// </summary>
public static class ConfigData
{
    /// <summary>The training and validation sets for <paramref name="config"/>, and the data report of the training file
    /// with the data checks (leakage into the validation split and the held-out file, near-duplicates, secrets, balance).</summary>
    public static (TrainingSet Train, TrainingSet? Validation, DataReport Report) Load(TrainConfig config, Tokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(tokenizer);
        var data = config.Data;
        DataFormat? format = data.Format switch
        {
            "auto" => null,
            "chat" => DataFormat.Chat,
            "alpaca" => DataFormat.Alpaca,
            "completion" => DataFormat.PromptCompletion,
            "text" => DataFormat.Text,
            _ => throw new TrainConfigException(config.SourceFile, null, "data.format", $"unknown format '{data.Format}'"),
        };
        var options = new PrepareOptions
        {
            MaxLength = data.MaxLength,
            CompletionOnly = data.CompletionOnly,
            Packing = data.Packing,
            ValFraction = data.ValidationFile is null ? data.ValFraction : 0,
            Seed = config.Trainer.Seed,
        };
        var heldOut = data.HeldoutFile is { } heldout ? Dataset.Load(config.Resolve(heldout)) : null;
        var prepared = Dataset.Load(config.Resolve(data.File), format).PrepareChecked(tokenizer, options: options, checks: data.ToCheckOptions(), heldOut: heldOut);
        var validation = prepared.Validation;
        if (data.ValidationFile is { } file)
            validation = Dataset.Load(config.Resolve(file), format).Prepare(tokenizer, options: options with { ValFraction = 0 }).Train;
        return (prepared.Train, validation, prepared.Report);
    }
}
