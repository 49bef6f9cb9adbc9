using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.Json.Nodes;
using Tunebook.Kernel.Execution;
using Tunebook.Kernel.Language;
using Tunebook.Kernel.Protocol;

namespace Tunebook.Kernel.Tests;

public sealed class TypeNameTests
{
    public sealed class Outer<T> { public sealed class Inner<U>; }
    sealed class Hidden : List<int>;

    [Theory]
    [InlineData(typeof(int), "int")]
    [InlineData(typeof(int?), "int?")]
    [InlineData(typeof(string[]), "string[]")]
    [InlineData(typeof(double[,]), "double[,]")]
    [InlineData(typeof(List<Dictionary<string, int[]>>), "global::System.Collections.Generic.List<global::System.Collections.Generic.Dictionary<string, int[]>>")]
    [InlineData(typeof(Outer<int>.Inner<string>), "global::Tunebook.Kernel.Tests.TypeNameTests.Outer<int>.Inner<string>")]
    [InlineData(typeof(DayOfWeek), "global::System.DayOfWeek")]
    [InlineData(typeof(Hidden), "global::System.Collections.Generic.List<int>")]
    public void Runtime_types_get_their_CSharp_spelling(Type type, string expected) =>
        Assert.Equal(expected, TypeNames.CSharpName(type));

    [Fact]
    public void Anonymous_types_fall_back_to_object() =>
        Assert.Equal("object", TypeNames.CSharpName(new { A = 1 }.GetType()));
}

public sealed class CompletenessTests
{
    [Theory]
    [InlineData("var x = 1;", "complete", "")]
    [InlineData("x + 1", "complete", "")]
    [InlineData("#!time\n", "complete", "")]
    [InlineData("if (true) {", "incomplete", "    ")]
    [InlineData("class A {\n  void M() {", "incomplete", "        ")]
    [InlineData("var s = \"\"\"\nraw", "incomplete", "")]
    [InlineData("var x = ;", "invalid", "")]
    public void Classifies_input(string code, string status, string indent)
    {
        var (s, i) = Completeness.Check(code);
        Assert.Equal(status, s);
        Assert.Equal(indent, i);
    }

    [Fact]
    public void Cursor_positions_convert_between_code_points_and_utf16()
    {
        var text = "a😀b";
        Assert.Equal(3, CursorPosition.ToUtf16(text, 2));
        Assert.Equal(2, CursorPosition.ToCodePoints(text, 3));
        Assert.Equal(text.Length, CursorPosition.ToUtf16(text, 99));
    }
}

/// <summary>Signatures agree with Python's hmac (what jupyter_client uses) for every scheme.</summary>
public sealed class SignatureTests
{
    static string RepoRoot => typeof(SignatureTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().First(a => a.Key == "RepoRoot").Value!;

    [Theory]
    [InlineData("hmac-sha256", "sha256")]
    [InlineData("hmac-sha1", "sha1")]
    [InlineData("hmac-md5", "md5")]
    [InlineData("hmac-sha512", "sha512")]
    public void Signatures_match_python_hmac(string scheme, string digest)
    {
        var parts = new[] { "{\"msg_id\":\"1\"}", "{}", "{}", "{\"code\":\"é\"}" };
        var script = $"import hmac,hashlib,sys; h=hmac.new(b'secret-key', digestmod=hashlib.{digest}); [h.update(p.encode()) for p in sys.argv[1:]]; print(h.hexdigest())";
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c"); start.ArgumentList.Add(script);
        foreach (var p in parts) start.ArgumentList.Add(p);
        using var python = Process.Start(start)!;
        var expected = python.StandardOutput.ReadToEnd().Trim();
        python.WaitForExit();

        var signer = MessageSigner.Create(scheme, "secret-key");
        var bytes = parts.Select(Encoding.UTF8.GetBytes).ToArray();
        Assert.Equal(expected, signer.Sign(bytes));
        Assert.True(signer.Verify(Encoding.ASCII.GetBytes(expected), bytes));
        Assert.False(signer.Verify(Encoding.ASCII.GetBytes(expected.Replace(expected[0], expected[0] == 'a' ? 'b' : 'a')), bytes));
    }

    [Fact]
    public void Empty_key_disables_signing_and_unknown_schemes_are_rejected()
    {
        var none = MessageSigner.Create("hmac-sha256", "");
        Assert.Equal("", none.Sign([[1]]));
        Assert.True(none.Verify([], [[1]]));
        var e = Assert.Throws<InvalidDataException>(() => MessageSigner.Create("rot13", "k"));
        Assert.Contains("signature_scheme \"rot13\" is not supported", e.Message);
    }

    [Fact]
    public void Messages_round_trip_through_frames()
    {
        var signer = MessageSigner.Create("hmac-sha256", "k");
        var message = JupyterMessage.Create("execute_request", new JsonObject { ["code"] = "1 + 1" }, new JsonObject { ["msg_id"] = "parent" }, "s", [[1, 2, 3]]);
        message.Buffers.Add([9, 9]);
        var parsed = JupyterMessage.FromFrames(message.ToFrames(signer), signer);
        Assert.Equal([1, 2, 3], parsed.Identities.Single());
        Assert.Equal("execute_request", parsed.MsgType);
        Assert.Equal("parent", (string?)parsed.ParentHeader["msg_id"]);
        Assert.Equal("1 + 1", (string?)parsed.Content["code"]);
        Assert.Equal([9, 9], parsed.Buffers.Single());
        Assert.Throws<ProtocolException>(() => JupyterMessage.FromFrames(message.ToFrames(signer), MessageSigner.Create("hmac-sha256", "other")));
    }

    [Fact]
    public void Connection_files_are_checked()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "{\"transport\":\"udp\",\"ip\":\"127.0.0.1\",\"shell_port\":1,\"key\":\"\"}");
            Assert.Contains("transport must be \"tcp\" or \"ipc\"", Assert.Throws<InvalidDataException>(() => ConnectionInfo.Load(file)).Message);
            File.WriteAllText(file, "{not json");
            Assert.Contains("not a valid connection file", Assert.Throws<InvalidDataException>(() => ConnectionInfo.Load(file)).Message);
            File.WriteAllText(file, "{\"transport\":\"ipc\",\"ip\":\"/tmp/kernel\",\"shell_port\":4,\"key\":\"\"}");
            Assert.Equal("ipc:///tmp/kernel-4", ConnectionInfo.Load(file).Endpoint(4));
        }
        finally { File.Delete(file); }
    }
}

public sealed class KernelspecTests
{
    [Fact]
    public void Install_writes_a_kernelspec_jupyter_can_read()
    {
        var prefix = Directory.CreateTempSubdirectory("tunebook-spec-").FullName;
        try
        {
            var folder = Kernelspec.Install("/opt/tunebook/tunebook.dll", prefix);
            Assert.Equal(Path.Combine(prefix, "share", "jupyter", "kernels", "tunebook"), folder);

            // Read back by jupyter_client itself, the way front ends find kernels.
            var script = "import json,sys; from jupyter_client.kernelspec import KernelSpecManager as M; " +
                         "s=M().get_kernel_spec('tunebook'); print(json.dumps({'argv': s.argv, 'name': s.display_name, 'lang': s.language, 'mode': s.interrupt_mode, 'dir': s.resource_dir}))";
            var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("-c"); start.ArgumentList.Add(script);
            start.Environment["JUPYTER_PATH"] = Path.Combine(prefix, "share", "jupyter");
            using var python = Process.Start(start)!;
            var output = python.StandardOutput.ReadToEnd();
            python.WaitForExit();
            var spec = JsonNode.Parse(output)!;
            Assert.Equal("C# (Tunebook)", (string?)spec["name"]);
            Assert.Equal("csharp", (string?)spec["lang"]);
            Assert.Equal("message", (string?)spec["mode"]);
            var argv = spec["argv"]!.AsArray().Select(a => (string?)a).ToList();
            Assert.Equal(["/opt/tunebook/tunebook.dll", "kernel", "run", "--connection-file", "{connection_file}"], argv.Skip(1));
            Assert.EndsWith("dotnet", argv[0]);

            var png = File.ReadAllBytes(Path.Combine(folder, "logo-64x64.png"));
            Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47 }, png[..4]);
            Assert.Contains("<svg", File.ReadAllText(Path.Combine(folder, "logo-svg.svg")));
        }
        finally { Directory.Delete(prefix, true); }
    }
}
