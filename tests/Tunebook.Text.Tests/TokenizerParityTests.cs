using Tunebook.Text.Tokenizers;

namespace Tunebook.Text.Tests;

/// <summary>
/// Ids must equal Hugging Face's own implementation (tokenizers.js) on real tokenizer files, over a corpus
/// with Unicode, emoji, CJK, code, numbers, whitespace runs, combining marks and special tokens.
/// </summary>
public class TokenizerParityTests
{
    static readonly Dictionary<string, Tokenizer> Loaded = new();

    internal static Tokenizer Load(string name)
    {
        lock (Loaded)
        {
            if (!Loaded.TryGetValue(name, out var t)) Loaded[name] = t = Tokenizer.FromFolder(TokenizerReference.ModelFolder(name));
            return t;
        }
    }

    [Theory]
    [InlineData("llama2")]
    [InlineData("llama3")]
    [InlineData("qwen3")]
    public void Ids_tokens_and_decoding_match_huggingface_tokenizers(string model)
    {
        var tokenizer = Load(model);
        var texts = TokenizerReference.CorpusTexts;
        var folder = TokenizerReference.ModelFolder(model);
        // Decode what we encode (empty texts aside: tokenizers.js refuses to decode an empty list).
        var toDecode = texts.Where(t => t.Length > 0).Select(t => tokenizer.Encode(t).Ids).ToList();
        var expected = TokenizerReference.HuggingFace(Path.Combine(folder, "tokenizer.json"), Path.Combine(folder, "tokenizer_config.json"),
            texts, addSpecialTokens: true, decode: toDecode, allModes: true);

        TokenizerReference.AssertSameIds(texts, expected.Ids, tokenizer.EncodeBatch(texts).Select(e => e.Ids).ToList(), tokenizer.IdToToken);
        TokenizerReference.AssertSameIds(texts, expected.IdsNoSpecial!, tokenizer.EncodeBatch(texts, addSpecialTokens: false).Select(e => e.Ids).ToList(), tokenizer.IdToToken);
        for (int i = 0; i < texts.Count; i++)
            Assert.Equal(expected.Tokens![i], tokenizer.Encode(texts[i]).Tokens);
        for (int i = 0; i < toDecode.Count; i++)
        {
            Assert.Equal(expected.Decoded![i], tokenizer.Decode(toDecode[i]));
            Assert.Equal(expected.DecodedSkipSpecial![i], tokenizer.Decode(toDecode[i], skipSpecialTokens: true));
        }
    }

    [Theory]
    [InlineData("llama3", false)]
    [InlineData("qwen3", true)]
    public void Byte_level_decode_inverts_encode_exactly(string model, bool normalizesToNfc)
    {
        var tokenizer = Load(model);
        foreach (var original in TokenizerReference.CorpusTexts)
        {
            // Qwen's tokenizer.json applies NFC first, so what comes back is the NFC form of the input.
            var text = normalizesToNfc ? UnicodeNormalization.Normalize(original, UnicodeForm.NFC) : original;
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(original, addSpecialTokens: false).Ids));
            // Treating special tokens as text must round-trip too.
            Assert.Equal(text, tokenizer.Decode(tokenizer.Encode(original, null, addSpecialTokens: false, parseSpecialTokens: false).Ids));
        }
    }

    [Fact]
    public void Gpt2_vocab_and_merges_files_match_gpt3_encoder()
    {
        var tokenizer = Tokenizer.FromFolder(TokenizerReference.Gpt2Folder);
        Assert.Equal(50257, tokenizer.VocabSize);
        Assert.Equal(50256, tokenizer.EosTokenId);
        // gpt-3-encoder knows nothing of special tokens: compare with them parsed as plain text.
        var texts = TokenizerReference.CorpusTexts;
        var actual = texts.Select(t => tokenizer.Encode(t, null, addSpecialTokens: true, parseSpecialTokens: false).Ids).ToList();
        var expected = TokenizerReference.Gpt3Encoder(texts, actual);
        TokenizerReference.AssertSameIds(texts, expected.Ids, actual, tokenizer.IdToToken);
        for (int i = 0; i < texts.Count; i++)
            Assert.Equal(expected.Decoded![i], tokenizer.Decode(actual[i]));
    }

    [Fact]
    public void Gpt2_folder_saved_as_tokenizer_json_matches_huggingface_tokenizers()
    {
        var tokenizer = Tokenizer.FromFolder(TokenizerReference.Gpt2Folder);
        var dir = Directory.CreateTempSubdirectory("gpt2-tok");
        try
        {
            tokenizer.Save(dir.FullName);
            var texts = TokenizerReference.CorpusTexts;
            var expected = TokenizerReference.HuggingFace(Path.Combine(dir.FullName, "tokenizer.json"), null, texts, true);
            var reloaded = Tokenizer.FromFolder(dir.FullName);
            TokenizerReference.AssertSameIds(texts, expected.Ids, texts.Select(t => reloaded.Encode(t).Ids).ToList(), reloaded.IdToToken);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Byte_level_add_prefix_space_matches_huggingface_tokenizers()
    {
        // RoBERTa-style: the byte-level pre-tokenizer prepends a space to text that does not start with one.
        var json = System.Text.Json.Nodes.JsonNode.Parse(Tokenizer.FromFolder(TokenizerReference.Gpt2Folder).Json)!;
        json["pre_tokenizer"]!["add_prefix_space"] = true;
        var dir = Directory.CreateTempSubdirectory("prefix-space");
        try
        {
            var path = Path.Combine(dir.FullName, "tokenizer.json");
            File.WriteAllText(path, json.ToJsonString());
            var tokenizer = Tokenizer.FromFile(path);
            var texts = TokenizerReference.CorpusTexts;
            var expected = TokenizerReference.HuggingFace(path, null, texts, true);
            TokenizerReference.AssertSameIds(texts, expected.Ids, texts.Select(t => tokenizer.Encode(t).Ids).ToList(), tokenizer.IdToToken);
            Assert.Equal(tokenizer.TokenToId("ĠHello"), tokenizer.Encode("Hello").Ids[0]);
        }
        finally { dir.Delete(true); }
    }
}
