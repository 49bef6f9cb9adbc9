using System.Text;
using System.Text.Json;

namespace Tunebook.Tuning.Training;

/// <summary>
/// Appends every trainer event to a JSON-lines file (metrics.jsonl), one object per line with an
/// "event" field ("started", "step", "eval", "stopped", "warning"), flushed per line so a crash loses
/// nothing and other tools can tail it. Subscribes on construction; dispose to detach and close.
/// </summary>
public sealed class MetricsLogger : IDisposable
{
    readonly Trainer _trainer;
    readonly StreamWriter _writer;

    /// <summary>Starts logging <paramref name="trainer"/>'s events to <paramref name="path"/> (appending when it exists, as after a resume).</summary>
    public MetricsLogger(Trainer trainer, string path)
    {
        _trainer = trainer ?? throw new ArgumentNullException(nameof(trainer));
        ArgumentNullException.ThrowIfNull(path);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        _writer = new StreamWriter(path, append: true, new UTF8Encoding(false));
        FilePath = path;
        _trainer.EventRaised += Write;
    }

    /// <summary>The file written.</summary>
    public string FilePath { get; }

    /// <summary>One event as a JSON line (the format of metrics.jsonl).</summary>
    public static string ToJsonLine(TrainingEvent e) => JsonSerializer.Serialize(e, TuningJsonContext.Snake.TrainingEvent);

    void Write(TrainingEvent e)
    {
        _writer.WriteLine(ToJsonLine(e));
        _writer.Flush();
    }

    public void Dispose()
    {
        _trainer.EventRaised -= Write;
        _writer.Dispose();
    }
}
