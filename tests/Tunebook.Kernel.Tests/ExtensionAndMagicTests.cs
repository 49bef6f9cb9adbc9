using System.Text.Json.Nodes;
using Tunebook.Kernel.Protocol;

namespace Tunebook.Kernel.Tests;

/// <summary>Extensions in a folder named by TUNEBOOK_KERNEL_EXTENSIONS load at start, like those beside the kernel.</summary>
public sealed class StartupExtensionTests
{
    [Fact]
    public void Extensions_found_at_start_are_ready_in_the_first_cell()
    {
        var folder = Directory.CreateTempSubdirectory("tunebook-startup-ext-").FullName;
        try
        {
            TestAssemblies.Compile(folder, "Greetings", TestAssemblies.GreetingExtension);
            using var kernel = new KernelProcess(environment: new Dictionary<string, string> { ["TUNEBOOK_KERNEL_EXTENSIONS"] = folder });
            var (reply, outputs) = kernel.Execute("#!greet start\ngreeting.Text + \" / \" + Greeter.Hello(\"again\")");
            Assert.True((string?)reply.Content["status"] == "ok", (string?)reply.Content["evalue"]);
            Assert.Equal("hello start / hello again", (string?)outputs.Single(m => m.MsgType == "execute_result").Content["data"]!["text/plain"]);
        }
        finally { try { Directory.Delete(folder, true); } catch (IOException) { } }
    }
}

/// <summary>Magic commands, #r references, kernel extensions and typed variables set by magics.</summary>
public sealed class ExtensionAndMagicTests(KernelProcessFixture fixture) : IClassFixture<KernelProcessFixture>, IDisposable
{
    readonly KernelProcess _kernel = fixture.Kernel;
    readonly string _directory = Directory.CreateTempSubdirectory("tunebook-ext-").FullName;

    public void Dispose() { try { Directory.Delete(_directory, true); } catch (IOException) { } }

    static string Status(JupyterMessage reply) => (string)reply.Content["status"]!;
    static string? Result(List<JupyterMessage> outputs) => (string?)outputs.SingleOrDefault(m => m.MsgType == "execute_result")?.Content["data"]!["text/plain"];

    [Fact]
    public void An_extension_loaded_by_r_adds_magics_usings_and_typed_variables()
    {
        var dll = TestAssemblies.Compile(_directory, "Greetings", TestAssemblies.GreetingExtension);
        Assert.Equal("ok", Status(_kernel.Execute($"#r \"{dll}\"").Reply));

        // The extension's namespace is imported: no "Greetings." prefix needed.
        var (_, hello) = _kernel.Execute("Greeter.Hello(\"kernel\")");
        Assert.Equal("hello kernel", Result(hello));

        var (reply, outputs) = _kernel.Execute("#!greet world --shout -n 2");
        Assert.Equal("ok", Status(reply));
        Assert.Equal("greeted world\n", KernelProcess.StreamText(outputs));

        // SetVariable made real typed variables: members of the runtime type compile by name.
        var (typed, typedOutputs) = _kernel.Execute("greeting.Text + \" / \" + greeting.Count + \" / \" + greetingsByName[\"world\"][0].Count");
        Assert.Equal("ok", Status(typed));
        Assert.Equal("HELLO WORLD HELLO WORLD / 2 / 2", Result(typedOutputs));

        // #!help lists the extension's magic; --help shows its usage from the options class.
        var (_, help) = _kernel.Execute("#!help");
        Assert.Contains("#!greet", (string?)help.Single(m => m.MsgType == "display_data").Content["data"]!["text/plain"]);
        var (_, usage) = _kernel.Execute("#!greet --help");
        var text = KernelProcess.StreamText(usage);
        Assert.Contains("Usage: #!greet <name> [options]", text);
        Assert.Contains("--times, -n <int>", text);
        Assert.Contains("[default: 1]", text);
    }

    [Fact]
    public void Bad_magic_invocations_fail_the_cell_with_the_usage()
    {
        var dll = TestAssemblies.Compile(_directory, "Greetings", TestAssemblies.GreetingExtension);
        _kernel.Execute($"#r \"{dll}\"");

        var (bad, outputs) = _kernel.Execute("#!greet world --times many\nConsole.WriteLine(\"body must not run\");");
        Assert.Equal("error", Status(bad));
        Assert.Equal("MagicUsageError", (string?)bad.Content["ename"]);
        var message = (string)bad.Content["evalue"]!;
        Assert.Contains("--times expects an integer; got \"many\"", message);
        Assert.Contains("Usage: #!greet", message);
        Assert.Single(outputs, m => m.MsgType == "error");
        Assert.DoesNotContain(outputs, m => m.MsgType == "stream");

        var (missing, _) = _kernel.Execute("#!greet");
        Assert.Contains("missing argument <name>", (string)missing.Content["evalue"]!);

        var (unknownOption, _) = _kernel.Execute("#!greet x --shoutt");
        Assert.Contains("unknown option --shoutt (did you mean --shout?)", (string)unknownOption.Content["evalue"]!);

        var (unknown, _) = _kernel.Execute("#!nosuchmagic");
        Assert.Equal("error", Status(unknown));
        Assert.Contains("unknown magic command #!nosuchmagic", (string)unknown.Content["evalue"]!);
        Assert.Contains("#!time", (string)unknown.Content["evalue"]!);
    }

    [Fact]
    public void Time_magic_runs_the_body_and_reports_its_duration_and_value()
    {
        var (reply, outputs) = _kernel.Execute("#!time\nawait Task.Delay(200);\n21 * 2");
        Assert.Equal("ok", Status(reply));
        Assert.Equal("42", Result(outputs));
        var line = KernelProcess.StreamText(outputs);
        var match = System.Text.RegularExpressions.Regex.Match(line, @"Wall time: ([\d.]+) (ms|s)");
        Assert.True(match.Success, line);
        double ms = double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) * (match.Groups[2].Value == "s" ? 1000 : 1);
        Assert.InRange(ms, 190, 30_000);
    }

    [Fact]
    public void Who_magic_lists_variables_with_types_as_html_and_text()
    {
        _kernel.Execute("var whoNumbers = new List<int> { 1, 2, 3 }; var whoName = \"tunebook\";");
        var (_, outputs) = _kernel.Execute("#!who");
        var data = outputs.Single(m => m.MsgType == "display_data").Content["data"]!;
        var text = (string)data["text/plain"]!;
        Assert.Matches(@"whoNumbers\s+List<int>", text);
        Assert.Matches(@"whoName\s+string\s+tunebook", text);
        Assert.Contains("<td><code>List&lt;int&gt;</code></td>", (string)data["text/html"]!);
    }

    [Fact]
    public void R_references_a_plain_assembly_file()
    {
        var dll = TestAssemblies.Compile(_directory, "PlainAdder", TestAssemblies.PlainLibrary);
        var (reply, outputs) = _kernel.Execute($"#r \"{dll}\"\nPlain.Adder.Add(2, 3)");
        Assert.Equal("ok", Status(reply));
        Assert.Equal("5", Result(outputs));

        var (byName, byNameOutputs) = _kernel.Execute("#r \"System.Net.Http\"\ntypeof(System.Net.Http.HttpClient).Name");
        Assert.Equal("HttpClient", Result(byNameOutputs));

        var (missing, _) = _kernel.Execute("#r \"/no/such/folder/Missing.dll\"");
        Assert.Equal("error", Status(missing));
        Assert.Contains("#r: no assembly at /no/such/folder/Missing.dll", (string)missing.Content["evalue"]!);
    }

    [Fact]
    public void R_nuget_restores_a_package_and_its_assemblies_are_usable()
    {
        var (reply, outputs) = _kernel.Execute("#r \"nuget: Markdig, 1.6.0\"\nMarkdig.Markdown.ToHtml(\"**bold**\")", timeout: TimeSpan.FromMinutes(4));
        Assert.True(Status(reply) == "ok", (string?)reply.Content["evalue"]);
        Assert.Equal("<p><strong>bold</strong></p>\n", Result(outputs));
        Assert.Contains("Installed Markdig", KernelProcess.StreamText(outputs));
    }

    [Fact]
    public void A_Plotly_NET_chart_shows_as_an_interactive_Plotly_figure_with_a_text_form()
    {
        // Plotly.NET comes from the user's #r, not from Tunebook: the kernel knows the chart by its type name.
        var (reply, outputs) = _kernel.Execute(
            "#r \"nuget: Plotly.NET.CSharp, 0.14.0\"\n" +
            "Plotly.NET.CSharp.Chart.Line<int, double, string>(x: new[] { 1, 2, 3 }, y: new[] { 3.0, 2.0, 1.5 }, Name: \"loss\")",
            timeout: TimeSpan.FromMinutes(5));
        Assert.True(Status(reply) == "ok", (string?)reply.Content["evalue"]);
        var data = outputs.Single(m => m.MsgType == "execute_result").Content["data"]!.AsObject();
        // Embedded as JSON, not as a string, so front ends hand it to plotly.js as it is.
        var figure = data["application/vnd.plotly.v1+json"]!.AsObject();
        var trace = figure["data"]![0]!;
        Assert.Equal(("scatter", "loss"), ((string)trace["type"]!, (string)trace["name"]!));
        Assert.Equal([3.0, 2.0, 1.5], trace["y"]!.AsArray().Select(v => (double)v!));
        Assert.NotNull(figure["layout"]);
        Assert.Equal("Plotly.NET chart: 1 trace\n  scatter loss: 3 points", (string)data["text/plain"]!);
    }

    [Fact]
    public void R_nuget_for_a_missing_package_gives_a_clear_error()
    {
        var (reply, _) = _kernel.Execute("#r \"nuget: Tunebook.Definitely.Missing.Package, 1.0.0\"", timeout: TimeSpan.FromMinutes(3));
        Assert.Equal("error", Status(reply));
        var message = (string)reply.Content["evalue"]!;
        Assert.StartsWith("#r \"nuget: Tunebook.Definitely.Missing.Package, 1.0.0\": ", message);
        Assert.Matches("was not found in the configured NuGet sources|restoring package Tunebook.Definitely.Missing.Package failed", message);

        var (malformed, _) = _kernel.Execute("#r \"nuget: \"");
        Assert.Contains("expected #r \"nuget: PackageName, Version\"", (string)malformed.Content["evalue"]!);
    }
}
