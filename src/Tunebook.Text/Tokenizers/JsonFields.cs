using System.Text.Json;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// Typed access to tokenizer.json fields that reports errors by file and JSON path. Every reader of
/// tokenizer files goes through this so that a bad file never surfaces as a bare KeyNotFoundException.
/// </summary>
internal sealed class JsonFields(string? file)
{
    public string? File { get; } = file;

    public TokenizerFormatException Error(string path, string problem, Exception? inner = null) => new(File, path, problem, inner);

    public static string Child(string path, string name) => path.Length == 0 ? name : path + "." + name;
    public static string Index(string path, int i) => path + "[" + i + "]";

    public JsonElement Object(JsonElement e, string path)
    {
        if (e.ValueKind != JsonValueKind.Object) throw Error(path, $"expected an object, found {Describe(e)}");
        return e;
    }

    /// <summary>A field that may be missing or null.</summary>
    public JsonElement? Optional(JsonElement obj, string name)
    {
        if (obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null) return v;
        return null;
    }

    public JsonElement Required(JsonElement obj, string name, string path)
    {
        Object(obj, path);
        if (!obj.TryGetProperty(name, out var v)) throw Error(Child(path, name), "required field is missing");
        return v;
    }

    public string String(JsonElement obj, string name, string path)
    {
        var v = Required(obj, name, path);
        if (v.ValueKind != JsonValueKind.String) throw Error(Child(path, name), $"expected a string, found {Describe(v)}");
        return v.GetString()!;
    }

    public string? OptionalString(JsonElement obj, string name, string path, string? fallback = null)
    {
        var v = Optional(obj, name);
        if (v is null) return fallback;
        if (v.Value.ValueKind != JsonValueKind.String) throw Error(Child(path, name), $"expected a string, found {Describe(v.Value)}");
        return v.Value.GetString();
    }

    public bool Bool(JsonElement obj, string name, string path, bool fallback)
    {
        var v = Optional(obj, name);
        if (v is null) return fallback;
        return v.Value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Error(Child(path, name), $"expected true or false, found {Describe(v.Value)}"),
        };
    }

    public int Int(JsonElement obj, string name, string path, int? fallback = null)
    {
        var v = Optional(obj, name);
        if (v is null)
            return fallback ?? throw Error(Child(path, name), "required integer is missing");
        return Int(v.Value, Child(path, name));
    }

    public int Int(JsonElement v, string path)
    {
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var i)) throw Error(path, $"expected an integer, found {Describe(v)}");
        return i;
    }

    public JsonElement Array(JsonElement obj, string name, string path)
    {
        var v = Required(obj, name, path);
        if (v.ValueKind != JsonValueKind.Array) throw Error(Child(path, name), $"expected an array, found {Describe(v)}");
        return v;
    }

    public static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "the string " + Clip(e.GetString()!),
        JsonValueKind.Number => "the number " + e.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    static string Clip(string s) => "\"" + (s.Length > 40 ? s[..40] + "…" : s) + "\"";
}
