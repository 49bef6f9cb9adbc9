namespace Tunebook.Tuning.Config;

/// <summary>A bad value or key in a training config file, with the file, line and dotted key ("trainer.lr").</summary>
public sealed class TrainConfigException : Exception
{
    public TrainConfigException(string? file, int? line, string key, string message)
        : base($"{(file is null ? "" : file + (line is { } l ? $":{l}" : "") + ": ")}{key}: {message}")
    {
        File = file;
        Line = line;
        Key = key;
    }

    /// <summary>The config file (null for text parsed without a name).</summary>
    public string? File { get; }
    /// <summary>1-based line of the offending value.</summary>
    public int? Line { get; }
    /// <summary>Dotted key, e.g. "trainer.lr".</summary>
    public string Key { get; }
}
