using System.Text;
using System.Text.Json.Nodes;
using Tunebook.Kernel.Protocol;

namespace Tunebook.Kernel.Tests;

/// <summary>Whatever arrives on the wire, the kernel drops what it must and keeps serving.</summary>
public sealed class RobustnessTests(KernelProcessFixture fixture) : IClassFixture<KernelProcessFixture>
{
    readonly KernelProcess _kernel = fixture.Kernel;

    void AssertStillServing()
    {
        var reply = _kernel.Request(_kernel.Shell, "kernel_info_request", new JsonObject(), TimeSpan.FromSeconds(30));
        Assert.Equal("5.3", (string?)reply.Content["protocol_version"]);
    }

    [Fact]
    public void A_message_with_a_bad_signature_is_dropped_unread()
    {
        var forged = _kernel.NewMessage("execute_request", KernelProcess.ExecuteContent("Console.WriteLine(\"forged\");"));
        _kernel.Shell.SendFrames(forged.ToFrames(MessageSigner.Create("hmac-sha256", "not-the-key")));
        Assert.Null(_kernel.Receive(_kernel.Shell, TimeSpan.FromSeconds(1.5)));
        Assert.DoesNotContain(_kernel.AllIopub(), m => (string?)m.ParentHeader["msg_id"] == forged.MsgId);
        AssertStillServing();
        Assert.Contains("invalid message signature", _kernel.Stderr);
    }

    [Fact]
    public void Malformed_frames_are_dropped()
    {
        var signer = _kernel.Signer;
        byte[] B(string s) => Encoding.UTF8.GetBytes(s);
        byte[] Sig(params string[] parts) => B(signer.Sign(parts.Select(B).ToArray()));

        _kernel.Shell.SendFrames([B("no delimiter at all")]);
        _kernel.Shell.SendFrames([B("<IDS|MSG>"), B("abc")]);
        _kernel.Shell.SendFrames([B("<IDS|MSG>"), Sig("not json", "{}", "{}", "{}"), B("not json"), B("{}"), B("{}"), B("{}")]);
        _kernel.Shell.SendFrames([B("<IDS|MSG>"), Sig("{}", "{}", "{}", "{}"), B("{}"), B("{}"), B("{}"), B("{}")]);
        _kernel.Shell.SendFrames([B("<IDS|MSG>"), Sig("[1]", "{}", "{}", "{}"), B("[1]"), B("{}"), B("{}"), B("{}")]);
        _kernel.Shell.SendFrames([B("<IDS|MSG>"), B("zz-not-hex"), B("{}"), B("{}"), B("{}"), B("{}")]);

        Assert.Null(_kernel.Receive(_kernel.Shell, TimeSpan.FromSeconds(1)));
        AssertStillServing();
        Assert.Contains("no <IDS|MSG> delimiter", _kernel.Stderr);
        Assert.Contains("header is not valid JSON", _kernel.Stderr);
        Assert.Contains("header lacks msg_type", _kernel.Stderr);
    }

    [Fact]
    public void Unknown_requests_and_comms_are_handled_gracefully()
    {
        _kernel.Send(_kernel.Shell, _kernel.NewMessage("no_such_request", new JsonObject()));
        var comm = _kernel.NewMessage("comm_open", new JsonObject { ["comm_id"] = "c1", ["target_name"] = "jupyter.widget", ["data"] = new JsonObject() });
        _kernel.Send(_kernel.Shell, comm);
        var close = _kernel.WaitForIopub(m => m.MsgType == "comm_close" && (string?)m.Content["comm_id"] == "c1", TimeSpan.FromSeconds(30));
        Assert.NotNull(close);
        var info = _kernel.Request(_kernel.Shell, "comm_info_request", new JsonObject());
        Assert.Empty(info.Content["comms"]!.AsObject());
        AssertStillServing();
    }

    [Fact]
    public void Kernel_info_describes_the_language()
    {
        var reply = _kernel.Request(_kernel.Control, "kernel_info_request", new JsonObject());
        Assert.Equal("tunebook", (string?)reply.Content["implementation"]);
        var language = reply.Content["language_info"]!;
        Assert.Equal("csharp", (string?)language["name"]);
        Assert.Equal(".cs", (string?)language["file_extension"]);
        Assert.Equal("text/x-csharp", (string?)language["mimetype"]);
        Assert.NotEmpty(reply.Content["help_links"]!.AsArray());
    }

    [Fact]
    public void History_returns_stored_cells()
    {
        _kernel.Execute("var historyMarker = 7;");
        _kernel.Execute("historyMarker * 6");
        var reply = _kernel.Request(_kernel.Shell, "history_request", new JsonObject { ["hist_access_type"] = "tail", ["n"] = 2, ["output"] = true, ["raw"] = true });
        var history = reply.Content["history"]!.AsArray();
        Assert.Equal(2, history.Count);
        Assert.Equal("var historyMarker = 7;", (string?)history[0]![2]![0]);
        Assert.Equal("42", (string?)history[1]![2]![1]);
    }
}

/// <summary>The ipc transport binds socket files named "{ip}-{port}", as Jupyter does.</summary>
public sealed class IpcTransportTests
{
    [Fact]
    public void A_kernel_on_ipc_serves_cells()
    {
        using var kernel = new KernelProcess("ipc");
        var (reply, outputs) = kernel.Execute("Console.WriteLine(\"over ipc\");");
        Assert.Equal("ok", (string?)reply.Content["status"]);
        Assert.Equal("over ipc\n", KernelProcess.StreamText(outputs));
    }
}

/// <summary>
/// An exception escaping a Thread ends any .NET process; the kernel wraps the start of every Thread a cell
/// creates, so the exception is reported in the notebook and the kernel keeps running.
/// </summary>
public sealed class BackgroundCrashTests
{
    [Fact]
    public void An_exception_on_a_cells_own_thread_is_reported_and_the_kernel_keeps_running()
    {
        using var kernel = new KernelProcess();
        kernel.Execute("var kept = 41;");
        var (reply, _) = kernel.Execute("new Thread(() => { Thread.Sleep(200); throw new InvalidOperationException(\"escaped\"); }).Start();\n"
            + "new Thread(state => throw new ArgumentException((string?)state)) { IsBackground = true }.Start(\"escaped too\");");
        Assert.Equal("ok", (string?)reply.Content["status"]);
        foreach (var text in new[] { "escaped", "escaped too" })
        {
            var notice = kernel.WaitForIopub(m => m.MsgType == "stream" && ((string?)m.Content["text"])?.Contains(text + "\n") == true, TimeSpan.FromSeconds(30));
            Assert.NotNull(notice);
            Assert.Equal("stderr", (string?)notice!.Content["name"]);
            Assert.Contains("the kernel keeps running", (string?)notice.Content["text"]);
        }
        Assert.False(kernel.Process.WaitForExit(1000));
        var (after, outputs) = kernel.Execute("kept + 1");
        Assert.Equal("ok", (string?)after.Content["status"]);
        Assert.Equal("42", (string?)outputs.Single(m => m.MsgType == "execute_result").Content["data"]!["text/plain"]);
    }
}

/// <summary>Shutdown ends the process after replying; restart is the client's job (it relaunches).</summary>
public sealed class ShutdownTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Shutdown_replies_then_the_process_exits(bool restart)
    {
        using var kernel = new KernelProcess();
        // Even with a cell that never checks its token still running.
        kernel.StartExecute("while (true) Thread.Sleep(10);");
        Thread.Sleep(300);
        var reply = kernel.Request(kernel.Control, "shutdown_request", new JsonObject { ["restart"] = restart }, TimeSpan.FromSeconds(10));
        Assert.Equal("ok", (string?)reply.Content["status"]);
        Assert.Equal(restart, (bool)reply.Content["restart"]!);
        Assert.True(kernel.Process.WaitForExit(10_000), "the kernel process did not exit");
        Assert.Equal(0, kernel.Process.ExitCode);
    }
}

/// <summary>A kernel that cannot start says why on stderr and exits with an error code.</summary>
public sealed class StartupFailureTests
{
    static (int Exit, string Stderr) RunKernel(string connectionFile)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { typeof(StartupFailureTests).Assembly.Location, "--kernel-host", connectionFile }) start.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(30_000), "the kernel did not exit");
        return (process.ExitCode, stderr.Result);
    }

    [Fact]
    public void A_port_in_use_or_a_bad_connection_file_ends_with_a_clear_message()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, $"{{\"transport\":\"tcp\",\"ip\":\"127.0.0.1\",\"shell_port\":{port},\"control_port\":0,\"stdin_port\":0,\"iopub_port\":0,\"hb_port\":0,\"key\":\"k\"}}");
            var (exit, stderr) = RunKernel(file);
            Assert.Equal(1, exit);
            Assert.Contains($"cannot bind tcp://127.0.0.1:{port}", stderr);
            Assert.DoesNotContain("Unhandled exception", stderr);

            File.WriteAllText(file, "{\"transport\":\"tcp\",\"key\":\"k\",\"signature_scheme\":\"hmac-sha3\"}");
            (exit, stderr) = RunKernel(file);
            Assert.Equal(2, exit);
            Assert.Contains("signature_scheme \"hmac-sha3\" is not supported", stderr);
        }
        finally { File.Delete(file); }
    }
}
