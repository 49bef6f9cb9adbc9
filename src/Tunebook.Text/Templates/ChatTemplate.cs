using System.Text.Json;
using System.Text.Json.Nodes;

namespace Tunebook.Text.Templates;

/// <summary>
/// A model's chat template: the Jinja program in tokenizer_config.json that turns a list of messages into the exact
/// text the model was trained on. Rendering matches transformers.js (@huggingface/jinja) character for character.
/// </summary>
/// <example>
/// <code>
/// var template = ChatTemplate.FromTokenizerConfig("models/qwen3");
/// string prompt = template.Render([ChatMessage.User("Hi!")], addGenerationPrompt: true);
/// </code>
/// </example>
public sealed partial class ChatTemplate
{
    /// <summary>The special-token variables transformers passes to every template, when the tokenizer defines them.</summary>
    public static readonly IReadOnlyList<string> SpecialTokenNames =
        ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"];

    readonly ProgramNode _program;
    Dictionary<string, ChatTemplate> _named = new(StringComparer.Ordinal);

    ChatTemplate(string source, ProgramNode program, string? name)
    {
        Source = source;
        _program = program;
        Name = name;
    }

    /// <summary>The Jinja source.</summary>
    public string Source { get; }

    /// <summary>Where the template was read ("chat_template of models/x/tokenizer_config.json"); render errors name it. Null for parsed strings.</summary>
    public string? Origin { get; private init; }

    /// <summary>The template's name when it came from a named list (for example "default" or "tool_use").</summary>
    public string? Name { get; }

    /// <summary>bos_token, eos_token, ... as read from the tokenizer config; passed to every render.</summary>
    public IReadOnlyDictionary<string, string> SpecialTokens { get; private init; } = new Dictionary<string, string>();

    /// <summary>The beginning-of-sequence token text, if the tokenizer defines one.</summary>
    public string? BosToken => SpecialTokens.GetValueOrDefault("bos_token");

    /// <summary>The end-of-sequence token text, if the tokenizer defines one.</summary>
    public string? EosToken => SpecialTokens.GetValueOrDefault("eos_token");

    /// <summary>Every named template of the tokenizer config (chat_template given as a list of {name, template}),
    /// including this one. Empty when the config has a single template.</summary>
    public IReadOnlyDictionary<string, ChatTemplate> Named => _named;

    /// <summary>Where strftime_now() reads the date (local time). Replace it to make renders reproducible.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Parses Jinja template source. Syntax errors throw <see cref="TemplateException"/> with line and column.</summary>
    public static ChatTemplate Parse(string source, string? name = null) =>
        new(source, Compile(source), name);

    /// <summary>The same template with other special tokens (for example bos/eos of a built-in template).</summary>
    public ChatTemplate WithSpecialTokens(IReadOnlyDictionary<string, string> tokens) =>
        new(Source, _program, Name) { SpecialTokens = new Dictionary<string, string>(tokens), Clock = Clock, Origin = Origin, _named = _named };

    /// <summary>The same template reading dates from another clock.</summary>
    public ChatTemplate WithClock(TimeProvider clock) =>
        new(Source, _program, Name) { SpecialTokens = SpecialTokens, Clock = clock, Origin = Origin, _named = _named };

    /// <summary>One of the built-in templates (chatml, llama3, llama2, alpaca), for models that ship none.</summary>
    public static ChatTemplate BuiltIn(string name, string? bosToken = null, string? eosToken = null)
    {
        var template = Parse(BuiltInChatTemplates.Get(name), name);
        var tokens = new Dictionary<string, string>();
        var (bos, eos) = BuiltInChatTemplates.DefaultTokens(name);
        if ((bosToken ?? bos) is { } b) tokens["bos_token"] = b;
        if ((eosToken ?? eos) is { } e) tokens["eos_token"] = e;
        return template.WithSpecialTokens(tokens);
    }

    static ProgramNode Compile(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        try
        {
            return Parser.Parse(Lexer.Tokenize(source), source.Length);
        }
        catch (JinjaErrorAt e)
        {
            var (line, col) = Interpreter.LineColumn(source, e.Pos.Offset);
            throw new TemplateException(e.Message, line, col, inner: e);
        }
        catch (InsufficientExecutionStackException e)
        {
            throw new TemplateException("template nests too deeply", 0, 0, inner: e);
        }
    }

    /// <summary>
    /// Loads the chat template of a tokenizer: <paramref name="pathOrJson"/> is a model folder, a
    /// tokenizer_config.json file, or the JSON text itself. chat_template may be a string or a list of
    /// {name, template}; the one named "default" is returned and the others are in <see cref="Named"/>.
    /// In a folder, chat_template.jinja (or the older chat_template.json) and additional_chat_templates/NAME.jinja,
    /// which newer transformers write next to the config, are read too; chat_template.jinja takes precedence.
    /// When the config has no chat_template, <paramref name="fallbackBuiltIn"/> (chatml, llama3, llama2, alpaca)
    /// is used, or a <see cref="ChatTemplateConfigException"/> says so.
    /// </summary>
    public static ChatTemplate FromTokenizerConfig(string pathOrJson, string? fallbackBuiltIn = null)
    {
        ArgumentNullException.ThrowIfNull(pathOrJson);
        string where = "tokenizer config";
        string? folder = null;
        string json;
        string trimmed = pathOrJson.TrimStart();
        if (trimmed.StartsWith('{')) json = pathOrJson;
        else
        {
            string file = Directory.Exists(pathOrJson) ? Path.Combine(pathOrJson, "tokenizer_config.json") : pathOrJson;
            if (!File.Exists(file)) throw new FileNotFoundException($"no tokenizer_config.json at {pathOrJson}", file);
            where = file;
            folder = Path.GetDirectoryName(Path.GetFullPath(file));
            json = File.ReadAllText(file);
        }
        JsonObject config;
        try
        {
            config = JsonNode.Parse(json) as JsonObject ?? throw new ChatTemplateConfigException($"{where}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new ChatTemplateConfigException($"{where}: invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }

        var tokens = new Dictionary<string, string>();
        foreach (var key in SpecialTokenNames)
        {
            string? text = config[key] switch
            {
                JsonValue v when v.TryGetValue<string>(out var s) => s,
                JsonObject o when o["content"] is JsonValue c && c.TryGetValue<string>(out var s) => s,
                _ => null,
            };
            if (!string.IsNullOrEmpty(text)) tokens[key] = text;
        }

        var named = new Dictionary<string, ChatTemplate>(StringComparer.Ordinal);
        ChatTemplate? main;
        // Newer transformers save the template next to the config: chat_template.jinja (which wins, as in
        // transformers), the older chat_template.json, and named ones in additional_chat_templates/NAME.jinja.
        if (folder is not null) ReadTemplateFiles(folder, config);

        switch (config["chat_template"])
        {
            case JsonValue v when v.TryGetValue<string>(out var source):
                main = Located(() => Parse(source), where, "chat_template");
                break;
            case JsonArray list:
                foreach (var item in list)
                {
                    if (item is not JsonObject entry || entry["name"] is not JsonValue nameValue || !nameValue.TryGetValue<string>(out var name)
                        || entry["template"] is not JsonValue templateValue || !templateValue.TryGetValue<string>(out var source))
                        throw new ChatTemplateConfigException($"{where}: chat_template list entries must be {{\"name\": ..., \"template\": ...}}");
                    named[name] = Located(() => Parse(source, name), where, $"chat_template '{name}'");
                }
                main = named.GetValueOrDefault("default")
                    ?? throw new ChatTemplateConfigException($"{where}: chat_template has no template named \"default\" (it has: {string.Join(", ", named.Keys)})");
                break;
            case null:
                if (fallbackBuiltIn is null)
                    throw new ChatTemplateConfigException($"{where} has no chat_template; choose a built-in one ({string.Join(", ", BuiltInChatTemplates.Names)}): fallbackBuiltIn in C#, --builtin on the command line");
                main = Parse(BuiltInChatTemplates.Get(fallbackBuiltIn), fallbackBuiltIn);
                var (bos, eos) = BuiltInChatTemplates.DefaultTokens(fallbackBuiltIn);
                if (bos is not null) tokens.TryAdd("bos_token", bos);
                if (eos is not null) tokens.TryAdd("eos_token", eos);
                break;
            default:
                throw new ChatTemplateConfigException($"{where}: chat_template must be a string or a list of {{name, template}}");
        }

        var result = main.WithSpecialTokens(tokens);
        var withTokens = named.ToDictionary(kv => kv.Key, kv => kv.Value == main ? result : kv.Value.WithSpecialTokens(tokens));
        foreach (var t in withTokens.Values) t._named = withTokens;
        result._named = withTokens;
        return result;
    }

    static void ReadTemplateFiles(string folder, JsonObject config)
    {
        string jinja = Path.Combine(folder, "chat_template.jinja");
        string legacy = Path.Combine(folder, "chat_template.json");
        string? main = null;
        if (File.Exists(jinja)) main = File.ReadAllText(jinja);
        else if (File.Exists(legacy))
        {
            try
            {
                main = (JsonNode.Parse(File.ReadAllText(legacy)) as JsonObject)?["chat_template"]?.GetValue<string>();
            }
            catch (Exception e) when (e is JsonException or InvalidOperationException)
            {
                throw new ChatTemplateConfigException($"{legacy}: expected {{\"chat_template\": \"...\"}}: {e.Message}", e);
            }
        }
        string extraFolder = Path.Combine(folder, "additional_chat_templates");
        var named = Directory.Exists(extraFolder)
            ? Directory.GetFiles(extraFolder, "*.jinja").Order(StringComparer.Ordinal).ToList()
            : [];
        if (named.Count == 0)
        {
            if (main is not null) config["chat_template"] = main;
            return;
        }
        var list = new JsonArray();
        main ??= config["chat_template"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        if (main is not null) list.Add((JsonNode)new JsonObject { ["name"] = "default", ["template"] = main });
        else if (config["chat_template"] is JsonArray existing)
            foreach (var entry in existing) list.Add(entry?.DeepClone());
        foreach (var file in named)
            list.Add((JsonNode)new JsonObject { ["name"] = Path.GetFileNameWithoutExtension(file), ["template"] = File.ReadAllText(file) });
        config["chat_template"] = list;
    }

    static ChatTemplate Located(Func<ChatTemplate> parse, string where, string what)
    {
        try
        {
            var template = parse();
            return new ChatTemplate(template.Source, template._program, template.Name) { Origin = $"{what} of {where}" };
        }
        catch (TemplateException e)
        {
            throw new TemplateException($"{e.Reason} (in {what} of {where})", e.Line, e.Column, inner: e);
        }
    }

    /// <summary>Renders a conversation of <see cref="ChatMessage"/>s.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="addGenerationPrompt">Append the header that starts the assistant's reply (for inference).</param>
    /// <param name="extra">Further template variables: tools, documents, enable_thinking, date_string, ... Values may be
    /// strings, numbers, booleans, null, dictionaries, lists or JSON nodes.</param>
    public string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt = false, IDictionary<string, object?>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        return RenderValue(new ArrayValue(messages.Select(m => ValueConverter.FromJson(m.ToJson())).ToList()), addGenerationPrompt, extra);
    }

    /// <summary>Renders a conversation given as a JSON array of message objects; every field passes through.</summary>
    public string Render(JsonNode messages, bool addGenerationPrompt = false, IDictionary<string, object?>? extra = null)
    {
        if (messages is not JsonArray) throw new ArgumentException("messages must be a JSON array of message objects", nameof(messages));
        return RenderValue(ValueConverter.FromJson(messages), addGenerationPrompt, extra);
    }

    /// <summary>Renders a conversation given as a JSON array element; every field passes through.</summary>
    public string Render(JsonElement messages, bool addGenerationPrompt = false, IDictionary<string, object?>? extra = null)
    {
        if (messages.ValueKind != JsonValueKind.Array) throw new ArgumentException("messages must be a JSON array of message objects", nameof(messages));
        return RenderValue(ValueConverter.FromJson(messages), addGenerationPrompt, extra);
    }

    string RenderValue(Value messages, bool addGenerationPrompt, IDictionary<string, object?>? extra)
    {
        // Like transformers: a tokenizer with several templates uses "tool_use" when tools are given.
        bool hasTools = extra is not null && extra.TryGetValue("tools", out var tools) && tools is not null;
        if (hasTools && Name == "default" && _named.TryGetValue("tool_use", out var toolUse) && toolUse != this)
            return toolUse.RenderValue(messages, addGenerationPrompt, extra);

        var variables = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = messages,
            ["add_generation_prompt"] = addGenerationPrompt,
            ["tools"] = null,
            ["documents"] = null,
        };
        foreach (var (k, v) in SpecialTokens) variables[k] = v;
        if (extra is not null)
            foreach (var (k, v) in extra) variables[k] = v;
        return RenderVariables(variables);
    }

    /// <summary>Renders with exactly these variables (plus the globals every template has).</summary>
    public string RenderVariables(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var interpreter = new Interpreter(Source, Clock);
        var globals = new Scope();
        Builtins.Install(globals, Clock);
        foreach (var (k, v) in variables)
        {
            Value value;
            try { value = ValueConverter.FromObject(v); }
            catch (ArgumentException e) { throw new ArgumentException($"template variable '{k}': {e.Message}", nameof(variables), e); }
            globals.Set(k, value);
        }
        try
        {
            return interpreter.Run(_program, globals);
        }
        catch (InsufficientExecutionStackException e)
        {
            var error = new TemplateException("template recursion or nesting is too deep", 0, 0, inner: e);
            throw Origin is null ? error : error.WithOrigin(Origin);
        }
        catch (TemplateException e) when (Origin is not null)
        {
            throw e.WithOrigin(Origin);
        }
    }
}
