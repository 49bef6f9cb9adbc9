using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Models.Gguf;

/// <summary>
/// The tokenizer as GGUF metadata (tokenizer.ggml.*), in the two forms llama.cpp tokenizes:
/// "gpt2" (byte-level BPE: GPT-2, Llama 3, Qwen, SmolLM) with its merges and the name of a
/// pre-tokenizer llama.cpp implements, and "llama" (SentencePiece-style BPE with byte fallback:
/// Llama 2, Mistral v0.1) with scores that rank the merges.
/// </summary>
static partial class GgufVocabulary
{
    // llama.cpp's token attributes (llama_token_type / gguf TokenType).
    const int Normal = 1, Unknown = 2, Control = 3, UserDefined = 4, Unused = 5, Byte = 6;

    /// <summary>Pre-tokenizer regexes as tokenizer.json writes them → the name llama.cpp (llama-vocab.cpp) matches.</summary>
    static readonly Dictionary<string, string> KnownSplitRegexes = new(StringComparer.Ordinal)
    {
        [@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"] = "llama-bpe",
        [@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"] = "qwen2",
    };

    /// <summary>Tokens llama.cpp treats as the end of a turn (it also finds them by text itself).</summary>
    static readonly string[] EndOfTurnTokens = ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>"];

    /// <summary>
    /// Texts llama.cpp makes end-of-generation control tokens whatever the GGUF says (llama-vocab.cpp),
    /// so that they are matched whole in a prompt even where the tokenizer has them as ordinary tokens.
    /// </summary>
    static readonly string[] PromotedToControl = ["</s>", "<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end|>", "<end_of_turn>", "<|end_of_text|>", "<|eom_id|>", "<EOT>"];

    /// <summary>Writes tokenizer.ggml.* and tokenizer.chat_template; warnings go to <paramref name="warnings"/>.</summary>
    public static void Add(GgufWriter w, Tokenizer tokenizer, ModelConfig config, List<string> warnings)
    {
        var json = JsonNode.Parse(tokenizer.Json) as JsonObject ?? throw new InvalidDataException("tokenizer.json: not a JSON object");
        var model = json["model"] as JsonObject ?? throw new InvalidDataException("tokenizer.json: no \"model\"");
        var modelType = (string?)model["type"] ?? "BPE";
        if (modelType != "BPE")
            throw new NotSupportedException($"GGUF export: tokenizer model '{modelType}' is not supported; llama.cpp's tokenizers are byte-level BPE (GPT-2, Llama 3, Qwen) and SentencePiece-style BPE (Llama 2)");
        if (tokenizer.VocabSize > config.VocabSize)
        {
            // Gemma 3's tokenizer ends with <image_soft_token>, an id of the image-and-text model that the text
            // model has no row for; convert_hf_to_gguf.py leaves such tokens out too. Anything else is an error.
            var beyond = Enumerable.Range((int)config.VocabSize, tokenizer.VocabSize - (int)config.VocabSize).ToList();
            var addedIds = tokenizer.AddedTokens.Select(t => t.Id).ToHashSet();
            if (!beyond.All(addedIds.Contains))
                throw new InvalidDataException($"GGUF export: the tokenizer has {tokenizer.VocabSize} ids but the model's vocab_size is {config.VocabSize}");
            warnings.Add($"the tokenizer's added token(s) {string.Join(", ", beyond.Select(i => $"'{tokenizer.IdToToken(i)}' ({i})"))} lie beyond the model's " +
                         $"vocab_size {config.VocabSize} and are left out of the GGUF: llama.cpp splits such text into ordinary tokens");
        }

        // llama.cpp sizes its vocabulary from the token list, which must match the embedding rows:
        // ids the tokenizer does not use (vocabularies padded to a multiple of 64) become unused placeholders.
        int size = (int)config.VocabSize;
        var tokens = new string[size];
        var types = new int[size];
        var added = tokenizer.AddedTokens.Where(t => t.Id >= 0).ToDictionary(t => t.Id);
        var unk = tokenizer.UnkTokenId;
        bool sentencePiece = !tokenizer.IsByteLevel;
        for (int id = 0; id < size; id++)
        {
            var text = tokenizer.IdToToken(id);
            if (text is null) { tokens[id] = $"[PAD{id}]"; types[id] = Unused; continue; }
            tokens[id] = text;
            if (id == unk) types[id] = Unknown;
            else if (added.TryGetValue(id, out var a)) types[id] = a.Special ? Control : UserDefined;
            else if (sentencePiece && ByteToken().IsMatch(text)) types[id] = Byte;
            else types[id] = Normal;
        }

        var promoted = PromotedToControl.Where(t => tokenizer.TokenToId(t) is { } id && types[id] == Normal).ToList();
        if (promoted.Count > 0)
            warnings.Add($"llama.cpp treats {string.Join(", ", promoted.Select(t => $"'{t}'"))} as control tokens although this tokenizer has them as ordinary text: " +
                         "a prompt that contains them literally becomes one token each in llama.cpp, several in Tunebook");

        var merges = ReadMerges(model);
        if (sentencePiece)
        {
            if (model["byte_fallback"]?.GetValue<bool>() != true)
                warnings.Add("the tokenizer is neither byte-level nor byte-fallback BPE: llama.cpp's SentencePiece tokenizer will map unknown characters to <unk> differently");
            w.Add("tokenizer.ggml.model", "llama");
            w.Add("tokenizer.ggml.pre", "default");
            w.Add("tokenizer.ggml.tokens", tokens);
            w.Add("tokenizer.ggml.scores", SentencePieceScores(tokens, merges));
            w.Add("tokenizer.ggml.token_type", types);
            w.Add("tokenizer.ggml.add_space_prefix", AddsSpacePrefix(json));
        }
        else
        {
            w.Add("tokenizer.ggml.model", "gpt2");
            w.Add("tokenizer.ggml.pre", PreTokenizerName(json, warnings));
            w.Add("tokenizer.ggml.tokens", tokens);
            w.Add("tokenizer.ggml.token_type", types);
            w.Add("tokenizer.ggml.merges", merges.Select(m => m.Left + " " + m.Right).ToList());
        }

        void Id(string key, int? id)
        {
            if (id is { } v && v >= 0 && v < size) w.Add(key, (uint)v);
        }
        Id("tokenizer.ggml.bos_token_id", tokenizer.BosTokenId ?? config.BosTokenId);
        Id("tokenizer.ggml.eos_token_id", tokenizer.EosTokenId ?? (config.EosTokenIds.Count > 0 ? config.EosTokenIds[0] : null));
        Id("tokenizer.ggml.eot_token_id", EndOfTurnTokens.Select(tokenizer.TokenToId).FirstOrDefault(i => i is not null));
        Id("tokenizer.ggml.unknown_token_id", unk);
        Id("tokenizer.ggml.padding_token_id", tokenizer.PadTokenId ?? config.PadTokenId);
        // What Encode adds around a text, measured rather than read from the config: tokenizer.json's
        // post-processor and tokenizer_config.json's add_bos_token can disagree, and Encode decides.
        var (addBos, addEos) = SpecialTokensAdded(tokenizer);
        w.Add("tokenizer.ggml.add_bos_token", addBos);
        w.Add("tokenizer.ggml.add_eos_token", addEos);
        if (tokenizer.Config.ChatTemplate is { Length: > 0 } template) w.Add("tokenizer.chat_template", template);
    }

    static (bool Bos, bool Eos) SpecialTokensAdded(Tokenizer tokenizer)
    {
        var plain = tokenizer.EncodeToIds("a", addSpecialTokens: false);
        var with = tokenizer.EncodeToIds("a", addSpecialTokens: true);
        bool bos = tokenizer.BosTokenId is { } b && with.Length > plain.Length && with[0] == b;
        bool eos = tokenizer.EosTokenId is { } e && with.Length > plain.Length && with[^1] == e;
        return (bos, eos);
    }

    public readonly record struct Merge(string Left, string Right);

    static List<Merge> ReadMerges(JsonObject model)
    {
        var list = new List<Merge>();
        if (model["merges"] is not JsonArray merges) return list;
        foreach (var m in merges)
        {
            // Two spellings: "a b" (older files) and ["a", "b"] (tokenizers ≥ 0.20, which allows spaces inside).
            if (m is JsonArray pair) list.Add(new Merge((string)pair[0]!, (string)pair[1]!));
            else
            {
                var s = (string)m!;
                int space = s.IndexOf(' ', 1);
                if (space < 0) throw new InvalidDataException($"tokenizer.json: merge '{s}' has no space between its two parts");
                list.Add(new Merge(s[..space], s[(space + 1)..]));
            }
        }
        return list;
    }

    /// <summary>
    /// llama.cpp's SentencePiece tokenizer merges the adjacent pair whose result scores highest, where
    /// Hugging Face's BPE applies the merge of lowest rank: scoring each token by minus the rank of the
    /// first merge that makes it orders the two the same way. Tokens no merge makes (bytes, single
    /// characters, special tokens) are never the result of a merge, so their score does not matter.
    /// </summary>
    static float[] SentencePieceScores(string[] tokens, List<Merge> merges)
    {
        var rankOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int r = 0; r < merges.Count; r++) rankOf.TryAdd(merges[r].Left + merges[r].Right, r);
        var scores = new float[tokens.Length];
        for (int i = 0; i < tokens.Length; i++) scores[i] = rankOf.TryGetValue(tokens[i], out var r) ? -r : 0f;
        return scores;
    }

    static bool AddsSpacePrefix(JsonObject json)
    {
        bool found = false;
        void Visit(JsonNode? node)
        {
            if (node is not JsonObject o) return;
            switch ((string?)o["type"])
            {
                case "Sequence":
                    foreach (var child in (o["normalizers"] ?? o["pretokenizers"]) as JsonArray ?? []) Visit(child);
                    break;
                case "Prepend" when (string?)o["prepend"] == "\u2581":
                    found = true;
                    break;
                case "Metaspace":
                    var scheme = (string?)o["prepend_scheme"];
                    found |= scheme is null ? o["add_prefix_space"]?.GetValue<bool>() ?? true : scheme != "never";
                    break;
            }
        }
        Visit(json["normalizer"]);
        Visit(json["pre_tokenizer"]);
        return found;
    }

    /// <summary>
    /// llama.cpp splits text with hand-written versions of a fixed set of pre-tokenizers, chosen by
    /// name; the name is found here by comparing tokenizer.json's pre-tokenizer with those llama.cpp implements.
    /// </summary>
    static string PreTokenizerName(JsonObject json, List<string> warnings)
    {
        var steps = new List<string>();
        void Visit(JsonNode? node)
        {
            if (node is not JsonObject o) return;
            switch ((string?)o["type"])
            {
                case "Sequence": foreach (var child in o["pretokenizers"] as JsonArray ?? []) Visit(child); break;
                case "Split": steps.Add("split:" + ((string?)o["pattern"]?["Regex"] ?? "string:" + (string?)o["pattern"]?["String"])); break;
                case "ByteLevel": if (o["use_regex"]?.GetValue<bool>() ?? true) steps.Add("gpt2-regex"); break;
                case "Digits": steps.Add(o["individual_digits"]?.GetValue<bool>() == true ? "digits" : "digit-runs"); break;
                default: steps.Add((string?)o["type"] ?? "?"); break;
            }
        }
        Visit(json["pre_tokenizer"]);
        string? name = steps switch
        {
            [var s] when s.StartsWith("split:") && KnownSplitRegexes.TryGetValue(s[6..], out var known) => known,
            ["gpt2-regex"] => "gpt-2",
            ["digits", "gpt2-regex"] => "smollm",
            _ => null,
        };
        var normalizer = json["normalizer"] is JsonObject n ? (string?)n["type"] : null;
        if (normalizer is not null)
            warnings.Add($"tokenizer.json has a '{normalizer}' normalizer that llama.cpp's byte-level tokenizer does not apply: texts it changes" +
                         (normalizer == "NFC" ? " (decomposed accents such as e + U+0301)" : "") + " tokenize differently in llama.cpp");
        if (name is not null) return name;
        warnings.Add($"llama.cpp does not know this tokenizer's pre-tokenizer ({string.Join(" + ", steps.DefaultIfEmpty("none"))}); " +
                     "the GGUF names it 'default', so llama.cpp will split text with its own default rules (a GPT-2-style regex) and can produce other token ids than Tunebook for the same text");
        return "default";
    }

    [GeneratedRegex(@"^<0x[0-9A-Fa-f]{2}>$")]
    private static partial Regex ByteToken();
}
