using System.Text.RegularExpressions;
using Tunebook.Models;
using Tunebook.Models.Gpt2;
using Tunebook.Torch.nn;
using Tunebook.Tuning.Quantization;

namespace Tunebook.Tuning.Lora;

/// <summary>
/// Which layers get an adapter, with PEFT's rules: a list of names matches a module whose dotted path
/// equals a name or ends with "." + name ("q_proj" matches "model.layers.0.self_attn.q_proj");
/// a regular expression must match the whole path; "all-linear" means every Linear / Conv1D layer
/// except the output head.
/// </summary>
public sealed class LoraTargets
{
    readonly string[]? _names;
    readonly Regex? _regex;
    readonly string? _pattern;

    LoraTargets(string[]? names, Regex? regex, bool allLinear, string description, string? pattern = null)
    {
        _names = names;
        _regex = regex;
        _pattern = pattern;
        AllLinear = allLinear;
        Description = description;
    }

    /// <summary>Targets by module name or path suffix: <c>LoraTargets.Names("q_proj", "v_proj")</c>.</summary>
    public static LoraTargets Names(params string[] names)
    {
        ArgumentNullException.ThrowIfNull(names);
        if (names.Length == 0) throw new ArgumentException("LoRA targets: the list of module names is empty");
        foreach (var n in names)
            if (string.IsNullOrWhiteSpace(n)) throw new ArgumentException("LoRA targets: a module name is empty");
        if (names.Length == 1 && names[0] == "all-linear") return AllLinearLayers;
        return new LoraTargets(names.ToArray(), null, false, "[" + string.Join(", ", names) + "]");
    }

    /// <summary>Targets whose full dotted path matches <paramref name="pattern"/> (anchored at both ends, like PEFT's re.fullmatch).</summary>
    public static LoraTargets Regex(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        Regex compiled;
        try { compiled = new Regex(@"\A(?:" + pattern + @")\z", RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new ArgumentException($"LoRA targets: invalid regular expression '{pattern}': {e.Message}", e); }
        return new LoraTargets(null, compiled, false, $"regex '{pattern}'", pattern);
    }

    /// <summary>Every Linear / Conv1D / NF4 layer except the output head (lm_head), as PEFT's "all-linear".</summary>
    public static LoraTargets AllLinearLayers { get; } = new(null, null, true, "all-linear");

    /// <summary>
    /// Parses the forms a config file uses: "all-linear", a list of names, or a string that is a
    /// regular expression (PEFT treats a single string as a regex).
    /// </summary>
    public static LoraTargets Parse(IReadOnlyList<string> values) =>
        values.Count == 1 && values[0] == "all-linear" ? AllLinearLayers : Names(values.ToArray());

    /// <summary>True for "all-linear".</summary>
    public bool AllLinear { get; }

    /// <summary>How the targets were given, for messages.</summary>
    public string Description { get; }

    /// <summary>The names as given (null for regex and all-linear).</summary>
    public IReadOnlyList<string>? ModuleNames => _names;

    /// <summary>The regex pattern as given (null otherwise).</summary>
    public string? Pattern => _pattern;

    /// <summary>Whether the module at <paramref name="path"/> is a target (it must also be a linear layer).</summary>
    public bool Matches(string path, Module module)
    {
        if (!IsLinear(module)) return false;
        if (AllLinear) return !IsOutputHead(path);
        if (_regex is not null) return _regex.IsMatch(path);
        foreach (var n in _names!)
            if (path == n || path.EndsWith("." + n, StringComparison.Ordinal)) return true;
        return false;
    }

    /// <summary>Layers a LoRA adapter can wrap.</summary>
    public static bool IsLinear(Module module) => module is Linear or Conv1D or Nf4Linear;

    static bool IsOutputHead(string path) => path == "lm_head" || path.EndsWith(".lm_head", StringComparison.Ordinal);

    /// <summary>The dotted paths of the matching layers of <paramref name="model"/>, in module order.</summary>
    public IReadOnlyList<string> Resolve(Module model)
    {
        var result = new List<string>();
        foreach (var (path, module) in model.named_modules())
            if (path.Length > 0 && module is not LoraLinear && Matches(path, module)) result.Add(path);
        return result;
    }

    public override string ToString() => Description;
}
