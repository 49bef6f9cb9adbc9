using System.Text;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// A Hugging Face tokenizer loaded from tokenizer.json: text → token ids (<see cref="Encode(string, bool)"/>)
/// and back (<see cref="Decode"/>), producing the same ids as the <c>tokenizers</c> library.
/// </summary>
/// <remarks>
/// Encoding runs the tokenizer.json pipeline: added tokens are found first (so "&lt;|im_start|&gt;" is
/// never split), the rest is normalized, pre-tokenized into words, each word is split by the BPE model,
/// and the post-processor adds BOS/EOS. Instances are immutable apart from an internal word cache and
/// are safe to use from several threads.
/// </remarks>
public sealed class Tokenizer
{
    readonly Normalizer? _normalizer;
    readonly PreTokenizer? _preTokenizer;
    readonly BpeModel _model;
    readonly PostProcessor? _postProcessor;
    readonly Decoder? _decoder;
    readonly string[] _idToToken;
    readonly Dictionary<string, int> _addedByContent = new();
    readonly HashSet<int> _specialIds = new();
    readonly AddedTokenMatcher _rawMatcher, _normalizedMatcher;
    readonly List<AddedToken> _addedTokens;
    readonly bool _plainSplit;                        // pre-tokenizer only cuts at regex matches (or not at all)
    readonly CodePointRegex? _plainSplitRegex;

    Tokenizer(TokenizerParts parts, string json, TokenizerConfig config)
    {
        _normalizer = parts.Normalizer;
        _preTokenizer = parts.PreTokenizer;
        _model = parts.Model;
        _decoder = parts.Decoder;
        Json = json;
        Config = config;

        _addedTokens = parts.AddedTokens.ToList();
        var known = _addedTokens.Select(t => t.Id).ToHashSet();
        foreach (var t in config.AddedTokensDecoder)
            if (known.Add(t.Id) && !_model.Vocab.ContainsKey(t.Content)) _addedTokens.Add(t);

        int size = Math.Max(_model.Vocab.Count == 0 ? 0 : _model.Vocab.Values.Max() + 1, _addedTokens.Count == 0 ? 0 : _addedTokens.Max(t => t.Id) + 1);
        _idToToken = new string[size];
        foreach (var (token, id) in _model.Vocab) if (id >= 0) _idToToken[id] = token;
        foreach (var t in _addedTokens)
        {
            if (t.Id < 0) continue;
            _idToToken[t.Id] = t.Content;
            _addedByContent[t.Content] = t.Id;
            if (t.Special) _specialIds.Add(t.Id);
        }
        _rawMatcher = new AddedTokenMatcher(_addedTokens.Where(t => !t.Normalized || _normalizer is null), t => t.Content);
        _normalizedMatcher = _normalizer is null
            ? new AddedTokenMatcher([], t => t.Content)
            : new AddedTokenMatcher(_addedTokens.Where(t => t.Normalized), t => _normalizer.Apply(t.Content));
        _postProcessor = LlamaStylePostProcessor(config) ?? parts.PostProcessor;
        if (_preTokenizer is null) _plainSplit = true;
        else _plainSplit = _preTokenizer.TryGetPlainSplit(out _plainSplitRegex, out _);
    }

    /// <summary>The tokenizer.json text this tokenizer was built from (written by <see cref="Save"/>).</summary>
    public string Json { get; }

    /// <summary>tokenizer_config.json settings (empty when loaded from a lone tokenizer.json).</summary>
    public TokenizerConfig Config { get; }

    /// <summary>Number of ids: one more than the largest id in the vocabulary or among added tokens.</summary>
    public int VocabSize => _idToToken.Length;

    /// <summary>Tokens added on top of the model vocabulary (special and not).</summary>
    public IReadOnlyList<AddedToken> AddedTokens => _addedTokens;

    /// <summary>True for a byte-level tokenizer (GPT-2, Llama 3, Qwen), where decode(encode(x)) == x for any text.</summary>
    public bool IsByteLevel => _model.ByteLevel;

    public int? BosTokenId => Config.BosToken is { } t ? TokenToId(t) : null;
    public int? EosTokenId => Config.EosToken is { } t ? TokenToId(t) : null;
    public int? PadTokenId => Config.PadToken is { } t ? TokenToId(t) : null;
    public int? UnkTokenId => (Config.UnkToken ?? _model.UnkToken) is { } t ? TokenToId(t) : null;

    /// <summary>Id of a token string (vocabulary or added token), or null.</summary>
    public int? TokenToId(string token) =>
        _addedByContent.TryGetValue(token, out var id) ? id : _model.TokenToId(token);

    /// <summary>Token string of an id, or null when the id is out of range or unused.</summary>
    public string? IdToToken(int id) => id >= 0 && id < _idToToken.Length ? _idToToken[id] : null;

    /// <summary>True when the id is a special added token (BOS, EOS, chat markers...).</summary>
    public bool IsSpecial(int id) => _specialIds.Contains(id);

    // ---- loading ----

    /// <summary>Loads a tokenizer.json file, or a model folder when <paramref name="path"/> is a directory.</summary>
    public static Tokenizer FromFile(string path)
    {
        if (Directory.Exists(path)) return FromFolder(path);
        return FromJson(ReadText(path), TokenizerConfig.Empty, path);
    }

    /// <summary>
    /// Loads a model folder: tokenizer.json (or GPT-2's vocab.json/encoder.json + merges.txt/vocab.bpe) and,
    /// when present, tokenizer_config.json (special tokens, add_bos_token, chat templates) and chat_template.jinja.
    /// </summary>
    public static Tokenizer FromFolder(string folder)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"tokenizer folder not found: {folder}");
        var configPath = Path.Combine(folder, "tokenizer_config.json");
        var config = File.Exists(configPath) ? TokenizerConfig.FromFile(configPath) : null;
        config = WithChatTemplateFile(config, folder);
        var jsonPath = Path.Combine(folder, "tokenizer.json");
        if (File.Exists(jsonPath)) return FromJson(ReadText(jsonPath), config ?? TokenizerConfig.Empty, jsonPath);
        var (json, defaults) = Gpt2Files.ToTokenizerJson(folder);
        return FromJson(json, config ?? defaults, folder);
    }

    /// <summary>Builds a tokenizer from tokenizer.json text. <paramref name="source"/> names it in error messages.</summary>
    public static Tokenizer FromJson(string json, TokenizerConfig? config = null, string? source = null) =>
        new(TokenizerJson.Parse(json, source), json, config ?? TokenizerConfig.Empty);

    static string ReadText(string path)
    {
        try { return File.ReadAllText(path); }
        catch (FileNotFoundException) { throw new TokenizerFormatException(path, "", "file not found"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new TokenizerFormatException(path, "", "cannot read file: " + e.Message, e); }
    }

    static TokenizerConfig? WithChatTemplateFile(TokenizerConfig? config, string folder)
    {
        var path = Path.Combine(folder, "chat_template.jinja");
        if (!File.Exists(path)) return config;
        var template = File.ReadAllText(path);
        var templates = new Dictionary<string, string>(config?.ChatTemplates ?? new Dictionary<string, string>()) { ["default"] = template };
        var c = config ?? new TokenizerConfig();
        return new TokenizerConfig
        {
            BosToken = c.BosToken, EosToken = c.EosToken, PadToken = c.PadToken, UnkToken = c.UnkToken,
            AddBosToken = c.AddBosToken, AddEosToken = c.AddEosToken, ModelMaxLength = c.ModelMaxLength,
            CleanUpTokenizationSpaces = c.CleanUpTokenizationSpaces, AdditionalSpecialTokens = c.AdditionalSpecialTokens,
            AddedTokensDecoder = c.AddedTokensDecoder, TokenizerClass = c.TokenizerClass, RawJson = c.RawJson,
            ChatTemplate = template, ChatTemplates = templates,
        };
    }

    /// <summary>
    /// transformers' Llama tokenizers rebuild their post-processor from add_bos_token/add_eos_token, overriding
    /// tokenizer.json; do the same for those tokenizer classes so ids match transformers.
    /// </summary>
    PostProcessor? LlamaStylePostProcessor(TokenizerConfig config)
    {
        var cls = config.TokenizerClass ?? "";
        if (!(cls.StartsWith("Llama") || cls.StartsWith("CodeLlama") || cls.StartsWith("Gemma"))) return null;
        if (config.AddBosToken is null && config.AddEosToken is null) return null;
        bool bos = config.AddBosToken ?? true, eos = config.AddEosToken ?? false;
        var specials = new Dictionary<string, int[]>();
        var single = new List<TemplatePiece>();
        var pair = new List<TemplatePiece>();
        void Special(string? token, bool on, int type, List<TemplatePiece> into)
        {
            if (!on || token is null || TokenToId(token) is not { } id) return;
            specials[token] = [id];
            into.Add(new TemplatePiece(false, token, type));
        }
        Special(config.BosToken, bos, 0, single); single.Add(new TemplatePiece(true, "A", 0)); Special(config.EosToken, eos, 0, single);
        Special(config.BosToken, bos, 0, pair); pair.Add(new TemplatePiece(true, "A", 0)); Special(config.EosToken, eos, 0, pair);
        Special(config.BosToken, bos, 1, pair); pair.Add(new TemplatePiece(true, "B", 1)); Special(config.EosToken, eos, 1, pair);
        return new TemplatePostProcessor(single, pair, specials);
    }

    // ---- encoding ----

    /// <summary>Encodes one text. With <paramref name="addSpecialTokens"/> the post-processor adds BOS/EOS as the tokenizer specifies.</summary>
    public Encoding Encode(string text, bool addSpecialTokens = true) => Encode(text, null, addSpecialTokens);

    /// <summary>Encodes a text or a pair of texts.</summary>
    /// <param name="text">The text.</param>
    /// <param name="pair">Optional second text (e.g. for sequence-pair models); null for none.</param>
    /// <param name="addSpecialTokens">Let the post-processor add BOS/EOS/CLS/SEP.</param>
    /// <param name="parseSpecialTokens">
    /// When true (the default, like Hugging Face) special tokens written in the text, such as "&lt;|im_end|&gt;",
    /// become their ids. When false they are tokenized as ordinary text, which is what untrusted input needs.
    /// Non-special added tokens are always matched.
    /// </param>
    public Encoding Encode(string text, string? pair, bool addSpecialTokens = true, bool parseSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var first = EncodeSequence(text, parseSpecialTokens);
        var second = pair is null ? null : EncodeSequence(pair, parseSpecialTokens);
        List<TokenSequence> sequences = second is null ? [first] : [first, second];
        if (_postProcessor is not null) sequences = _postProcessor.Process(sequences, addSpecialTokens, id => _idToToken[id] ?? "");
        var seq = PostProcessor.Merge(sequences);
        var tokens = new string[seq.Ids.Count];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = _idToToken[seq.Ids[i]] ?? "";
        return new Encoding(seq.Ids.ToArray(), tokens, seq.Offsets.ToArray(), seq.Special.ToArray(), seq.TypeIds.ToArray());
    }

    /// <summary>Encodes many texts in parallel; results are in input order.</summary>
    public Encoding[] EncodeBatch(IReadOnlyList<string> texts, bool addSpecialTokens = true, bool parseSpecialTokens = true)
    {
        var result = new Encoding[texts.Count];
        Parallel.For(0, texts.Count, i => result[i] = Encode(texts[i], null, addSpecialTokens, parseSpecialTokens));
        return result;
    }

    /// <summary>Just the ids of <paramref name="text"/> (no masks or offsets kept).</summary>
    public int[] EncodeToIds(string text, bool addSpecialTokens = true) => Encode(text, addSpecialTokens).Ids;

    TokenSequence EncodeSequence(string text, bool parseSpecial)
    {
        var seq = new TokenSequence();
        var pieces = new List<NormalizedText>();
        var scratch = new List<NormalizedText>();
        int last = 0;
        foreach (var m in _rawMatcher.Find(text, skipSpecial: !parseSpecial))
        {
            if (m.Start > last) EncodeText(text, last, m.Start, parseSpecial, seq, pieces, scratch);
            seq.Add(m.Token.Id, (m.Start, m.End), m.Token.Special);
            last = m.End;
        }
        if (last < text.Length) EncodeText(text, last, text.Length, parseSpecial, seq, pieces, scratch);
        return seq;
    }

    void EncodeText(string text, int start, int end, bool parseSpecial, TokenSequence seq, List<NormalizedText> pieces, List<NormalizedText> scratch)
    {
        var normalized = new NormalizedText(start == 0 && end == text.Length ? text : text[start..end], start);
        if (_normalizer is not null) normalized = _normalizer.Apply(normalized);
        if (_normalizedMatcher.IsEmpty)
        {
            EncodeWords(normalized, seq, pieces, scratch);
            return;
        }
        int last = 0;
        foreach (var m in _normalizedMatcher.Find(normalized.Text, skipSpecial: !parseSpecial))
        {
            if (m.Start > last) EncodeWords(normalized.Slice(last, m.Start), seq, pieces, scratch);
            seq.Add(m.Token.Id, normalized.Original(m.Start, m.End), m.Token.Special);
            last = m.End;
        }
        if (last < normalized.Length) EncodeWords(normalized.Slice(last, normalized.Length), seq, pieces, scratch);
    }

    void EncodeWords(NormalizedText text, TokenSequence seq, List<NormalizedText> pieces, List<NormalizedText> scratch)
    {
        if (_plainSplit && text.IsIdentity)
        {
            // Fast path (GPT-2, Llama 3, Qwen on text NFC leaves alone): words are spans of the input string.
            var s = text.Text;
            int last = 0;
            if (_plainSplitRegex is not null)
            {
                foreach (var (start, end) in _plainSplitRegex.EnumerateMatches(s))
                {
                    if (start > last) EncodeSpan(s, last, start, text.Offset, seq);
                    EncodeSpan(s, start, end, text.Offset, seq);
                    last = end;
                }
            }
            if (last < s.Length) EncodeSpan(s, last, s.Length, text.Offset, seq);
            return;
        }
        pieces.Clear();
        pieces.Add(text);
        _preTokenizer?.SplitAll(pieces, scratch);
        foreach (var piece in pieces)
        {
            if (piece.Length == 0) continue;
            var word = _model.Tokenize(piece.Text);
            for (int k = 0; k < word.Ids.Length; k++)
                seq.Add(word.Ids[k], piece.Original(word.Starts[k], word.Ends[k]), false);
        }
    }

    void EncodeSpan(string s, int start, int end, int offset, TokenSequence seq)
    {
        var word = _model.Tokenize(s.AsSpan(start, end - start));
        int origin = offset + start;
        for (int k = 0; k < word.Ids.Length; k++)
            seq.Add(word.Ids[k], (origin + word.Starts[k], origin + word.Ends[k]), false);
    }

    // ---- decoding ----

    /// <summary>
    /// Turns ids back into text through the tokenizer's decoder. Unknown ids are skipped.
    /// </summary>
    /// <param name="ids">Token ids.</param>
    /// <param name="skipSpecialTokens">Leave out special tokens (BOS, EOS, chat markers).</param>
    /// <param name="cleanUpTokenizationSpaces">
    /// Apply transformers' legacy clean-up (" ." → ".", " n't" → "n't", ...). Off by default because it breaks
    /// the round trip; pass <c>Config.CleanUpTokenizationSpaces ?? false</c> to mimic transformers exactly.
    /// </param>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = false, bool cleanUpTokenizationSpaces = false)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<string>();
        foreach (var id in ids)
        {
            if (IdToToken(id) is not { } t) continue;
            if (skipSpecialTokens && _specialIds.Contains(id)) continue;
            tokens.Add(t);
        }
        var text = _decoder is null ? string.Join(" ", tokens) : string.Concat(_decoder.DecodeChain(tokens));
        return cleanUpTokenizationSpaces ? CleanUp(text) : text;
    }

    static string CleanUp(string s) => s.Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",")
        .Replace(" ' ", "'").Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" 's", "'s").Replace(" 've", "'ve").Replace(" 're", "'re");

    // ---- saving ----

    /// <summary>
    /// Writes tokenizer.json and tokenizer_config.json into <paramref name="folder"/> (created if needed), each via a
    /// temporary file renamed into place. Hugging Face's libraries load the result.
    /// </summary>
    public void Save(string folder)
    {
        Directory.CreateDirectory(folder);
        Tunebook.IO.AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer.json"), Json);
        Tunebook.IO.AtomicFile.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), Config.RawJson ?? ConfigJson());
    }

    string ConfigJson()
    {
        using var ms = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(ms, new System.Text.Json.JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            void Str(string name, string? v) { if (v is null) w.WriteNull(name); else w.WriteString(name, v); }
            Str("bos_token", Config.BosToken);
            Str("eos_token", Config.EosToken);
            Str("pad_token", Config.PadToken);
            Str("unk_token", Config.UnkToken);
            if (Config.AddBosToken is { } ab) w.WriteBoolean("add_bos_token", ab);
            if (Config.AddEosToken is { } ae) w.WriteBoolean("add_eos_token", ae);
            if (Config.ModelMaxLength is { } ml) w.WriteNumber("model_max_length", ml);
            w.WriteBoolean("clean_up_tokenization_spaces", Config.CleanUpTokenizationSpaces ?? false);
            if (Config.ChatTemplate is { } ct) w.WriteString("chat_template", ct);
            w.WriteString("tokenizer_class", Config.TokenizerClass ?? "PreTrainedTokenizerFast");
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
