using System.Reflection;
using System.Text;

namespace Tunebook.Torch.nn;

/// <summary>
/// Base class of layers and models, like torch.nn.Module: it registers parameters, buffers and
/// submodules under names, so every parameter has a dotted path
/// ("model.layers.0.self_attn.q_proj.weight") used by state dicts, optimizers and LoRA.
/// Registration is explicit: call <see cref="RegisterParameter"/>, <see cref="RegisterBuffer"/> and
/// <see cref="RegisterModule{T}"/> in the constructor.
/// </summary>
public abstract class Module : IDisposable
{
    readonly List<string> _parameterNames = new();
    readonly Dictionary<string, Parameter?> _parameterTable = new();
    readonly List<string> _bufferNames = new();
    readonly Dictionary<string, (Tensor? tensor, bool persistent)> _bufferTable = new();
    readonly List<string> _moduleNames = new();
    readonly Dictionary<string, Module> _moduleTable = new();
    bool _disposed;

    /// <summary>True in training mode (dropout active), false after <see cref="eval"/>.</summary>
    public bool training { get; private set; } = true;

    // ---- registration -------------------------------------------------------------------------

    /// <summary>Registers (or replaces) a parameter under a local name; null reserves the name (e.g. bias=None).</summary>
    protected Parameter? RegisterParameter(string name, Parameter? parameter)
    {
        CheckName(name, _parameterTable.ContainsKey(name));
        if (!_parameterTable.ContainsKey(name)) _parameterNames.Add(name);
        _parameterTable[name] = parameter;
        if (parameter is not null) parameter.Name ??= name;
        return parameter;
    }

    /// <summary>Registers a buffer (state that is not trained, e.g. rotary tables). Non-persistent buffers stay out of state dicts.</summary>
    protected Tensor? RegisterBuffer(string name, Tensor? buffer, bool persistent = true)
    {
        CheckName(name, _bufferTable.ContainsKey(name));
        buffer?.DetachFromDisposeScope();
        if (!_bufferTable.ContainsKey(name)) _bufferNames.Add(name);
        _bufferTable[name] = (buffer, persistent);
        return buffer;
    }

    /// <summary>Registers a submodule under a local name and returns it.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckName(name, _moduleTable.ContainsKey(name));
        if (!_moduleTable.ContainsKey(name)) _moduleNames.Add(name);
        _moduleTable[name] = module;
        return module;
    }

    void CheckName(string name, bool replacing)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: invalid name '{name}'; names must be non-empty and contain no '.'");
        if (replacing) return;
        if (_parameterTable.ContainsKey(name) || _bufferTable.ContainsKey(name) || _moduleTable.ContainsKey(name))
            throw new ArgumentException($"{GetType().Name}: '{name}' is already registered");
    }

    // ---- traversal ----------------------------------------------------------------------------

    /// <summary>Direct submodules with their local names.</summary>
    public IEnumerable<(string name, Module module)> named_children()
    {
        foreach (var n in _moduleNames) yield return (n, _moduleTable[n]);
    }

    public IEnumerable<Module> children() => named_children().Select(c => c.module);

    /// <summary>This module ("") and every descendant with its dotted path.</summary>
    public IEnumerable<(string name, Module module)> named_modules(string prefix = "")
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        return NamedModules(prefix, seen);
    }

    IEnumerable<(string, Module)> NamedModules(string prefix, HashSet<Module> seen)
    {
        if (!seen.Add(this)) yield break;
        yield return (prefix, this);
        foreach (var n in _moduleNames)
            foreach (var x in _moduleTable[n].NamedModules(Join(prefix, n), seen))
                yield return x;
    }

    /// <summary>
    /// Parameters with dotted paths; a parameter shared by several modules (tied weights) appears
    /// once. Enumerating from the root also names each parameter (its <see cref="Tensor.Name"/>
    /// becomes the dotted path) so errors and optimizer messages say which weight is involved.
    /// </summary>
    public IEnumerable<(string name, Parameter parameter)> named_parameters(bool recurse = true)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (path, m) in recurse ? named_modules() : [("", this)])
            foreach (var n in m._parameterNames)
                if (m._parameterTable[n] is { } p && seen.Add(p))
                {
                    var full = Join(path, n);
                    if (recurse && (p.Name is null || full.Length > p.Name.Length)) p.Name = full;
                    yield return (full, p);
                }
    }

    /// <summary>All parameters (PyTorch's parameters()).</summary>
    public IEnumerable<Parameter> parameters(bool recurse = true) => named_parameters(recurse).Select(p => p.parameter);

    /// <summary>Buffers with dotted paths.</summary>
    public IEnumerable<(string name, Tensor buffer)> named_buffers(bool recurse = true)
    {
        foreach (var (path, m) in recurse ? named_modules() : [("", this)])
            foreach (var n in m._bufferNames)
                if (m._bufferTable[n].tensor is { } b)
                    yield return (Join(path, n), b);
    }

    static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>The descendant at a dotted path ("" is this module).</summary>
    public Module get_submodule(string path)
    {
        if (string.IsNullOrEmpty(path)) return this;
        Module m = this;
        var walked = new List<string>();
        foreach (var part in path.Split('.'))
        {
            if (!m._moduleTable.TryGetValue(part, out var child))
                throw new KeyNotFoundException($"{(walked.Count == 0 ? GetType().Name : string.Join('.', walked))} has no submodule '{part}' (path '{path}'; children: {string.Join(", ", m._moduleNames)})");
            walked.Add(part);
            m = child;
        }
        return m;
    }

    /// <summary>The parameter at a dotted path.</summary>
    public Parameter get_parameter(string path)
    {
        int dot = path.LastIndexOf('.');
        var owner = dot < 0 ? this : get_submodule(path[..dot]);
        var name = dot < 0 ? path : path[(dot + 1)..];
        return owner._parameterTable.TryGetValue(name, out var p) && p is not null
            ? p : throw new KeyNotFoundException($"no parameter '{path}' in {GetType().Name}");
    }

    /// <summary>
    /// Replaces the submodule at a dotted path (e.g. "model.layers.0.self_attn.q_proj") and returns the
    /// old one, which is not disposed (a wrapper such as a LoRA layer usually keeps it). A field or
    /// property of the parent named like the child is updated too when its type accepts the new module.
    /// </summary>
    public Module ReplaceModule(string path, Module replacement)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        int dot = path.LastIndexOf('.');
        var parent = dot < 0 ? this : get_submodule(path[..dot]);
        var name = dot < 0 ? path : path[(dot + 1)..];
        if (!parent._moduleTable.TryGetValue(name, out var old))
            throw new KeyNotFoundException($"no submodule '{path}' to replace (children of the parent: {string.Join(", ", parent._moduleNames)})");
        parent._moduleTable[name] = replacement;
        parent.OnModuleReplaced(name, old, replacement);
        return old;
    }

    /// <summary>
    /// Called after a child was replaced. The default updates every field of this module that holds
    /// the old child (auto-property backing fields included), so forward() uses the replacement;
    /// it fails when such a field's type cannot hold the replacement. Override for other storage
    /// (ModuleList does).
    /// </summary>
    [System.Diagnostics.CodeAnalysis.UnconditionalSuppressMessage("Trimming", "IL2075",
        Justification = "Only fields that hold a child module matter, and the module's own code assigns them, so trimming keeps them.")]
    protected virtual void OnModuleReplaced(string name, Module old, Module replacement)
    {
        const BindingFlags flags = BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        for (var type = GetType(); type != null && type != typeof(Module); type = type.BaseType)
        {
            foreach (var field in type.GetFields(flags))
            {
                if (field.FieldType.IsValueType || !ReferenceEquals(field.GetValue(this), old)) continue;
                if (!field.FieldType.IsInstanceOfType(replacement))
                {
                    _moduleTable[name] = old; // undo: the module would keep calling the old child
                    var member = field.Name.StartsWith('<') ? field.Name[1..field.Name.IndexOf('>')] : field.Name;
                    throw new InvalidOperationException($"{GetType().Name}.{member} is declared as {field.FieldType.Name}, which cannot hold a {replacement.GetType().Name}; declare it as Module<Tensor, Tensor> (or a base type of the replacement) to allow replacing '{name}'");
                }
                field.SetValue(this, replacement);
            }
        }
    }

    // ---- modes --------------------------------------------------------------------------------

    /// <summary>Sets training mode on this module and all descendants.</summary>
    public Module train(bool mode = true)
    {
        foreach (var (_, m) in named_modules()) m.training = mode;
        return this;
    }

    /// <summary>Evaluation mode (dropout off).</summary>
    public Module eval() => train(false);

    /// <summary>Sets requires_grad on every parameter (false freezes the module).</summary>
    public Module requires_grad_(bool requires_grad = true)
    {
        foreach (var p in parameters()) p.requires_grad_(requires_grad);
        return this;
    }

    /// <summary>Clears (default) or zeroes every parameter's gradient.</summary>
    public void zero_grad(bool set_to_none = true)
    {
        foreach (var p in parameters())
        {
            if (set_to_none) { p.grad = null; continue; }
            using var g = p.grad;
            g?.zero_();
        }
    }

    /// <summary>Runs <paramref name="fn"/> on every module (children first, like PyTorch's apply).</summary>
    public Module apply(Action<Module> fn)
    {
        foreach (var n in _moduleNames) _moduleTable[n].apply(fn);
        fn(this);
        return this;
    }

    // ---- device / dtype -----------------------------------------------------------------------

    /// <summary>
    /// Moves every parameter and buffer to a device (in place: the Parameter objects stay the same),
    /// then lets each module move state it keeps outside parameters and buffers (<see cref="MoveState"/>).
    /// </summary>
    public Module to(Device device)
    {
        Convert(t => t.to(device), onlyFloating: false);
        foreach (var (_, m) in named_modules()) m.MoveState(device);
        return this;
    }

    /// <summary>
    /// Called by <see cref="to(Device)"/> on every module: override to move tensors a module holds
    /// outside its parameters and buffers — for example quantized weights, whose codes must keep
    /// their integer dtype and whose scales must stay float32 when the model is cast.
    /// </summary>
    protected virtual void MoveState(Device device) { }

    /// <summary>Casts floating-point parameters and buffers to a dtype (integer buffers are kept).</summary>
    public Module to(ScalarType dtype)
    {
        if (!dtype.IsFloatingPoint()) throw new ArgumentException($"Module.to: expected a floating-point dtype, got {dtype.Name()}");
        return Convert(t => t.to(dtype), onlyFloating: true);
    }

    Module Convert(Func<Tensor, Tensor> convert, bool onlyFloating)
    {
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        foreach (var (_, m) in named_modules())
        {
            foreach (var n in m._parameterNames)
                if (m._parameterTable[n] is { } p && (!onlyFloating || p.is_floating_point()))
                    p.SetData(convert(p));
            foreach (var n in m._bufferNames.ToArray())
                if (m._bufferTable[n].tensor is { } b && (!onlyFloating || b.is_floating_point()))
                {
                    var converted = convert(b);
                    b.SwapHandle(converted); // converted now holds the old data and is freed by the scope
                }
        }
        return this;
    }

    // ---- state dicts --------------------------------------------------------------------------

    /// <summary>
    /// Parameters and persistent buffers by dotted path. The values are new detached tensors sharing
    /// the module's storage, owned by the caller (or the current dispose scope).
    /// </summary>
    public Dictionary<string, Tensor> state_dict()
    {
        var result = new Dictionary<string, Tensor>();
        foreach (var (path, m) in named_modules())
        {
            foreach (var n in m._parameterNames)
                if (m._parameterTable[n] is { } p) result.TryAdd(Join(path, n), p.detach());
            foreach (var n in m._bufferNames)
                if (m._bufferTable[n] is { tensor: { } b, persistent: true }) result.TryAdd(Join(path, n), b.detach());
        }
        return result;
    }

    /// <summary>
    /// Copies values into the module's parameters and persistent buffers (converting dtype and
    /// device). A shape mismatch always fails; with <paramref name="strict"/>, missing or unexpected
    /// keys fail too. Returns the missing and unexpected keys.
    /// </summary>
    public (List<string> missing, List<string> unexpected) load_state_dict(IReadOnlyDictionary<string, Tensor> state, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        var targets = new Dictionary<string, Tensor>();
        foreach (var (path, m) in named_modules())
        {
            foreach (var n in m._parameterNames)
                if (m._parameterTable[n] is { } p) targets.TryAdd(Join(path, n), p);
            foreach (var n in m._bufferNames)
                if (m._bufferTable[n] is { tensor: { } b, persistent: true }) targets.TryAdd(Join(path, n), b);
        }
        var missing = targets.Keys.Where(k => !state.ContainsKey(k)).ToList();
        var unexpected = state.Keys.Where(k => !targets.ContainsKey(k)).ToList();
        var errors = new List<string>();
        foreach (var (key, target) in targets)
        {
            if (!state.TryGetValue(key, out var src)) continue;
            var want = target.shape;
            var got = src.shape;
            if (!want.SequenceEqual(got))
                errors.Add($"size mismatch for '{key}': the checkpoint has shape {Tensor.ShapeString(got)}, the model expects {Tensor.ShapeString(want)}");
        }
        if (strict)
        {
            if (missing.Count > 0) errors.Add("missing keys: " + string.Join(", ", missing.Select(k => $"'{k}'")));
            if (unexpected.Count > 0) errors.Add("unexpected keys: " + string.Join(", ", unexpected.Select(k => $"'{k}'")));
        }
        if (errors.Count > 0)
            throw new ArgumentException($"Error(s) in loading state_dict for {GetType().Name}:\n  " + string.Join("\n  ", errors));
        using var noGrad = torch.no_grad();
        foreach (var (key, target) in targets)
            if (state.TryGetValue(key, out var src)) target.copy_(src);
        return (missing, unexpected);
    }

    // ---- display and disposal -----------------------------------------------------------------

    /// <summary>Extra text inside the parentheses of this module's line, e.g. "in_features=4, out_features=3".</summary>
    protected virtual string ExtraRepr() => "";

    /// <summary>PyTorch-style tree of modules.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(GetType().Name).Append('(').Append(ExtraRepr());
        if (_moduleNames.Count > 0)
        {
            sb.Append('\n');
            foreach (var n in _moduleNames)
                sb.Append("  (").Append(n).Append("): ").Append(_moduleTable[n].ToString().Replace("\n", "\n  ")).Append('\n');
        }
        sb.Append(')');
        return sb.ToString();
    }

    /// <summary>Releases every parameter and buffer of this module and its descendants.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var n in _moduleNames) _moduleTable[n].Dispose();
        foreach (var p in _parameterTable.Values) p?.Dispose();
        foreach (var b in _bufferTable.Values) b.tensor?.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>A module with a typed forward: <c>y = module.call(x)</c> or <c>module.forward(x)</c>.</summary>
public abstract class Module<TIn, TOut> : Module
{
    public abstract TOut forward(TIn input);
    public TOut call(TIn input) => forward(input);
}

/// <summary>A module whose forward takes two inputs.</summary>
public abstract class Module<TIn1, TIn2, TOut> : Module
{
    public abstract TOut forward(TIn1 input1, TIn2 input2);
    public TOut call(TIn1 input1, TIn2 input2) => forward(input1, input2);
}
