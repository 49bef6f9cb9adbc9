namespace Tunebook.Models;

/// <summary>
/// A config.json (or generation_config.json) that cannot describe a supported model. The message names
/// the file and the field, and says what was expected.
/// </summary>
public sealed class ModelConfigException : Exception
{
    /// <summary>The file that was read, when known.</summary>
    public string? File { get; }

    /// <summary>The offending field (JSON key), when one is to blame.</summary>
    public string? Field { get; }

    public ModelConfigException(string? file, string? field, string message, Exception? inner = null)
        : base(Format(file, field, message), inner)
    {
        File = file;
        Field = field;
    }

    static string Format(string? file, string? field, string message) =>
        (file is null ? "" : file + ": ") + (field is null ? "" : $"field \"{field}\": ") + message;
}

/// <summary>
/// Weights that do not fit the model: missing tensors, wrong shapes, unexpected names. The message lists
/// every problem with the tensor name and, for shapes, expected versus actual.
/// </summary>
public sealed class CheckpointMismatchException : Exception
{
    public IReadOnlyList<string> Problems { get; }

    public CheckpointMismatchException(string source, IReadOnlyList<string> problems)
        : base($"{source}: the checkpoint does not match the model:\n  " + string.Join("\n  ", problems))
        => Problems = problems;
}
