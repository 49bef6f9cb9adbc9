
using Tunebook.Text.Tokenizers;

namespace Tunebook.Text.Tests;

/// <summary>Offsets, added-token flags, configuration, the tokenize CLI body and error messages.</summary>
public class TokenizerBehaviourTests
{
    [Fact]
    public void Byte_level_offsets_point_at_the_bytes_each_token_encodes()
    {
        var tokenizer = TokenizerParityTests.Load("llama3");
        foreach (var text in TokenizerReference.CorpusTexts)
        {
            var e = tokenizer.Encode(text, addSpecialTokens: false);
            int covered = 0;
            for (int i = 0; i < e.Count; i++)
            {
                var (s, end) = e.Offsets[i];
                Assert.InRange(s, 0, text.Length);
                Assert.InRange(end, s, text.Length);
                Assert.True(i == 0 || s >= e.Offsets[i - 1].Start, $"offsets go backwards at token {i} of {text}");
                Assert.True(s <= covered, $"gap before token {i} of {text}");
                if (tokenizer.IsSpecial(e.Ids[i])) Assert.Equal(e.Tokens[i], text[s..end]);
                else
                {
                    // The token's bytes are those of the source span (or a part of them when a character is split).
                    var sourceBytes = ByteLevelAlphabet.Encode(System.Text.Encoding.UTF8.GetBytes(text[s..end]));
                    bool shared = i > 0 && e.Offsets[i - 1].End > s || i + 1 < e.Count && e.Offsets[i + 1].Start < end;
                    if (shared) Assert.Contains(e.Tokens[i], sourceBytes);
                    else Assert.Equal(sourceBytes, e.Tokens[i]);
                }
                covered = Math.Max(covered, end);
            }
            Assert.Equal(text.Length, covered);
        }
    }

    [Fact]
    public void SentencePiece_offsets_exclude_the_prepended_marker()
    {
        var tokenizer = TokenizerParityTests.Load("llama2");
        var text = "Hello  world, café 😀!";
        var e = tokenizer.Encode(text);
        Assert.Equal((0, 0), e.Offsets[0]); // <s> from the template
        Assert.Equal(Enumerable.Range(0, e.Count).Select(i => i == 0 ? 1 : 0), e.SpecialTokensMask);
        for (int i = 1; i < e.Count; i++)
        {
            var (s, end) = e.Offsets[i];
            var source = text[s..end].Replace(' ', '▁');
            var token = e.Tokens[i];
            if (token.StartsWith("<0x")) Assert.Contains((byte)Convert.ToInt32(token[3..5], 16), System.Text.Encoding.UTF8.GetBytes(text[s..end]));
            else Assert.True(token == source || token == "▁" + source, $"token {token} vs source {source}");
        }
        Assert.Equal("Hello", text[e.Offsets[1].Start..e.Offsets[1].End]);
    }

    [Fact]
    public void Nfc_offsets_map_composed_characters_to_their_decomposed_source()
    {
        var tokenizer = TokenizerParityTests.Load("qwen3");
        var text = "cafe\u0301 x";
        var e = tokenizer.Encode(text);
        Assert.Equal("café x", tokenizer.Decode(e.Ids));
        Assert.Equal(text.Length, e.Offsets[^1].End);
        Assert.Contains(e.Offsets, o => text[o.Start..o.End].EndsWith("e\u0301"));
    }

    [Fact]
    public void Special_tokens_can_be_parsed_or_kept_as_text_and_skipped_when_decoding()
    {
        var tokenizer = TokenizerParityTests.Load("qwen3");
        var text = "<|im_start|>user\nHi<|im_end|>";
        var parsed = tokenizer.Encode(text);
        Assert.Equal(151644, parsed.Ids[0]);
        Assert.Equal(151645, parsed.Ids[^1]);
        Assert.Equal([1, 0, 0, 0, 1], parsed.SpecialTokensMask);
        Assert.Equal("user\nHi", tokenizer.Decode(parsed.Ids, skipSpecialTokens: true));
        var plain = tokenizer.Encode(text, null, addSpecialTokens: true, parseSpecialTokens: false);
        Assert.DoesNotContain(151644, plain.Ids);
        Assert.Equal(text, tokenizer.Decode(plain.Ids));
        // Non-special added tokens (Qwen's <think>) are matched either way, and kept when skipping special tokens.
        var think = tokenizer.TokenToId("<think>")!.Value;
        Assert.False(tokenizer.IsSpecial(think));
        Assert.Contains(think, tokenizer.Encode("<think>x", null, true, parseSpecialTokens: false).Ids);
        Assert.Equal("<think>x", tokenizer.Decode(tokenizer.Encode("<think>x").Ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Added_token_flags_lstrip_rstrip_single_word_are_honoured()
    {
        var json = """
        {"added_tokens": [
          {"id": 3, "content": "<mask>", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": true},
          {"id": 4, "content": "[R]", "single_word": false, "lstrip": false, "rstrip": true, "normalized": false, "special": true},
          {"id": 5, "content": "cat", "single_word": true, "lstrip": false, "rstrip": false, "normalized": false, "special": false}],
         "pre_tokenizer": {"type": "WhitespaceSplit"},
         "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "t": 6}, "merges": []}}
        """;
        var t = Tokenizer.FromJson(json);
        var e = t.Encode("a  <mask>b");
        Assert.Equal([0, 3, 1], e.Ids);
        Assert.Equal((1, 9), e.Offsets[1]); // lstrip swallowed the two spaces
        Assert.Equal([4, 0], t.Encode("[R]   a").Ids);
        Assert.Equal([5, 0], t.Encode("cat a").Ids);
        Assert.Equal([0, 2, 0, 6], t.Encode("acat").Ids); // inside a word: not the single-word token
    }

    [Fact]
    public void Config_exposes_special_tokens_and_chat_templates()
    {
        var qwen = TokenizerParityTests.Load("qwen3");
        Assert.Equal(151645, qwen.EosTokenId);
        Assert.Equal(151643, qwen.PadTokenId);
        Assert.Null(qwen.BosTokenId);
        Assert.Equal(131072, qwen.Config.ModelMaxLength);
        Assert.Contains("<|im_start|>", qwen.Config.ChatTemplate);

        var llama2 = TokenizerParityTests.Load("llama2");
        Assert.Equal(1, llama2.BosTokenId);
        Assert.Equal(2, llama2.EosTokenId);
        Assert.True(llama2.Config.AddBosToken);
        Assert.Null(llama2.Config.ModelMaxLength); // 1e30 means "no limit"

        var config = TokenizerConfig.Parse("""
            {"bos_token": {"content": "<s>", "lstrip": false, "__type": "AddedToken"}, "eos_token": "</s>",
             "add_eos_token": true, "tokenizer_class": "LlamaTokenizer",
             "chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]}
            """);
        Assert.Equal("<s>", config.BosToken);
        Assert.Equal("D", config.ChatTemplate);
        Assert.Equal("T", config.ChatTemplates["tool_use"]);

        // Llama tokenizers rebuild BOS/EOS handling from add_bos_token/add_eos_token, as transformers does.
        var withEos = Tokenizer.FromJson(llama2.Json, config);
        var ids = withEos.Encode("Hi").Ids;
        Assert.Equal(1, ids[0]);
        Assert.Equal(2, ids[^1]);
    }

    [Fact]
    public void Tokenize_cli_prints_one_json_array_per_line()
    {
        var tokenizer = TokenizerParityTests.Load("llama2");
        var output = new StringWriter();
        var error = new StringWriter();
        Assert.Equal(0, TokenizeCli.Run(tokenizer, jsonLines: false, addSpecialTokens: true, new StringReader("Hello\n\nworld\n"), output, error));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["[" + string.Join(",", tokenizer.Encode("Hello").Ids) + "]", "[1]", "[" + string.Join(",", tokenizer.Encode("world").Ids) + "]"], lines);

        output = new StringWriter();
        Assert.Equal(0, TokenizeCli.Run(tokenizer, jsonLines: true, addSpecialTokens: false, new StringReader("\"a\\nb\"\n"), output, error));
        Assert.Equal("[" + string.Join(",", tokenizer.Encode("a\nb", false).Ids) + "]", output.ToString().Trim());

        Assert.Equal(1, TokenizeCli.Run(tokenizer, jsonLines: true, addSpecialTokens: false, new StringReader("\"ok\"\nnot json\n"), new StringWriter(), error));
        Assert.Contains("line 2", error.ToString());
    }

    [Fact]
    public void Tokenize_command_of_the_built_cli_matches_huggingface()
    {
        var dll = Path.Combine(TokenizerReference.RepoRoot, "src/Tunebook.Cli/bin/Release/net10.0/tunebook.dll");
        Assert.True(File.Exists(dll), $"build the CLI first ({dll} is missing): make build");
        var folder = TokenizerReference.ModelFolder("llama3");
        var texts = TokenizerReference.Corpus.Take(30).ToList();
        var stdin = string.Join("\n", texts.Select(t => System.Text.Json.JsonSerializer.Serialize(t, Tunebook.Tests.TestJson.Options))) + "\n";
        var stdout = TokenizerReference.Run("dotnet", [dll, "tokenize", "--tokenizer", folder, "--json"], stdin);
        var expected = TokenizerReference.HuggingFace(Path.Combine(folder, "tokenizer.json"), Path.Combine(folder, "tokenizer_config.json"), texts, true);
        var actual = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.Json.JsonSerializer.Deserialize<int[]>(l, Tunebook.Tests.TestJson.Options)!).ToList();
        TokenizerReference.AssertSameIds(texts, expected.Ids, actual);
    }

    [Theory]
    [InlineData("llama2")]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    public void Arbitrary_input_including_lone_surrogates_encodes_and_round_trips(string model)
    {
        var tokenizer = TokenizerParityTests.Load(model);
        var rng = new Random(7);
        for (int n = 0; n < 300; n++)
        {
            var chars = new char[rng.Next(0, 40)];
            for (int i = 0; i < chars.Length; i++)
                chars[i] = rng.Next(4) switch { 0 => (char)rng.Next(0, 0x80), 1 => (char)rng.Next(0x80, 0x800), 2 => (char)rng.Next(0xD800, 0xE000), _ => (char)rng.Next(0x800, 0x10000) };
            var text = new string(chars);
            var e = tokenizer.Encode(text);
            Assert.All(e.Offsets, o => Assert.InRange(o.End, o.Start, text.Length));
            var decoded = tokenizer.Decode(e.Ids, skipSpecialTokens: true);
            // Valid UTF-16 comes back unchanged (after NFC for Qwen; Llama 2 through byte fallback);
            // byte-level Llama 3 also returns unpaired surrogates, as U+FFFD.
            var expected = System.Text.Encoding.UTF8.GetString(System.Text.Encoding.UTF8.GetBytes(text));
            if (model == "qwen3") expected = UnicodeNormalization.Normalize(expected, UnicodeForm.NFC);
            if (model == "llama3") Assert.Equal(expected, decoded);
            if (model != "llama3" && !text.Any(char.IsSurrogate)) Assert.Equal(expected, decoded);
        }
    }

    static TokenizerFormatException Bad(string json) =>
        Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromJson(json, null, "bad/tokenizer.json"));

    [Fact]
    public void Malformed_files_are_reported_with_file_and_json_path()
    {
        var e = Bad("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b", 12]}}""");
        Assert.Equal("bad/tokenizer.json: model.merges[1]: expected 'a b' or [a, b], found the number 12", e.Message);
        Assert.Equal("model.merges[1]", e.JsonPath);

        e = Bad("""{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}, "merges": [["a", "b"]]}}""");
        Assert.Contains("model.merges[0]: merged token 'ab' is not in model.vocab", e.Message);

        e = Bad("""{"model": {"type": "WordPiece", "vocab": {}}}""");
        Assert.Contains("model.type: unsupported model type 'WordPiece'; supported: BPE", e.Message);

        e = Bad("""{"model": {"type": "Unigram", "vocab": []}}""");
        Assert.Contains("supported: BPE", e.Message);

        e = Bad("""{"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Precompiled"}]}, "model": {"type": "BPE", "vocab": {}, "merges": []}}""");
        Assert.Contains("normalizer.normalizers[1].type: unsupported normalizer type 'Precompiled'; supported: Sequence, NFC", e.Message);

        e = Bad("""{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"}, "model": {"type": "BPE", "vocab": {}, "merges": []}}""");
        Assert.StartsWith("bad/tokenizer.json: pre_tokenizer.pattern.Regex: invalid regular expression", e.Message);

        e = Bad("""{"model": {"type": "BPE", "vocab": {"a": "zero"}, "merges": []}}""");
        Assert.Contains("model.vocab.a: expected an integer", e.Message);

        e = Bad("""{"model": {"type": "BPE", "vocab": {}, "merges": []}, "added_tokens": [{"id": 1}]}""");
        Assert.Contains("added_tokens[0].content: required field is missing", e.Message);

        e = Bad("""{"model": """);
        Assert.Contains("invalid JSON", e.Message);

        e = Bad("""{"post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}], "special_tokens": {}}, "model": {"type": "BPE", "vocab": {}, "merges": []}}""");
        Assert.Contains("post_processor.single[0].SpecialToken.id: special token '<s>' is not listed", e.Message);

        var missing = Assert.Throws<TokenizerFormatException>(() => Tokenizer.FromFile("/nonexistent/tokenizer.json"));
        Assert.Contains("/nonexistent/tokenizer.json", missing.Message);
    }

    [Fact]
    public void Possessive_quantifiers_become_atomic_groups()
    {
        Assert.Equal(@"(?>\p{L}+)", OnigurumaRegexProbe(@"\p{L}++"));
        Assert.Equal(@"(?>[a-z]*) ?(?>(?:ab){2})", OnigurumaRegexProbe(@"[a-z]*+ ?(?:ab){2}+"));
        Assert.Equal(@"a+?", OnigurumaRegexProbe(@"a+?"));
        var t = Tokenizer.FromJson("""{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\p{L}++|\\s++"}, "behavior": "Isolated", "invert": false}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, " ": 2}, "merges": []}}""");
        Assert.Equal([0, 2, 1], t.Encode("a b").Ids);
    }

    static string OnigurumaRegexProbe(string pattern)
    {
        var type = typeof(Tokenizer).Assembly.GetType("Tunebook.Text.Tokenizers.OnigurumaRegex")!;
        return (string)type.GetMethod("Translate")!.Invoke(null, [pattern])!;
    }
}
