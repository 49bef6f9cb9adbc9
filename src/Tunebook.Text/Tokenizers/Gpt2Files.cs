using System.Text.Encodings.Web;
using System.Text.Json;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// The original GPT-2 release format: vocab.json (or encoder.json) mapping tokens to ids plus merges.txt
/// (or vocab.bpe) listing merges one per line. Converted to the equivalent tokenizer.json, as
/// transformers' GPT2TokenizerFast conversion does: byte-level pre-tokenizer with GPT-2's regex,
/// byte-level decoder, and &lt;|endoftext|&gt; as a special token when the vocabulary has it.
/// </summary>
internal static class Gpt2Files
{
    public static (string Json, TokenizerConfig Defaults) ToTokenizerJson(string folder)
    {
        var vocabPath = First(folder, "vocab.json", "encoder.json")
            ?? throw new TokenizerFormatException(folder, "", "no tokenizer.json, vocab.json or encoder.json in this folder");
        var mergesPath = First(folder, "merges.txt", "vocab.bpe")
            ?? throw new TokenizerFormatException(folder, "", $"found {Path.GetFileName(vocabPath)} but no merges.txt or vocab.bpe");
        var f = new JsonFields(vocabPath);
        var vocab = new List<(string, int)>();
        using (var doc = Parse(f, File.ReadAllText(vocabPath)))
        {
            f.Object(doc.RootElement, "");
            foreach (var p in doc.RootElement.EnumerateObject()) vocab.Add((p.Name, f.Int(p.Value, p.Name)));
        }
        var merges = new List<(string, string)>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(mergesPath))
        {
            lineNo++;
            if (line.Length == 0 || (lineNo == 1 && line.StartsWith("#version"))) continue;
            var parts = line.Split(' ');
            if (parts.Length != 2 || parts[0].Length == 0 || parts[1].Length == 0)
                throw new TokenizerFormatException(mergesPath, $"line {lineNo}", $"expected two tokens separated by one space, found \"{line}\"");
            merges.Add((parts[0], parts[1]));
        }

        const string eot = "<|endoftext|>";
        var eotId = vocab.FirstOrDefault(v => v.Item1 == eot);
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteNull("truncation");
            w.WriteNull("padding");
            w.WriteStartArray("added_tokens");
            if (eotId.Item1 is not null) TokenizerJsonWriter.WriteAddedToken(w, eotId.Item2, eot, special: true);
            w.WriteEndArray();
            w.WriteNull("normalizer");
            TokenizerJsonWriter.WriteByteLevel(w, "pre_tokenizer", addPrefixSpace: false, trimOffsets: true, useRegex: true);
            TokenizerJsonWriter.WriteByteLevel(w, "post_processor", addPrefixSpace: true, trimOffsets: false, useRegex: true);
            TokenizerJsonWriter.WriteByteLevel(w, "decoder", addPrefixSpace: true, trimOffsets: true, useRegex: true);
            TokenizerJsonWriter.WriteBpeModel(w, vocab, merges);
            w.WriteEndObject();
        }
        var defaults = new TokenizerConfig
        {
            BosToken = eotId.Item1, EosToken = eotId.Item1, UnkToken = eotId.Item1,
            ModelMaxLength = 1024, TokenizerClass = "GPT2Tokenizer",
        };
        return (System.Text.Encoding.UTF8.GetString(ms.ToArray()), defaults);
    }

    static JsonDocument Parse(JsonFields f, string json)
    {
        try { return JsonDocument.Parse(json); }
        catch (JsonException e) { throw f.Error($"line {e.LineNumber + 1}", "invalid JSON: " + e.Message, e); }
    }

    static string? First(string folder, params string[] names) =>
        names.Select(n => Path.Combine(folder, n)).FirstOrDefault(File.Exists);
}
