using System.Text.Json;
using Tunebook.Models;
using Tunebook.Notebook;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;

namespace Tunebook.LoadFuzz;

/// <summary>
/// The saving side of the killed-write harness (tests/reliability/test_killed_writes.py).
/// <c>save KIND OUT FIRST [COUNT]</c> saves the starter model's KIND (adapter, merged, gguf) to OUT again and again
/// through the same calls a notebook uses (Tune.SaveAdapter, Tune.SaveMerged with small shards, Tune.SaveGguf),
/// version FIRST, FIRST+1, ..., printing "saved N" after each, until killed or COUNT saves are done.
/// Every version marks its files with its number (the adapter's weights, the merged model's norm weights spread
/// over all shards, the GGUF's norm weights), so <c>check KIND OUT</c> can tell one whole version from a mix: it
/// loads OUT as Tunebook would and prints {"version": N} or {"error": "..."}.
/// </summary>
static class SaveLoop
{
    /// <summary>Small enough that the 21 MB starter model is written as several shards with an index.</summary>
    const string MergedShardSize = "4MB";

    public static int Save(string kind, string output, int first, int count)
    {
        var model = Tune.LoadModel("starter");
        LoraModel? lora = kind == "adapter" ? Tune.ApplyLora(model) : null;
        for (int version = first; version < first + count; version++)
        {
            switch (kind)
            {
                case "adapter":
                    Mark(lora!.Model, version, name => name.Contains("lora_", StringComparison.Ordinal));
                    Tune.SaveAdapter(lora, output);
                    break;
                case "merged":
                    // Merging replaces the adapters: each version applies fresh ones (B = 0, so the merge keeps the marks).
                    var fresh = Tune.ApplyLora(model);
                    Mark(fresh.Model, version, IsNorm);
                    model = Tune.SaveMerged(fresh, output, MergedShardSize);
                    break;
                case "gguf":
                    Mark(model, version, IsNorm);
                    Tune.SaveGguf(model, output, "f32");
                    break;
                default:
                    throw new ArgumentException($"unknown kind {kind} (adapter, merged, gguf)");
            }
            Console.Out.WriteLine($"saved {version}");
            Console.Out.Flush();
        }
        return 0;
    }

    public static int Check(string kind, string output)
    {
        string result;
        try
        {
            var version = kind switch
            {
                "adapter" => Single(LoraAdapter.Load(output).Tensors.Values, output),
                "merged" => Single(Marked(Tune.LoadModel(output), IsNorm), output),
                _ => throw new ArgumentException($"unknown kind {kind} (adapter, merged; GGUF files are read by the harness)"),
            };
            result = JsonSerializer.Serialize(new CheckResult(version, null), CheckJson.Default.CheckResult);
        }
        catch (Exception e)
        {
            result = JsonSerializer.Serialize(new CheckResult(null, $"{e.GetType().FullName}: {e.Message}"), CheckJson.Default.CheckResult);
        }
        Console.Out.WriteLine(result);
        return 0;
    }

    static bool IsNorm(string name) => name.EndsWith("norm.weight", StringComparison.Ordinal);

    static void Mark(CausalLM model, int version, Func<string, bool> which)
    {
        using var noGrad = torch.no_grad();
        foreach (var (name, parameter) in model.named_parameters())
            if (which(name)) parameter.fill_((double)version);
    }

    static IEnumerable<Tensor> Marked(CausalLM model, Func<string, bool> which) =>
        model.named_parameters().Where(p => which(p.name)).Select(p => (Tensor)p.parameter);

    /// <summary>The one value every marked tensor holds; tensors of two versions (a mixed folder) are an error.</summary>
    static int Single(IEnumerable<Tensor> tensors, string output)
    {
        var values = new HashSet<double>();
        foreach (var t in tensors)
        {
            using var f = t.to(ScalarType.Float64);
            using var lo = f.min();
            using var hi = f.max();
            values.Add(lo.item<double>());
            values.Add(hi.item<double>());
        }
        if (values.Count != 1) throw new InvalidDataException($"{output}: marked tensors hold {values.Count} different values ({string.Join(", ", values.Order().Take(5))}): files of different saves are mixed");
        return (int)values.Single();
    }
}

/// <summary>What <c>check</c> prints: the version found, or the error the load ended in.</summary>
sealed record CheckResult(int? Version, string? Error);

[System.Text.Json.Serialization.JsonSourceGenerationOptions(PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.SnakeCaseLower)]
[System.Text.Json.Serialization.JsonSerializable(typeof(CheckResult))]
sealed partial class CheckJson : System.Text.Json.Serialization.JsonSerializerContext;
