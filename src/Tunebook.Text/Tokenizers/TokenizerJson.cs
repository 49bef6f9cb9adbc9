using System.Text.Json;

namespace Tunebook.Text.Tokenizers;

/// <summary>The pipeline described by a tokenizer.json file, as parsed objects.</summary>
internal sealed record TokenizerParts(Normalizer? Normalizer, PreTokenizer? PreTokenizer, BpeModel Model,
    PostProcessor? PostProcessor, Decoder? Decoder, IReadOnlyList<AddedToken> AddedTokens);

/// <summary>
/// Reads Hugging Face tokenizer.json files. Supports the BPE model and the normalizers, pre-tokenizers,
/// post-processors and decoders used by GPT-2, Llama 2/3, TinyLlama, Mistral and Qwen; anything else is
/// reported with the field's path and the list of supported types.
/// </summary>
internal static class TokenizerJson
{
    public static TokenizerParts Parse(string json, string? file)
    {
        var f = new JsonFields(file);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, MaxDepth = 256 }); }
        catch (JsonException e) { throw f.Error($"line {e.LineNumber + 1}", "invalid JSON: " + e.Message, e); }
        using (doc)
        {
            var root = f.Object(doc.RootElement, "");
            var normalizer = f.Optional(root, "normalizer") is { } n ? ReadNormalizer(f, n, "normalizer") : null;
            var pre = f.Optional(root, "pre_tokenizer") is { } p ? ReadPreTokenizer(f, p, "pre_tokenizer") : null;
            var model = ReadModel(f, f.Required(root, "model", ""), "model");
            model.ByteLevel = pre?.IsByteLevel ?? false;
            var added = new List<AddedToken>();
            if (f.Optional(root, "added_tokens") is { } at)
            {
                if (at.ValueKind != JsonValueKind.Array) throw f.Error("added_tokens", "expected an array, found " + JsonFields.Describe(at));
                int i = 0;
                foreach (var t in at.EnumerateArray())
                {
                    var path = JsonFields.Index("added_tokens", i++);
                    added.Add(ReadAddedToken(f, t, path, f.Int(t, "id", path)));
                }
            }
            var post = f.Optional(root, "post_processor") is { } pp ? ReadPostProcessor(f, pp, "post_processor", model, added) : null;
            var decoder = f.Optional(root, "decoder") is { } d ? ReadDecoder(f, d, "decoder") : null;
            return new TokenizerParts(normalizer, pre, model, post, decoder, added);
        }
    }

    public static AddedToken ReadAddedToken(JsonFields f, JsonElement t, string path, int id)
    {
        f.Object(t, path);
        return new AddedToken(id, f.String(t, "content", path),
            SingleWord: f.Bool(t, "single_word", path, false),
            LStrip: f.Bool(t, "lstrip", path, false),
            RStrip: f.Bool(t, "rstrip", path, false),
            Normalized: f.Bool(t, "normalized", path, !f.Bool(t, "special", path, false)),
            Special: f.Bool(t, "special", path, false));
    }

    static string TypeOf(JsonFields f, JsonElement e, string path) => f.String(f.Object(e, path), "type", path);

    static Exception Unsupported(JsonFields f, string path, string what, string type, string supported) =>
        f.Error(JsonFields.Child(path, "type"), $"unsupported {what} type '{type}'; supported: {supported}");

    // ---- model ----

    static BpeModel ReadModel(JsonFields f, JsonElement m, string path)
    {
        f.Object(m, path);
        var type = f.OptionalString(m, "type", path) ?? (f.Optional(m, "merges") is not null ? "BPE" : "(missing)");
        if (type != "BPE")
            throw Unsupported(f, path, "model", type, "BPE (byte-level BPE as in GPT-2/Llama 3/Qwen, SentencePiece-style BPE as in Llama 2/Mistral); WordPiece, WordLevel and Unigram are not implemented");
        var vocabJson = f.Required(m, "vocab", path);
        var vocabPath = JsonFields.Child(path, "vocab");
        if (vocabJson.ValueKind != JsonValueKind.Object) throw f.Error(vocabPath, "expected an object mapping token to id, found " + JsonFields.Describe(vocabJson));
        var vocab = new Dictionary<string, int>();
        foreach (var p in vocabJson.EnumerateObject())
        {
            // Paths are only built for the error message: vocabularies have 100k+ entries.
            if (p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var id)) vocab[p.Name] = id;
            else f.Int(p.Value, JsonFields.Child(vocabPath, p.Name));
        }

        var prefix = f.OptionalString(m, "continuing_subword_prefix", path);
        var mergesJson = f.Optional(m, "merges");
        var merges = new List<(int, int, int)>();
        if (mergesJson is { } mj)
        {
            var mergesPath = JsonFields.Child(path, "merges");
            if (mj.ValueKind != JsonValueKind.Array) throw f.Error(mergesPath, "expected an array of merges, found " + JsonFields.Describe(mj));
            merges.Capacity = mj.GetArrayLength();
            int i = 0;
            var bySpan = vocab.GetAlternateLookup<ReadOnlySpan<char>>();
            Span<char> joined = stackalloc char[256];
            foreach (var item in mj.EnumerateArray())
            {
                // Fast path for "a b" strings without a subword prefix: look the parts up as spans.
                if (string.IsNullOrEmpty(prefix) && item.ValueKind == JsonValueKind.String && item.GetString() is { } line
                    && line.IndexOf(' ') is var sp and > 0 && sp < line.Length - 1 && line.Length <= joined.Length + 1
                    && line.AsSpan(sp + 1).IndexOf(' ') < 0
                    && bySpan.TryGetValue(line.AsSpan(0, sp), out var ia) && bySpan.TryGetValue(line.AsSpan(sp + 1), out var ib))
                {
                    line.AsSpan(0, sp).CopyTo(joined);
                    line.AsSpan(sp + 1).CopyTo(joined[sp..]);
                    if (bySpan.TryGetValue(joined[..(line.Length - 1)], out var im))
                    {
                        merges.Add((ia, ib, im));
                        i++;
                        continue;
                    }
                }
                var (a, b) = ReadMerge(f, item, mergesPath, i);
                merges.Add(ResolveMerge(f, vocab, a, b, prefix, mergesPath, i));
                i++;
            }
        }
        return new BpeModel(vocab, merges,
            unkToken: f.OptionalString(m, "unk_token", path),
            fuseUnk: f.Bool(m, "fuse_unk", path, false),
            byteFallback: f.Bool(m, "byte_fallback", path, false),
            ignoreMerges: f.Bool(m, "ignore_merges", path, false),
            continuingSubwordPrefix: prefix,
            endOfWordSuffix: f.OptionalString(m, "end_of_word_suffix", path));
        // dropout is a training-time regularizer; inference is deterministic, so it is ignored.
    }

    static (string, string) ReadMerge(JsonFields f, JsonElement item, string mergesPath, int index)
    {
        if (item.ValueKind == JsonValueKind.String)
        {
            var s = item.GetString()!;
            int space = s.IndexOf(' ');
            if (space > 0 && space < s.Length - 1 && s.IndexOf(' ', space + 1) < 0) return (s[..space], s[(space + 1)..]);
        }
        else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2 &&
                 item[0].ValueKind == JsonValueKind.String && item[1].ValueKind == JsonValueKind.String)
            return (item[0].GetString()!, item[1].GetString()!);
        throw f.Error(JsonFields.Index(mergesPath, index), "expected 'a b' or [a, b], found " + JsonFields.Describe(item));
    }

    internal static (int, int, int) ResolveMerge(JsonFields f, Dictionary<string, int> vocab, string a, string b, string? prefix, string mergesPath, int index)
    {
        if (!vocab.TryGetValue(a, out var ia)) throw f.Error(JsonFields.Index(mergesPath, index), $"merge token '{a}' is not in model.vocab");
        if (!vocab.TryGetValue(b, out var ib)) throw f.Error(JsonFields.Index(mergesPath, index), $"merge token '{b}' is not in model.vocab");
        var merged = !string.IsNullOrEmpty(prefix) && b.StartsWith(prefix, StringComparison.Ordinal) ? a + b[prefix.Length..] : a + b;
        if (!vocab.TryGetValue(merged, out var im)) throw f.Error(JsonFields.Index(mergesPath, index), $"merged token '{merged}' is not in model.vocab");
        return (ia, ib, im);
    }

    // ---- normalizers ----

    const string NormalizerTypes = "Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Strip, StripAccents, Replace, Prepend";

    static Normalizer ReadNormalizer(JsonFields f, JsonElement e, string path)
    {
        var type = TypeOf(f, e, path);
        switch (type)
        {
            case "Sequence":
                return new SequenceNormalizer(ReadList(f, e, "normalizers", path, ReadNormalizer));
            case "NFC": return new UnicodeFormNormalizer(UnicodeForm.NFC);
            case "NFD": return new UnicodeFormNormalizer(UnicodeForm.NFD);
            case "NFKC": return new UnicodeFormNormalizer(UnicodeForm.NFKC);
            case "NFKD": return new UnicodeFormNormalizer(UnicodeForm.NFKD);
            case "Lowercase": return new LowercaseNormalizer();
            case "StripAccents": return new StripAccentsNormalizer();
            case "Strip": return new StripNormalizer(f.Bool(e, "strip_left", path, true), f.Bool(e, "strip_right", path, true));
            case "Replace": return new ReplaceNormalizer(ReadPattern(f, e, path), f.String(e, "content", path));
            case "Prepend": return new PrependNormalizer(f.String(e, "prepend", path));
            default: throw Unsupported(f, path, "normalizer", type, NormalizerTypes);
        }
    }

    static List<T> ReadList<T>(JsonFields f, JsonElement e, string name, string path, Func<JsonFields, JsonElement, string, T> read)
    {
        var arr = f.Array(e, name, path);
        var list = new List<T>();
        int i = 0;
        foreach (var item in arr.EnumerateArray()) list.Add(read(f, item, JsonFields.Index(JsonFields.Child(path, name), i++)));
        return list;
    }

    static Pattern ReadPattern(JsonFields f, JsonElement e, string path)
    {
        var p = f.Required(e, "pattern", path);
        var pp = JsonFields.Child(path, "pattern");
        if (p.ValueKind == JsonValueKind.Object)
        {
            if (f.Optional(p, "String") is { ValueKind: JsonValueKind.String } s) return Pattern.Literal(s.GetString()!);
            if (f.Optional(p, "Regex") is { ValueKind: JsonValueKind.String } r)
            {
                try { return Pattern.FromRegex(r.GetString()!); }
                catch (ArgumentException ex) { throw f.Error(JsonFields.Child(pp, "Regex"), "invalid regular expression: " + ex.Message, ex); }
            }
        }
        throw f.Error(pp, "expected {\"String\": \"...\"} or {\"Regex\": \"...\"}, found " + JsonFields.Describe(p));
    }

    // ---- pre-tokenizers ----

    const string PreTokenizerTypes = "Sequence, Split, ByteLevel, Metaspace, Whitespace, WhitespaceSplit, Digits, Punctuation, BertPreTokenizer, CharDelimiterSplit";

    static PreTokenizer ReadPreTokenizer(JsonFields f, JsonElement e, string path)
    {
        var type = TypeOf(f, e, path);
        switch (type)
        {
            case "Sequence":
                return new SequencePreTokenizer(ReadList(f, e, "pretokenizers", path, ReadPreTokenizer));
            case "Split":
                return new SplitPreTokenizer(ReadPattern(f, e, path), ReadBehavior(f, e, path), f.Bool(e, "invert", path, false));
            case "ByteLevel":
                return new ByteLevelPreTokenizer(f.Bool(e, "add_prefix_space", path, true), f.Bool(e, "use_regex", path, true));
            case "Metaspace":
                return new MetaspacePreTokenizer(ReadReplacement(f, e, path), ReadPrependScheme(f, e, path), f.Bool(e, "split", path, true));
            case "Whitespace": return SimplePreTokenizers.Whitespace();
            case "WhitespaceSplit": return SimplePreTokenizers.WhitespaceSplit();
            case "Digits": return SimplePreTokenizers.Digits(f.Bool(e, "individual_digits", path, false));
            case "Punctuation": return SimplePreTokenizers.Punctuation(f.Optional(e, "behavior") is null ? SplitBehavior.Isolated : ReadBehavior(f, e, path));
            case "BertPreTokenizer": return SimplePreTokenizers.Bert();
            case "CharDelimiterSplit":
                var d = f.String(e, "delimiter", path);
                if (d.Length != 1) throw f.Error(JsonFields.Child(path, "delimiter"), "expected a single character");
                return SimplePreTokenizers.CharDelimiter(d[0]);
            default: throw Unsupported(f, path, "pre-tokenizer", type, PreTokenizerTypes);
        }
    }

    static SplitBehavior ReadBehavior(JsonFields f, JsonElement e, string path)
    {
        var b = f.String(e, "behavior", path);
        return b switch
        {
            "Removed" => SplitBehavior.Removed,
            "Isolated" => SplitBehavior.Isolated,
            "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
            "MergedWithNext" => SplitBehavior.MergedWithNext,
            "Contiguous" => SplitBehavior.Contiguous,
            _ => throw f.Error(JsonFields.Child(path, "behavior"), $"expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous, found '{b}'"),
        };
    }

    static char ReadReplacement(JsonFields f, JsonElement e, string path)
    {
        var r = f.OptionalString(e, "replacement", path) ?? "▁";
        if (r.Length != 1) throw f.Error(JsonFields.Child(path, "replacement"), "expected a single character");
        return r[0];
    }

    static PrependScheme ReadPrependScheme(JsonFields f, JsonElement e, string path)
    {
        var s = f.OptionalString(e, "prepend_scheme", path);
        if (s is null) return f.Bool(e, "add_prefix_space", path, true) ? PrependScheme.Always : PrependScheme.Never; // older files
        return s switch
        {
            "always" => PrependScheme.Always,
            "first" => PrependScheme.First,
            "never" => PrependScheme.Never,
            _ => throw f.Error(JsonFields.Child(path, "prepend_scheme"), $"expected always, first or never, found '{s}'"),
        };
    }

    // ---- post-processors ----

    const string PostProcessorTypes = "TemplateProcessing, ByteLevel, RobertaProcessing, BertProcessing, Sequence";

    static PostProcessor ReadPostProcessor(JsonFields f, JsonElement e, string path, BpeModel model, List<AddedToken> added)
    {
        var type = TypeOf(f, e, path);
        switch (type)
        {
            case "Sequence":
                return new SequencePostProcessor(ReadList(f, e, "processors", path, (ff, x, p) => ReadPostProcessor(ff, x, p, model, added)));
            case "ByteLevel":
                return new ByteLevelPostProcessor(f.Bool(e, "trim_offsets", path, true), f.Bool(e, "add_prefix_space", path, true));
            case "TemplateProcessing":
            {
                var specials = new Dictionary<string, int[]>();
                if (f.Optional(e, "special_tokens") is { } st)
                {
                    var sp = JsonFields.Child(path, "special_tokens");
                    f.Object(st, sp);
                    foreach (var p in st.EnumerateObject())
                    {
                        var ids = f.Array(p.Value, "ids", JsonFields.Child(sp, p.Name));
                        var list = new List<int>();
                        int i = 0;
                        foreach (var id in ids.EnumerateArray()) list.Add(f.Int(id, JsonFields.Index(JsonFields.Child(JsonFields.Child(sp, p.Name), "ids"), i++)));
                        specials[p.Name] = list.ToArray();
                    }
                }
                var single = ReadTemplate(f, e, "single", path, specials);
                var pair = f.Optional(e, "pair") is null ? single : ReadTemplate(f, e, "pair", path, specials);
                return new TemplatePostProcessor(single, pair, specials);
            }
            case "RobertaProcessing":
            case "BertProcessing":
            {
                int cls = ReadTokenPair(f, e, "cls", path), sep = ReadTokenPair(f, e, "sep", path);
                bool roberta = type == "RobertaProcessing";
                var trim = roberta && f.Bool(e, "trim_offsets", path, true) ? new ByteLevelPostProcessor(true, f.Bool(e, "add_prefix_space", path, true)) : null;
                return new ClsSepPostProcessor(cls, sep, roberta, trim);
            }
            default: throw Unsupported(f, path, "post-processor", type, PostProcessorTypes);
        }
    }

    static int ReadTokenPair(JsonFields f, JsonElement e, string name, string path)
    {
        var v = f.Array(e, name, path);
        if (v.GetArrayLength() != 2 || v[0].ValueKind != JsonValueKind.String) throw f.Error(JsonFields.Child(path, name), "expected [token, id]");
        return f.Int(v[1], JsonFields.Index(JsonFields.Child(path, name), 1));
    }

    static List<TemplatePiece> ReadTemplate(JsonFields f, JsonElement e, string name, string path, Dictionary<string, int[]> specials)
    {
        var arr = f.Array(e, name, path);
        var list = new List<TemplatePiece>();
        int i = 0;
        foreach (var item in arr.EnumerateArray())
        {
            var ip = JsonFields.Index(JsonFields.Child(path, name), i++);
            if (f.Optional(item, "SpecialToken") is { } st)
            {
                var p = JsonFields.Child(ip, "SpecialToken");
                var id = f.String(st, "id", p);
                if (!specials.ContainsKey(id)) throw f.Error(JsonFields.Child(p, "id"), $"special token '{id}' is not listed in {JsonFields.Child(path, "special_tokens")}");
                list.Add(new TemplatePiece(false, id, f.Int(st, "type_id", p, 0)));
            }
            else if (f.Optional(item, "Sequence") is { } sq)
            {
                var p = JsonFields.Child(ip, "Sequence");
                var id = f.String(sq, "id", p);
                if (id is not ("A" or "B")) throw f.Error(JsonFields.Child(p, "id"), $"expected A or B, found '{id}'");
                list.Add(new TemplatePiece(true, id, f.Int(sq, "type_id", p, 0)));
            }
            else throw f.Error(ip, "expected {\"SpecialToken\": ...} or {\"Sequence\": ...}, found " + JsonFields.Describe(item));
        }
        return list;
    }

    // ---- decoders ----

    const string DecoderTypes = "Sequence, ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, BPEDecoder";

    static Decoder ReadDecoder(JsonFields f, JsonElement e, string path)
    {
        var type = TypeOf(f, e, path);
        switch (type)
        {
            case "Sequence": return new SequenceDecoder(ReadList(f, e, "decoders", path, ReadDecoder));
            case "ByteLevel": return new ByteLevelDecoder();
            case "Replace": return new ReplaceDecoder(ReadPattern(f, e, path), f.String(e, "content", path));
            case "ByteFallback": return new ByteFallbackDecoder();
            case "Fuse": return new FuseDecoder();
            case "Strip":
                var content = f.String(e, "content", path);
                if (content.Length != 1) throw f.Error(JsonFields.Child(path, "content"), "expected a single character");
                return new StripDecoder(content[0], f.Int(e, "start", path, 0), f.Int(e, "stop", path, 0));
            case "Metaspace": return new MetaspaceDecoder(ReadReplacement(f, e, path), ReadPrependScheme(f, e, path));
            case "BPEDecoder": return new BpeSuffixDecoder(f.OptionalString(e, "suffix", path) ?? "</w>");
            default: throw Unsupported(f, path, "decoder", type, DecoderTypes);
        }
    }
}
