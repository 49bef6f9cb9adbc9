using System.Runtime.InteropServices;
using Tunebook.Interactive;
using Tunebook.Kernel.Execution;
using Tunebook.Kernel.Protocol;
using Tunebook.Kernel.Zmq;

namespace Tunebook.Kernel.Server;

/// <summary>
/// The Jupyter kernel's transport: binds the five channels of a connection file, signs and verifies
/// messages, and hands the parsed ones to <see cref="KernelProtocol"/>, which decides what to answer.
/// Shell requests run one at a time on a worker thread; control requests (interrupt, shutdown) are
/// answered at once on the control thread, even while a cell runs; the heartbeat echoes on its own
/// thread; every iopub message goes through one publishing queue. The server also owns what belongs to
/// the process: Console, Frontend.Host, SIGINT and the capture of native stdout/stderr.
/// </summary>
public sealed class KernelServer : IDisposable
{
    readonly TextWriter _log;
    readonly MessageSigner _signer;
    readonly ZmqContext _context = new();
    readonly ManualResetEventSlim _stopped = new();
    readonly IopubPublisher _iopub;
    readonly Heartbeat _heartbeat;
    readonly RouterChannel _shell, _control, _stdin;
    readonly KernelProtocol _protocol;
    KernelHost Host => _protocol.Host;
    Thread? _worker;
    PosixSignalRegistration? _sigint;
    NativeOutputCapture[] _captures = [];

    /// <summary>True once a shutdown_request asked for a restart (the client relaunches the kernel).</summary>
    public bool RestartRequested => _protocol.RestartRequested;

    public KernelServer(ConnectionInfo connection, TextWriter log)
    {
        _log = log;
        _signer = MessageSigner.Create(connection.SignatureScheme, connection.Key);
        _iopub = new IopubPublisher(_context, connection.Endpoint(connection.IopubPort), _signer, log);
        _heartbeat = new Heartbeat(_context, connection.Endpoint(connection.HeartbeatPort));
        _shell = new RouterChannel("shell", _context, connection.Endpoint(connection.ShellPort), _signer, log);
        _control = new RouterChannel("control", _context, connection.Endpoint(connection.ControlPort), _signer, log);
        _stdin = new RouterChannel("stdin", _context, connection.Endpoint(connection.StdinPort), _signer, log);
        _protocol = new KernelProtocol(Send, log);
        _protocol.ShutdownRequested += _stopped.Set;
        _protocol.CellFinished = () => { foreach (var capture in _captures) capture.Drain(TimeSpan.FromMilliseconds(200)); };
    }

    /// <summary>The endpoints actually bound, in connection-file order (shell, control, stdin, iopub, hb).</summary>
    public IReadOnlyList<string> Endpoints => [_shell.Endpoint, _control.Endpoint, _stdin.Endpoint, _iopub.Endpoint, _heartbeat.Endpoint];

    /// <summary>Serves until a shutdown_request (or <paramref name="stop"/>). Console streams are redirected meanwhile.</summary>
    public void Run(CancellationToken stop = default)
    {
        var (oldOut, oldErr, oldIn) = (Console.Out, Console.Error, Console.In);
        Console.SetOut(Host.Stdout);
        Console.SetError(Host.Stderr);
        Console.SetIn(new StdinReader(_protocol.RequestInput));
        Frontend.Host = Host;
        if (Environment.GetEnvironmentVariable("TUNEBOOK_KERNEL_CAPTURE_FD") != "0")
            _captures = [.. new[] { NativeOutputCapture.Start(1, Host.Stdout), NativeOutputCapture.Start(2, Host.Stderr) }.OfType<NativeOutputCapture>()];
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => { signal.Cancel = true; Interrupt(); });
        // .NET ends the process on an exception escaping a thread a cell started; at least say why, in the notebook.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            var error = ErrorFormatter.Runtime(e.ExceptionObject as Exception ?? new Exception(e.ExceptionObject?.ToString()));
            _log.WriteLine($"[tunebook kernel] terminating: unhandled exception on a background thread: {e.ExceptionObject}");
            Host.Stderr.Write($"The kernel is terminating: an exception escaped a background thread.\n{string.Join("\n", error.Traceback)}\n");
            Host.FlushStreams();
            _iopub.Drain(TimeSpan.FromSeconds(5));
            // zmq_send only hands the frames to ZeroMQ's I/O thread, which dies with the process; give it a
            // moment to put them on the wire (a context shutdown would wait for the other threads' sockets).
            Thread.Sleep(300);
        };
        using var stopRegistration = stop.Register(_stopped.Set);
        try
        {
            _protocol.PublishStatus("starting", null);
            _shell.Received = message => _protocol.Receive(KernelChannel.Shell, message);
            _control.Received = message => _protocol.Receive(KernelChannel.Control, message);
            _stdin.Received = message => _protocol.Receive(KernelChannel.Stdin, message);
            _worker = new Thread(ShellLoop, 16 * 1024 * 1024) { IsBackground = true, Name = "kernel-shell" };
            _worker.Start();
            _shell.Start(); _control.Start(); _stdin.Start();
            _stopped.Wait();
            _iopub.Drain(TimeSpan.FromSeconds(1));
        }
        finally
        {
            foreach (var capture in _captures) capture.Dispose();
            Host.FlushStreams();
            Console.SetOut(oldOut); Console.SetError(oldErr); Console.SetIn(oldIn);
        }
    }

    /// <summary>The shell thread: start the C# session, then serve queued shell requests one at a time.</summary>
    void ShellLoop()
    {
        _protocol.StartSession(LoadExtensions);
        _protocol.ServeShell();
    }

    /// <summary>The extensions beside the kernel, and those in the folders TUNEBOOK_KERNEL_EXTENSIONS lists (path-separated).</summary>
    void LoadExtensions(CellExecutor executor)
    {
        executor.LoadExtensionsFrom(AppContext.BaseDirectory);
        foreach (var folder in (Environment.GetEnvironmentVariable("TUNEBOOK_KERNEL_EXTENSIONS") ?? "")
                     .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            if (Directory.Exists(folder)) executor.LoadExtensionsFrom(folder);
            else _log.WriteLine($"[tunebook kernel] TUNEBOOK_KERNEL_EXTENSIONS names {folder}, which is not a folder");
    }

    /// <summary>Sends one outgoing message on the socket of its channel.</summary>
    void Send(KernelChannel channel, JupyterMessage message)
    {
        switch (channel)
        {
            case KernelChannel.Shell: _shell.Send(message); break;
            case KernelChannel.Control: _control.Send(message); break;
            case KernelChannel.Stdin: _stdin.Send(message); break;
            case KernelChannel.Iopub: _iopub.Send(message); break;
        }
    }

    /// <summary>Cancels the running cell's token, and any Console.ReadLine waiting for input.</summary>
    public void Interrupt() => _protocol.Interrupt();

    public void Dispose()
    {
        _sigint?.Dispose();
        _protocol.StopShell();
        _shell.Stop(); _control.Stop(); _stdin.Stop();
        _iopub.Drain(TimeSpan.FromSeconds(1));
        _context.Shutdown();
        _shell.Dispose(); _control.Dispose(); _stdin.Dispose();
        _iopub.Dispose();
        _heartbeat.Dispose();
        _context.Dispose();
    }
}
