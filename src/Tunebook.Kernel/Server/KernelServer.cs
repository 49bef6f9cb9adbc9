using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis.CSharp;
using Tunebook.Interactive;
using Tunebook.Kernel.Execution;
using Tunebook.Kernel.Language;
using Tunebook.Kernel.Protocol;
using Tunebook.Kernel.Zmq;

namespace Tunebook.Kernel.Server;

/// <summary>
/// The Jupyter kernel: binds the five channels of a connection file and serves the messaging protocol
/// (version 5.3). Shell requests run one at a time on a worker thread; control requests (interrupt,
/// shutdown) are answered at once on the control thread, even while a cell runs; the heartbeat echoes
/// on its own thread; every iopub message goes through one publishing queue.
/// </summary>
public sealed class KernelServer : IDisposable
{
    readonly ConnectionInfo _connection;
    readonly TextWriter _log;
    readonly MessageSigner _signer;
    readonly ZmqContext _context = new();
    readonly string _session = Guid.NewGuid().ToString();
    readonly BlockingCollection<JupyterMessage> _shellQueue = new();
    readonly ManualResetEventSlim _stopped = new();
    readonly History _history = new();
    readonly IopubPublisher _iopub;
    readonly Heartbeat _heartbeat;
    readonly RouterChannel _shell, _control, _stdin;
    readonly KernelHost _host;
    CellExecutor? _executor;
    Thread? _worker;
    PosixSignalRegistration? _sigint;
    int _executionCount;
    volatile JupyterMessage? _executing;
    volatile TaskCompletionSource<string>? _pendingInput;
    NativeOutputCapture[] _captures = [];

    /// <summary>True once a shutdown_request asked for a restart (the client relaunches the kernel).</summary>
    public bool RestartRequested { get; private set; }

    public KernelServer(ConnectionInfo connection, TextWriter log)
    {
        _connection = connection;
        _log = log;
        _signer = MessageSigner.Create(connection.SignatureScheme, connection.Key);
        _iopub = new IopubPublisher(_context, connection.Endpoint(connection.IopubPort), _signer, _session, log);
        _heartbeat = new Heartbeat(_context, connection.Endpoint(connection.HeartbeatPort));
        _shell = new RouterChannel("shell", _context, connection.Endpoint(connection.ShellPort), _signer, log);
        _control = new RouterChannel("control", _context, connection.Endpoint(connection.ControlPort), _signer, log);
        _stdin = new RouterChannel("stdin", _context, connection.Endpoint(connection.StdinPort), _signer, log);
        _host = new KernelHost(_iopub) { InputProvider = RequestInput };
    }

    /// <summary>The endpoints actually bound, in connection-file order (shell, control, stdin, iopub, hb).</summary>
    public IReadOnlyList<string> Endpoints => [_shell.Endpoint, _control.Endpoint, _stdin.Endpoint, _iopub.Endpoint, _heartbeat.Endpoint];

    /// <summary>Serves until a shutdown_request (or <paramref name="stop"/>). Console streams are redirected meanwhile.</summary>
    public void Run(CancellationToken stop = default)
    {
        var (oldOut, oldErr, oldIn) = (Console.Out, Console.Error, Console.In);
        Console.SetOut(_host.Stdout);
        Console.SetError(_host.Stderr);
        Console.SetIn(new StdinReader(RequestInput));
        Notebook.Host = _host;
        if (Environment.GetEnvironmentVariable("TUNEBOOK_KERNEL_CAPTURE_FD") != "0")
            _captures = [.. new[] { NativeOutputCapture.Start(1, _host.Stdout), NativeOutputCapture.Start(2, _host.Stderr) }.OfType<NativeOutputCapture>()];
        _sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => { signal.Cancel = true; Interrupt(); });
        // .NET ends the process on an exception escaping a thread a cell started; at least say why, in the notebook.
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            var error = ErrorFormatter.Runtime(e.ExceptionObject as Exception ?? new Exception(e.ExceptionObject?.ToString()));
            _log.WriteLine($"[tunebook kernel] terminating: unhandled exception on a background thread: {e.ExceptionObject}");
            _host.Stderr.Write($"The kernel is terminating: an exception escaped a background thread.\n{string.Join("\n", error.Traceback)}\n");
            _host.FlushStreams();
            _iopub.Drain(TimeSpan.FromSeconds(5));
            // zmq_send only hands the frames to ZeroMQ's I/O thread, which dies with the process; give it a
            // moment to put them on the wire (a context shutdown would wait for the other threads' sockets).
            Thread.Sleep(300);
        };
        using var stopRegistration = stop.Register(_stopped.Set);
        try
        {
            _iopub.PublishStatus("starting", null);
            _shell.Received = OnShell;
            _control.Received = OnControl;
            _stdin.Received = OnStdin;
            _worker = new Thread(ShellLoop, 16 * 1024 * 1024) { IsBackground = true, Name = "kernel-shell" };
            _worker.Start();
            _shell.Start(); _control.Start(); _stdin.Start();
            _stopped.Wait();
            _iopub.Drain(TimeSpan.FromSeconds(1));
        }
        finally
        {
            foreach (var capture in _captures) capture.Dispose();
            _host.FlushStreams();
            Console.SetOut(oldOut); Console.SetError(oldErr); Console.SetIn(oldIn);
        }
    }

    void ShellLoop()
    {
        try
        {
            _executor = new CellExecutor(_host, _log);
            _executor.Session.InitializeAsync().GetAwaiter().GetResult();
            _executor.LoadExtensionsFrom(AppContext.BaseDirectory);
            // Extensions installed elsewhere: TUNEBOOK_KERNEL_EXTENSIONS lists more folders (path-separated).
            foreach (var folder in (Environment.GetEnvironmentVariable("TUNEBOOK_KERNEL_EXTENSIONS") ?? "")
                         .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                if (Directory.Exists(folder)) _executor.LoadExtensionsFrom(folder);
                else _log.WriteLine($"[tunebook kernel] TUNEBOOK_KERNEL_EXTENSIONS names {folder}, which is not a folder");
        }
        catch (Exception e) { _log.WriteLine($"[tunebook kernel] the C# session failed to start: {e}"); }
        _iopub.PublishStatus("idle", null);
        foreach (var request in _shellQueue.GetConsumingEnumerable())
            Serve(request, _shell);
    }

    void OnShell(JupyterMessage request)
    {
        switch (request.MsgType)
        {
            // Older clients send these on shell; they must not wait behind a running cell.
            case "interrupt_request" or "shutdown_request": Serve(request, _shell); break;
            default: _shellQueue.Add(request); break;
        }
    }

    void OnControl(JupyterMessage request) => Serve(request, _control);

    void OnStdin(JupyterMessage message)
    {
        if (message.MsgType == "input_reply")
            _pendingInput?.TrySetResult((string?)message.Content["value"] ?? "");
    }

    /// <summary>busy, the handler, idle: every request, as ipykernel does.</summary>
    void Serve(JupyterMessage request, RouterChannel channel)
    {
        _iopub.PublishStatus("busy", request.Header);
        try { Handle(request, channel); }
        catch (Exception e)
        {
            _log.WriteLine($"[tunebook kernel] {request.MsgType} failed: {e}");
            if (request.MsgType.EndsWith("_request", StringComparison.Ordinal))
                Reply(channel, request, request.MsgType.Replace("_request", "_reply"), Error(e));
        }
        finally
        {
            _host.FlushStreams();
            _iopub.PublishStatus("idle", request.Header);
        }
    }

    void Handle(JupyterMessage request, RouterChannel channel)
    {
        var c = request.Content;
        switch (request.MsgType)
        {
            case "kernel_info_request": Reply(channel, request, "kernel_info_reply", KernelInfo()); break;
            case "execute_request": Execute(request, channel); break;
            case "complete_request": Reply(channel, request, "complete_reply", Complete((string?)c["code"] ?? "", (int?)c["cursor_pos"])); break;
            case "inspect_request": Reply(channel, request, "inspect_reply", Inspect((string?)c["code"] ?? "", (int?)c["cursor_pos"], (int?)c["detail_level"] ?? 0)); break;
            case "is_complete_request":
                var (status, indent) = Completeness.Check((string?)c["code"] ?? "");
                var reply = new JsonObject { ["status"] = status };
                if (status == "incomplete") reply["indent"] = indent;
                Reply(channel, request, "is_complete_reply", reply);
                break;
            case "history_request": Reply(channel, request, "history_reply", new JsonObject { ["status"] = "ok", ["history"] = _history.Query(c) }); break;
            case "comm_info_request": Reply(channel, request, "comm_info_reply", new JsonObject { ["status"] = "ok", ["comms"] = new JsonObject() }); break;
            case "comm_open":
                // No comm targets are registered: close it, as ipykernel does for an unknown target.
                _iopub.Publish("comm_close", new JsonObject { ["comm_id"] = (string?)c["comm_id"], ["data"] = new JsonObject() }, request.Header);
                break;
            case "comm_msg" or "comm_close": break;
            case "interrupt_request":
                Interrupt();
                Reply(channel, request, "interrupt_reply", new JsonObject { ["status"] = "ok" });
                break;
            case "shutdown_request":
                RestartRequested = (bool?)c["restart"] ?? false;
                Reply(channel, request, "shutdown_reply", new JsonObject { ["status"] = "ok", ["restart"] = RestartRequested });
                _host.Interrupt();
                _stopped.Set();
                break;
            default:
                _log.WriteLine($"[tunebook kernel] ignored unknown message type {request.MsgType} on {channel.Name}");
                break;
        }
    }

    /// <summary>Cancels the running cell's token, and any Console.ReadLine waiting for input.</summary>
    public void Interrupt()
    {
        _host.Interrupt();
        _pendingInput?.TrySetCanceled();
    }

    void Execute(JupyterMessage request, RouterChannel channel)
    {
        var c = request.Content;
        var code = (string?)c["code"] ?? "";
        bool silent = (bool?)c["silent"] ?? false;
        bool storeHistory = !silent && ((bool?)c["store_history"] ?? true);
        bool stopOnError = (bool?)c["stop_on_error"] ?? true;
        if (storeHistory) _executionCount++;
        int count = _executionCount;
        if (!silent) _iopub.Publish("execute_input", new JsonObject { ["code"] = code, ["execution_count"] = count }, request.Header);
        if (storeHistory) _history.Add(count, code);

        _host.BeginCell(request.Header);
        _executing = request;
        CellOutcome outcome;
        try
        {
            outcome = _executor is null
                ? new CellOutcome(null, false, new CellError("KernelError", "the C# session failed to start; see the kernel log", []))
                : _executor.ExecuteAsync(code).GetAwaiter().GetResult();
        }
        finally { _executing = null; }
        foreach (var capture in _captures) capture.Drain(TimeSpan.FromMilliseconds(200));
        _host.FlushStreams();

        // A cell ending in display(x) without a semicolon has shown x already: its handle is no result.
        if (outcome.Ok && outcome.HasValue && !silent && outcome.Value is not IDisplayHandle)
        {
            try
            {
                _host.PublishResult(outcome.Value, count);
                if (storeHistory) _history.SetOutput(count, SafePlain(outcome.Value));
            }
            catch (Exception e) { outcome = new CellOutcome(null, false, ErrorFormatter.Runtime(e)); } // a formatter or ToString threw
        }

        JsonObject reply;
        if (outcome.Error is { } error)
        {
            var content = new JsonObject
            {
                ["ename"] = error.EName, ["evalue"] = error.EValue,
                ["traceback"] = new JsonArray(error.Traceback.Select(l => (JsonNode?)l).ToArray()),
            };
            if (!silent) _iopub.Publish("error", (JsonObject)content.DeepClone(), request.Header);
            reply = content;
            reply["status"] = "error";
            reply["execution_count"] = count;
        }
        else
        {
            reply = new JsonObject { ["status"] = "ok", ["execution_count"] = count, ["payload"] = new JsonArray() };
        }
        reply["user_expressions"] = EvaluateUserExpressions(c["user_expressions"] as JsonObject);
        // Taken before the reply goes out: a request the client sends after seeing this reply must still run.
        var (aborted, kept) = outcome.Error is not null && stopOnError ? TakeQueuedExecutions() : ([], []);
        Reply(channel, request, "execute_reply", reply, new JsonObject { ["status"] = (string?)reply["status"] });
        foreach (var queued in aborted)
        {
            _iopub.PublishStatus("busy", queued.Header);
            Reply(_shell, queued, "execute_reply", new JsonObject { ["status"] = "aborted", ["execution_count"] = _executionCount }, new JsonObject { ["status"] = "aborted" });
            _iopub.PublishStatus("idle", queued.Header);
        }
        foreach (var other in kept) Serve(other, _shell);
    }

    /// <summary>
    /// After a failed cell, the cells the user had already queued behind it do not run (they get a reply
    /// with status "aborted", as in ipykernel). Other queued requests are kept, in order.
    /// </summary>
    (List<JupyterMessage> Aborted, List<JupyterMessage> Kept) TakeQueuedExecutions()
    {
        List<JupyterMessage> aborted = [], kept = [];
        while (_shellQueue.TryTake(out var queued))
            (queued.MsgType == "execute_request" ? aborted : kept).Add(queued);
        return (aborted, kept);
    }

    JsonObject EvaluateUserExpressions(JsonObject? expressions)
    {
        var results = new JsonObject();
        if (expressions is null || _executor is null) return results;
        foreach (var (name, node) in expressions)
        {
            var expression = (string?)node ?? "";
            try
            {
                var result = _executor.Session.RunCodeAsync(expression, "user_expression").GetAwaiter().GetResult();
                if (result.Exception is not null) throw result.Exception;
                var content = KernelHost.BundleContent(Formatters.Format(result.Value));
                content["status"] = "ok";
                results[name] = content;
            }
            catch (Exception e) { results[name] = Error(e); }
        }
        return results;
    }

    JsonObject Complete(string code, int? cursorPos)
    {
        int cursor = CursorPosition.ToUtf16(code, cursorPos ?? code.Length);
        var result = _executor is null ? new CompletionResult([], cursor, cursor)
            : MagicNames(code, cursor) ?? Completion.Complete(_executor.Session, code, cursor);
        int start = CursorPosition.ToCodePoints(code, result.Start), end = CursorPosition.ToCodePoints(code, result.End);
        var types = new JsonArray(result.Items.Select(i => (JsonNode?)new JsonObject
        {
            ["start"] = start, ["end"] = end, ["text"] = i.Text, ["type"] = i.Kind,
        }).ToArray());
        return new JsonObject
        {
            ["status"] = "ok",
            ["matches"] = new JsonArray(result.Items.Select(i => (JsonNode?)i.Text).ToArray()),
            ["cursor_start"] = start,
            ["cursor_end"] = end,
            ["metadata"] = new JsonObject { ["_jupyter_types_experimental"] = types },
        };
    }

    /// <summary>On a "#!na" line, the magic names starting with "na".</summary>
    CompletionResult? MagicNames(string code, int cursor)
    {
        int lineStart = code.LastIndexOf('\n', Math.Max(0, cursor - 1)) + 1;
        if (cursor - lineStart < 2 || !code.AsSpan(lineStart).StartsWith("#!")) return null;
        var typed = code[(lineStart + 2)..cursor];
        if (typed.Any(char.IsWhiteSpace)) return null;
        var items = _executor!.MagicCommands.Keys.Where(n => n.StartsWith(typed, StringComparison.Ordinal)).Order()
            .Select(n => new CompletionItem(n, "magic")).ToList();
        return new CompletionResult(items, lineStart + 2, cursor);
    }

    JsonObject Inspect(string code, int? cursorPos, int detailLevel)
    {
        int cursor = CursorPosition.ToUtf16(code, cursorPos ?? code.Length);
        var text = _executor is null ? null : Inspection.Inspect(_executor.Session, code, cursor, detailLevel);
        return new JsonObject
        {
            ["status"] = "ok",
            ["found"] = text is not null,
            ["data"] = text is null ? new JsonObject() : new JsonObject { ["text/plain"] = text },
            ["metadata"] = new JsonObject(),
        };
    }

    string RequestInput(string prompt, bool password)
    {
        var request = _executing;
        if (request is null || !((bool?)request.Content["allow_stdin"] ?? false))
            throw new InvalidOperationException("This front end does not support input (the execute request did not allow stdin).");
        _host.FlushStreams();
        var pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingInput = pending;
        _stdin.Send(JupyterMessage.Create("input_request", new JsonObject { ["prompt"] = prompt, ["password"] = password }, request.Header, _session, request.Identities));
        try { return pending.Task.WaitAsync(_host.Cancellation).GetAwaiter().GetResult(); }
        catch (TaskCanceledException) { throw new OperationCanceledException("input was interrupted", _host.Cancellation); }
        finally { _pendingInput = null; }
    }

    JsonObject KernelInfo()
    {
        var version = typeof(KernelServer).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var csharp = LanguageVersionFacts.ToDisplayString(LanguageVersionFacts.MapSpecifiedToEffectiveVersion(LanguageVersion.Latest));
        return new JsonObject
        {
            ["status"] = "ok",
            ["protocol_version"] = JupyterMessage.ProtocolVersion,
            ["implementation"] = "tunebook",
            ["implementation_version"] = version,
            ["language_info"] = new JsonObject
            {
                ["name"] = "csharp",
                ["version"] = csharp,
                ["mimetype"] = "text/x-csharp",
                ["file_extension"] = ".cs",
                ["pygments_lexer"] = "csharp",
                ["codemirror_mode"] = "text/x-csharp",
                ["nbconvert_exporter"] = "script",
            },
            ["banner"] = $"Tunebook C# kernel {version} (C# {csharp}, .NET {Environment.Version}). #!help lists the magic commands.",
            ["help_links"] = HelpLinks(),
            ["debugger"] = false,
        };
    }

    /// <summary>The C# and .NET references, and this checkout's kernel guide when the kernel runs from a checkout.</summary>
    static JsonArray HelpLinks()
    {
        var links = new JsonArray(
            new JsonObject { ["text"] = "C# language reference", ["url"] = "https://learn.microsoft.com/dotnet/csharp/" },
            new JsonObject { ["text"] = ".NET API reference", ["url"] = "https://learn.microsoft.com/dotnet/api/" });
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var guide = Path.Combine(dir.FullName, "docs", "kernel.md");
            if (!File.Exists(guide)) continue;
            links.Insert(0, new JsonObject { ["text"] = "Tunebook kernel guide", ["url"] = new Uri(guide).AbsoluteUri });
            break;
        }
        return links;
    }

    static string SafePlain(object? value)
    {
        try { return Formatters.Format(value)["text/plain"] ?? ""; }
        catch (Exception e) { return $"<formatting failed: {e.Message}>"; }
    }

    static JsonObject Error(Exception e)
    {
        var error = ErrorFormatter.Runtime(e);
        return new JsonObject
        {
            ["status"] = "error", ["ename"] = error.EName, ["evalue"] = error.EValue,
            ["traceback"] = new JsonArray(error.Traceback.Select(l => (JsonNode?)l).ToArray()),
        };
    }

    void Reply(RouterChannel channel, JupyterMessage request, string msgType, JsonObject content, JsonObject? metadata = null)
    {
        var reply = JupyterMessage.Create(msgType, content, request.Header, _session, request.Identities);
        if (metadata is not null) foreach (var (k, v) in metadata) reply.Metadata[k] = v?.DeepClone();
        channel.Send(reply);
    }

    public void Dispose()
    {
        _sigint?.Dispose();
        _shellQueue.CompleteAdding();
        _shell.Stop(); _control.Stop(); _stdin.Stop();
        _iopub.Drain(TimeSpan.FromSeconds(1));
        _context.Shutdown();
        _shell.Dispose(); _control.Dispose(); _stdin.Dispose();
        _iopub.Dispose();
        _heartbeat.Dispose();
        _context.Dispose();
    }
}
