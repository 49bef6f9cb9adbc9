using System.Collections.Concurrent;
using Tunebook.Kernel.Protocol;
using Tunebook.Kernel.Zmq;

namespace Tunebook.Kernel.Server;

/// <summary>
/// The iopub PUB socket behind one queue and one thread, so any thread (a cell, a training loop,
/// a timer) can publish at any time and messages leave in the order they were queued.
/// </summary>
public sealed class IopubPublisher : IDisposable
{
    readonly ZmqSocket _socket;
    readonly MessageSigner _signer;
    readonly BlockingCollection<JupyterMessage> _queue = new();
    readonly Thread _thread;
    readonly TextWriter _log;
    int _pending; // queued or being sent: Drain waits for the send itself, not just the dequeue

    public string Endpoint { get; }

    internal IopubPublisher(ZmqContext context, string endpoint, MessageSigner signer, TextWriter log)
    {
        _signer = signer;
        _log = log;
        _socket = context.CreateSocket(LibZmq.PUB);
        _socket.Bind(endpoint);
        Endpoint = _socket.LastEndpoint;
        _thread = new Thread(Run) { IsBackground = true, Name = "jupyter-iopub" };
        _thread.Start();
    }

    /// <summary>Queues a message; it leaves after every message queued before it.</summary>
    public void Send(JupyterMessage message)
    {
        // iopub messages carry the message type as their ZeroMQ topic, as ipykernel does.
        message.Identities.Add(System.Text.Encoding.UTF8.GetBytes($"kernel.{(string?)message.Header["session"]}.{message.MsgType}"));
        Interlocked.Increment(ref _pending);
        try { _queue.Add(message); }
        catch (InvalidOperationException) { Interlocked.Decrement(ref _pending); /* shutting down */ }
    }

    void Run()
    {
        try
        {
            foreach (var message in _queue.GetConsumingEnumerable())
            {
                bool sent = _socket.SendFrames(message.ToFrames(_signer));
                Interlocked.Decrement(ref _pending);
                if (!sent) return;
            }
        }
        catch (Exception e) { _log.WriteLine($"[tunebook kernel] iopub stopped: {e}"); }
    }

    /// <summary>Waits until everything queued so far has been handed to ZeroMQ.</summary>
    public void Drain(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (Volatile.Read(ref _pending) > 0 && DateTime.UtcNow < deadline) Thread.Sleep(5);
    }

    public void Dispose()
    {
        _queue.CompleteAdding();
        _thread.Join(TimeSpan.FromSeconds(2));
        _socket.Dispose();
    }
}
