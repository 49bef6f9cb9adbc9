using System.Diagnostics;
using System.Text.Json.Nodes;
using Tunebook.Tuning;

namespace Tunebook.Notebook.LlamaCpp;

/// <summary>
/// llama.cpp, run on a GGUF file through node-llama-cpp: the reference package tests/reference installs
/// (scripts/setup-reference.sh, which <c>make test</c> runs) and its script llamacpp_eval.mjs, one node
/// process per call. llama.cpp tokenizes, generates and detokenizes on its own, so its answers show what
/// a user of llama.cpp, Ollama or LM Studio gets from the exported file.
/// </summary>
public static class LlamaCppRunner
{
    const string Script = "llamacpp_eval.mjs";

    /// <summary>The folder holding llamacpp_eval.mjs and node-llama-cpp, or null when either is missing.</summary>
    public static string? ReferenceFolder
    {
        get
        {
            var folder = RepositoryPaths.Find(Path.Combine("tests", "reference"));
            return folder is not null && File.Exists(Path.Combine(folder, Script)) && Directory.Exists(Path.Combine(folder, "node_modules", "node-llama-cpp"))
                ? folder : null;
        }
    }

    /// <summary>Whether llama.cpp can be run here.</summary>
    public static bool Available => ReferenceFolder is not null;

    /// <summary>
    /// Each prompt (text with its chat markup, as the template renders it) continued greedily by llama.cpp
    /// from <paramref name="gguf"/> up to an end-of-generation token or <paramref name="maxNewTokens"/>; the decoded replies.
    /// </summary>
    public static IReadOnlyList<string> Generate(string gguf, IReadOnlyList<string> prompts, int maxNewTokens)
    {
        ArgumentNullException.ThrowIfNull(gguf);
        ArgumentNullException.ThrowIfNull(prompts);
        if (!File.Exists(gguf)) throw new FileNotFoundException($"GGUF file not found: {gguf}", gguf);
        var folder = ReferenceFolder ?? throw new InvalidOperationException(
            "llama.cpp is not installed: node-llama-cpp is missing from tests/reference (run scripts/setup-reference.sh, as make test does; it needs node and npm)");
        var request = new JsonObject
        {
            ["model"] = Path.GetFullPath(gguf),
            ["contextSize"] = 512,
            ["vocabulary"] = 0,
            ["generate"] = new JsonArray(prompts.Select(p => (JsonNode)new JsonObject { ["text"] = p, ["max"] = maxNewTokens }).ToArray()),
        };
        var psi = new ProcessStartInfo("node")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = folder,
            StandardInputEncoding = new System.Text.UTF8Encoding(false), StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        psi.ArgumentList.Add(Script);
        using var process = Process.Start(psi) ?? throw new InvalidOperationException("could not start node");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        process.StandardInput.Write(request.ToJsonString());
        process.StandardInput.Close();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"llama.cpp ({Script}) failed on {gguf} with exit code {process.ExitCode}: {stderr.Result.Trim()}");
        var generated = JsonNode.Parse(stdout.Result)?["generated"]?.AsArray()
            ?? throw new InvalidDataException($"{Script} answered without \"generated\": {stdout.Result[..Math.Min(200, stdout.Result.Length)]}");
        return generated.Select(g => (string?)g?["text"] ?? "").ToList();
    }
}
