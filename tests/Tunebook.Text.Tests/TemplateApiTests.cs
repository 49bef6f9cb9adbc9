using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Text.Templates;

namespace Tunebook.Text.Tests.Templates;

/// <summary>Loading templates from tokenizer configs, built-ins, and the ChatMessage / JSON entry points.</summary>
public class TemplateApiTests
{
    static string ModelFolder(string model) => Path.GetDirectoryName(JinjaChatTemplateParityTests.ConfigPath(model))!;

    [Fact]
    public void Loads_from_a_model_folder_a_config_file_or_json_text()
    {
        var fromFolder = ChatTemplate.FromTokenizerConfig(ModelFolder("qwen3"));
        var file = Path.Combine(ModelFolder("qwen3"), "tokenizer_config.json");
        var fromFile = ChatTemplate.FromTokenizerConfig(file);
        var fromJson = ChatTemplate.FromTokenizerConfig(File.ReadAllText(file));
        Assert.Equal(fromFolder.Source, fromFile.Source);
        Assert.Equal(fromFolder.Source, fromJson.Source);
        Assert.Equal("<|im_end|>", fromFolder.EosToken);
        Assert.Null(fromFolder.BosToken);
        Assert.Equal("<|endoftext|>", fromFolder.SpecialTokens["pad_token"]);
        var text = fromFolder.Render([ChatMessage.User("Hi")], addGenerationPrompt: true);
        Assert.Equal("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", text);
    }

    [Fact]
    public void Llama2_package_has_no_chat_template_and_says_so()
    {
        var e = Assert.Throws<ChatTemplateConfigException>(() => ChatTemplate.FromTokenizerConfig(ModelFolder("llama2")));
        Assert.Contains("has no chat_template", e.Message);
        // With a built-in fallback, the tokenizer's own bos/eos are used.
        var template = ChatTemplate.FromTokenizerConfig(ModelFolder("llama2"), fallbackBuiltIn: "llama2");
        var text = template.Render([ChatMessage.System("Be kind."), ChatMessage.User("Hi"), ChatMessage.Assistant("Hello!"), ChatMessage.User("Bye")]);
        Assert.Equal("<s>[INST] <<SYS>>\nBe kind.\n<</SYS>>\n\nHi [/INST] Hello! </s><s>[INST] Bye [/INST]", text);
    }

    [Fact]
    public void Reads_chat_template_files_next_to_the_config()
    {
        var folder = Directory.CreateTempSubdirectory("tunebook-template-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), """{"eos_token": "</s>", "chat_template": "config"}""");
            Assert.Equal("config", ChatTemplate.FromTokenizerConfig(folder).Source);
            File.WriteAllText(Path.Combine(folder, "chat_template.json"), """{"chat_template": "legacy json {{ eos_token }}"}""");
            Assert.Equal("legacy json </s>", ChatTemplate.FromTokenizerConfig(folder).Render([]));
            File.WriteAllText(Path.Combine(folder, "chat_template.jinja"), "jinja file {{ messages|length }}\n");
            var template = ChatTemplate.FromTokenizerConfig(Path.Combine(folder, "tokenizer_config.json"));
            Assert.Equal("jinja file 1", template.Render([ChatMessage.User("x")]));
            Directory.CreateDirectory(Path.Combine(folder, "additional_chat_templates"));
            File.WriteAllText(Path.Combine(folder, "additional_chat_templates", "tool_use.jinja"), "tools {{ tools|length }}");
            template = ChatTemplate.FromTokenizerConfig(folder);
            Assert.Equal(["default", "tool_use"], template.Named.Keys.Order());
            Assert.Equal("tools 1", template.Render([], extra: new Dictionary<string, object?> { ["tools"] = new[] { "t" } }));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Named_templates_pick_default_and_tool_use_like_transformers()
    {
        var config = """
            {"bos_token": {"__type": "AddedToken", "content": "<bos>"}, "eos_token": "<eos>",
             "chat_template": [{"name": "default", "template": "D{{ bos_token }}{{ messages|length }}"},
                               {"name": "tool_use", "template": "T{{ tools|length }}{{ eos_token }}"}]}
            """;
        var template = ChatTemplate.FromTokenizerConfig(config);
        Assert.Equal("default", template.Name);
        Assert.Equal(["default", "tool_use"], template.Named.Keys.Order());
        Assert.Equal("D<bos>1", template.Render([ChatMessage.User("x")]));
        Assert.Equal("T2<eos>", template.Render([ChatMessage.User("x")], extra: new Dictionary<string, object?> { ["tools"] = new[] { "a", "b" } }));
        Assert.Equal("T0<eos>", template.Named["tool_use"].Render([], extra: new Dictionary<string, object?> { ["tools"] = Array.Empty<string>() }));
    }

    [Fact]
    public void Bad_configs_get_clear_errors()
    {
        Assert.Throws<FileNotFoundException>(() => ChatTemplate.FromTokenizerConfig("/no/such/folder"));
        Assert.Contains("invalid JSON", Assert.Throws<ChatTemplateConfigException>(() => ChatTemplate.FromTokenizerConfig("{\"chat_template\": ")).Message);
        Assert.Contains("\"default\"", Assert.Throws<ChatTemplateConfigException>(() =>
            ChatTemplate.FromTokenizerConfig("""{"chat_template": [{"name": "rag", "template": "x"}]}""")).Message);
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.FromTokenizerConfig("""{"chat_template": "ok\n{% if %}"}"""));
        Assert.Equal(2, e.Line);
        Assert.Contains("chat_template", e.Reason);
        Assert.Throws<ArgumentException>(() => ChatTemplate.BuiltIn("vicuna"));
        Assert.Contains("name", Assert.Throws<ChatTemplateConfigException>(() =>
            ChatTemplate.FromTokenizerConfig("""{"chat_template": [{"name": 3, "template": "x"}]}""")).Message);
        Assert.Throws<ChatTemplateConfigException>(() => ChatTemplate.FromTokenizerConfig("""{"chat_template": 42}"""));
    }

    [Fact]
    public void ChatMessage_and_json_entry_points_render_the_same()
    {
        var template = ChatTemplate.Parse("{% for m in messages %}[{{ m.role }}|{{ m.content }}|{{ m.tool_calls|tojson }}|{{ m.name }}|{{ m.mood }}]{% endfor %}");
        var calls = JsonNode.Parse("""[{"type": "function", "function": {"name": "f", "arguments": {"x": 1}}}]""")!.AsArray();
        var messages = new[]
        {
            ChatMessage.User("hi") with { Extra = new Dictionary<string, object?> { ["mood"] = "happy" } },
            new ChatMessage("assistant", null) { ToolCalls = calls },
            ChatMessage.Tool("42", name: "f", toolCallId: "call_1"),
        };
        string fromRecords = template.Render(messages);
        var json = new JsonArray(messages.Select(m => (JsonNode)m.ToJson()).ToArray());
        Assert.Equal(fromRecords, template.Render(json));
        Assert.Equal(fromRecords, template.Render(JsonDocument.Parse(json.ToJsonString()).RootElement));
        Assert.Equal("[user|hi|null||happy][assistant||[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"arguments\": {\"x\": 1}}}]||][tool|42|null|f|]", fromRecords);
        var roundTrip = ChatMessage.FromJson(messages[2].ToJson());
        Assert.Equal(messages[2].ToJson().ToJsonString(), roundTrip.ToJson().ToJsonString());
    }

    [Fact]
    public void Extra_variables_accept_dotnet_values()
    {
        var template = ChatTemplate.Parse("{{ a }}|{{ b }}|{{ c }}|{{ d.k }}|{{ e }}|{{ f is none }}|{{ enable_thinking }}");
        var text = template.RenderVariables(new Dictionary<string, object?>
        {
            ["a"] = 3, ["b"] = 2.5, ["c"] = new List<string> { "x", "y" }, ["d"] = new Dictionary<string, object?> { ["k"] = "v" },
            ["e"] = 4.0, ["f"] = null, ["enable_thinking"] = false,
        });
        Assert.Equal("3|2.5|[\"x\", \"y\"]|v|4|true|false", text);
        Assert.Throws<ArgumentException>(() => template.RenderVariables(new Dictionary<string, object?> { ["a"] = new object() }));
        var cycle = new List<object?>();
        cycle.Add(cycle);
        Assert.Throws<ArgumentException>(() => template.RenderVariables(new Dictionary<string, object?> { ["a"] = cycle }));
    }

    [Fact]
    public void Built_ins_are_selectable_by_name_and_render_their_formats()
    {
        var chat = new[] { ChatMessage.System("S"), ChatMessage.User("U"), ChatMessage.Assistant("A") };
        Assert.Equal("<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\nA<|im_end|>\n<|im_start|>assistant\n",
            ChatTemplate.BuiltIn("ChatML").Render(chat, addGenerationPrompt: true));
        Assert.Equal("<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nU<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nA<|eot_id|>",
            ChatTemplate.BuiltIn("llama-3").Render(chat));
        Assert.Equal("S\n\n### Instruction:\nU\n\n### Response:\nA</s>\n\n### Response:\n",
            ChatTemplate.BuiltIn("alpaca").Render(chat, addGenerationPrompt: true));
        var e = Assert.Throws<TemplateException>(() => ChatTemplate.BuiltIn("llama2").Render([ChatMessage.User("a"), ChatMessage.User("b")]));
        Assert.True(e.RaisedByTemplate);
    }

    [Fact]
    public void Clock_is_injectable()
    {
        var template = ChatTemplate.Parse("{{ strftime_now('%Y-%m-%d %H:%M %B') }}").WithClock(new FixedClock(new DateTimeOffset(2025, 2, 3, 4, 5, 0, TimeSpan.Zero)));
        Assert.Equal("2025-02-03 04:05 February", template.RenderVariables(new Dictionary<string, object?>()));
    }
}

/// <summary>Assistant spans for completion-only training.</summary>
public class TemplateTrainingTextTests
{
    [Fact]
    public void Spans_cover_each_reply_through_its_end_of_turn()
    {
        var chat = new[] { ChatMessage.System("S"), ChatMessage.User("U1"), ChatMessage.Assistant("A1"), ChatMessage.User("U2"), ChatMessage.Assistant("A2") };
        var training = ChatTemplate.BuiltIn("chatml").RenderTrainingText(chat);
        Assert.Equal(ChatTemplate.BuiltIn("chatml").Render(chat), training.Text);
        Assert.Equal(["A1<|im_end|>\n", "A2<|im_end|>\n"], training.AssistantSpans.Select(r => training.Text[r]));

        var llama3 = ChatTemplate.BuiltIn("llama3").RenderTrainingText(chat);
        Assert.Equal(["A1<|eot_id|>", "A2<|eot_id|>"], llama3.AssistantSpans.Select(r => llama3.Text[r]));

        var llama2 = ChatTemplate.BuiltIn("llama2").RenderTrainingText(chat);
        Assert.Equal([" A1 </s>", " A2 </s>"], llama2.AssistantSpans.Select(r => llama2.Text[r]));
    }

    [Fact]
    public void Templates_that_rewrite_history_are_reported()
    {
        // Qwen3 drops the <think> part of earlier assistant turns once a later user turn exists.
        var qwen3 = ChatTemplate.FromTokenizerConfig(Path.GetDirectoryName(JinjaChatTemplateParityTests.ConfigPath("qwen3"))!);
        var chat = new[] { ChatMessage.User("Q"), ChatMessage.Assistant("<think>\nplan\n</think>\n\nA"), ChatMessage.User("Q2"), ChatMessage.Assistant("B") };
        Assert.Throws<InvalidOperationException>(() => qwen3.RenderTrainingText(chat));
        var single = qwen3.RenderTrainingText(chat[..2]);
        Assert.Equal(["<think>\nplan\n</think>\n\nA<|im_end|>\n"], single.AssistantSpans.Select(r => single.Text[r]));
    }
}
