using Tunebook.Text.Tokenizers;

namespace Tunebook.Text.Tests;

/// <summary>BPE options the big releases do not use: end_of_word_suffix (checked against tokenizers.js), continuing_subword_prefix, unk fusion.</summary>
public class TokenizerModelOptionTests
{
    const string SuffixTokenizer = """
        {"added_tokens": [], "post_processor": null,
         "normalizer": {"type": "Lowercase"},
         "pre_tokenizer": {"type": "Whitespace"},
         "decoder": {"type": "BPEDecoder", "suffix": "</w>"},
         "model": {"type": "BPE", "unk_token": "<unk>", "end_of_word_suffix": "</w>", "fuse_unk": false,
           "vocab": {"<unk>": 0, "l": 1, "o": 2, "w": 3, "e": 4, "r": 5, "lo": 6, "low": 7, "er</w>": 8, "r</w>": 9, "w</w>": 10,
                     "low</w>": 11, "e</w>": 12, "o</w>": 13, "l</w>": 14, "s": 15, "t</w>": 16, "lower</w>": 17},
           "merges": ["l o", "lo w", "e r</w>", "lo w</w>", "low er</w>"]}}
        """;

    [Fact]
    public void End_of_word_suffix_matches_huggingface()
    {
        var dir = Directory.CreateTempSubdirectory("suffix");
        try
        {
            var path = Path.Combine(dir.FullName, "tokenizer.json");
            File.WriteAllText(path, SuffixTokenizer);
            var tokenizer = Tokenizer.FromFile(path);
            string[] texts = ["low lower lowest", "LOWER   low", "slow, owl!", "er r e"];
            var ids = texts.Select(t => tokenizer.Encode(t).Ids).ToList();
            var expected = TokenizerReference.HuggingFace(path, null, texts, true, ids);
            TokenizerReference.AssertSameIds(texts, expected.Ids, ids, tokenizer.IdToToken);
            for (int i = 0; i < texts.Length; i++) Assert.Equal(expected.Decoded![i], tokenizer.Decode(ids[i]));
            Assert.Equal([11, 17], tokenizer.Encode("low lower").Ids);
            Assert.Equal("low lower", tokenizer.Decode([11, 17]));
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Continuing_subword_prefix_marks_non_initial_symbols()
    {
        // Symbols after the first carry the prefix; merging "a" + "##b" yields "ab" (the prefix of the right part is dropped).
        var t = Tokenizer.FromJson("""
            {"pre_tokenizer": {"type": "WhitespaceSplit"},
             "model": {"type": "BPE", "continuing_subword_prefix": "##", "unk_token": "[UNK]",
               "vocab": {"[UNK]": 0, "a": 1, "##b": 2, "ab": 3, "##c": 4, "c": 5, "##a": 6},
               "merges": ["a ##b"]}}
            """);
        Assert.Equal([3, 4], t.Encode("abc").Ids);
        Assert.Equal([5, 6], t.Encode("ca").Ids);
        Assert.Equal([1, 0, 4], t.Encode("azc").Ids); // 'z' unknown
    }

    [Fact]
    public void Fuse_unk_joins_consecutive_unknown_characters()
    {
        string Json(bool fuse) => $$$"""{"model": {"type": "BPE", "unk_token": "<unk>", "fuse_unk": {{{(fuse ? "true" : "false")}}}, "vocab": {"<unk>": 0, "a": 1}, "merges": []}}""";
        Assert.Equal([1, 0, 1], Tokenizer.FromJson(Json(true)).Encode("axyza").Ids);
        Assert.Equal([1, 0, 0, 0, 1], Tokenizer.FromJson(Json(false)).Encode("axyza").Ids);
        var fused = Tokenizer.FromJson(Json(true)).Encode("axyza");
        Assert.Equal((1, 4), fused.Offsets[1]);
    }
}
