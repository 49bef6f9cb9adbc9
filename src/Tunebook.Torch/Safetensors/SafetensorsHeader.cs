using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace Tunebook.Torch;

/// <summary>
/// The parsed and validated header of a safetensors file.
/// <para>
/// Layout: an 8-byte little-endian length N, N bytes of UTF-8 JSON
/// <c>{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {string: string}}</c>,
/// then the data section. Files are untrusted, so the validation follows the reference implementation
/// (huggingface/safetensors) and is strict: the header is bounded in size, every tensor's byte range has
/// exactly numel × element-size bytes, and the ranges tile the data section with no gap, no overlap and
/// nothing after the last tensor.
/// </para>
/// </summary>
public sealed class SafetensorsHeader
{
    /// <summary>The largest header accepted by default, as in the reference implementation (100 MB).</summary>
    public const long DefaultMaxHeaderBytes = 100_000_000;

    /// <summary>The key that holds the free-form string map instead of a tensor.</summary>
    public const string MetadataKey = "__metadata__";

    readonly Dictionary<string, SafetensorsEntry> _byName;

    SafetensorsHeader(List<SafetensorsEntry> entries, Dictionary<string, string>? metadata, long dataLength)
    {
        Entries = entries;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        Metadata = metadata ?? new Dictionary<string, string>();
        HasMetadata = metadata is not null;
        DataLength = dataLength;
    }

    /// <summary>The tensors, in the order their bytes appear in the data section.</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> map (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Whether the header carried a <c>__metadata__</c> key at all.</summary>
    public bool HasMetadata { get; }

    /// <summary>Length of the data section in bytes.</summary>
    public long DataLength { get; }

    /// <summary>Looks a tensor up by name.</summary>
    public bool TryGetEntry(string name, out SafetensorsEntry entry) => _byName.TryGetValue(name, out entry!);

    /// <summary>
    /// Checks the 8-byte length prefix against the file length and the header size limit, and returns
    /// the header length N.
    /// </summary>
    public static long ReadLength(ReadOnlySpan<byte> prefix, long fileLength, string filePath, long maxHeaderBytes = DefaultMaxHeaderBytes)
    {
        if (fileLength < 8 || prefix.Length < 8)
            throw new SafetensorsFormatException(filePath, null,
                $"the file is {fileLength} bytes long, shorter than the 8-byte header length prefix (truncated or not a safetensors file)");
        var n = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (n > (ulong)maxHeaderBytes)
            throw new SafetensorsFormatException(filePath, null,
                $"the header length prefix says {n} bytes, more than the {maxHeaderBytes}-byte limit (corrupt file or not a safetensors file)");
        if ((long)n > fileLength - 8)
            throw new SafetensorsFormatException(filePath, null,
                $"the header length prefix says {n} bytes but only {fileLength - 8} bytes follow it (truncated file)");
        return (long)n;
    }

    /// <summary>
    /// Parses and validates the JSON header. <paramref name="dataLength"/> is the number of bytes after
    /// the header; every tensor must lie within it and together they must cover it exactly.
    /// </summary>
    public static SafetensorsHeader Parse(ReadOnlySpan<byte> json, long dataLength, string filePath)
    {
        if (!Utf8.IsValid(json))
            throw new SafetensorsFormatException(filePath, null, "the header is not valid UTF-8");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException(filePath, null, $"the header is not valid JSON ({e.Message})", e);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                throw new SafetensorsFormatException(filePath, null, $"the header must be a JSON object, found {Describe(root.ValueKind)}");

            Dictionary<string, string>? metadata = null;
            var entries = new List<SafetensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in root.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new SafetensorsFormatException(filePath, property.Name == MetadataKey ? null : property.Name,
                        $"the header names '{property.Name}' more than once");
                if (property.Name == MetadataKey)
                    metadata = ParseMetadata(property.Value, filePath);
                else
                    entries.Add(ParseEntry(property.Name, property.Value, dataLength, filePath));
            }

            CheckCoverage(entries, dataLength, filePath);
            return new SafetensorsHeader(entries, metadata, dataLength);
        }
    }

    static Dictionary<string, string>? ParseMetadata(JsonElement value, string filePath)
    {
        if (value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Object)
            throw new SafetensorsFormatException(filePath, null, $"'{MetadataKey}' must be an object of strings, found {Describe(value.ValueKind)}");
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new SafetensorsFormatException(filePath, null,
                    $"'{MetadataKey}' value for key '{item.Name}' must be a string, found {Describe(item.Value.ValueKind)}");
            if (!map.TryAdd(item.Name, item.Value.GetString()!))
                throw new SafetensorsFormatException(filePath, null, $"'{MetadataKey}' names key '{item.Name}' more than once");
        }
        return map;
    }

    static SafetensorsEntry ParseEntry(string name, JsonElement value, long dataLength, string filePath)
    {
        SafetensorsFormatException Error(string problem) => new(filePath, name, problem);

        if (value.ValueKind != JsonValueKind.Object)
            throw Error($"expected an object {{\"dtype\", \"shape\", \"data_offsets\"}}, found {Describe(value.ValueKind)}");

        if (!value.TryGetProperty("dtype", out var dtypeValue)) throw Error("missing \"dtype\"");
        if (dtypeValue.ValueKind != JsonValueKind.String) throw Error($"\"dtype\" must be a string, found {Describe(dtypeValue.ValueKind)}");
        var dtypeName = dtypeValue.GetString()!;
        if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
            throw Error($"unknown dtype '{dtypeName}' (expected one of {SafetensorsDTypes.SpecNames})");

        if (!value.TryGetProperty("shape", out var shapeValue)) throw Error("missing \"shape\"");
        if (shapeValue.ValueKind != JsonValueKind.Array) throw Error($"\"shape\" must be an array of sizes, found {Describe(shapeValue.ValueKind)}");
        var shape = new long[shapeValue.GetArrayLength()];
        long elements = 1;
        var overflow = false;
        for (var i = 0; i < shape.Length; i++)
        {
            shape[i] = ReadNonNegative(shapeValue[i], $"\"shape\"[{i}]", Error);
            // Keep checking the remaining dimensions for validity even once the product has overflowed.
            if (!overflow && shape[i] != 0 && elements > long.MaxValue / shape[i]) overflow = true;
            else if (!overflow) elements *= shape[i];
        }
        var zeroDim = shape.Contains(0);
        if (overflow && !zeroDim)
            throw Error($"shape [{string.Join(", ", shape)}] has more elements than a 64-bit count can hold");
        if (zeroDim) elements = 0;

        if (!value.TryGetProperty("data_offsets", out var offsetsValue)) throw Error("missing \"data_offsets\"");
        if (offsetsValue.ValueKind != JsonValueKind.Array || offsetsValue.GetArrayLength() != 2)
            throw Error("\"data_offsets\" must be an array [begin, end]");
        var begin = ReadNonNegative(offsetsValue[0], "\"data_offsets\"[0]", Error);
        var end = ReadNonNegative(offsetsValue[1], "\"data_offsets\"[1]", Error);
        if (end < begin) throw Error($"data_offsets [{begin}, {end}] end before they begin");
        if (end > dataLength)
            throw Error($"data_offsets [{begin}, {end}] reach past the end of the {dataLength}-byte data section (truncated file or bad offsets)");

        var expected = dtype.ByteCount(elements)
            ?? throw Error($"{elements} elements of {dtype.ToSpecName()} do not fill a whole number of bytes, or their size overflows");
        if (end - begin != expected)
            throw Error($"data_offsets [{begin}, {end}] span {end - begin} bytes but {dtype.ToSpecName()} shape [{string.Join(", ", shape)}] needs {expected} ({elements} elements × {dtype.BitsPerElement()} bits)");

        return new SafetensorsEntry(name, dtype, shape, begin, end);
    }

    static long ReadNonNegative(JsonElement value, string what, Func<string, SafetensorsFormatException> error)
    {
        if (value.ValueKind != JsonValueKind.Number)
            throw error($"{what} must be a non-negative integer, found {Describe(value.ValueKind)}");
        if (value.TryGetInt64(out var n))
        {
            if (n < 0) throw error($"{what} is {n}; sizes and offsets cannot be negative");
            return n;
        }
        throw error($"{what} is {value.GetRawText()}, not an integer in [0, 2^63)");
    }

    /// <summary>Sorts by offset and checks that the byte ranges tile the data section exactly.</summary>
    static void CheckCoverage(List<SafetensorsEntry> entries, long dataLength, string filePath)
    {
        entries.Sort((a, b) =>
        {
            var c = a.DataBegin.CompareTo(b.DataBegin);
            if (c != 0) return c;
            c = a.DataEnd.CompareTo(b.DataEnd);
            return c != 0 ? c : string.CompareOrdinal(a.Name, b.Name);
        });

        long covered = 0;
        SafetensorsEntry? previous = null;
        foreach (var entry in entries)
        {
            if (entry.DataBegin < covered)
                throw new SafetensorsFormatException(filePath, entry.Name,
                    $"data_offsets [{entry.DataBegin}, {entry.DataEnd}] overlap tensor '{previous!.Name}' at [{previous.DataBegin}, {previous.DataEnd}]");
            if (entry.DataBegin > covered)
                throw new SafetensorsFormatException(filePath, entry.Name,
                    $"data_offsets [{entry.DataBegin}, {entry.DataEnd}] leave bytes [{covered}, {entry.DataBegin}) of the data section unused; tensors must be stored back to back");
            covered = entry.DataEnd;
            previous = entry;
        }
        if (covered != dataLength)
            throw new SafetensorsFormatException(filePath, null,
                $"the tensors cover {covered} bytes but the data section holds {dataLength}; {dataLength - covered} trailing bytes belong to no tensor");
    }

    static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => kind.ToString(),
    };

    // ---- Writing -------------------------------------------------------------------------------------

    /// <summary>
    /// The header bytes for tensors already placed in file order: compact JSON with
    /// <c>__metadata__</c> first, then the tensors, padded with spaces to a multiple of 8 bytes so that
    /// the data section starts 8-byte aligned. This matches the reference serializer byte for byte.
    /// </summary>
    internal static byte[] Serialize(IEnumerable<SafetensorsEntry> orderedEntries, IReadOnlyDictionary<string, string>? metadata)
    {
        var json = new StringBuilder();
        json.Append('{');
        var first = true;
        if (metadata is not null)
        {
            json.Append("\"__metadata__\":{");
            var firstKey = true;
            foreach (var (key, val) in metadata.OrderBy(kv => kv.Key, Utf8Order.Instance))
            {
                if (!firstKey) json.Append(',');
                AppendString(json, key);
                json.Append(':');
                AppendString(json, val);
                firstKey = false;
            }
            json.Append('}');
            first = false;
        }
        foreach (var entry in orderedEntries)
        {
            if (!first) json.Append(',');
            AppendString(json, entry.Name);
            json.Append(":{\"dtype\":\"").Append(entry.DType.ToSpecName()).Append("\",\"shape\":[");
            json.AppendJoin(',', entry.Shape);
            json.Append("],\"data_offsets\":[").Append(entry.DataBegin).Append(',').Append(entry.DataEnd).Append("]}");
            first = false;
        }
        json.Append('}');

        var bytes = Encoding.UTF8.GetBytes(json.ToString());
        var padded = (bytes.Length + 7) / 8 * 8;
        if (padded == bytes.Length) return bytes;
        var result = new byte[padded];
        bytes.CopyTo(result, 0);
        result.AsSpan(bytes.Length).Fill((byte)' ');
        return result;
    }

    /// <summary>JSON string escaping as serde_json does it: quote, backslash and control characters only.</summary>
    static void AppendString(StringBuilder json, string value)
    {
        json.Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"': json.Append("\\\""); break;
                case '\\': json.Append("\\\\"); break;
                case '\b': json.Append("\\b"); break;
                case '\f': json.Append("\\f"); break;
                case '\n': json.Append("\\n"); break;
                case '\r': json.Append("\\r"); break;
                case '\t': json.Append("\\t"); break;
                default:
                    if (c < 0x20) json.Append("\\u00").Append(((int)c).ToString("x2"));
                    else json.Append(c);
                    break;
            }
        }
        json.Append('"');
    }
}

/// <summary>Orders strings by their UTF-8 bytes, as Rust's <c>String</c> ordering (and so the reference) does.</summary>
internal sealed class Utf8Order : IComparer<string>
{
    public static readonly Utf8Order Instance = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y)) return 0;
        if (x is null) return -1;
        if (y is null) return 1;
        // UTF-16 code-unit order differs from UTF-8 byte order only around surrogates, so compare
        // code points: that order is the UTF-8 byte order.
        var i = 0;
        var j = 0;
        while (i < x.Length && j < y.Length)
        {
            var a = NextCodePoint(x, ref i);
            var b = NextCodePoint(y, ref j);
            if (a != b) return a.CompareTo(b);
        }
        return (x.Length - i).CompareTo(y.Length - j);
    }

    /// <summary>Reads the code point at <paramref name="index"/> and advances past it; a lone surrogate reads as itself.</summary>
    static int NextCodePoint(string s, ref int index)
    {
        var c = s[index];
        if (char.IsHighSurrogate(c) && index + 1 < s.Length && char.IsLowSurrogate(s[index + 1]))
        {
            var codePoint = char.ConvertToUtf32(c, s[index + 1]);
            index += 2;
            return codePoint;
        }
        index++;
        return c;
    }
}
