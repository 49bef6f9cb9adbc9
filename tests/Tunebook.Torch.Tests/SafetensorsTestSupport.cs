using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace Tunebook.Torch.Tests;

/// <summary>Temp folders, hand-built files and the python reference for the safetensors tests.</summary>
internal sealed class SafetensorsScratch : IDisposable
{
    public SafetensorsScratch()
    {
        Folder = Path.Combine(Path.GetTempPath(), "tunebook-safetensors-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Folder);
    }

    public string Folder { get; }

    public string PathOf(string name) => Path.Combine(Folder, name);

    /// <summary>Writes a file from a raw header string and data bytes, the length prefix computed from the header.</summary>
    public string WriteRaw(string name, string headerJson, byte[] data)
    {
        var header = Encoding.UTF8.GetBytes(headerJson);
        return WriteRaw(name, (ulong)header.Length, header, data);
    }

    /// <summary>Writes a file with an arbitrary (possibly lying) length prefix.</summary>
    public string WriteRaw(string name, ulong lengthPrefix, byte[] header, byte[] data)
    {
        var path = PathOf(name);
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes(lengthPrefix));
        stream.Write(header);
        stream.Write(data);
        return path;
    }

    public void Dispose()
    {
        try { Directory.Delete(Folder, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

internal static class SafetensorsReference
{
    public static string RepoRoot { get; } = typeof(SafetensorsReference).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == "RepoRoot").Value!;

    public static string Script => Path.Combine(RepoRoot, "tests", "Tunebook.Torch.Tests", "reference", "safetensors_reference.py");

    /// <summary>Runs the reference script with /usr/bin/python3 (the interpreter that has torch) and returns stdout.</summary>
    public static string Run(params string[] args)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Script);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["PYTHONIOENCODING"] = "utf-8";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"reference script failed ({process.ExitCode}): {stderr.Result}");
        return stdout.Result;
    }
}
