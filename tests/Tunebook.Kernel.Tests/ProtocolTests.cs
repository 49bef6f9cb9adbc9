using System.Text;
using System.Text.Json.Nodes;
using Tunebook.Kernel.Protocol;

namespace Tunebook.Kernel.Tests;

/// <summary>
/// <see cref="KernelProtocol"/> in-process, without ZeroMQ: requests go in as parsed messages, and every
/// message it sends is recorded with its channel, in the order it was sent.
/// </summary>
sealed class InProcessKernel
{
    readonly List<(KernelChannel Channel, JupyterMessage Message)> _sent = [];
    public static readonly byte[] ClientIdentity = "client-1"u8.ToArray();

    public KernelProtocol Protocol { get; }

    public InProcessKernel(bool startSession = true)
    {
        Protocol = new KernelProtocol(Record, TextWriter.Null);
        if (startSession) Protocol.StartSession();
        Clear();
    }

    void Record(KernelChannel channel, JupyterMessage message)
    {
        lock (_sent) { _sent.Add((channel, message)); Monitor.PulseAll(_sent); }
    }

    public List<(KernelChannel Channel, JupyterMessage Message)> Sent { get { lock (_sent) return [.. _sent]; } }

    public void Clear() { lock (_sent) _sent.Clear(); }

    /// <summary>Hands the protocol a request as a transport would; returns it (its header is the parent of what it causes).</summary>
    public JupyterMessage Receive(string msgType, JsonObject content, KernelChannel channel = KernelChannel.Shell)
    {
        var request = new JupyterMessage
        {
            Identities = [ClientIdentity],
            Header = new JsonObject
            {
                ["msg_id"] = Guid.NewGuid().ToString("N"), ["session"] = "client-session", ["username"] = "test",
                ["date"] = DateTimeOffset.UtcNow.ToString("O"), ["msg_type"] = msgType, ["version"] = JupyterMessage.ProtocolVersion,
            },
            Content = content,
        };
        Protocol.Receive(channel, request);
        return request;
    }

    public JupyterMessage Execute(string code, bool stopOnError = true, bool allowStdin = false) =>
        Receive("execute_request", KernelProcess.ExecuteContent(code, stopOnError: stopOnError, allowStdin: allowStdin));

    /// <summary>What was sent in answer to (or caused by) <paramref name="request"/>, in order.</summary>
    public List<(KernelChannel Channel, JupyterMessage Message)> CausedBy(JupyterMessage request) =>
        Sent.Where(s => (string?)s.Message.ParentHeader["msg_id"] == request.MsgId).ToList();

    public JupyterMessage ReplyTo(JupyterMessage request) =>
        Assert.Single(CausedBy(request), s => s.Channel != KernelChannel.Iopub).Message;

    /// <summary>Waits until a message matching <paramref name="match"/> has been sent (another thread is serving).</summary>
    public JupyterMessage WaitFor(Func<(KernelChannel Channel, JupyterMessage Message), bool> match)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        lock (_sent)
        {
            while (true)
            {
                foreach (var sent in _sent) if (match(sent)) return sent.Message;
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero) throw new TimeoutException("the protocol never sent the expected message");
                Monitor.Wait(_sent, left);
            }
        }
    }

    public static string Describe((KernelChannel Channel, JupyterMessage Message) sent) =>
        sent.Message.MsgType == "status"
            ? $"{sent.Channel}:status:{(string?)sent.Message.Content["execution_state"]}"
            : $"{sent.Channel}:{sent.Message.MsgType}";
}

public sealed class KernelProtocolTests
{
    [Fact]
    public void Execute_request_sends_busy_input_stream_result_reply_idle_parented_to_the_request()
    {
        var kernel = new InProcessKernel();
        var request = kernel.Execute("((Tunebook.Kernel.Execution.KernelHost)Host).Stdout.Write(\"hello\\n\");\n6 * 7");
        kernel.Protocol.ServePending();

        // Everything the request caused is parented to it: nothing else was sent.
        Assert.Equal(kernel.Sent.Count, kernel.CausedBy(request).Count);
        Assert.Equal(
            ["Iopub:status:busy", "Iopub:execute_input", "Iopub:stream", "Iopub:execute_result", "Shell:execute_reply", "Iopub:status:idle"],
            kernel.Sent.Select(InProcessKernel.Describe));
        var messages = kernel.Sent.Select(s => s.Message).ToList();
        Assert.All(messages, m => Assert.Equal(kernel.Protocol.Session, (string?)m.Header["session"]));
        Assert.All(messages, m => Assert.Equal(request.Header.ToJsonString(), m.ParentHeader.ToJsonString()));

        Assert.Equal(request.Content["code"]!.ToString(), (string?)messages[1].Content["code"]);
        Assert.Equal(1, (int?)messages[1].Content["execution_count"]);
        Assert.Equal("stdout", (string?)messages[2].Content["name"]);
        Assert.Equal("hello\n", (string?)messages[2].Content["text"]);
        Assert.Equal("42", (string?)messages[3].Content["data"]!["text/plain"]);
        Assert.Equal(1, (int?)messages[3].Content["execution_count"]);

        var reply = messages[4];
        Assert.Equal("ok", (string?)reply.Content["status"]);
        Assert.Equal(1, (int?)reply.Content["execution_count"]);
        Assert.Equal("ok", (string?)reply.Metadata["status"]);
        // The reply is routed back to the client that asked.
        Assert.Equal(InProcessKernel.ClientIdentity, Assert.Single(reply.Identities));
    }

    [Fact]
    public void An_error_aborts_the_executions_queued_behind_it_and_the_next_request_runs()
    {
        var kernel = new InProcessKernel();
        var failing = kernel.Execute("throw new InvalidOperationException(\"boom\");");
        var queued1 = kernel.Execute("1");
        var info = kernel.Receive("kernel_info_request", new JsonObject());
        var queued2 = kernel.Execute("2");
        kernel.Protocol.ServePending();

        var error = kernel.ReplyTo(failing);
        Assert.Equal("error", (string?)error.Content["status"]);
        Assert.Equal("InvalidOperationException", (string?)error.Content["ename"]);
        Assert.Equal("boom", (string?)error.Content["evalue"]);
        var published = Assert.Single(kernel.CausedBy(failing), s => s.Message.MsgType == "error").Message;
        Assert.Equal("boom", (string?)published.Content["evalue"]);

        foreach (var aborted in new[] { queued1, queued2 })
        {
            var reply = kernel.ReplyTo(aborted);
            Assert.Equal("aborted", (string?)reply.Content["status"]);
            Assert.Equal("aborted", (string?)reply.Metadata["status"]);
            // Aborted cells never ran: no input, no result, just busy and idle around the reply.
            Assert.Equal(["Iopub:status:busy", "Shell:execute_reply", "Iopub:status:idle"], kernel.CausedBy(aborted).Select(InProcessKernel.Describe));
        }
        // Requests that are not executions are kept, and served after the aborted replies.
        Assert.Equal("ok", (string?)kernel.ReplyTo(info).Content["status"]);
        var shellOrder = kernel.Sent.Where(s => s.Channel == KernelChannel.Shell).Select(s => (string?)s.Message.ParentHeader["msg_id"]);
        Assert.Equal([failing.MsgId, queued1.MsgId, queued2.MsgId, info.MsgId], shellOrder);

        // A cell sent after the error ran; aborted cells took no execution count.
        var next = kernel.Execute("3");
        kernel.Protocol.ServePending();
        var ok = kernel.ReplyTo(next);
        Assert.Equal("ok", (string?)ok.Content["status"]);
        Assert.Equal(2, (int?)ok.Content["execution_count"]);
        Assert.Equal("3", (string?)Assert.Single(kernel.CausedBy(next), s => s.Message.MsgType == "execute_result").Message.Content["data"]!["text/plain"]);
    }

    [Fact]
    public void Without_stop_on_error_the_queued_cells_still_run()
    {
        var kernel = new InProcessKernel();
        var failing = kernel.Execute("throw new Exception(\"boom\");", stopOnError: false);
        var after = kernel.Execute("1 + 1");
        kernel.Protocol.ServePending();
        Assert.Equal("error", (string?)kernel.ReplyTo(failing).Content["status"]);
        Assert.Equal("ok", (string?)kernel.ReplyTo(after).Content["status"]);
    }

    [Fact]
    public void Kernel_info_reply_describes_the_kernel_and_answers_on_the_channel_asked()
    {
        var kernel = new InProcessKernel(startSession: false);
        var onShell = kernel.Receive("kernel_info_request", new JsonObject());
        kernel.Protocol.ServePending();
        var onControl = kernel.Receive("kernel_info_request", new JsonObject(), KernelChannel.Control); // served at once

        Assert.Equal(["Iopub:status:busy", "Shell:kernel_info_reply", "Iopub:status:idle"], kernel.CausedBy(onShell).Select(InProcessKernel.Describe));
        Assert.Equal(["Iopub:status:busy", "Control:kernel_info_reply", "Iopub:status:idle"], kernel.CausedBy(onControl).Select(InProcessKernel.Describe));
        var c = kernel.ReplyTo(onShell).Content;
        Assert.Equal("ok", (string?)c["status"]);
        Assert.Equal("5.3", (string?)c["protocol_version"]);
        Assert.Equal("tunebook", (string?)c["implementation"]);
        Assert.Matches(@"^\d+\.\d+\.\d+$", (string?)c["implementation_version"]);
        Assert.Equal("csharp", (string?)c["language_info"]!["name"]);
        Assert.Equal(".cs", (string?)c["language_info"]!["file_extension"]);
        Assert.Equal("text/x-csharp", (string?)c["language_info"]!["mimetype"]);
        Assert.Contains("#!help", (string?)c["banner"]);
        Assert.False((bool?)c["debugger"]);
        Assert.Contains(c["help_links"]!.AsArray(), l => (string?)l!["text"] == "C# language reference");
    }

    [Fact]
    public void Unknown_requests_get_busy_and_idle_but_no_reply_and_comms_are_closed()
    {
        var kernel = new InProcessKernel(startSession: false);
        var unknown = kernel.Receive("frobnicate_request", new JsonObject());
        var commInfo = kernel.Receive("comm_info_request", new JsonObject());
        var commOpen = kernel.Receive("comm_open", new JsonObject { ["comm_id"] = "c1", ["target_name"] = "nowhere", ["data"] = new JsonObject() });
        var commMsg = kernel.Receive("comm_msg", new JsonObject { ["comm_id"] = "c1", ["data"] = new JsonObject() });
        kernel.Protocol.ServePending();

        Assert.Equal(["Iopub:status:busy", "Iopub:status:idle"], kernel.CausedBy(unknown).Select(InProcessKernel.Describe));
        Assert.Equal(["Iopub:status:busy", "Iopub:status:idle"], kernel.CausedBy(commMsg).Select(InProcessKernel.Describe));
        var comms = kernel.ReplyTo(commInfo).Content;
        Assert.Equal("ok", (string?)comms["status"]);
        Assert.Empty(comms["comms"]!.AsObject());
        Assert.Equal(["Iopub:status:busy", "Iopub:comm_close", "Iopub:status:idle"], kernel.CausedBy(commOpen).Select(InProcessKernel.Describe));
        Assert.Equal("c1", (string?)kernel.CausedBy(commOpen)[1].Message.Content["comm_id"]);
    }

    [Fact]
    public void Shutdown_on_shell_is_answered_at_once_ahead_of_queued_cells()
    {
        var kernel = new InProcessKernel(startSession: false);
        int shutdowns = 0;
        kernel.Protocol.ShutdownRequested += () => shutdowns++;
        var queued = kernel.Execute("1");
        var shutdown = kernel.Receive("shutdown_request", new JsonObject { ["restart"] = true });

        var reply = kernel.ReplyTo(shutdown);
        Assert.Equal("ok", (string?)reply.Content["status"]);
        Assert.True((bool?)reply.Content["restart"]);
        Assert.True(kernel.Protocol.RestartRequested);
        Assert.Equal(1, shutdowns);
        Assert.Empty(kernel.CausedBy(queued)); // still waiting in the shell queue
    }

    [Fact]
    public void Input_goes_out_on_stdin_to_the_requesting_client_and_the_reply_is_the_value()
    {
        var kernel = new InProcessKernel();
        var request = kernel.Execute("Input(\"name? \", password: true)", allowStdin: true);
        var serving = Task.Run(kernel.Protocol.ServePending);

        var ask = kernel.WaitFor(s => s.Channel == KernelChannel.Stdin);
        Assert.Equal("input_request", ask.MsgType);
        Assert.Equal("name? ", (string?)ask.Content["prompt"]);
        Assert.True((bool?)ask.Content["password"]);
        Assert.Equal(request.MsgId, (string?)ask.ParentHeader["msg_id"]);
        Assert.Equal(InProcessKernel.ClientIdentity, Assert.Single(ask.Identities));
        kernel.Receive("input_reply", new JsonObject { ["value"] = "Ada" }, KernelChannel.Stdin);
        serving.GetAwaiter().GetResult();

        var result = Assert.Single(kernel.CausedBy(request), s => s.Message.MsgType == "execute_result").Message;
        Assert.Equal("Ada", (string?)result.Content["data"]!["text/plain"]);
    }

    [Fact]
    public void Executed_cells_are_served_to_history_requests()
    {
        var kernel = new InProcessKernel();
        kernel.Execute("var x = 20;");
        kernel.Execute("x + 1");
        var history = kernel.Receive("history_request", new JsonObject { ["hist_access_type"] = "tail", ["n"] = 10, ["output"] = true });
        kernel.Protocol.ServePending();

        var entries = kernel.ReplyTo(history).Content["history"]!.AsArray();
        Assert.Equal(2, entries.Count);
        Assert.Equal((1, 1, "var x = 20;", (string?)null), ((int)entries[0]![0]!, (int)entries[0]![1]!, (string?)entries[0]![2]![0], (string?)entries[0]![2]![1]));
        Assert.Equal((1, 2, "x + 1", "21"), ((int)entries[1]![0]!, (int)entries[1]![1]!, (string?)entries[1]![2]![0], (string?)entries[1]![2]![1]));
    }
}
