using System.Text.Json;

namespace Tunebook.Text.Tokenizers;

/// <summary>
/// What tokenizer_config.json says about a tokenizer beyond tokenizer.json: which tokens are BOS/EOS/PAD,
/// whether Llama-2-style tokenizers add BOS/EOS themselves, the context length, and the chat template(s).
/// </summary>
public sealed class TokenizerConfig
{
    /// <summary>An empty configuration (used when a folder has no tokenizer_config.json).</summary>
    public static TokenizerConfig Empty { get; } = new();

    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? PadToken { get; init; }
    public string? UnkToken { get; init; }

    /// <summary>add_bos_token, when the file sets it (Llama 2, TinyLlama, Mistral: true).</summary>
    public bool? AddBosToken { get; init; }

    /// <summary>add_eos_token, when the file sets it.</summary>
    public bool? AddEosToken { get; init; }

    /// <summary>model_max_length, or null when absent or a "no limit" sentinel such as 1e30.</summary>
    public long? ModelMaxLength { get; init; }

    /// <summary>The default chat template's Jinja source (the one named "default" when several are given), or null.</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Every chat template by name: "default" for a plain string, else the names in the file (e.g. "tool_use").</summary>
    public IReadOnlyDictionary<string, string> ChatTemplates
    {
        // A config built in code may set only ChatTemplate; it is then the "default" entry.
        get => _chatTemplates.Count == 0 && ChatTemplate is { } t ? new Dictionary<string, string> { ["default"] = t } : _chatTemplates;
        init => _chatTemplates = value;
    }

    readonly IReadOnlyDictionary<string, string> _chatTemplates = new Dictionary<string, string>();

    /// <summary>clean_up_tokenization_spaces, when the file sets it. Decode applies it only when asked.</summary>
    public bool? CleanUpTokenizationSpaces { get; init; }

    public IReadOnlyList<string> AdditionalSpecialTokens { get; init; } = [];

    /// <summary>Added tokens declared in added_tokens_decoder (merged into the tokenizer when tokenizer.json lacks them).</summary>
    public IReadOnlyList<AddedToken> AddedTokensDecoder { get; init; } = [];

    public string? TokenizerClass { get; init; }

    /// <summary>The file's JSON text, written back by <see cref="Tokenizer.Save"/>.</summary>
    public string? RawJson { get; init; }

    /// <summary>Reads tokenizer_config.json. Errors name the file and field.</summary>
    public static TokenizerConfig FromFile(string path)
    {
        string json;
        try { json = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new TokenizerFormatException(path, "", "cannot read file: " + e.Message, e); }
        return Parse(json, path);
    }

    /// <summary>Parses tokenizer_config.json text; <paramref name="file"/> is only used in error messages.</summary>
    public static TokenizerConfig Parse(string json, string? file = null)
    {
        var f = new JsonFields(file);
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true }); }
        catch (JsonException e) { throw f.Error($"line {e.LineNumber + 1}", "invalid JSON: " + e.Message, e); }
        using (doc)
        {
            var root = f.Object(doc.RootElement, "");
            var templates = new Dictionary<string, string>();
            string? chat = null;
            if (f.Optional(root, "chat_template") is { } ct)
            {
                if (ct.ValueKind == JsonValueKind.String) templates["default"] = ct.GetString()!;
                else if (ct.ValueKind == JsonValueKind.Array)
                {
                    int i = 0;
                    foreach (var item in ct.EnumerateArray())
                    {
                        var path = JsonFields.Index("chat_template", i++);
                        templates[f.String(item, "name", path)] = f.String(item, "template", path);
                    }
                }
                else throw f.Error("chat_template", "expected a string or a list of {name, template}, found " + JsonFields.Describe(ct));
                chat = templates.GetValueOrDefault("default") ?? templates.Values.FirstOrDefault();
            }
            var additional = new List<string>();
            if (f.Optional(root, "additional_special_tokens") is { ValueKind: JsonValueKind.Array } extra)
            {
                int i = 0;
                foreach (var item in extra.EnumerateArray())
                    if (TokenContent(f, item, JsonFields.Index("additional_special_tokens", i++)) is { } s) additional.Add(s);
            }
            var decoderTokens = new List<AddedToken>();
            if (f.Optional(root, "added_tokens_decoder") is { } atd)
            {
                f.Object(atd, "added_tokens_decoder");
                foreach (var p in atd.EnumerateObject())
                {
                    var path = JsonFields.Child("added_tokens_decoder", p.Name);
                    if (!int.TryParse(p.Value.ValueKind == JsonValueKind.Object ? p.Name : "x", out var id))
                        throw f.Error(path, "expected an integer id mapping to {content, special, ...}");
                    decoderTokens.Add(TokenizerJson.ReadAddedToken(f, p.Value, path, id));
                }
            }
            return new TokenizerConfig
            {
                BosToken = TokenField(f, root, "bos_token"),
                EosToken = TokenField(f, root, "eos_token"),
                PadToken = TokenField(f, root, "pad_token"),
                UnkToken = TokenField(f, root, "unk_token"),
                AddBosToken = f.Optional(root, "add_bos_token") is null ? null : f.Bool(root, "add_bos_token", "", false),
                AddEosToken = f.Optional(root, "add_eos_token") is null ? null : f.Bool(root, "add_eos_token", "", false),
                ModelMaxLength = MaxLength(f, root),
                ChatTemplate = chat,
                ChatTemplates = templates,
                CleanUpTokenizationSpaces = f.Optional(root, "clean_up_tokenization_spaces") is null ? null : f.Bool(root, "clean_up_tokenization_spaces", "", false),
                AdditionalSpecialTokens = additional,
                AddedTokensDecoder = decoderTokens,
                TokenizerClass = f.OptionalString(root, "tokenizer_class", ""),
                RawJson = json,
            };
        }
    }

    static string? TokenField(JsonFields f, JsonElement root, string name) =>
        f.Optional(root, name) is { } v ? TokenContent(f, v, name) : null;

    /// <summary>A special token given either as a string or as an AddedToken object ({"content": ...}).</summary>
    static string? TokenContent(JsonFields f, JsonElement v, string path) => v.ValueKind switch
    {
        JsonValueKind.String => v.GetString(),
        JsonValueKind.Object => f.String(v, "content", path),
        JsonValueKind.Null => null,
        _ => throw f.Error(path, "expected a token string or {\"content\": ...}, found " + JsonFields.Describe(v)),
    };

    static long? MaxLength(JsonFields f, JsonElement root)
    {
        if (f.Optional(root, "model_max_length") is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number) throw f.Error("model_max_length", "expected a number, found " + JsonFields.Describe(v));
        double d = v.GetDouble();
        return d >= 1e15 || d <= 0 ? null : (long)d; // transformers writes 1e30 for "no limit"
    }
}
