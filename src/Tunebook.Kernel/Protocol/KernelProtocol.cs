using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Microsoft.CodeAnalysis.CSharp;
using Tunebook.Interactive;
using Tunebook.Kernel.Execution;
using Tunebook.Kernel.Language;

namespace Tunebook.Kernel.Protocol;

/// <summary>
/// The Jupyter messaging protocol (version 5.3) without its transport, as xeus separates its interpreter
/// from its server: parsed requests come in through <see cref="Receive"/>, every message going out
/// (replies, iopub broadcasts, input requests) leaves through the send delegate, tagged with its channel.
/// Shell requests wait in a queue that <see cref="ServeShell"/> (or <see cref="ServePending"/>) works
/// through one at a time; interrupt and shutdown are served at once, on whichever thread received them.
/// No sockets, threads or signals here: <see cref="Server.KernelServer"/> owns those, and tests drive
/// this class in-process.
/// </summary>
public sealed class KernelProtocol
{
    readonly Action<KernelChannel, JupyterMessage> _send;
    readonly TextWriter _log;
    readonly BlockingCollection<JupyterMessage> _shellQueue = new();
    readonly History _history = new();
    CellExecutor? _executor;
    int _executionCount;
    volatile JupyterMessage? _executing;
    volatile TaskCompletionSource<string>? _pendingInput;

    /// <summary>The session id stamped on every message the kernel sends.</summary>
    public string Session { get; } = Guid.NewGuid().ToString();

    /// <summary>The notebook host cells display through; its outputs go out on iopub.</summary>
    public KernelHost Host { get; }

    /// <summary>Called after a cell runs, before its streams are flushed (the server drains captured native output here).</summary>
    public Action? CellFinished { get; set; }

    /// <summary>Raised after the shutdown_reply is sent; <see cref="RestartRequested"/> says whether a restart was asked for.</summary>
    public event Action? ShutdownRequested;

    /// <summary>True once a shutdown_request asked for a restart (the client relaunches the kernel).</summary>
    public bool RestartRequested { get; private set; }

    /// <param name="send">Delivers one outgoing message on a channel; called from any thread.</param>
    /// <param name="log">The kernel's own diagnostics (never a cell's output).</param>
    public KernelProtocol(Action<KernelChannel, JupyterMessage> send, TextWriter log)
    {
        _send = send;
        _log = log;
        Host = new KernelHost(Publish) { InputProvider = RequestInput };
    }

    /// <summary>Queues a message for iopub, parented to <paramref name="parentHeader"/> (null for kernel-wide status).</summary>
    public void Publish(string msgType, JsonObject content, JsonObject? parentHeader) =>
        _send(KernelChannel.Iopub, JupyterMessage.Create(msgType, content, parentHeader, Session));

    public void PublishStatus(string state, JsonObject? parentHeader) =>
        Publish("status", new JsonObject { ["execution_state"] = state }, parentHeader);

    /// <summary>
    /// Starts the C# session, lets <paramref name="configure"/> load extensions into it, then reports idle.
    /// A session that fails to start is logged; execute requests then answer with an error.
    /// </summary>
    public void StartSession(Action<CellExecutor>? configure = null)
    {
        try
        {
            var executor = new CellExecutor(Host, _log);
            executor.Session.InitializeAsync().GetAwaiter().GetResult();
            _executor = executor;
            configure?.Invoke(executor);
        }
        catch (Exception e) { _log.WriteLine($"[tunebook kernel] the C# session failed to start: {e}"); }
        PublishStatus("idle", null);
    }

    /// <summary>A message the transport received and verified.</summary>
    public void Receive(KernelChannel channel, JupyterMessage message)
    {
        switch (channel, message.MsgType)
        {
            // Older clients send these on shell; they must not wait behind a running cell.
            case (KernelChannel.Shell, "interrupt_request" or "shutdown_request"): Serve(message, KernelChannel.Shell); break;
            case (KernelChannel.Shell, _): _shellQueue.Add(message); break;
            case (KernelChannel.Control, _): Serve(message, KernelChannel.Control); break;
            case (KernelChannel.Stdin, "input_reply"): _pendingInput?.TrySetResult((string?)message.Content["value"] ?? ""); break;
            default: break; // nothing else is expected from the front end on stdin
        }
    }

    /// <summary>Serves queued shell requests, in order, until <see cref="StopShell"/>; blocks while the queue is empty.</summary>
    public void ServeShell()
    {
        foreach (var request in _shellQueue.GetConsumingEnumerable())
            Serve(request, KernelChannel.Shell);
    }

    /// <summary>Serves the shell requests queued now, then returns.</summary>
    public void ServePending()
    {
        while (_shellQueue.TryTake(out var request))
            Serve(request, KernelChannel.Shell);
    }

    /// <summary>Ends <see cref="ServeShell"/> once the queue is empty; later shell requests are refused.</summary>
    public void StopShell() => _shellQueue.CompleteAdding();

    /// <summary>Cancels the running cell's token, and any Console.ReadLine waiting for input.</summary>
    public void Interrupt()
    {
        Host.Interrupt();
        _pendingInput?.TrySetCanceled();
    }

    /// <summary>busy, the handler, idle: every request, as ipykernel does.</summary>
    void Serve(JupyterMessage request, KernelChannel channel)
    {
        PublishStatus("busy", request.Header);
        try { Handle(request, channel); }
        catch (Exception e)
        {
            _log.WriteLine($"[tunebook kernel] {request.MsgType} failed: {e}");
            if (request.MsgType.EndsWith("_request", StringComparison.Ordinal))
                Reply(channel, request, request.MsgType.Replace("_request", "_reply"), Error(e));
        }
        finally
        {
            Host.FlushStreams();
            PublishStatus("idle", request.Header);
        }
    }

    void Handle(JupyterMessage request, KernelChannel channel)
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
                Publish("comm_close", new JsonObject { ["comm_id"] = (string?)c["comm_id"], ["data"] = new JsonObject() }, request.Header);
                break;
            case "comm_msg" or "comm_close": break;
            case "interrupt_request":
                // Reply first (cancelling a token cannot fail): on shell, the interrupted cell's execute_reply,
                // sent from the cell's thread as soon as it sees the token, then always follows this reply.
                Reply(channel, request, "interrupt_reply", new JsonObject { ["status"] = "ok" });
                Interrupt();
                break;
            case "shutdown_request":
                RestartRequested = (bool?)c["restart"] ?? false;
                Reply(channel, request, "shutdown_reply", new JsonObject { ["status"] = "ok", ["restart"] = RestartRequested });
                Host.Interrupt();
                ShutdownRequested?.Invoke();
                break;
            default:
                _log.WriteLine($"[tunebook kernel] ignored unknown message type {request.MsgType} on {channel}");
                break;
        }
    }

    void Execute(JupyterMessage request, KernelChannel channel)
    {
        var c = request.Content;
        var code = (string?)c["code"] ?? "";
        bool silent = (bool?)c["silent"] ?? false;
        bool storeHistory = !silent && ((bool?)c["store_history"] ?? true);
        bool stopOnError = (bool?)c["stop_on_error"] ?? true;
        if (storeHistory) _executionCount++;
        int count = _executionCount;
        if (!silent) Publish("execute_input", new JsonObject { ["code"] = code, ["execution_count"] = count }, request.Header);
        if (storeHistory) _history.Add(count, code);

        Host.BeginCell(request.Header);
        _executing = request;
        CellOutcome outcome;
        try
        {
            outcome = _executor is null
                ? new CellOutcome(null, false, new CellError("KernelError", "the C# session failed to start; see the kernel log", []))
                : _executor.ExecuteAsync(code).GetAwaiter().GetResult();
        }
        finally { _executing = null; }
        CellFinished?.Invoke();
        Host.FlushStreams();

        // A cell ending in display(x) without a semicolon has shown x already: its handle is no result.
        if (outcome.Ok && outcome.HasValue && !silent && outcome.Value is not IDisplayHandle)
        {
            try
            {
                Host.PublishResult(outcome.Value, count);
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
            if (!silent) Publish("error", (JsonObject)content.DeepClone(), request.Header);
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
            PublishStatus("busy", queued.Header);
            Reply(KernelChannel.Shell, queued, "execute_reply", new JsonObject { ["status"] = "aborted", ["execution_count"] = _executionCount }, new JsonObject { ["status"] = "aborted" });
            PublishStatus("idle", queued.Header);
        }
        foreach (var other in kept) Serve(other, KernelChannel.Shell);
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

    /// <summary>Asks the front end for a line of input on stdin and waits for it (or for an interrupt).</summary>
    public string RequestInput(string prompt, bool password)
    {
        var request = _executing;
        if (request is null || !((bool?)request.Content["allow_stdin"] ?? false))
            throw new InvalidOperationException("This front end does not support input (the execute request did not allow stdin).");
        Host.FlushStreams();
        var pending = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingInput = pending;
        _send(KernelChannel.Stdin, JupyterMessage.Create("input_request", new JsonObject { ["prompt"] = prompt, ["password"] = password }, request.Header, Session, request.Identities));
        try { return pending.Task.WaitAsync(Host.Cancellation).GetAwaiter().GetResult(); }
        catch (TaskCanceledException) { throw new OperationCanceledException("input was interrupted", Host.Cancellation); }
        finally { _pendingInput = null; }
    }

    JsonObject KernelInfo()
    {
        var version = typeof(KernelProtocol).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
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

    void Reply(KernelChannel channel, JupyterMessage request, string msgType, JsonObject content, JsonObject? metadata = null)
    {
        var reply = JupyterMessage.Create(msgType, content, request.Header, Session, request.Identities);
        if (metadata is not null) foreach (var (k, v) in metadata) reply.Metadata[k] = v?.DeepClone();
        _send(channel, reply);
    }
}
