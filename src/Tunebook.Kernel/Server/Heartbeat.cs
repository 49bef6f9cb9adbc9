using Tunebook.Kernel.Zmq;

namespace Tunebook.Kernel.Server;

/// <summary>
/// The heartbeat REP socket echoing every ping on a thread of its own, so a long-running cell never
/// makes the front end think the kernel died.
/// </summary>
sealed class Heartbeat : IDisposable
{
    readonly ZmqSocket _socket;
    readonly Thread _thread;
    public string Endpoint { get; }

    public Heartbeat(ZmqContext context, string endpoint)
    {
        _socket = context.CreateSocket(LibZmq.REP);
        _socket.Bind(endpoint);
        Endpoint = _socket.LastEndpoint;
        _thread = new Thread(Run) { IsBackground = true, Name = "jupyter-heartbeat" };
        _thread.Start();
    }

    void Run()
    {
        try
        {
            while (_socket.ReceiveFrames() is { } ping)
                if (!_socket.SendFrames(ping)) return;
        }
        catch (Exception) { /* context terminated */ }
    }

    public void Dispose()
    {
        _thread.Join(TimeSpan.FromSeconds(1));
        _socket.Dispose();
    }
}
