using System.Text;
using System.Text.Json.Nodes;

namespace Tunebook.Kernel.Execution;

/// <summary>
/// Console.Out / Console.Error while the kernel runs: text from any thread is buffered and published as
/// an iopub "stream" message, parented to the current cell (or the last one, for a background thread
/// that outlives its cell). A timer flushes every 50 ms so progress prints appear promptly without one
/// message per character.
/// </summary>
public sealed class CellOutputWriter : TextWriter
{
    readonly string _name;
    readonly IopubPublish _publish;
    readonly Func<JsonObject?> _parent;
    readonly StringBuilder _buffer = new();
    readonly object _gate = new();
    readonly Timer _timer;
    const int FlushThreshold = 64 * 1024;

    public CellOutputWriter(string name, IopubPublish publish, Func<JsonObject?> parent)
    {
        _name = name;
        _publish = publish;
        _parent = parent;
        _timer = new Timer(_ => Flush(), null, 50, 50);
    }

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value) { lock (_gate) { _buffer.Append(value); } }

    public override void Write(string? value)
    {
        if (string.IsNullOrEmpty(value)) return;
        bool flush;
        lock (_gate) { _buffer.Append(value); flush = _buffer.Length > FlushThreshold; }
        if (flush) Flush();
    }

    public override void Write(char[] buffer, int index, int count) => Write(new string(buffer, index, count));

    public override void WriteLine(string? value) => Write((value ?? "") + "\n");

    /// <summary>Publishes what is buffered, in order with every other message published.</summary>
    public override void Flush()
    {
        lock (_gate)
        {
            if (_buffer.Length == 0) return;
            var text = _buffer.ToString();
            _buffer.Clear();
            _publish("stream", new JsonObject { ["name"] = _name, ["text"] = text }, _parent());
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) { _timer.Dispose(); Flush(); }
        base.Dispose(disposing);
    }
}
