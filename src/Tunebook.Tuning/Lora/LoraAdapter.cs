using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Tuning.Lora;

/// <summary>
/// A LoRA adapter on disk in Hugging Face PEFT's format, so PEFT (PeftModel.from_pretrained), vLLM and
/// llama.cpp's convert_lora_to_gguf.py read it:
/// <list type="bullet">
/// <item><c>adapter_config.json</c>: peft_type "LORA", task_type "CAUSAL_LM", r, lora_alpha, lora_dropout,
/// target_modules, use_rslora, fan_in_fan_out, bias "none", base_model_name_or_path, inference_mode, …;</item>
/// <item><c>adapter_model.safetensors</c>: "base_model.model.&lt;module path&gt;.lora_A.weight" [r, in] and
/// ".lora_B.weight" [out, r] for every adapted layer.</item>
/// </list>
/// </summary>
public sealed class LoraAdapter : IDisposable
{
    /// <summary>File name of the config.</summary>
    public const string ConfigFile = "adapter_config.json";
    /// <summary>File name of the weights.</summary>
    public const string WeightsFile = "adapter_model.safetensors";

    LoraAdapter(string folder, LoraConfig config, string? baseModel, bool fanInFanOut, Dictionary<string, Tensor> tensors)
    {
        Folder = folder;
        Config = config;
        BaseModelNameOrPath = baseModel;
        FanInFanOut = fanInFanOut;
        Tensors = tensors;
    }

    /// <summary>Where it was loaded from.</summary>
    public string Folder { get; }
    /// <summary>r, α, dropout, rsLoRA and targets from adapter_config.json.</summary>
    public LoraConfig Config { get; }
    /// <summary>base_model_name_or_path (may be null).</summary>
    public string? BaseModelNameOrPath { get; }
    /// <summary>fan_in_fan_out from the config.</summary>
    public bool FanInFanOut { get; }
    /// <summary>The adapter tensors under their PEFT names (owned by this object).</summary>
    public IReadOnlyDictionary<string, Tensor> Tensors { get; }

    /// <summary>
    /// Writes <paramref name="lora"/>'s adapter to <paramref name="folder"/> (created if needed) through a temp
    /// folder that replaces it in one rename.
    /// </summary>
    public static void Save(LoraModel lora, string folder, string? baseModelNameOrPath = null)
    {
        ArgumentNullException.ThrowIfNull(lora);
        ArgumentNullException.ThrowIfNull(folder);
        if (lora.Layers.Count == 0) throw new InvalidOperationException("LoraAdapter.Save: the model has no adapters (already merged?)");
        var config = ConfigJson(lora, baseModelNameOrPath ?? DefaultBaseModel(lora.Model));
        // Both files are swapped in together (AtomicFolder), so a kill never pairs new weights with an old config;
        // whatever else is in the folder (a training run's metrics and checkpoint) is kept.
        Tunebook.IO.AtomicFolder.Replace(folder, temp =>
        {
            using (var scope = torch.NewDisposeScope())
            {
                var tensors = lora.AdapterStateDict().ToDictionary(kv => kv.Key, kv => kv.Value.contiguous());
                Safetensors.Save(Path.Combine(temp, WeightsFile), tensors);
            }
            Tunebook.IO.AtomicFile.WriteAllText(Path.Combine(temp, ConfigFile), config.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }, carryOver: _ => true);
    }

    static string? DefaultBaseModel(CausalLM model) =>
        model.Config.SourceFile is { } file ? Path.GetDirectoryName(Path.GetFullPath(file)) : null;

    /// <summary>adapter_config.json for <paramref name="lora"/>, with PEFT's field names and defaults.</summary>
    public static JsonObject ConfigJson(LoraModel lora, string? baseModelNameOrPath)
    {
        var c = lora.Config;
        return new JsonObject
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = baseModelNameOrPath,
            ["bias"] = "none",
            ["fan_in_fan_out"] = lora.FanInFanOut,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layer_replication"] = null,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = c.Alpha == Math.Floor(c.Alpha) && Math.Abs(c.Alpha) < 1e9 ? JsonValue.Create((long)c.Alpha) : JsonValue.Create(c.Alpha),
            ["lora_dropout"] = c.Dropout,
            ["modules_to_save"] = c.ModulesToSave is { Count: > 0 } m ? new JsonArray(m.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray()) : null,
            ["peft_type"] = "LORA",
            ["r"] = c.R,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = TargetModulesJson(lora),
            ["task_type"] = "CAUSAL_LM",
            ["use_dora"] = false,
            ["use_rslora"] = c.UseRsLora,
        };
    }

    /// <summary>
    /// target_modules as PEFT stores it after injection: the distinct last names of the adapted layers
    /// when those names select exactly the adapted layers (PEFT matches by suffix), else the full paths.
    /// </summary>
    static JsonArray TargetModulesJson(LoraModel lora)
    {
        var adapted = lora.Layers.Keys.ToHashSet(StringComparer.Ordinal);
        var names = adapted.Select(p => p.Split('.')[^1]).Distinct().Order(StringComparer.Ordinal).ToArray();
        // The layers PEFT would adapt given these names: wrapped layers, and plain linear layers outside the wrappers.
        bool InsideAdapter(string path) => adapted.Any(a => path.StartsWith(a + ".", StringComparison.Ordinal));
        var bySuffix = lora.Model.named_modules()
            .Where(m => m.module is LoraLinear || (LoraTargets.IsLinear(m.module) && !InsideAdapter(m.name)))
            .Select(m => m.name)
            .Where(p => names.Any(n => p == n || p.EndsWith("." + n, StringComparison.Ordinal)))
            .ToHashSet(StringComparer.Ordinal);
        var chosen = bySuffix.SetEquals(adapted) ? names : adapted.Order(StringComparer.Ordinal).ToArray();
        return new JsonArray(chosen.Select(n => (JsonNode)JsonValue.Create(n)!).ToArray());
    }

    /// <summary>
    /// Reads a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors, or
    /// adapter_model.bin is rejected with a message). Unsupported PEFT features (DoRA, rank/alpha
    /// patterns, trained biases, layer selection) are errors naming the field.
    /// </summary>
    public static LoraAdapter Load(string folder, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var configPath = Path.Combine(folder, ConfigFile);
        if (!File.Exists(configPath))
            throw new FileNotFoundException($"{folder}: no {ConfigFile}; expected a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)", configPath);
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(configPath)) as JsonObject ?? throw new InvalidDataException($"{configPath}: expected a JSON object"); }
        catch (JsonException e) { throw new InvalidDataException($"{configPath}: invalid JSON: {e.Message}", e); }

        string Where(string field) => $"{configPath}: field '{field}'";
        var peftType = json["peft_type"]?.GetValue<string>();
        if (peftType != "LORA") throw new InvalidDataException($"{Where("peft_type")}: expected \"LORA\", got {json["peft_type"]?.ToJsonString() ?? "nothing"}");
        int r = ReadNumber(json, "r", Where) is var rv && rv == Math.Floor(rv) && rv >= 1 ? (int)rv : throw new InvalidDataException($"{Where("r")}: expected an integer ≥ 1, got {rv}");
        double alpha = ReadNumber(json, "lora_alpha", Where);
        double dropout = json["lora_dropout"] is null ? 0 : ReadNumber(json, "lora_dropout", Where);
        bool rslora = json["use_rslora"]?.GetValue<bool>() ?? false;
        bool fanInFanOut = json["fan_in_fan_out"]?.GetValue<bool>() ?? false;
        if (json["use_dora"]?.GetValue<bool>() == true) throw new InvalidDataException($"{Where("use_dora")}: DoRA adapters are not supported");
        if ((json["bias"]?.GetValue<string>() ?? "none") != "none") throw new InvalidDataException($"{Where("bias")}: only \"none\" is supported (trained biases are not)");
        foreach (var field in new[] { "rank_pattern", "alpha_pattern" })
            if (json[field] is JsonObject o && o.Count > 0) throw new InvalidDataException($"{Where(field)}: per-layer ranks/alphas are not supported");
        foreach (var field in new[] { "layers_to_transform", "layer_replication" })
            if (json[field] is JsonNode n && n is not JsonArray { Count: 0 }) throw new InvalidDataException($"{Where(field)}: not supported (expected null)");
        LoraTargets targets = json["target_modules"] switch
        {
            JsonArray a when a.Count > 0 => LoraTargets.Parse(a.Select(x => x?.GetValue<string>() ?? throw new InvalidDataException($"{Where("target_modules")}: null entry")).ToArray()),
            JsonValue v when v.TryGetValue<string>(out var s) => s == "all-linear" ? LoraTargets.AllLinearLayers : LoraTargets.Regex(s),
            _ => throw new InvalidDataException($"{Where("target_modules")}: expected a list of module names or a regular expression"),
        };
        string[]? modulesToSave = json["modules_to_save"] switch
        {
            null => null,
            JsonArray { Count: 0 } => null,
            JsonArray a => a.Select(x => x is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s
                : throw new InvalidDataException($"{Where("modules_to_save")}: expected module names, got {x?.ToJsonString() ?? "null"}")).ToArray(),
            var other => throw new InvalidDataException($"{Where("modules_to_save")}: expected a list of module names or null, got {other.ToJsonString()}"),
        };
        var config = new LoraConfig { R = r, Alpha = alpha, Dropout = dropout, UseRsLora = rslora, Targets = targets, ModulesToSave = modulesToSave };
        try { config.Validate(); }
        catch (ArgumentException e) { throw new InvalidDataException($"{configPath}: {e.Message}", e); }

        var weights = Path.Combine(folder, WeightsFile);
        if (!File.Exists(weights))
            throw new FileNotFoundException(File.Exists(Path.Combine(folder, "adapter_model.bin"))
                ? $"{folder}: only adapter_model.bin (a pickle) is present; convert it to {WeightsFile}"
                : $"{folder}: no {WeightsFile}", weights);
        var tensors = Safetensors.Load(weights, device);
        foreach (var t in tensors.Values) t.DetachFromDisposeScope();
        // Every name is a LoRA matrix, or a parameter of a module the config lists in modules_to_save; the model
        // checks the exact set and the shapes when the adapter is applied.
        bool SavedModuleKey(string key) => modulesToSave is not null && modulesToSave.Any(m =>
        {
            var path = key["base_model.model.".Length..];
            int dot = path.LastIndexOf('.');
            var module = dot < 0 ? "" : path[..dot];
            return module == m || module.EndsWith("." + m, StringComparison.Ordinal);
        });
        foreach (var key in tensors.Keys)
            if (!key.StartsWith("base_model.model.", StringComparison.Ordinal) ||
                !(key.EndsWith(".lora_A.weight", StringComparison.Ordinal) || key.EndsWith(".lora_B.weight", StringComparison.Ordinal) || SavedModuleKey(key)))
            {
                foreach (var t in tensors.Values) t.Dispose();
                throw new InvalidDataException($"{weights}: tensor '{key}' is neither a LoRA matrix under PEFT's naming (base_model.model.<module>.lora_A.weight / lora_B.weight) " +
                    "nor a parameter of a module listed in modules_to_save");
            }
        return new LoraAdapter(folder, config, json["base_model_name_or_path"]?.GetValue<string>(), fanInFanOut, tensors);
    }

    static double ReadNumber(JsonObject json, string field, Func<string, string> where)
    {
        if (json[field] is JsonValue v && v.TryGetValue<double>(out var d)) return d;
        throw new InvalidDataException($"{where(field)}: expected a number, got {json[field]?.ToJsonString() ?? "nothing"}");
    }

    /// <summary>
    /// Injects this adapter into <paramref name="model"/> (targets from the config) and copies the weights;
    /// names and shapes are checked, with a list of every mismatch.
    /// </summary>
    public LoraModel ApplyTo(CausalLM model)
    {
        var lora = LoraModel.Apply(model, Config);
        try
        {
            if (lora.FanInFanOut != FanInFanOut)
                throw new InvalidDataException($"{Folder}: adapter_config.json has fan_in_fan_out={FanInFanOut.ToString().ToLowerInvariant()}, but the model's adapted layers are {(lora.FanInFanOut ? "Conv1D ([in, out])" : "Linear ([out, in])")}");
            lora.LoadAdapterWeights(Tensors, Path.Combine(Folder, WeightsFile));
            return lora;
        }
        catch
        {
            lora.Unload(); // leave the model as it was
            throw;
        }
    }

    /// <summary>Frees the loaded tensors.</summary>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}
