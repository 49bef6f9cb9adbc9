using System.Diagnostics;
using System.Text.Json;
using Tunebook.Models;
using Tunebook.Text.Templates;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Data;

namespace Tunebook.LoadFuzz;

/// <summary>
/// Reads "kind&lt;TAB&gt;path" lines on stdin and loads each file the way Tunebook does, touching every
/// byte range a header declares. For each it writes "begin" before the load and one JSON line after:
/// the outcome (ok, tunebook = a Tunebook exception, other = anything else), the exception's type and
/// message, whether the message names the file, the time and the bytes allocated. A load that crashes
/// the process leaves a "begin" without its result: the parent counts it and starts a new child.
/// With arguments it is the killed-write harness's saver instead (<see cref="SaveLoop"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["save", var saveKind, var output, var first, ..])
            return SaveLoop.Save(saveKind, output, int.Parse(first, System.Globalization.CultureInfo.InvariantCulture),
                args.Length > 4 ? int.Parse(args[4], System.Globalization.CultureInfo.InvariantCulture) : int.MaxValue - int.Parse(first, System.Globalization.CultureInfo.InvariantCulture));
        if (args is ["check", var checkKind, var checkOutput]) return SaveLoop.Check(checkKind, checkOutput);
        var stdout = Console.Out;
        string? line;
        while ((line = Console.In.ReadLine()) is not null)
        {
            var tab = line.IndexOf('\t');
            if (tab < 0) continue;
            var (kind, path) = (line[..tab], line[(tab + 1)..]);
            stdout.WriteLine("begin " + path);
            stdout.Flush();
            var clock = Stopwatch.StartNew();
            long allocated = GC.GetAllocatedBytesForCurrentThread();
            string outcome, type = "", message = "";
            try
            {
                Load(kind, path);
                outcome = "ok";
            }
            catch (Exception e)
            {
                outcome = e.GetType().Namespace?.StartsWith("Tunebook", StringComparison.Ordinal) == true ? "tunebook" : "other";
                type = e.GetType().FullName!;
                message = e.Message;
            }
            var result = new Dictionary<string, object?>
            {
                ["path"] = path, ["kind"] = kind, ["outcome"] = outcome, ["type"] = type,
                ["message"] = message.Length > 400 ? message[..400] : message,
                ["names_file"] = message.Contains(Path.GetFileName(path), StringComparison.Ordinal),
                ["ms"] = clock.Elapsed.TotalMilliseconds,
                ["allocated"] = GC.GetAllocatedBytesForCurrentThread() - allocated,
                ["rss"] = Environment.WorkingSet,
            };
            stdout.WriteLine(JsonSerializer.Serialize(result));
            stdout.Flush();
        }
        return 0;
    }

    static void Load(string kind, string path)
    {
        switch (kind)
        {
            case "safetensors":
                using (var file = SafetensorsFile.Open(path)) Touch(file);
                break;
            case "index":
                using (var checkpoint = ShardedCheckpoint.Open(path)) Touch(checkpoint);
                break;
            case "config":
                ModelConfig.Load(path);
                break;
            case "tokenizer":
                Tokenizer.FromFile(path).Encode("Hello world, tuning 123!");
                break;
            case "tokenizer_config":
                TokenizerConfig.FromFile(path);
                ChatTemplate.FromTokenizerConfig(path).Render(
                    JsonDocument.Parse("""[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]""").RootElement,
                    addGenerationPrompt: true);
                break;
            case "jsonl":
                Dataset.Load(path);
                break;
            default:
                throw new ArgumentException($"unknown kind {kind}");
        }
    }

    /// <summary>Reads every tensor's bytes: an offset outside the file must fail as an error, never as a crash.</summary>
    static void Touch(ISafetensorsReader reader)
    {
        long sum = 0;
        foreach (var entry in reader.Entries)
        {
            var bytes = reader.GetBytes(entry.Name);
            if (bytes.Length > 0) sum += bytes[0] + bytes[^1];
        }
        GC.KeepAlive(sum);
    }
}
