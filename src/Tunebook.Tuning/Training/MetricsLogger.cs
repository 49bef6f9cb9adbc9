using System.Text;
using System.Text.Json;

namespace Tunebook.Tuning.Training;

/// <summary>
/// Appends every trainer event to a JSON-lines file (metrics.jsonl), one object per line with an
/// "event" field ("started", "step", "eval", "stopped", "warning"). Each line goes to the file in one append
/// and is flushed to the operating system at once, so a crash of the process loses nothing already logged and
/// other tools can tail the file; a line torn by a crash of the machine is ended before the next one is
/// appended (and readers skip it). No fsync per line: that would cost milliseconds a step. Subscribes on
/// construction; dispose to detach and close.
/// </summary>
public sealed class MetricsLogger : IDisposable
{
    readonly Trainer _trainer;
    readonly FileStream _file;

    /// <summary>
    /// Starts logging <paramref name="trainer"/>'s events to <paramref name="path"/>. A trainer with a history (resumed from a
    /// checkpoint, or attached mid-run) first has the file rewritten to exactly that history, then appended to.
    /// </summary>
    public MetricsLogger(Trainer trainer, string path)
    {
        _trainer = trainer ?? throw new ArgumentNullException(nameof(trainer));
        ArgumentNullException.ThrowIfNull(path);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        // A resumed trainer carries its history from the checkpoint; the file may hold more (the steps a killed or
        // interrupted process ran past that checkpoint). Rewriting it from the history keeps every record once.
        if (_trainer.History.Count > 0)
            Tunebook.IO.AtomicFile.WriteAllText(path, string.Concat(_trainer.History.Select(e => ToJsonLine(e) + "\n")));
        _file = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, bufferSize: 0);
        FilePath = path;
        if (_file.Length > 0 && LastByte(path) != (byte)'\n') _file.Write("\n"u8);
        _trainer.EventRaised += Write;
    }

    /// <summary>The file written.</summary>
    public string FilePath { get; }

    /// <summary>One event as a JSON line (the format of metrics.jsonl).</summary>
    public static string ToJsonLine(TrainingEvent e) => JsonSerializer.Serialize(e, TuningJsonContext.Snake.TrainingEvent);

    static int LastByte(string path)
    {
        using var read = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        read.Seek(-1, SeekOrigin.End);
        return read.ReadByte();
    }

    void Write(TrainingEvent e) => Append(_file, e);

    /// <summary>
    /// Appends <paramref name="e"/> as one line to <paramref name="file"/> and flushes it: the whole of the per-event cost
    /// (tests/bench/run_record.sh measures this call). One write of the whole line (the logger's stream is unbuffered), so a
    /// reader never sees half a line from a running process.
    /// </summary>
    public static void Append(Stream file, TrainingEvent e)
    {
        ArgumentNullException.ThrowIfNull(file);
        file.Write(Encoding.UTF8.GetBytes(ToJsonLine(e) + "\n"));
        file.Flush();
    }

    public void Dispose()
    {
        _trainer.EventRaised -= Write;
        _file.Dispose();
    }
}
