using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Tunebook.Kernel.Protocol;
using Tunebook.Kernel.Zmq;

namespace Tunebook.Kernel.Tests;

/// <summary>
/// A kernel in a child process plus a minimal Jupyter client speaking ZeroMQ to it: DEALER sockets for
/// shell, control and stdin, SUB for iopub (read by a background thread), REQ for the heartbeat.
/// Every socket except iopub is used only from the test thread.
/// </summary>
public sealed class KernelProcess : IDisposable
{
    public const string Key = "a0436f6c-1916-498b-8eb9-e81ab9368e84";
    readonly ZmqContext _context = new();
    readonly Process _process;
    readonly Thread _iopubThread;
    readonly List<JupyterMessage> _iopub = [];
    readonly StringBuilder _stderr = new();
    volatile bool _stopping;
    readonly string _directory;

    public MessageSigner Signer { get; } = MessageSigner.Create("hmac-sha256", Key);
    public string Session { get; } = Guid.NewGuid().ToString();
    public ZmqSocket Shell { get; }
    public ZmqSocket Control { get; }
    public ZmqSocket Stdin { get; }
    public ZmqSocket Heartbeat { get; }
    ZmqSocket IopubSocket { get; }
    public Process Process => _process;
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    /// <param name="transport">"tcp" (loopback, free ports) or "ipc" (socket files in a temp folder).</param>
    /// <param name="environment">Extra environment variables for the kernel process.</param>
    public KernelProcess(string transport = "tcp", IReadOnlyDictionary<string, string>? environment = null)
    {
        _directory = Directory.CreateTempSubdirectory("tunebook-kernel-test-").FullName;
        var ports = transport == "tcp" ? FreePorts(5) : [1, 2, 3, 4, 5];
        var ip = transport == "tcp" ? "127.0.0.1" : Path.Combine(_directory, "kernel");
        string Endpoint(int port) => transport == "tcp" ? $"tcp://127.0.0.1:{port}" : $"ipc://{ip}-{port}";
        var connection = new JsonObject
        {
            ["transport"] = transport, ["ip"] = ip, ["shell_port"] = ports[0], ["control_port"] = ports[1],
            ["stdin_port"] = ports[2], ["iopub_port"] = ports[3], ["hb_port"] = ports[4],
            ["key"] = Key, ["signature_scheme"] = "hmac-sha256", ["kernel_name"] = "tunebook",
        };
        var file = Path.Combine(_directory, "connection.json");
        File.WriteAllText(file, connection.ToJsonString());

        var assembly = typeof(KernelProcess).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = _directory };
        foreach (var a in new[] { assembly, "--kernel-host", file }) start.ArgumentList.Add(a);
        start.Environment["TUNEBOOK_NUGET_CACHE"] = Path.Combine(_directory, "nuget"); // never the user's cache
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        _process = Process.Start(start)!;
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine(e.Data); };
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_stderr) _stderr.AppendLine("stdout: " + e.Data); };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();

        var identity = Encoding.ASCII.GetBytes(Session);
        Shell = Dealer(Endpoint(ports[0]), identity);
        Control = Dealer(Endpoint(ports[1]), identity);
        Stdin = Dealer(Endpoint(ports[2]), identity);
        IopubSocket = _context.CreateSocket(LibZmq.SUB);
        IopubSocket.SetOption(LibZmq.SUBSCRIBE, []);
        IopubSocket.Connect(Endpoint(ports[3]));
        Heartbeat = _context.CreateSocket(LibZmq.REQ);
        Heartbeat.Connect(Endpoint(ports[4]));
        _iopubThread = new Thread(ReadIopub) { IsBackground = true };
        _iopubThread.Start();

        // Ready when kernel_info answers (the C# session warms up first).
        var reply = Request(Shell, "kernel_info_request", new JsonObject(), TimeSpan.FromSeconds(180));
        if ((string?)reply.Content["status"] != "ok") throw new InvalidOperationException("kernel did not start: " + Stderr);
    }

    ZmqSocket Dealer(string endpoint, byte[] identity)
    {
        var socket = _context.CreateSocket(LibZmq.DEALER);
        socket.SetOption(LibZmq.IDENTITY, identity);
        socket.Connect(endpoint);
        return socket;
    }

    static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToList();
        listeners.ForEach(l => l.Start());
        var ports = listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        listeners.ForEach(l => l.Stop());
        return ports;
    }

    void ReadIopub()
    {
        try
        {
            while (!_stopping)
            {
                if (!IopubSocket.Poll(-1, 100).Socket) continue;
                while (IopubSocket.ReceiveFrames(dontWait: true) is { } frames)
                {
                    var message = JupyterMessage.FromFrames(frames, Signer);
                    lock (_iopub) { _iopub.Add(message); Monitor.PulseAll(_iopub); }
                }
            }
        }
        catch (Exception) when (_stopping) { }
    }

    public JupyterMessage NewMessage(string msgType, JsonObject content) =>
        JupyterMessage.Create(msgType, content, null, Session);

    /// <summary>Sends a request and returns its msg_id.</summary>
    public string Send(ZmqSocket socket, JupyterMessage message)
    {
        socket.SendFrames(message.ToFrames(Signer));
        return message.MsgId;
    }

    /// <summary>The next message on a DEALER socket, or null after the timeout.</summary>
    public JupyterMessage? Receive(ZmqSocket socket, TimeSpan timeout)
    {
        if (!socket.Poll(-1, (long)timeout.TotalMilliseconds).Socket) return null;
        var frames = socket.ReceiveFrames(dontWait: true);
        return frames is null ? null : JupyterMessage.FromFrames(frames, Signer);
    }

    /// <summary>The reply to msg_id (other replies are skipped); throws after the timeout.</summary>
    public JupyterMessage ReplyTo(ZmqSocket socket, string msgId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (DateTime.UtcNow < deadline)
        {
            var message = Receive(socket, deadline - DateTime.UtcNow);
            if (message is not null && (string?)message.ParentHeader["msg_id"] == msgId) return message;
        }
        throw new TimeoutException($"no reply to {msgId}. Kernel log:\n{Stderr}");
    }

    public JupyterMessage Request(ZmqSocket socket, string msgType, JsonObject content, TimeSpan? timeout = null) =>
        ReplyTo(socket, Send(socket, NewMessage(msgType, content)), timeout);

    public static JsonObject ExecuteContent(string code, bool silent = false, bool storeHistory = true, bool stopOnError = true, bool allowStdin = false, JsonObject? userExpressions = null) => new()
    {
        ["code"] = code, ["silent"] = silent, ["store_history"] = storeHistory, ["user_expressions"] = userExpressions ?? new JsonObject(),
        ["allow_stdin"] = allowStdin, ["stop_on_error"] = stopOnError,
    };

    /// <summary>Sends an execute_request without waiting.</summary>
    public string StartExecute(string code, bool stopOnError = true, bool allowStdin = false, bool silent = false, JsonObject? userExpressions = null) =>
        Send(Shell, NewMessage("execute_request", ExecuteContent(code, silent, !silent, stopOnError, allowStdin, userExpressions)));

    /// <summary>Runs a cell: its execute_reply and the iopub messages it caused (busy … idle).</summary>
    public (JupyterMessage Reply, List<JupyterMessage> Outputs) Execute(string code, bool stopOnError = true, bool silent = false, JsonObject? userExpressions = null, TimeSpan? timeout = null)
    {
        var id = StartExecute(code, stopOnError, silent: silent, userExpressions: userExpressions);
        var reply = ReplyTo(Shell, id, timeout);
        return (reply, OutputsOf(id));
    }

    /// <summary>The iopub messages parented to msg_id up to and including its idle status (waits for idle).</summary>
    public List<JupyterMessage> OutputsOf(string msgId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        lock (_iopub)
        {
            while (true)
            {
                var mine = _iopub.Where(m => (string?)m.ParentHeader["msg_id"] == msgId).ToList();
                int idle = mine.FindIndex(m => m.MsgType == "status" && (string?)m.Content["execution_state"] == "idle");
                if (idle >= 0) return mine.Take(idle + 1).ToList();
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) throw new TimeoutException($"no idle status for {msgId}. Kernel log:\n{Stderr}");
                Monitor.Wait(_iopub, left);
            }
        }
    }

    /// <summary>Waits until an iopub message matching <paramref name="match"/> arrives; null after the timeout.</summary>
    public JupyterMessage? WaitForIopub(Func<JupyterMessage, bool> match, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_iopub)
        {
            while (true)
            {
                var found = _iopub.FirstOrDefault(match);
                if (found is not null) return found;
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) return null;
                Monitor.Wait(_iopub, left);
            }
        }
    }

    public List<JupyterMessage> AllIopub() { lock (_iopub) return [.. _iopub]; }

    public static string StreamText(IEnumerable<JupyterMessage> outputs, string name = "stdout") =>
        string.Concat(outputs.Where(m => m.MsgType == "stream" && (string?)m.Content["name"] == name).Select(m => (string?)m.Content["text"]));

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                Send(Control, NewMessage("shutdown_request", new JsonObject { ["restart"] = false }));
                if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception) { }
        _stopping = true;
        _iopubThread.Join(1000);
        _context.Shutdown();
        foreach (var s in new[] { Shell, Control, Stdin, Heartbeat, IopubSocket }) s.Dispose();
        _context.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
