using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsvHelper;

namespace Tunebook.Tuning.Data;

/// <summary>
/// Reads the rows of a data file as JSON objects with their locations: JSON Lines (one object per line), JSON (an
/// array of objects, or an object whose "data" field is one), CSV/TSV (a header row, then records; every value a
/// string) and plain text (each example becomes {"text": ...}). Errors that concern one row are handed to
/// <c>onRowError</c> (which throws, or records the row as skipped); errors that spoil the whole file throw.
/// </summary>
static class DataFiles
{
    /// <summary>The file types <see cref="Read"/> understands.</summary>
    public static readonly IReadOnlyList<string> Extensions = [".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".txt", ".text", ".md"];

    public static List<(JsonObject Record, RowLocation Location)> Read(string path, LoadOptions options, Action<DataLoadException> onRowError)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: data file not found", path);
        string text = ReadUtf8(path);
        string ext = Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".jsonl" or ".ndjson" => JsonLines(path, text, onRowError),
            ".json" => JsonFile(path, text, onRowError),
            ".csv" => Csv(path, text, ',', onRowError),
            ".tsv" => Csv(path, text, '\t', onRowError),
            ".txt" or ".text" or ".md" => PlainText(path, text, options.TextSplit),
            _ => throw new InvalidDataException($"{path}: unknown data file type '{ext}'; expected .jsonl, .json, .csv, .tsv or .txt"),
        };
    }

    /// <summary>The file as UTF-8 text (a byte-order mark is dropped); invalid bytes are reported with their line.</summary>
    static string ReadUtf8(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        ReadOnlySpan<byte> span = bytes;
        if (span.StartsWith("\xEF\xBB\xBF"u8)) span = span[3..];
        var chars = new char[span.Length];
        var status = System.Text.Unicode.Utf8.ToUtf16(span, chars, out int read, out int written, replaceInvalidSequences: false);
        if (status != System.Buffers.OperationStatus.Done)
        {
            int line = span[..read].Count((byte)'\n') + 1;
            throw new DataLoadException(new RowLocation(path, line), null,
                $"is not valid UTF-8 (byte 0x{span[read]:X2} at byte offset {read + (bytes.Length - span.Length)}); save the file as UTF-8");
        }
        return new string(chars, 0, written);
    }

    static List<(JsonObject, RowLocation)> JsonLines(string path, string text, Action<DataLoadException> onRowError)
    {
        var rows = new List<(JsonObject, RowLocation)>();
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line)) continue;
            var where = new RowLocation(path, i + 1);
            JsonNode? node;
            try { node = JsonNode.Parse(line); }
            catch (JsonException e)
            {
                onRowError(new DataLoadException(where, null, $"is not valid JSON ({Short(e)})", e));
                continue;
            }
            if (node is JsonObject o) rows.Add((o, where));
            else onRowError(new DataLoadException(where, null, $"must be a JSON object, got {Kind(node)}"));
        }
        return rows;
    }

    static List<(JsonObject, RowLocation)> JsonFile(string path, string text, Action<DataLoadException> onRowError)
    {
        JsonNode? root;
        try { root = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e)
        {
            throw new DataLoadException(new RowLocation(path, (int)(e.LineNumber ?? 0) + 1), null, $"is not valid JSON ({Short(e)})", e);
        }
        var array = root switch
        {
            JsonArray a => a,
            JsonObject o when o["data"] is JsonArray a => a,
            _ => throw new DataLoadException(new RowLocation(path), null,
                $"must be a JSON array of examples, or an object with a \"data\" array; got {Kind(root)}"),
        };
        var rows = new List<(JsonObject, RowLocation)>();
        for (int i = 0; i < array.Count; i++)
        {
            var where = new RowLocation(path, ArrayIndex: i);
            if (array[i] is JsonObject o) rows.Add((o, where));
            else onRowError(new DataLoadException(where, null, $"must be a JSON object, got {Kind(array[i])}"));
        }
        return rows;
    }

    static List<(JsonObject, RowLocation)> Csv(string path, string text, char separator, Action<DataLoadException> onRowError)
    {
        var rows = new List<(JsonObject, RowLocation)>();
        var options = new CsvReaderOptions
        {
            Separator = separator,
            HasHeader = true,
            TrackLineNumbers = true,
            SkipEmptyLines = true,
            // A stray or unterminated quote fails the load rather than being guessed at.
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
        };
        using var reader = CsvReader.FromText(text, options);
        string[] header;
        try
        {
            reader.ReadHeader();
            header = reader.Headers.ToArray();
        }
        catch (CsvFormatException e) { throw new DataLoadException(new RowLocation(path, 1), null, $"has an unreadable header: {e.Message}", e); }
        if (header.Length == 0) throw new DataLoadException(new RowLocation(path, 1), null, "has no header row (expected column names such as instruction,input,output)");
        for (int c = 0; c < header.Length; c++)
            if (string.IsNullOrEmpty(header[c])) throw new DataLoadException(new RowLocation(path, 1), null, $"has an empty column name (column {c + 1})");
        while (true)
        {
            bool more;
            try { more = reader.Read(); }
            catch (CsvFormatException e)
            {
                // Malformed quoting can swallow the rest of the file: no later row can be trusted, so this always throws.
                throw new DataLoadException(new RowLocation(path, e.LineNumber > 0 ? (int)e.LineNumber : null), null, $"cannot be parsed as CSV: {e.Message}", e);
            }
            if (!more) break;
            var where = new RowLocation(path, (int)reader.LineNumber);
            if (reader.FieldCount != header.Length)
            {
                onRowError(new DataLoadException(where, null,
                    $"has {reader.FieldCount} fields but the header has {header.Length} ({string.Join(", ", header)}); quote fields that contain '{separator}'"));
                continue;
            }
            var o = new JsonObject();
            for (int c = 0; c < header.Length; c++) o[header[c]] = reader.GetString(c) ?? "";
            rows.Add((o, where));
        }
        return rows;
    }

    static List<(JsonObject, RowLocation)> PlainText(string path, string text, TextSplit split)
    {
        var rows = new List<(JsonObject, RowLocation)>();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        if (split == TextSplit.Document)
        {
            if (!string.IsNullOrWhiteSpace(text)) rows.Add((new JsonObject { ["text"] = text.Replace("\r\n", "\n").TrimEnd() }, new RowLocation(path, 1)));
            return rows;
        }
        if (split == TextSplit.Lines)
        {
            for (int i = 0; i < lines.Length; i++)
                if (!string.IsNullOrWhiteSpace(lines[i])) rows.Add((new JsonObject { ["text"] = lines[i].TrimEnd() }, new RowLocation(path, i + 1)));
            return rows;
        }
        int start = -1;
        var paragraph = new StringBuilder();
        for (int i = 0; i <= lines.Length; i++)
        {
            bool blank = i == lines.Length || string.IsNullOrWhiteSpace(lines[i]);
            if (!blank)
            {
                if (start < 0) start = i;
                else paragraph.Append('\n');
                paragraph.Append(lines[i].TrimEnd());
            }
            else if (start >= 0)
            {
                rows.Add((new JsonObject { ["text"] = paragraph.ToString() }, new RowLocation(path, start + 1)));
                paragraph.Clear();
                start = -1;
            }
        }
        return rows;
    }

    static string Short(JsonException e) => e.Message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd('.', ' ');

    internal static string Kind(JsonNode? node) => node switch
    {
        null => "null",
        JsonObject => "an object",
        JsonArray => "an array",
        JsonValue v => v.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "a value",
        },
        _ => "a value",
    };
}
