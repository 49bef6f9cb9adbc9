using System.Collections;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Text.Templates;

/// <summary>Turns .NET and JSON data (messages, tools, extra variables) into template values.</summary>
static class ValueConverter
{
    const int MaxDepth = 256;

    public static Value FromObject(object? input) => FromObject(input, 0);

    // Depth-limited so that a self-referencing list or dictionary is an error, not a stack overflow.
    static Value FromObject(object? input, int depth) => depth > MaxDepth
        ? throw new ArgumentException($"value nests deeper than {MaxDepth} levels (a list or dictionary that contains itself?)")
        : input switch
    {
        null => NullValue.Instance,
        Value v => v,
        string s => new StringValue(s),
        bool b => BooleanValue.Of(b),
        char c => new StringValue(c.ToString()),
        sbyte or byte or short or ushort or int or uint or long or ulong => new IntegerValue(System.Convert.ToDouble(input)),
        float or double or decimal => Number(System.Convert.ToDouble(input)),
        JsonNode node => FromJson(node),
        JsonElement element => FromJson(element),
        ChatMessage message => FromJson(message.ToJson()),
        IDictionary dict => FromDictionary(dict, depth),
        IEnumerable<KeyValuePair<string, object?>> pairs => new ObjectValue(ToOrdered(pairs.Select(p => (p.Key, FromObject(p.Value, depth + 1))))),
        IEnumerable items => new ArrayValue(items.Cast<object?>().Select(x => FromObject(x, depth + 1)).ToList()),
        DateTime dt => new StringValue(dt.ToString("O")),
        _ => throw new ArgumentException($"cannot pass a {input.GetType().Name} to a chat template; use strings, numbers, booleans, lists, dictionaries or JSON nodes"),
    };

    // A whole double stays an integer, as in JavaScript (JSON has one number type).
    static Value Number(double d) => double.IsFinite(d) && d % 1 == 0 ? new IntegerValue(d) : new FloatValue(d);

    static ObjectValue FromDictionary(IDictionary dict, int depth)
    {
        var map = new OrderedDictionary<string, Value>();
        foreach (DictionaryEntry e in dict)
            map[e.Key as string ?? System.Convert.ToString(e.Key, System.Globalization.CultureInfo.InvariantCulture) ?? ""] = FromObject(e.Value, depth + 1);
        return new ObjectValue(map);
    }

    static OrderedDictionary<string, Value> ToOrdered(IEnumerable<(string Key, Value Value)> pairs)
    {
        var map = new OrderedDictionary<string, Value>();
        foreach (var (k, v) in pairs) map[k] = v;
        return map;
    }

    public static Value FromJson(JsonNode? node) => node switch
    {
        null => NullValue.Instance,
        JsonObject o => new ObjectValue(ToOrdered(o.Select(kv => (kv.Key, FromJson(kv.Value))))),
        JsonArray a => new ArrayValue(a.Select(FromJson).ToList()),
        JsonValue v => FromJson(v.TryGetValue<JsonElement>(out var element) ? element : JsonSerializer.SerializeToElement(v, TextJsonContext.Default.JsonNode)),
        _ => NullValue.Instance,
    };

    public static Value FromJson(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => new ObjectValue(ToOrdered(e.EnumerateObject().Select(p => (p.Name, FromJson(p.Value))))),
        JsonValueKind.Array => new ArrayValue(e.EnumerateArray().Select(FromJson).ToList()),
        JsonValueKind.String => new StringValue(e.GetString()!),
        JsonValueKind.Number => Number(e.GetDouble()),
        JsonValueKind.True => BooleanValue.True,
        JsonValueKind.False => BooleanValue.False,
        JsonValueKind.Null => NullValue.Instance,
        _ => UndefinedValue.Instance,
    };
}
