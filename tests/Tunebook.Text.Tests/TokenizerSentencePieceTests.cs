using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Text.Tests;

/// <summary>
/// SentencePiece-style BPE (Llama 2, TinyLlama, Mistral) against SentencePiece itself: a model trained by
/// python3-sentencepiece, exported to tokenizer.json like transformers' converter, must give SentencePiece's ids.
/// </summary>
public class TokenizerSentencePieceTests
{
    [Fact]
    public void Ids_and_decoding_match_sentencepiece()
    {
        var dir = Directory.CreateTempSubdirectory("spm-tok");
        try
        {
            // Train on the corpus itself (written as plain lines); the test texts exclude special-token markup,
            // which SentencePiece would treat as text.
            var corpusFile = Path.Combine(dir.FullName, "train.txt");
            File.WriteAllLines(corpusFile, TokenizerReference.Corpus.SelectMany(t => t.Split('\n')));
            var texts = TokenizerReference.CorpusTexts.Where(t => !t.Contains("<s>") && !t.Contains("</s>") && !t.Contains("<unk>")).ToList();
            var request = new JsonObject
            {
                ["corpus"] = corpusFile,
                ["out"] = dir.FullName,
                ["vocab_size"] = 700,
                ["texts"] = new JsonArray(texts.Select(t => (JsonNode)JsonValue.Create(t)!).ToArray()),
            };
            var answer = JsonNode.Parse(TokenizerReference.Run("/usr/bin/python3", [TokenizerReference.Script("tokenize_spm.py")], request.ToJsonString()))!;
            var expected = answer["ids"]!.AsArray().Select(a => a!.AsArray().Select(i => (int)i!).ToArray()).ToArray();
            var tokenizer = Tokenizer.FromFile((string)answer["tokenizer"]!);

            var actual = texts.Select(t => tokenizer.Encode(t, addSpecialTokens: false).Ids).ToList();
            TokenizerReference.AssertSameIds(texts, expected, actual, tokenizer.IdToToken);
            Assert.Contains(actual.SelectMany(i => i), id => tokenizer.IdToToken(id)!.StartsWith("<0x")); // byte fallback was exercised

            var decoded = answer["decoded"]!.AsArray().Select(s => (string)s!).ToArray();
            for (int i = 0; i < texts.Count; i++) Assert.Equal(decoded[i], tokenizer.Decode(actual[i]));

            // With special tokens, the template adds BOS exactly once.
            Assert.Equal([1, .. expected[0]], tokenizer.Encode(texts[0]).Ids);
        }
        finally { dir.Delete(true); }
    }
}
