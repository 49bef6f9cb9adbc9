using System.Text.Json.Nodes;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Text.Tests;

/// <summary>
/// Post-processors that add special tokens, on real vocabularies with the post_processor sections that
/// official releases use, compared with tokenizers.js for single texts and pairs.
/// </summary>
public class TokenizerPostProcessorTests
{
    static readonly string[] Texts = ["Hello world", "", "Two  spaces and 123", "<|begin_of_text|>already there", "émoji 😀"];
    static readonly string[] Pairs = ["second text", "x", " ", "more", "last one"]; // tokenizers.js reads "" as "no pair"

    static void CompareWithHuggingFace(JsonNode tokenizerJson)
    {
        var dir = Directory.CreateTempSubdirectory("postproc");
        try
        {
            var path = Path.Combine(dir.FullName, "tokenizer.json");
            File.WriteAllText(path, tokenizerJson.ToJsonString());
            var tokenizer = Tokenizer.FromFile(path);
            var single = TokenizerReference.HuggingFace(path, null, Texts, true, allModes: true);
            TokenizerReference.AssertSameIds(Texts, single.Ids, Texts.Select(t => tokenizer.Encode(t).Ids).ToList(), tokenizer.IdToToken);
            TokenizerReference.AssertSameIds(Texts, single.IdsNoSpecial!, Texts.Select(t => tokenizer.Encode(t, false).Ids).ToList(), tokenizer.IdToToken);
            var pairs = TokenizerReference.HuggingFace(path, null, Texts, true, pairs: Pairs, allModes: true);
            var ours = Texts.Select((t, i) => tokenizer.Encode(t, Pairs[i])).ToList();
            TokenizerReference.AssertSameIds(Texts, pairs.Ids, ours.Select(e => e.Ids).ToList(), tokenizer.IdToToken);
            TokenizerReference.AssertSameIds(Texts, pairs.IdsNoSpecial!, Texts.Select((t, i) => tokenizer.Encode(t, Pairs[i], false).Ids).ToList(), tokenizer.IdToToken);
            for (int i = 0; i < Texts.Length; i++)
                if (pairs.TypeIds![i].Length > 0) Assert.Equal(pairs.TypeIds[i], ours[i].TypeIds);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Llama3_release_template_adds_begin_of_text()
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(TokenizerReference.ModelFolder("llama3"), "tokenizer.json")))!;
        // The post_processor of Meta's Llama 3 release: byte-level offsets, then <|begin_of_text|> before each sequence.
        json["post_processor"] = JsonNode.Parse("""
            {"type": "Sequence", "processors": [
              {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": false, "use_regex": true},
              {"type": "TemplateProcessing",
               "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
               "pair": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                        {"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
               "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [128000], "tokens": ["<|begin_of_text|>"]}}}]}
            """);
        CompareWithHuggingFace(json);
    }

    [Fact]
    public void Roberta_and_bert_processing_wrap_with_cls_and_sep()
    {
        var gpt2 = JsonNode.Parse(Tokenizer.FromFolder(TokenizerReference.Gpt2Folder).Json)!;
        gpt2["post_processor"] = JsonNode.Parse("""{"type": "RobertaProcessing", "sep": ["<|endoftext|>", 50256], "cls": ["!", 0], "trim_offsets": true, "add_prefix_space": false}""");
        CompareWithHuggingFace(gpt2);
        gpt2["post_processor"] = JsonNode.Parse("""{"type": "BertProcessing", "sep": ["<|endoftext|>", 50256], "cls": ["!", 0]}""");
        CompareWithHuggingFace(gpt2);
    }

    [Fact]
    public void Byte_level_trim_offsets_drops_the_leading_space()
    {
        var gpt2 = JsonNode.Parse(Tokenizer.FromFolder(TokenizerReference.Gpt2Folder).Json)!;
        gpt2["post_processor"] = JsonNode.Parse("""{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""");
        var tokenizer = Tokenizer.FromJson(gpt2.ToJsonString());
        var e = tokenizer.Encode("Hello  world");
        Assert.Equal(["Hello", "Ġ", "Ġworld"], e.Tokens);
        Assert.Equal([(0, 5), (6, 6), (7, 12)], e.Offsets);
    }
}
