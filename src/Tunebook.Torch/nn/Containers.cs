using System.Collections;

namespace Tunebook.Torch.nn;

/// <summary>Submodules held in a list and registered as "0", "1", ... (paths like "layers.3.mlp").</summary>
public class ModuleList<T> : Module, IReadOnlyList<T> where T : Module
{
    readonly List<T> _items = new();

    public ModuleList(IEnumerable<T>? modules = null)
    {
        if (modules is not null) foreach (var m in modules) Add(m);
    }

    public void Add(T module) => _items.Add(RegisterModule(_items.Count.ToString(), module));

    public T this[int index] => _items[index];
    public int Count => _items.Count;
    public IEnumerator<T> GetEnumerator() => _items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    protected override void OnModuleReplaced(string name, Module old, Module replacement)
    {
        if (replacement is not T typed)
            throw new InvalidOperationException($"ModuleList<{typeof(T).Name}> cannot hold a {replacement.GetType().Name}");
        _items[int.Parse(name)] = typed;
    }
}

/// <summary>Applies tensor→tensor modules in order.</summary>
public class Sequential : Module<Tensor, Tensor>
{
    readonly List<Module<Tensor, Tensor>> _layers = new();

    public Sequential(params Module<Tensor, Tensor>[] modules)
    {
        foreach (var m in modules) Add(m);
    }

    public void Add(Module<Tensor, Tensor> module) => _layers.Add(RegisterModule(_layers.Count.ToString(), module));

    public override Tensor forward(Tensor input)
    {
        var x = input;
        for (int k = 0; k < _layers.Count; k++)
        {
            var next = _layers[k].forward(x);
            // Intermediate results are ours to free unless a scope owns them.
            if (k > 0 && !ReferenceEquals(x, next) && DisposeScope.Current is null) x.Dispose();
            x = next;
        }
        return x;
    }

    protected override void OnModuleReplaced(string name, Module old, Module replacement)
    {
        if (replacement is not Module<Tensor, Tensor> typed)
            throw new InvalidOperationException($"Sequential cannot hold a {replacement.GetType().Name}; it needs a Module<Tensor, Tensor>");
        _layers[int.Parse(name)] = typed;
    }
}

/// <summary>Activation modules for use in <see cref="Sequential"/>.</summary>
public sealed class ReLU : Module<Tensor, Tensor> { public override Tensor forward(Tensor input) => input.relu(); }
public sealed class SiLU : Module<Tensor, Tensor> { public override Tensor forward(Tensor input) => input.silu(); }
public sealed class GELU : Module<Tensor, Tensor>
{
    readonly string _approximate;
    public GELU(string approximate = "none") => this._approximate = approximate;
    public override Tensor forward(Tensor input) => input.gelu(_approximate);
}
public sealed class Tanh : Module<Tensor, Tensor> { public override Tensor forward(Tensor input) => input.tanh(); }
