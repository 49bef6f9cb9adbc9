using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Tuning.Lora;

/// <summary>
/// A causal LM with LoRA adapters injected (PEFT's LoraModel): every target layer is replaced in place
/// by a <see cref="LoraLinear"/> wrapping it, all other parameters are frozen, and only the adapters'
/// A and B train. <code>
/// var lora = LoraModel.Apply(model, new LoraConfig { R = 8, Alpha = 16, Targets = LoraTargets.Names("q_proj", "v_proj") });
/// Console.WriteLine(lora.TrainableParameters());   // trainable 86K of 5.4M, 1.6%
/// ... train model ...
/// lora.SaveAdapter("out/adapter");                  // PEFT's adapter_config.json + adapter_model.safetensors
/// var merged = lora.MergeAndUnload();               // plain model with W + scaling·B·A
/// </code>
/// </summary>
public sealed class LoraModel
{
    readonly Dictionary<string, LoraLinear> _layers;
    // Modules trained in full (modules_to_save) and a copy of each one's original parameters, so the
    // adapters can be switched off (base model) and unloaded exactly.
    readonly Dictionary<string, (Module Module, Dictionary<string, Tensor> Original)> _saved;

    LoraModel(CausalLM model, LoraConfig config, Dictionary<string, LoraLinear> layers, Dictionary<string, (Module, Dictionary<string, Tensor>)> saved)
    {
        Model = model;
        Config = config;
        _layers = layers;
        _saved = saved;
    }

    /// <summary>Modules trained in full beside the adapters (<see cref="LoraConfig.ModulesToSave"/>), by dotted path.</summary>
    public IReadOnlyDictionary<string, Module> SavedModules => _saved.ToDictionary(kv => kv.Key, kv => kv.Value.Module);

    /// <summary>The model, with its target layers replaced by <see cref="LoraLinear"/> layers.</summary>
    public CausalLM Model { get; }

    /// <summary>The adapter's hyperparameters.</summary>
    public LoraConfig Config { get; }

    /// <summary>The adapted layers by dotted module path ("model.layers.0.self_attn.q_proj"), in model order.</summary>
    public IReadOnlyDictionary<string, LoraLinear> Layers => _layers;

    /// <summary>True when any adapted layer's base weight is NF4 (QLoRA).</summary>
    public bool IsQuantized => _layers.Values.Any(l => l.base_layer is Quantization.Nf4Linear);

    /// <summary>True when the base layers store weights [in, out] (GPT-2's Conv1D; PEFT's fan_in_fan_out).</summary>
    public bool FanInFanOut => _layers.Values.Any(l => l.FanInFanOut);

    /// <summary>
    /// Freezes every parameter of <paramref name="model"/> and wraps each target layer in a
    /// <see cref="LoraLinear"/>. Fails, listing the model's linear layers, when no layer matches.
    /// </summary>
    public static LoraModel Apply(CausalLM model, LoraConfig config)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (model.named_modules().Any(m => m.module is LoraLinear))
            throw new InvalidOperationException("LoraModel.Apply: the model already has LoRA adapters; merge them (MergeAndUnload) or load a fresh model first");
        var paths = config.Targets.Resolve(model);
        if (paths.Count == 0)
        {
            var linear = model.named_modules().Where(m => LoraTargets.IsLinear(m.module)).Select(m => m.name.Split('.')[^1]).Distinct();
            throw new ArgumentException($"LoRA targets {config.Targets} match no linear layer of {model.GetType().Name}; its linear layers are named: {string.Join(", ", linear)}");
        }
        var savedPaths = ResolveModulesToSave(model, config, paths);
        model.requires_grad_(false);
        var layers = new Dictionary<string, LoraLinear>();
        using (SeededInitialisation(config.Seed, model.parameters().FirstOrDefault()?.device ?? Device.CPU))
        {
            foreach (var path in paths)
            {
                var target = (Module<Tensor, Tensor>)model.get_submodule(path);
                var wrapped = LoraLinear.FromBase(target, config.R, config.Alpha, config.Dropout, config.UseRsLora);
                model.ReplaceModule(path, wrapped);
                layers[path] = wrapped;
            }
        }
        var saved = new Dictionary<string, (Module, Dictionary<string, Tensor>)>(StringComparer.Ordinal);
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            foreach (var path in savedPaths)
            {
                var module = model.get_submodule(path);
                var original = module.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone().DetachFromDisposeScope(), StringComparer.Ordinal);
                module.requires_grad_(true);
                saved[path] = (module, original);
            }
        }
        var lora = new LoraModel(model, config, layers, saved);
        Applied.AddOrUpdate(model, lora);
        return lora;
    }

    // The adapters applied to each model, so code that has only the model (a run record, the trainer's owner) can find their config.
    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<CausalLM, LoraModel> Applied = new();

    /// <summary>The adapters <see cref="Apply"/> put on <paramref name="model"/> and not yet merged or unloaded, or null.</summary>
    public static LoraModel? Of(CausalLM model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Applied.TryGetValue(model, out var lora) && lora._layers.Count > 0 ? lora : null;
    }

    /// <summary>
    /// Seeds the generator the adapters initialise from (the CPU one, and the model's CUDA device's) and puts
    /// the previous states back when disposed, so seeding the adapters does not change later random draws.
    /// </summary>
    static IDisposable? SeededInitialisation(long? seed, Device device)
    {
        if (seed is not { } s) return null;
        var saved = new List<(Device Device, Tensor State)> { (Device.CPU, torch.get_rng_state(Device.CPU).DetachFromDisposeScope()) };
        if (device.IsCuda) saved.Add((device, torch.get_rng_state(device).DetachFromDisposeScope()));
        torch.manual_seed(s);
        return new RngRestore(saved);
    }

    sealed class RngRestore(List<(Device Device, Tensor State)> saved) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (device, state) in saved) { torch.set_rng_state(device, state); state.Dispose(); }
            saved.Clear();
        }
    }

    /// <summary>The module paths <see cref="LoraConfig.ModulesToSave"/> names: exact paths, or every module whose last name matches.</summary>
    static List<string> ResolveModulesToSave(CausalLM model, LoraConfig config, IReadOnlyCollection<string> adapted)
    {
        var result = new List<string>();
        if (config.ModulesToSave is not { Count: > 0 } names) return result;
        var modules = model.named_modules().Where(m => m.name.Length > 0).ToList();
        foreach (var name in names)
        {
            var matches = modules.Where(m => m.name == name || m.name.EndsWith("." + name, StringComparison.Ordinal)).Select(m => m.name).ToList();
            if (matches.Count == 0)
                throw new ArgumentException($"LoRA modules_to_save: '{name}' matches no module of {model.GetType().Name}; modules with parameters include: " +
                    string.Join(", ", modules.Where(m => m.module.named_parameters().Any() && !m.name.Contains(".layers.")).Select(m => m.name).Take(12)));
            foreach (var path in matches)
            {
                if (adapted.Any(a => a == path || path.StartsWith(a + ".", StringComparison.Ordinal) || a.StartsWith(path + ".", StringComparison.Ordinal)))
                    throw new ArgumentException($"LoRA modules_to_save: '{path}' overlaps a layer that gets an adapter; a module is either adapted or trained in full");
                if (!result.Contains(path)) result.Add(path);
            }
        }
        return result;
    }

    /// <summary>PEFT's key of a module_to_save parameter: base_model.model.{path}.{name}.</summary>
    public static string PeftSavedKey(string modulePath, string parameterName) => $"base_model.model.{modulePath}.{parameterName}";

    /// <summary>
    /// Turns the adapters off until the returned scope is disposed (PEFT's disable_adapter), on the same model
    /// without a second copy of the weights: each adapter's B matrix (the small one) is set aside and zeroed, so
    /// B·A = 0 and every layer computes its base function, and the modules trained in full get their original
    /// weights back. Disposing puts the trained values back. Used to run the base model beside the tuned one.
    /// </summary>
    public IDisposable DisableAdapters()
    {
        var trained = new List<(Tensor Target, Tensor Trained)>();
        using (var scope = torch.NewDisposeScope())
        using (torch.no_grad())
        {
            void Replace(Tensor target, Tensor? value)
            {
                trained.Add((target, target.detach().clone().DetachFromDisposeScope()));
                if (value is null) target.detach().zero_(); else target.detach().copy_(value);
            }
            foreach (var layer in _layers.Values) Replace(layer.lora_B.weight, null);
            foreach (var (module, original) in _saved.Values)
                foreach (var (name, p) in module.named_parameters()) Replace(p, original[name]);
        }
        return new Restore(trained);
    }

    sealed class Restore(List<(Tensor Target, Tensor Trained)> trained) : IDisposable
    {
        public void Dispose()
        {
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            foreach (var (target, value) in trained) { target.detach().copy_(value); value.Dispose(); }
            trained.Clear();
        }
    }

    /// <summary>Trainable and total parameter counts ("trainable 1.6M of 135M, 1.2%").</summary>
    public TrainableParameters TrainableParameters() => Lora.TrainableParameters.Of(Model);

    /// <summary>
    /// The adapter weights under PEFT's names: "base_model.model.&lt;path&gt;.lora_A.weight" [r, in] and
    /// ".lora_B.weight" [out, r], plus "base_model.model.&lt;path&gt;.weight" for each module trained in full
    /// (modules_to_save). The tensors share the model's storage (detached).
    /// </summary>
    public Dictionary<string, Tensor> AdapterStateDict()
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (path, layer) in _layers)
        {
            result[PeftKey(path, "lora_A")] = layer.lora_A.weight.detach();
            result[PeftKey(path, "lora_B")] = layer.lora_B.weight.detach();
        }
        foreach (var (path, (module, _)) in _saved)
            foreach (var (name, p) in module.named_parameters())
                result.TryAdd(PeftSavedKey(path, name), p.detach());
        return result;
    }

    /// <summary>PEFT's key of an adapter matrix: base_model.model.{path}.{lora_A|lora_B}.weight.</summary>
    public static string PeftKey(string modulePath, string matrix) => $"base_model.model.{modulePath}.{matrix}.weight";

    /// <summary>Writes the adapter in PEFT's format (see <see cref="LoraAdapter.Save"/>).</summary>
    public void SaveAdapter(string folder, string? baseModelNameOrPath = null) => LoraAdapter.Save(this, folder, baseModelNameOrPath);

    /// <summary>
    /// Replaces every <see cref="LoraLinear"/> by its merged plain layer (W + scaling·B·A; NF4 bases are
    /// dequantized to <paramref name="dtype"/>, float32 by default) and returns the model, which no
    /// longer has adapters and saves with <see cref="CausalLM.SavePretrained"/> in Hugging Face layout.
    /// This LoraModel must not be used afterwards.
    /// </summary>
    public CausalLM MergeAndUnload(ScalarType? dtype = null)
    {
        foreach (var (path, layer) in _layers)
        {
            var merged = layer.Merge(dtype);
            Model.ReplaceModule(path, merged);
            // Module.Dispose frees parameters; the NF4 codes of a QLoRA base are plain tensors, freed here.
            if (layer.base_layer is Quantization.Nf4Linear q) q.Weight.Dispose();
            layer.Dispose();
        }
        _layers.Clear();
        // Fully trained modules keep their trained weights; they are ordinary frozen weights from now on.
        ReleaseSaved(restoreOriginal: false);
        return Model;
    }

    void ReleaseSaved(bool restoreOriginal)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (module, original) in _saved.Values)
        {
            foreach (var (name, p) in module.named_parameters())
                if (restoreOriginal) p.detach().copy_(original[name]);
            module.requires_grad_(false);
            foreach (var t in original.Values) t.Dispose();
        }
        _saved.Clear();
    }

    /// <summary>
    /// Removes the adapters without merging them (PEFT's unload): each <see cref="LoraLinear"/> is
    /// replaced by its base layer again, which stays frozen. This LoraModel must not be used afterwards.
    /// </summary>
    public CausalLM Unload()
    {
        foreach (var (path, layer) in _layers)
        {
            Model.ReplaceModule(path, layer.base_layer);
            layer.lora_A.Dispose();
            layer.lora_B.Dispose();
        }
        _layers.Clear();
        ReleaseSaved(restoreOriginal: true);
        return Model;
    }

    /// <summary>
    /// Copies adapter weights given under PEFT's names into the adapters; every adapter must be
    /// present with the right shape, and no unknown name is accepted.
    /// </summary>
    public void LoadAdapterWeights(IReadOnlyDictionary<string, Tensor> tensors, string source = "adapter")
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var errors = new List<string>();
        var expected = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (path, layer) in _layers)
        {
            foreach (var (matrix, weight) in new[] { ("lora_A", layer.lora_A.weight), ("lora_B", layer.lora_B.weight) })
            {
                var key = PeftKey(path, matrix);
                expected.Add(key);
                if (!tensors.TryGetValue(key, out var t)) { errors.Add($"missing tensor '{key}'"); continue; }
                if (!t.shape.SequenceEqual(weight.shape))
                    errors.Add($"tensor '{key}' has shape {Tensor.ShapeString(t.shape)}, the model's {matrix} of {path} needs {Tensor.ShapeString(weight.shape)}");
            }
        }
        foreach (var (path, (module, _)) in _saved)
            foreach (var (name, p) in module.named_parameters())
            {
                var key = PeftSavedKey(path, name);
                expected.Add(key);
                if (!tensors.TryGetValue(key, out var t)) { errors.Add($"missing tensor '{key}' (modules_to_save)"); continue; }
                if (!t.shape.SequenceEqual(p.shape))
                    errors.Add($"tensor '{key}' has shape {Tensor.ShapeString(t.shape)}, the model's {path}.{name} is {Tensor.ShapeString(p.shape)}");
            }
        foreach (var key in tensors.Keys)
            if (!expected.Contains(key))
                errors.Add($"tensor '{key}' matches no adapted layer of the model");
        if (errors.Count > 0)
            throw new InvalidDataException($"{source}: the adapter does not fit the model:\n  " + string.Join("\n  ", errors.Take(20)) +
                (errors.Count > 20 ? $"\n  … and {errors.Count - 20} more" : ""));
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (path, layer) in _layers)
        {
            layer.lora_A.weight.copy_(tensors[PeftKey(path, "lora_A")]);
            layer.lora_B.weight.copy_(tensors[PeftKey(path, "lora_B")]);
        }
        foreach (var (path, (module, _)) in _saved)
            foreach (var (name, p) in module.named_parameters())
                p.detach().copy_(tensors[PeftSavedKey(path, name)]);
    }
}
