using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.DotNet.Interactive.Commands;
using Microsoft.DotNet.Interactive.Directives;
using Tunebook.Interactive;

namespace Tunebook.Interactive.DotNet;

/// <summary>
/// One invocation of a Tunebook magic as .NET Interactive binds it: the directive path ("#!train step") and
/// the parameter values by their camel-cased names. The values stay JSON because the parameters are
/// declared from the magic's own option class at run time, so no fixed command class can hold them.
/// </summary>
public sealed class TunebookMagicInvocation : KernelCommand
{
    public string? InvokedDirective { get; set; }

    [JsonExtensionData] public Dictionary<string, JsonElement> Values { get; set; } = new();
}

/// <summary>
/// Describes a Tunebook <see cref="MagicCommand"/> as a .NET Interactive directive, and turns what .NET
/// Interactive bound back into the argument tokens that Tunebook's own <see cref="MagicParser"/> reads: the
/// directive only carries the words, every check, default and conversion is the Tunebook kernel's.
/// </summary>
/// <remarks>
/// .NET Interactive's directive grammar has named parameters, subcommands and one unnamed parameter. So:
/// the first positional argument, when it has a fixed set of choices (#!model load, #!train step|continue|stop),
/// becomes one subcommand per choice; the next positional argument becomes the unnamed parameter
/// (of each subcommand, or of the directive); each option becomes a named parameter (aliases too), a bool
/// option a flag.
/// </remarks>
public static class MagicDirectives
{
    /// <summary>The directive for <paramref name="magic"/>, its invocations bound to <see cref="TunebookMagicInvocation"/>.</summary>
    public static KernelActionDirective Create(MagicCommand magic)
    {
        var spec = MagicSpec.Of(magic.OptionsType);
        var directive = new KernelActionDirective("#!" + magic.Name) { Description = magic.Summary, KernelCommandType = typeof(TunebookMagicInvocation) };
        foreach (var option in spec.Options)
            foreach (var name in option.Names)
                directive.Parameters.Add(Parameter(name, option));

        var (choices, implicitArgument) = Positionals(spec);
        if (choices is not null)
        {
            foreach (var choice in choices.Attribute.Choices!)
            {
                var sub = new KernelActionDirective(choice) { Description = $"{magic.Name} {choice}", KernelCommandType = typeof(TunebookMagicInvocation) };
                if (implicitArgument is not null) sub.Parameters.Add(Implicit(implicitArgument));
                directive.Subcommands.Add(sub);
            }
        }
        else if (implicitArgument is not null) directive.Parameters.Add(Implicit(implicitArgument));
        return directive;
    }

    /// <summary>The positional argument that becomes subcommands (null when the first has no choices) and the one bound to the unnamed parameter.</summary>
    static (MagicSpec.Arg? Choices, MagicSpec.Arg? Implicit) Positionals(MagicSpec spec)
    {
        var arguments = spec.Arguments;
        if (arguments.Count > 0 && arguments[0].Attribute.Choices is { Length: > 0 })
            return (arguments[0], arguments.Count > 1 ? arguments[1] : null);
        return (null, arguments.Count > 0 ? arguments[0] : null);
    }

    static KernelDirectiveParameter Parameter(string name, MagicSpec.Opt option)
    {
        var type = Nullable.GetUnderlyingType(option.Property.PropertyType) ?? option.Property.PropertyType;
        var parameter = new KernelDirectiveParameter(name, option.Attribute.Help) { Flag = type == typeof(bool), Required = option.Attribute.Required };
        var completions = option.Attribute.Choices ?? (type.IsEnum ? Enum.GetNames(type).Select(n => n.ToLowerInvariant()).ToArray() : null);
        if (completions is not null) parameter.AddCompletions(() => completions);
        return parameter;
    }

    static KernelDirectiveParameter Implicit(MagicSpec.Arg argument) =>
        new(argument.Attribute.Name, argument.Attribute.Help) { AllowImplicitName = true, Required = argument.Attribute.Required };

    /// <summary>
    /// The argument tokens of an invocation, as a Tunebook cell line would have them: the subcommand, the
    /// unnamed value, then "--option value" for each named value and "--flag" for each flag that is set.
    /// </summary>
    public static IReadOnlyList<string> Tokens(MagicCommand magic, TunebookMagicInvocation invocation)
    {
        var spec = MagicSpec.Of(magic.OptionsType);
        var tokens = new List<string>();
        var path = (invocation.InvokedDirective ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries);
        tokens.AddRange(path.Skip(1));
        var (_, implicitArgument) = Positionals(spec);
        if (implicitArgument is not null && Lookup(invocation, implicitArgument.Attribute.Name) is { } positional)
            tokens.AddRange(Words(positional));
        foreach (var option in spec.Options)
        {
            foreach (var name in option.Names)
            {
                if (Lookup(invocation, name) is not { } value) continue;
                if (value.ValueKind == JsonValueKind.True) tokens.Add(name);
                else if (value.ValueKind is JsonValueKind.False or JsonValueKind.Null) continue;
                else foreach (var word in Words(value)) { tokens.Add(name); tokens.Add(word); }
            }
        }
        return tokens;
    }

    static JsonElement? Lookup(TunebookMagicInvocation invocation, string parameterName) =>
        invocation.Values.TryGetValue(CamelCase(parameterName), out var value) ? value : null;

    static IEnumerable<string> Words(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => value.EnumerateArray().SelectMany(Words),
        JsonValueKind.String => [value.GetString()!],
        _ => [value.GetRawText()],
    };

    /// <summary>The property name .NET Interactive gives a parameter: "--max-tokens" → "maxTokens", "-r" → "r".</summary>
    public static string CamelCase(string parameterName)
    {
        var parts = parameterName.TrimStart('-').Split('-', StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(parts.Select((p, i) => i == 0 ? p : char.ToUpperInvariant(p[0]) + p[1..]));
    }
}
