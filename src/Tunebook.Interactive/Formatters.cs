using System.Collections.Concurrent;

namespace Tunebook.Interactive;

/// <summary>
/// The registry that turns a value into a <see cref="MimeBundle"/>. The most specific registration wins:
/// the exact type, then base types, then interfaces. Every bundle carries text/plain, so a front end
/// that understands nothing else still shows something.
/// </summary>
public static class Formatters
{
    static readonly ConcurrentDictionary<Type, Func<object, MimeBundle>> ByType = new();

    /// <summary>Registers how values of <typeparamref name="T"/> (and types derived from it) are shown.</summary>
    public static void Register<T>(Func<T, MimeBundle> format) =>
        ByType[typeof(T)] = value => format((T)value);

    /// <summary>The types with a registered formatter (another host, such as .NET Interactive, mirrors them).</summary>
    public static IReadOnlyCollection<Type> RegisteredTypes => [.. ByType.Keys];

    public static void Unregister<T>() => ByType.TryRemove(typeof(T), out _);

    /// <summary>Values that know how to show themselves implement this instead of registering.</summary>
    public interface IRichDisplay { MimeBundle ToMimeBundle(); }

    public static MimeBundle Format(object? value)
    {
        if (value is null) return new MimeBundle("null");
        if (value is MimeBundle ready) return EnsurePlain(ready, value);
        var formatter = Find(value.GetType());
        MimeBundle bundle;
        if (formatter is not null) bundle = formatter(value);
        else if (value is IRichDisplay rich) bundle = rich.ToMimeBundle();
        // A chart of Plotly.NET, which Tunebook does not reference: known by its type name.
        else if (PlotlyNetCharts.BaseType(value.GetType()) is not null) bundle = PlotlyNetCharts.ToMimeBundle(value);
        else bundle = new MimeBundle(PlainText(value));
        return EnsurePlain(bundle, value);
    }

    static MimeBundle EnsurePlain(MimeBundle bundle, object value)
    {
        if (!bundle.Contains("text/plain")) bundle["text/plain"] = PlainText(value);
        return bundle;
    }

    static Func<object, MimeBundle>? Find(Type type)
    {
        for (var t = type; t is not null; t = t.BaseType)
            if (ByType.TryGetValue(t, out var f)) return f;
        foreach (var i in type.GetInterfaces())
            if (ByType.TryGetValue(i, out var f)) return f;
        return null;
    }

    /// <summary>
    /// A readable one-value text form: strings as they are, collections whose type does not override
    /// ToString as "[a, b, c]" (the first 100 items), everything else through ToString.
    /// </summary>
    public static string PlainText(object? value) => value switch
    {
        null => "null",
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        System.Collections.IEnumerable items when !OverridesToString(value.GetType()) => ListText(items),
        _ => value.ToString() ?? value.GetType().FullName ?? "?",
    };

    const int MaxListItems = 100;

    static bool OverridesToString(Type type) =>
        type.GetMethod(nameof(ToString), Type.EmptyTypes)?.DeclaringType is { } declaring && declaring != typeof(object);

    static string ListText(System.Collections.IEnumerable items)
    {
        var parts = new List<string>();
        foreach (var item in items)
        {
            if (parts.Count == MaxListItems) { parts.Add("..."); break; }
            parts.Add(item is string s ? "\"" + s + "\"" : PlainText(item));
        }
        return "[" + string.Join(", ", parts) + "]";
    }
}
