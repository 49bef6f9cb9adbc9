namespace Tunebook.Text.Templates;

/// <summary>
/// A variable scope. As in @huggingface/jinja: for-loops and macro calls open a child scope, <c>if</c> does not,
/// <c>set</c> writes to the innermost scope, and a macro body sees the scope it is called from.
/// </summary>
sealed class Scope(Scope? parent = null)
{
    readonly Dictionary<string, Value> _variables = new(StringComparer.Ordinal);

    public Scope? Parent { get; } = parent;

    public void Set(string name, Value value) => _variables[name] = value;

    public Value Lookup(string name)
    {
        // Every scope of the reference engine starts out holding `namespace`, so the innermost definition wins.
        if (_variables.TryGetValue(name, out var v)) return v;
        if (name == "namespace") return Builtins.Namespace;
        for (var s = Parent; s is not null; s = s.Parent)
            if (s._variables.TryGetValue(name, out v)) return v;
        return UndefinedValue.Instance;
    }
}
