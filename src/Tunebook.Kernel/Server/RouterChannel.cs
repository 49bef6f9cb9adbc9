using System.Collections.Concurrent;
using Tunebook.Kernel.Protocol;
using Tunebook.Kernel.Zmq;

namespace Tunebook.Kernel.Server;

/// <summary>
/// A ROUTER channel (shell, control or stdin) served by a thread of its own. Received messages are
/// verified and parsed on that thread and handed to <see cref="Received"/>; replies are queued from any
/// thread by <see cref="Send"/> and written by the channel thread (ZeroMQ sockets are single-threaded).
/// Messages with a bad signature or malformed frames are logged and dropped; the channel keeps serving.
/// </summary>
sealed class RouterChannel : IDisposable
{
    readonly ZmqSocket _socket;
    readonly MessageSigner _signer;
    readonly TextWriter _log;
    readonly ConcurrentQueue<JupyterMessage> _outgoing = new();
    readonly Wakeup _wakeup = new();
    readonly Thread _thread;
    volatile bool _stopping;

    public string Name { get; }
    public string Endpoint { get; }

    /// <summary>Called on the channel thread for each valid message; must not block for long.</summary>
    public Action<JupyterMessage>? Received { get; set; }

    public RouterChannel(string name, ZmqContext context, string endpoint, MessageSigner signer, TextWriter log)
    {
        Name = name;
        _signer = signer;
        _log = log;
        _socket = context.CreateSocket(LibZmq.ROUTER);
        _socket.SetOption(LibZmq.ROUTER_HANDOVER, 1); // a reconnecting client with the same identity takes over
        _socket.Bind(endpoint);
        Endpoint = _socket.LastEndpoint;
        _thread = new Thread(Run) { IsBackground = true, Name = $"jupyter-{name}" };
    }

    public void Start() => _thread.Start();

    public void Send(JupyterMessage message)
    {
        _outgoing.Enqueue(message);
        _wakeup.Signal();
    }

    void Run()
    {
        try
        {
            while (!_stopping)
            {
                var (socketReady, woken) = _socket.Poll(_wakeup.Fd, 1000);
                if (woken) _wakeup.Reset();
                DrainOutgoing();
                if (!socketReady) continue;
                while (_socket.ReceiveFrames(dontWait: true) is { } frames)
                    Dispatch(frames);
            }
            DrainOutgoing();
        }
        catch (ObjectDisposedException) { /* the context is shutting down */ }
        catch (Exception e) { _log.WriteLine($"[tunebook kernel] {Name} channel stopped: {e}"); }
    }

    void DrainOutgoing()
    {
        while (_outgoing.TryDequeue(out var message))
            if (!_socket.SendFrames(message.ToFrames(_signer))) return;
    }

    void Dispatch(List<byte[]> frames)
    {
        JupyterMessage message;
        try { message = JupyterMessage.FromFrames(frames, _signer); }
        catch (ProtocolException e)
        {
            _log.WriteLine($"[tunebook kernel] dropped a message on {Name}: {e.Message}");
            return;
        }
        try { Received?.Invoke(message); }
        catch (Exception e) { _log.WriteLine($"[tunebook kernel] {Name} handler failed on {message.MsgType}: {e}"); }
    }

    /// <summary>Sends what is still queued, then stops the thread.</summary>
    public void Stop()
    {
        _stopping = true;
        _wakeup.Signal();
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(2));
    }

    public void Dispose()
    {
        Stop();
        _socket.Dispose();
        _wakeup.Dispose();
    }
}
