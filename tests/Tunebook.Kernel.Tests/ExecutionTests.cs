using System.Text.Json.Nodes;
using Tunebook.Kernel.Protocol;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Tunebook.Kernel.Tests;

/// <summary>Cells as a front end runs them: state, results, errors, outputs, displays, interrupts, stdin.</summary>
public sealed class ExecutionTests(KernelProcessFixture fixture) : IClassFixture<KernelProcessFixture>
{
    readonly KernelProcess _kernel = fixture.Kernel;

    static string Status(JupyterMessage reply) => (string)reply.Content["status"]!;
    static string Plain(JupyterMessage result) => (string)result.Content["data"]!["text/plain"]!;

    [Fact]
    public void Variables_usings_and_types_carry_across_cells()
    {
        Assert.Equal("ok", Status(_kernel.Execute("using System.Text;\nvar parts = 20;\nrecord Pair(int A, int B);").Reply));
        var (reply, outputs) = _kernel.Execute("var sb = new StringBuilder().Append(parts * 2 + 2);\nnew Pair(1, 2).A + sb.ToString()");
        Assert.Equal("ok", Status(reply));
        var result = Assert.Single(outputs, m => m.MsgType == "execute_result");
        Assert.Equal("142", Plain(result));
        Assert.Equal((int)reply.Content["execution_count"]!, (int)result.Content["execution_count"]!);
    }

    [Fact]
    public void Top_level_await_and_a_statement_cell_has_no_result()
    {
        var (reply, outputs) = _kernel.Execute("await Task.Delay(10);\nvar awaited = await Task.FromResult(5);");
        Assert.Equal("ok", Status(reply));
        Assert.DoesNotContain(outputs, m => m.MsgType == "execute_result");
        var (_, more) = _kernel.Execute("await Task.FromResult(awaited * 2)");
        Assert.Equal("10", Plain(more.Single(m => m.MsgType == "execute_result")));
    }

    [Fact]
    public void Every_request_is_wrapped_in_busy_and_idle_with_its_parent()
    {
        var (reply, outputs) = _kernel.Execute("1");
        var id = (string)reply.ParentHeader["msg_id"]!;
        Assert.Equal("status", outputs[0].MsgType);
        Assert.Equal("busy", (string?)outputs[0].Content["execution_state"]);
        Assert.Equal("execute_input", outputs[1].MsgType);
        Assert.Equal("idle", (string?)outputs[^1].Content["execution_state"]);
        Assert.All(outputs, m => Assert.Equal(id, (string?)m.ParentHeader["msg_id"]));
    }

    [Fact]
    public void Compile_errors_give_line_and_column_relative_to_the_cell()
    {
        var (reply, outputs) = _kernel.Execute("var fine = 1;\n\nint broken = ;");
        Assert.Equal("error", Status(reply));
        Assert.Equal("CompilationError", (string?)reply.Content["ename"]);
        Assert.Contains("(3,14): error CS1525", (string)reply.Content["evalue"]!);
        Assert.Single(outputs, m => m.MsgType == "error");

        // Magic lines count: the body of #!time starts on line 2 of the cell.
        var (timed, _) = _kernel.Execute("#!time\nvar also = 2;\nalso.NoSuchMember();");
        Assert.Contains("(3,6): error CS1061", (string)timed.Content["evalue"]!);
    }

    [Fact]
    public void Runtime_errors_show_the_users_frames_only()
    {
        var (reply, _) = _kernel.Execute("void Inner() => throw new InvalidOperationException(\"deep failure\");\nvoid Outer() { Inner(); }\nOuter();");
        Assert.Equal("error", Status(reply));
        Assert.Equal("InvalidOperationException", (string?)reply.Content["ename"]);
        Assert.Equal("deep failure", (string?)reply.Content["evalue"]);
        var traceback = string.Join("\n", reply.Content["traceback"]!.AsArray().Select(l => (string?)l));
        Assert.Contains("at Inner() in cell, line 1", traceback);
        Assert.Contains("at Outer() in cell, line 2", traceback);
        Assert.DoesNotContain("Microsoft.CodeAnalysis", traceback);
        Assert.DoesNotContain("Tunebook.Kernel", traceback);
        // The kernel survived and the session still works.
        Assert.Equal("ok", Status(_kernel.Execute("1 + 1").Reply));
    }

    [Fact]
    public void Console_output_and_errors_become_stream_messages()
    {
        var (_, outputs) = _kernel.Execute("Console.Write(\"a\"); Console.WriteLine(\"b\"); Console.Error.WriteLine(\"warn\");");
        Assert.Equal("ab\n", KernelProcess.StreamText(outputs));
        Assert.Equal("warn\n", KernelProcess.StreamText(outputs, "stderr"));
    }

    [Fact]
    public void Output_of_child_processes_and_native_code_reaches_the_notebook()
    {
        var (reply, outputs) = _kernel.Execute("using (var p = System.Diagnostics.Process.Start(\"/bin/sh\", [\"-c\", \"echo from a child process; echo child error >&2\"])!) p.WaitForExit();");
        Assert.Equal("ok", Status(reply));
        Assert.Equal("from a child process\n", KernelProcess.StreamText(outputs));
        Assert.Equal("child error\n", KernelProcess.StreamText(outputs, "stderr"));
    }

    [Fact]
    public void Output_from_a_background_thread_arrives_as_a_stream_of_its_cell()
    {
        var (reply, _) = _kernel.Execute("new Thread(() => { Thread.Sleep(300); Console.WriteLine(\"from the background\"); }).Start();");
        var id = (string)reply.ParentHeader["msg_id"]!;
        var stream = _kernel.WaitForIopub(m => m.MsgType == "stream" && ((string?)m.Content["text"])?.Contains("from the background") == true, TimeSpan.FromSeconds(20));
        Assert.NotNull(stream);
        Assert.Equal(id, (string?)stream!.ParentHeader["msg_id"]);
    }

    [Fact]
    public void Display_handle_updates_and_clears_its_own_output_area()
    {
        var (reply, outputs) = _kernel.Execute("var handle = display(1);\nfor (int i = 2; i <= 3; i++) handle.Update(i);\nhandle.Clear();");
        Assert.Equal("ok", Status(reply));
        var shown = outputs.Where(m => m.MsgType is "display_data" or "update_display_data").ToList();
        Assert.Equal(["display_data", "update_display_data", "update_display_data", "update_display_data"], shown.Select(m => m.MsgType));
        var id = (string)shown[0].Content["transient"]!["display_id"]!;
        Assert.All(shown, m => Assert.Equal(id, (string?)m.Content["transient"]!["display_id"]));
        Assert.Equal(["1", "2", "3", ""], shown.Select(m => (string?)m.Content["data"]!["text/plain"]));
    }

    [Fact]
    public void Several_live_handles_in_one_cell_update_independently()
    {
        var (_, outputs) = _kernel.Execute("var loss = display(\"loss 1.0\"); var step = display(\"step 0\");\nstep.Update(\"step 1\"); loss.Update(\"loss 0.5\");");
        var shown = outputs.Where(m => m.MsgType is "display_data" or "update_display_data").ToList();
        Assert.Equal(4, shown.Count);
        string Id(JupyterMessage m) => (string)m.Content["transient"]!["display_id"]!;
        Assert.NotEqual(Id(shown[0]), Id(shown[1]));
        Assert.Equal(Id(shown[1]), Id(shown[2]));
        Assert.Equal("step 1", (string?)shown[2].Content["data"]!["text/plain"]);
        Assert.Equal(Id(shown[0]), Id(shown[3]));
        Assert.Equal("loss 0.5", (string?)shown[3].Content["data"]!["text/plain"]);
    }

    [Fact]
    public void A_cell_ending_in_display_shows_the_value_once_and_no_handle()
    {
        var (reply, outputs) = _kernel.Execute("display(\"shown once\")");
        Assert.Equal("ok", Status(reply));
        Assert.Single(outputs, m => m.MsgType == "display_data");
        Assert.DoesNotContain(outputs, m => m.MsgType == "execute_result");
    }

    [Fact]
    public void A_result_whose_ToString_throws_fails_the_cell_not_the_kernel()
    {
        _kernel.Execute("class Grumpy { public override string ToString() => throw new NotSupportedException(\"no text\"); }");
        var (reply, _) = _kernel.Execute("new Grumpy()");
        Assert.Equal("error", Status(reply));
        Assert.Equal("NotSupportedException", (string?)reply.Content["ename"]);
        Assert.Equal("ok", Status(_kernel.Execute("1").Reply));
    }

    [Fact]
    public void Library_code_reaches_the_kernel_through_Notebook_Host()
    {
        var (_, outputs) = _kernel.Execute("var h = Tunebook.Interactive.Frontend.Display(\"via the ambient host\"); h.Update(\"updated\");");
        Assert.Contains(outputs, m => m.MsgType == "display_data" && (string?)m.Content["data"]!["text/plain"] == "via the ambient host");
        Assert.Contains(outputs, m => m.MsgType == "update_display_data" && (string?)m.Content["data"]!["text/plain"] == "updated");
    }

    [Fact]
    public void ClearOutput_sends_clear_output_after_earlier_output()
    {
        var (_, outputs) = _kernel.Execute("Console.WriteLine(\"before\"); ClearOutput(wait: true); Console.WriteLine(\"after\");");
        var types = outputs.Select(m => m.MsgType).Where(t => t is "stream" or "clear_output").ToList();
        Assert.Equal(["stream", "clear_output", "stream"], types);
        Assert.True((bool)outputs.Single(m => m.MsgType == "clear_output").Content["wait"]!);
    }

    [Fact]
    public void Json_mime_types_are_embedded_as_json()
    {
        var (_, outputs) = _kernel.Execute("display(new MimeBundle(\"chart\").With(\"application/vnd.plotly.v1+json\", \"{\\\"data\\\": [{\\\"y\\\": [1, 2]}]}\"));");
        var data = outputs.Single(m => m.MsgType == "display_data").Content["data"]!;
        var plotly = Assert.IsType<JsonObject>(data["application/vnd.plotly.v1+json"], exactMatch: false);
        Assert.Equal(2, (int)plotly["data"]![0]!["y"]![1]!);
    }

    [Fact]
    public void Interrupt_cancels_the_cell_token_and_the_kernel_keeps_serving()
    {
        var id = _kernel.StartExecute("Console.WriteLine(\"started\");\nwhile (true) { Cancellation.ThrowIfCancellationRequested(); Thread.Sleep(5); }");
        Assert.NotNull(_kernel.WaitForIopub(m => (string?)m.ParentHeader["msg_id"] == id && m.MsgType == "stream", TimeSpan.FromSeconds(30)));
        var interrupt = _kernel.Request(_kernel.Control, "interrupt_request", new JsonObject(), TimeSpan.FromSeconds(30));
        Assert.Equal("ok", (string?)interrupt.Content["status"]);
        var reply = _kernel.ReplyTo(_kernel.Shell, id, TimeSpan.FromSeconds(30));
        Assert.Equal("error", Status(reply));
        Assert.Equal("KeyboardInterrupt", (string?)reply.Content["ename"]);

        // A fresh token for the next cell: library code polling Frontend.Cancellation runs normally.
        var (next, outputs) = _kernel.Execute("Tunebook.Interactive.Frontend.Cancellation.IsCancellationRequested");
        Assert.Equal("ok", Status(next));
        Assert.Equal("false", (string?)outputs.Single(m => m.MsgType == "execute_result").Content["data"]!["text/plain"]);
    }

    [Fact]
    public void Interrupt_also_works_on_shell_and_by_SIGINT()
    {
        const string loop = "Console.WriteLine(\"started\");\nwhile (true) { Cancellation.ThrowIfCancellationRequested(); Thread.Sleep(5); }";

        // Older clients send interrupt_request on shell; it must not wait behind the running cell.
        var id = _kernel.StartExecute(loop);
        Assert.NotNull(_kernel.WaitForIopub(m => (string?)m.ParentHeader["msg_id"] == id && m.MsgType == "stream", TimeSpan.FromSeconds(30)));
        var interruptId = _kernel.Send(_kernel.Shell, _kernel.NewMessage("interrupt_request", new JsonObject()));
        var first = _kernel.Receive(_kernel.Shell, TimeSpan.FromSeconds(30))!;
        Assert.Equal(interruptId, (string?)first.ParentHeader["msg_id"]);
        Assert.Equal("KeyboardInterrupt", (string?)_kernel.ReplyTo(_kernel.Shell, id, TimeSpan.FromSeconds(30)).Content["ename"]);

        // SIGINT (interrupt_mode "signal" clients, or Ctrl+C in a terminal) cancels the token too, and never kills the kernel.
        id = _kernel.StartExecute(loop);
        Assert.NotNull(_kernel.WaitForIopub(m => (string?)m.ParentHeader["msg_id"] == id && m.MsgType == "stream", TimeSpan.FromSeconds(30)));
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", _kernel.Process.Id.ToString()])) kill.WaitForExit();
        Assert.Equal("KeyboardInterrupt", (string?)_kernel.ReplyTo(_kernel.Shell, id, TimeSpan.FromSeconds(30)).Content["ename"]);
        Assert.Equal("ok", Status(_kernel.Execute("1").Reply));
    }

    [Fact]
    public void Magic_names_complete_on_a_magic_line()
    {
        var reply = _kernel.Request(_kernel.Shell, "complete_request", new JsonObject { ["code"] = "#!ti", ["cursor_pos"] = 4 });
        Assert.Equal(["time"], reply.Content["matches"]!.AsArray().Select(m => (string?)m));
        Assert.Equal(2, (int)reply.Content["cursor_start"]!);
    }

    [Fact]
    public void Heartbeat_answers_while_a_long_cell_runs()
    {
        var id = _kernel.StartExecute("Thread.Sleep(4000);");
        Thread.Sleep(300);
        _kernel.Heartbeat.SendFrames(["ping"u8.ToArray()]);
        Assert.True(_kernel.Heartbeat.Poll(-1, 3000).Socket, "heartbeat did not answer while a cell was running");
        Assert.Equal("ping"u8.ToArray(), _kernel.Heartbeat.ReceiveFrames()![0]);
        Assert.Equal("ok", Status(_kernel.ReplyTo(_kernel.Shell, id)));
    }

    [Fact]
    public void Stop_on_error_aborts_the_cells_already_queued()
    {
        var failing = _kernel.StartExecute("Thread.Sleep(300); throw new Exception(\"first cell fails\");");
        var second = _kernel.StartExecute("Console.WriteLine(\"must not run\");");
        var third = _kernel.StartExecute("1");
        Assert.Equal("error", Status(_kernel.ReplyTo(_kernel.Shell, failing)));
        Assert.Equal("aborted", Status(_kernel.ReplyTo(_kernel.Shell, second)));
        Assert.Equal("aborted", Status(_kernel.ReplyTo(_kernel.Shell, third)));
        Assert.DoesNotContain(_kernel.OutputsOf(second), m => m.MsgType == "stream");

        // Without stop_on_error the queued cell runs.
        var lenient = _kernel.StartExecute("Thread.Sleep(300); throw new Exception(\"fails\");", stopOnError: false);
        var after = _kernel.StartExecute("Console.WriteLine(\"runs anyway\");");
        Assert.Equal("error", Status(_kernel.ReplyTo(_kernel.Shell, lenient)));
        Assert.Equal("ok", Status(_kernel.ReplyTo(_kernel.Shell, after)));
        // And a cell sent after the failure was reported runs normally.
        Assert.Equal("ok", Status(_kernel.Execute("2").Reply));
    }

    [Fact]
    public void Silent_cells_publish_nothing_and_do_not_count()
    {
        var (first, _) = _kernel.Execute("3");
        var (silent, outputs) = _kernel.Execute("Console.WriteLine(\"quiet\"); 4", silent: true);
        Assert.Equal("ok", Status(silent));
        Assert.DoesNotContain(outputs, m => m.MsgType is "execute_input" or "execute_result");
        var (next, _) = _kernel.Execute("5");
        Assert.Equal((int)first.Content["execution_count"]! + 1, (int)next.Content["execution_count"]!);
    }

    [Fact]
    public void User_expressions_are_evaluated_after_the_cell()
    {
        var (reply, _) = _kernel.Execute("var answer = 41;", userExpressions: new JsonObject { ["a"] = "answer + 1", ["bad"] = "nosuch" });
        var expressions = reply.Content["user_expressions"]!;
        Assert.Equal("ok", (string?)expressions["a"]!["status"]);
        Assert.Equal("42", (string?)expressions["a"]!["data"]!["text/plain"]);
        Assert.Equal("error", (string?)expressions["bad"]!["status"]);
    }

    [Fact]
    public void Console_ReadLine_asks_the_front_end_through_stdin()
    {
        var id = _kernel.StartExecute("var line = Console.ReadLine();\nline.ToUpperInvariant()", allowStdin: true);
        var request = _kernel.Receive(_kernel.Stdin, TimeSpan.FromSeconds(30));
        Assert.NotNull(request);
        Assert.Equal("input_request", request!.MsgType);
        Assert.Equal(id, (string?)request.ParentHeader["msg_id"]);
        var answer = JupyterMessage.Create("input_reply", new JsonObject { ["value"] = "typed text" }, request.Header, _kernel.Session);
        _kernel.Send(_kernel.Stdin, answer);
        Assert.Equal("ok", Status(_kernel.ReplyTo(_kernel.Shell, id)));
        Assert.Equal("TYPED TEXT", (string?)_kernel.OutputsOf(id).Single(m => m.MsgType == "execute_result").Content["data"]!["text/plain"]);

        // Input(prompt, password) is the global for prompts and secrets.
        id = _kernel.StartExecute("Input(\"Token: \", password: true).Length", allowStdin: true);
        request = _kernel.Receive(_kernel.Stdin, TimeSpan.FromSeconds(30))!;
        Assert.Equal("Token: ", (string?)request.Content["prompt"]);
        Assert.True((bool)request.Content["password"]!);
        _kernel.Send(_kernel.Stdin, JupyterMessage.Create("input_reply", new JsonObject { ["value"] = "secret" }, request.Header, _kernel.Session));
        Assert.Equal("6", (string?)_kernel.OutputsOf(id).Single(m => m.MsgType == "execute_result").Content["data"]!["text/plain"]);

        // Without allow_stdin the read fails with a clear error instead of hanging.
        var (denied, _) = _kernel.Execute("Console.ReadLine()");
        Assert.Equal("error", Status(denied));
        Assert.Contains("stdin", (string)denied.Content["evalue"]!);
    }

    [Fact]
    public void Completion_lists_members_of_a_variables_type()
    {
        _kernel.Execute("var builder = new System.Text.StringBuilder();");
        var reply = _kernel.Request(_kernel.Shell, "complete_request", new JsonObject { ["code"] = "builder.App", ["cursor_pos"] = 11 });
        var matches = reply.Content["matches"]!.AsArray().Select(m => (string?)m).ToList();
        Assert.Contains("Append", matches);
        Assert.Contains("AppendLine", matches);
        Assert.DoesNotContain("Clear", matches);
        Assert.Equal(8, (int)reply.Content["cursor_start"]!);
        Assert.Equal(11, (int)reply.Content["cursor_end"]!);
        var types = reply.Content["metadata"]!["_jupyter_types_experimental"]!.AsArray();
        Assert.Equal("function", (string?)types.First(t => (string?)t!["text"] == "Append")!["type"]);
    }

    [Fact]
    public void Inspection_shows_signature_and_documentation()
    {
        var reply = _kernel.Request(_kernel.Shell, "inspect_request", new JsonObject { ["code"] = "Math.Sqrt(2)", ["cursor_pos"] = 7, ["detail_level"] = 0 });
        Assert.True((bool)reply.Content["found"]!);
        var text = (string)reply.Content["data"]!["text/plain"]!;
        Assert.Contains("double System.Math.Sqrt(double d)", text);
        Assert.Contains("square root", text);
    }
}

/// <summary>One kernel process shared by the tests of a class.</summary>
public sealed class KernelProcessFixture : IDisposable
{
    public KernelProcess Kernel { get; } = new();
    public void Dispose() => Kernel.Dispose();
}
