using Tunebook.Models.Gemma3;
using Tunebook.Models.Gpt2;
using Tunebook.Models.Llama;
using Tunebook.Models.Phi3;
using Tunebook.Models.SmolLM3;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models;

/// <summary>How <see cref="ModelLoader.Load"/> treats checkpoints that do not match exactly.</summary>
public sealed record LoadOptions
{
    /// <summary>Unexpected checkpoint tensors are an error (true) or only listed in the load report (false, the default, as in transformers).</summary>
    public bool Strict { get; init; }
    /// <summary>Load the tokenizer from the folder when it has one.</summary>
    public bool LoadTokenizer { get; init; } = true;
}

/// <summary>What loading found beyond the expected tensors (transformers' "loading info").</summary>
public sealed record LoadReport(string Source, IReadOnlyList<string> UnexpectedKeys, IReadOnlyList<string> IgnoredKeys, ScalarType StoredDType)
{
    /// <summary>What the user should know about what was left out (e.g. the vision tower of a Gemma 3 image-and-text checkpoint).</summary>
    public IReadOnlyList<string> Notices { get; init; } = [];

    public override string ToString() =>
        $"{Source}: stored as {StoredDType.Name()}" +
        string.Concat(Notices.Select(n => "; " + n)) +
        (UnexpectedKeys.Count > 0 ? $"; unexpected tensors not used: {string.Join(", ", UnexpectedKeys)}" : "") +
        (IgnoredKeys.Count > 0 ? $"; ignored buffers: {IgnoredKeys.Count}" : "");
}

/// <summary>
/// Loads Hugging Face model folders: config.json picks the architecture, weights come from
/// model.safetensors or a sharded model.safetensors.index.json, the tokenizer and
/// generation_config.json come along when present.
/// </summary>
public static class ModelLoader
{
    /// <summary>
    /// Loads a local model folder onto <paramref name="device"/> (default CPU). <paramref name="dtype"/>
    /// casts the weights (float32, float16, bfloat16); null keeps the dtype they are stored in (except
    /// float16 on the CPU, which becomes float32 because the CPU build has no float16 matrix multiply).
    /// Missing tensors and wrong shapes are errors naming each tensor; unexpected tensors are listed
    /// in <see cref="LastReport"/> (or rejected with <see cref="LoadOptions.Strict"/>).
    /// </summary>
    public static CausalLM Load(string folder, Device? device = null, ScalarType? dtype = null, LoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        options ??= new LoadOptions();
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such model folder");
        if (dtype is { } d && !d.IsFloatingPoint()) throw new ArgumentException($"Load: dtype must be float32, float16 or bfloat16, got {d.Name()}");
        var config = ModelConfig.Load(folder);
        var dev = device ?? Torch.Device.CPU;
        using var reader = CheckpointReader.Open(folder);

        var stored = StoredDType(reader);
        // libtorch 1.13 cannot multiply float16 matrices on the CPU: a float16 checkpoint loaded
        // there without an explicit dtype becomes float32 (bfloat16 and float32 stay as stored).
        var target = dtype ?? (stored == ScalarType.Float16 && !dev.IsCuda ? ScalarType.Float32 : stored);
        CausalLM model;
        CausalLM.SkipInitialization = true;
        try { model = Create(config, dev, target); }
        finally { CausalLM.SkipInitialization = false; }
        try
        {
            var report = CopyWeights(model, reader, options.Strict, stored) with { Notices = config.Notices };
            foreach (var notice in config.Notices) Console.Error.WriteLine($"{folder}: {notice}");
            LastReport = report;
            model.LoadReport = report;
            if (File.Exists(Path.Combine(folder, "generation_config.json")))
                model.GenerationConfig = GenerationConfig.Load(Path.Combine(folder, "generation_config.json"), config);
            if (options.LoadTokenizer && HasTokenizer(folder))
                model.Tokenizer = Tokenizer.FromFolder(folder);
            model.eval();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The report of the most recent <see cref="Load"/> on any thread (also on <see cref="CausalLM.LoadReport"/>).</summary>
    public static LoadReport? LastReport { get; private set; }

    static bool HasTokenizer(string folder) =>
        File.Exists(Path.Combine(folder, "tokenizer.json")) || File.Exists(Path.Combine(folder, "vocab.json")) || File.Exists(Path.Combine(folder, "encoder.json"));

    /// <summary>A randomly initialised model of the config's architecture.</summary>
    public static CausalLM Create(ModelConfig config, Device device, ScalarType dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (!dtype.IsFloatingPoint()) throw new ArgumentException($"model dtype must be floating point, got {dtype.Name()}");
        return config.Architecture switch
        {
            "GPT2LMHeadModel" => new GPT2LMHeadModel(config, device, dtype),
            "LlamaForCausalLM" or "MistralForCausalLM" or "Qwen2ForCausalLM" or "Qwen3ForCausalLM" => new LlamaForCausalLM(config, device, dtype),
            "Gemma3ForCausalLM" => new Gemma3ForCausalLM(config, device, dtype),
            "Phi3ForCausalLM" => new Phi3ForCausalLM(config, device, dtype),
            "SmolLM3ForCausalLM" => new SmolLM3ForCausalLM(config, device, dtype),
            var other => throw new ModelConfigException(config.SourceFile, "architectures", $"unsupported architecture {other}; supported: {string.Join(", ", ModelConfig.SupportedArchitectures)}"),
        };
    }

    static ScalarType StoredDType(ISafetensorsReader reader)
    {
        foreach (var entry in reader.Entries)
        {
            var t = entry.DType.ToScalarType(reader.Path, entry.Name);
            if (t.IsFloatingPoint()) return t;
        }
        return ScalarType.Float32;
    }

    static LoadReport CopyWeights(CausalLM model, ISafetensorsReader reader, bool strict, ScalarType stored)
    {
        var parameters = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, p) in model.named_parameters()) parameters[name] = p;
        foreach (var (name, b) in model.named_buffers()) parameters.TryAdd(name, b);

        var problems = new List<string>();
        var unexpected = new List<string>();
        var ignored = new List<string>();
        var plan = new List<(string key, Tensor target)>();
        var covered = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in reader.Entries)
        {
            var name = model.ParameterNameFor(entry.Name);
            if (name is null) { ignored.Add(entry.Name); continue; }
            if (!parameters.TryGetValue(name, out var target)) { unexpected.Add(entry.Name); continue; }
            if (!covered.Add(name)) { problems.Add($"'{entry.Name}': a second tensor for parameter '{name}'"); continue; }
            var dtype = entry.DType.ToScalarType(reader.Path, entry.Name);
            if (!dtype.IsFloatingPoint())
            {
                problems.Add($"'{entry.Name}': stored as {entry.DType} but the model needs floating-point weights (quantized checkpoints are not supported)");
                continue;
            }
            var want = target.shape;
            if (!want.SequenceEqual(entry.Shape))
            {
                problems.Add($"'{entry.Name}': shape {Tensor.ShapeString(entry.Shape)} in the checkpoint, the model expects {Tensor.ShapeString(want)}");
                continue;
            }
            plan.Add((entry.Name, target));
        }
        foreach (var name in parameters.Keys)
            if (!covered.Contains(name)) problems.Add($"'{name}': missing from the checkpoint");
        if (strict)
            foreach (var key in unexpected) problems.Add($"'{key}': unexpected tensor (not a parameter of {model.Config.Architecture})");
        if (problems.Count > 0) throw new CheckpointMismatchException(reader.Path, problems);

        using var noGrad = torch.no_grad();
        var device = model.Device;
        foreach (var (key, target) in plan)
        {
            using var scope = torch.NewDisposeScope();
            var value = reader.GetTensor(key, device);
            target.copy_(value);
        }
        return new LoadReport(reader.Path, unexpected, ignored, stored);
    }
}
