using System.Diagnostics;
using System.Reflection;
using System.Text.Json;

namespace Tunebook.Torch.Tests;

/// <summary>
/// Runs PyTorch (Debian's python3-torch: the same libtorch) on inputs written from C#, so results can
/// be compared op by op. Tensors travel as raw little-endian files described by a JSON manifest.
/// </summary>
internal static class TorchReference
{
    public static string RepoRoot { get; } = typeof(TorchReference).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public static string ScriptPath(string name) => Path.Combine(RepoRoot, "tests", "Tunebook.Torch.Tests", "reference", name);

    /// <summary>Fails (never skips) when python3-torch is missing.</summary>
    public static void RequirePythonTorch()
    {
        var (code, _, err) = Run("-c", "import torch");
        if (code != 0)
            throw new InvalidOperationException("python3-torch is not importable from /usr/bin/python3; run scripts/setup-deps.sh test. " + err);
    }

    public static (int code, string stdout, string stderr) Run(params string[] args)
    {
        if (!File.Exists("/usr/bin/python3"))
            throw new InvalidOperationException("/usr/bin/python3 is missing; run scripts/setup-deps.sh test");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["GLOG_minloglevel"] = "2";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr.Result);
    }
}

/// <summary>A folder of named tensors plus a manifest, read and written by tests and by the python scripts.</summary>
public sealed class TensorExchange : IDisposable
{
    readonly Dictionary<string, object> _manifest = new();

    public TensorExchange()
    {
        Folder = Path.Combine(Path.GetTempPath(), "tunebook-torch-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    /// <summary>Writes a tensor as &lt;name&gt;.bin and records its dtype and shape.</summary>
    public void Write(string name, Tensor t)
    {
        File.WriteAllBytes(Path.Combine(Folder, name + ".bin"), t.ToBytes());
        _manifest[name] = new { dtype = t.dtype.Name(), shape = t.shape };
    }

    public void WriteManifest() =>
        File.WriteAllText(Path.Combine(Folder, "inputs.json"), JsonSerializer.Serialize(_manifest, Tunebook.Tests.TestJson.Options));

    /// <summary>Reads a tensor the python side wrote (described in outputs.json).</summary>
    public Tensor Read(string name)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Folder, "outputs.json")));
        if (!doc.RootElement.TryGetProperty(name, out var entry))
            throw new KeyNotFoundException($"the reference produced no output '{name}'");
        var dtype = ScalarTypes.Parse(entry.GetProperty("dtype").GetString()!);
        var shape = entry.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        return torch.frombuffer(File.ReadAllBytes(Path.Combine(Folder, name + ".bin")), dtype, shape);
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { }
    }
}
