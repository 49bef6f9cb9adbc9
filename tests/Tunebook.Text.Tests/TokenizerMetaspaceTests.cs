using System.Text.Json.Nodes;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Text.Tests;

/// <summary>
/// Newer SentencePiece-style releases (Mistral v0.3, TinyLlama with legacy = false) replace the
/// Prepend/Replace normalizers by a Metaspace pre-tokenizer and decoder; compare that layout with tokenizers.js.
/// </summary>
public class TokenizerMetaspaceTests
{
    [Theory]
    [InlineData("first", false)]
    [InlineData("always", false)]
    // tokenizers.js ignores "split" (it never splits), so split = true is checked separately below.
    public void Metaspace_pre_tokenizer_matches_huggingface(string prependScheme, bool split)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerReference.ModelFolder("llama2"), "tokenizer.json")))!;
        json["normalizer"] = null;
        json["pre_tokenizer"] = JsonNode.Parse($$"""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "{{prependScheme}}", "split": {{(split ? "true" : "false")}}}""");
        json["decoder"] = JsonNode.Parse($$"""{"type": "Sequence", "decoders": [{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "{{prependScheme}}", "split": {{(split ? "true" : "false")}}}, {"type": "ByteFallback"}, {"type": "Fuse"}]}""");
        var dir = Directory.CreateTempSubdirectory("metaspace");
        try
        {
            var path = Path.Combine(dir.FullName, "tokenizer.json");
            File.WriteAllText(path, json.ToJsonString());
            var tokenizer = Tokenizer.FromFile(path);
            var texts = TokenizerReference.CorpusTexts.Where(t => t.Length > 0).ToList();
            var ids = texts.Select(t => tokenizer.Encode(t).Ids).ToList();
            var expected = TokenizerReference.HuggingFace(path, null, texts, true, ids);
            TokenizerReference.AssertSameIds(texts, expected.Ids, ids, tokenizer.IdToToken);
            for (int i = 0; i < texts.Count; i++) Assert.Equal(expected.Decoded![i], tokenizer.Decode(ids[i]));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Metaspace_split_cuts_before_every_marker_like_the_rust_library()
    {
        // Rust's Metaspace with split = true splits on each '▁' with MergedWithNext: "▁▁▁if" → "▁" "▁" "▁if".
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerReference.ModelFolder("llama2"), "tokenizer.json")))!;
        json["normalizer"] = null;
        json["pre_tokenizer"] = JsonNode.Parse("""{"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true}""");
        var tokenizer = Tokenizer.FromJson(json.ToJsonString());
        var space = tokenizer.TokenToId("▁")!.Value;
        Assert.Equal([space, space, tokenizer.TokenToId("▁if")!.Value], tokenizer.Encode("   if", addSpecialTokens: false).Ids); // starts with ▁: nothing prepended
        var unsplit = Tokenizer.FromFolder(TokenizerReference.ModelFolder("llama2"));
        Assert.Equal(unsplit.Encode("Hello world", false).Ids, tokenizer.Encode("Hello world", false).Ids);
    }
}
