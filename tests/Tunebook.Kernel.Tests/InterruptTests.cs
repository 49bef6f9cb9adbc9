using System.Text.Json.Nodes;
using Tunebook.Kernel.Protocol;

namespace Tunebook.Kernel.Tests;

/// <summary>
/// Interrupt stops plain user code: loops and awaits that never look at <c>Cancellation</c> end as
/// KeyboardInterrupt, because the session rewrites each cell to check at every iteration and await, and
/// the session keeps everything earlier cells defined.
/// </summary>
public sealed class InterruptTests
{
    public static TheoryData<string> Loops => new()
    {
        "long n = 0; while (true) { n++; }",
        "long n = 0; while (true) { n++; await Task.Delay(10); }",
        "long n = 0; while (true) n++;",
        "long n = 0; do { n++; } while (true);",
        "long n = 0; for (;;) { n++; }",
        "long n = 0;\nforeach (var one in Enumerable.Range(0, int.MaxValue).SelectMany(_ => Enumerable.Repeat(1L, int.MaxValue)))\n{\n    n += one;\n}",
        "long n = 0; for (int i = 0; ; i++) { for (int j = 0; j < 1000; j++) { n++; } }",
        "long n = 1; await Task.Delay(Timeout.Infinite);",
        "long n = 0; await Task.Run(() => { while (true) n++; });",
        "long n = 0; long Spin() { while (true) n++; } Spin();",
        "long n = 0; IEnumerable<long> Forever() { while (true) yield return ++n; } Forever().Last();",
    };

    [Theory]
    [MemberData(nameof(Loops))]
    public void A_loop_that_never_checks_stops_as_KeyboardInterrupt_and_earlier_variables_survive(string loop)
    {
        var kernel = new InProcessKernel();
        kernel.Execute("var kept = 41;");
        var running = kernel.Execute("display(\"started\");\n" + loop);
        var serving = Task.Run(kernel.Protocol.ServeShell);

        kernel.WaitFor(s => s.Message.MsgType == "display_data" && (string?)s.Message.ParentHeader["msg_id"] == running.MsgId);
        var interrupt = kernel.Receive("interrupt_request", new JsonObject(), KernelChannel.Control);
        Assert.Equal("ok", (string?)kernel.ReplyTo(interrupt).Content["status"]);
        var reply = kernel.WaitFor(s => s.Channel == KernelChannel.Shell && (string?)s.Message.ParentHeader["msg_id"] == running.MsgId);
        Assert.Equal("error", (string?)reply.Content["status"]);
        Assert.Equal("KeyboardInterrupt", (string?)reply.Content["ename"]);

        var after = kernel.Execute("$\"{kept + 1} {n >= 0}\""); // n, assigned by the interrupted cell, is defined too
        var result = kernel.WaitFor(s => s.Message.MsgType == "execute_result" && (string?)s.Message.ParentHeader["msg_id"] == after.MsgId);
        Assert.Equal("42 True", (string?)result.Content["data"]!["text/plain"]);
        kernel.Protocol.StopShell();
        serving.GetAwaiter().GetResult();
    }

    [Fact]
    public void Rewritten_iterators_local_functions_and_async_streams_compute_what_they_did()
    {
        var kernel = new InProcessKernel();
        var request = kernel.Execute("""
            IEnumerable<int> Count(int k) { for (int i = 0; i < k; i++) yield return i; }
            async IAsyncEnumerable<int> Stream(int k) { for (int i = 0; i < k; i++) { await Task.Delay(1); yield return i; } }
            var sum = 0;
            await foreach (var v in Stream(4)) sum += v;
            var squares = new List<int>();
            foreach (var (a, b) in Count(3).Select(i => (i, i * i))) { squares.Add(b); }
            int w = 0; do w++; while (w < 5);
            var fromTask = await Task.Run(async () => { await Task.Yield(); return 7; });
            var fromValueTask = await new ValueTask<int>(8);
            $"{Count(5).Sum()} {sum} {string.Join(",", squares)} {w} {fromTask} {fromValueTask}"
            """);
        kernel.Protocol.ServePending();
        var result = Assert.Single(kernel.CausedBy(request), s => s.Message.MsgType == "execute_result").Message;
        Assert.Equal("10 6 0,1,4 5 7 8", (string?)result.Content["data"]!["text/plain"]);
    }

    [Fact]
    public void A_compile_error_inside_a_loop_is_reported_where_the_user_wrote_it()
    {
        var kernel = new InProcessKernel();
        const string code = "int total = 0;\nfor (int i = 0; i < 3; i++) { total += i; string s = 5; }";
        var request = kernel.Execute(code);
        kernel.Protocol.ServePending();
        var reply = kernel.ReplyTo(request);
        Assert.Equal("CompilationError", (string?)reply.Content["ename"]);
        int column = code.Split('\n')[1].IndexOf("5;", StringComparison.Ordinal) + 1;
        Assert.StartsWith($"(2,{column}): error CS0029", (string?)reply.Content["evalue"]);
    }

    [Fact]
    public void A_runtime_error_after_a_rewritten_loop_keeps_its_line_number()
    {
        var kernel = new InProcessKernel();
        var request = kernel.Execute("int a = 0;\nwhile (a < 3)\n    a++;\nfor (int i = 0; i < 2; i++) { a += i; }\nthrow new InvalidOperationException(\"after the loops\");");
        kernel.Protocol.ServePending();
        var reply = kernel.ReplyTo(request);
        Assert.Equal("InvalidOperationException", (string?)reply.Content["ename"]);
        Assert.Contains(((JsonArray)reply.Content["traceback"]!).Select(l => (string?)l), l => l!.Contains("in cell, line 5"));
    }
}
