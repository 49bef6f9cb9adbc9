using Tunebook.Text.Tokenizers;

namespace Tunebook.Text.Tests;

/// <summary>The BPE trainer: reproducible, loadable by Hugging Face's tokenizers.js with the same ids, exact round trip.</summary>
public class TokenizerTrainerTests
{
    static readonly string[] Specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    static IEnumerable<string> TrainingTexts() =>
        TokenizerReference.Corpus.Concat(Enumerable.Range(0, 40).Select(i =>
            $"Line {i}: the tokenizer learns frequent words such as tokenizer, learning, language and model {i * 37}."));

    [Fact]
    public void Trained_tokenizer_matches_huggingface_and_round_trips()
    {
        var tokenizer = BpeTrainer.Train(TrainingTexts(), vocabSize: 700, Specials);
        Assert.Equal(700, tokenizer.VocabSize);
        Assert.Equal(0, tokenizer.TokenToId("<|endoftext|>"));
        Assert.Equal(2, tokenizer.TokenToId("<|im_end|>"));
        Assert.Equal(2, tokenizer.EosTokenId);
        Assert.True(tokenizer.IsByteLevel);
        Assert.NotNull(tokenizer.TokenToId("Ġtokenizer")); // a frequent word became one token

        var dir = Directory.CreateTempSubdirectory("trained-tok");
        try
        {
            tokenizer.Save(dir.FullName);
            var texts = TokenizerReference.CorpusTexts.Append("<|im_start|>user\nHello<|im_end|>\n").ToList();
            var expected = TokenizerReference.HuggingFace(Path.Combine(dir.FullName, "tokenizer.json"), Path.Combine(dir.FullName, "tokenizer_config.json"), texts, true);
            var reloaded = Tokenizer.FromFolder(dir.FullName);
            TokenizerReference.AssertSameIds(texts, expected.Ids, texts.Select(t => reloaded.Encode(t).Ids).ToList(), reloaded.IdToToken);
            Assert.Equal(tokenizer.Json, reloaded.Json);
            foreach (var t in texts) Assert.Equal(t, reloaded.Decode(reloaded.Encode(t).Ids));
            Assert.Equal([1], reloaded.Encode("<|im_start|>").Ids);
        }
        finally { dir.Delete(true); }
    }

    [Fact]
    public void Training_is_reproducible()
    {
        var a = BpeTrainer.Train(TrainingTexts(), 500, Specials);
        var b = BpeTrainer.Train(TrainingTexts().Reverse(), 500, Specials);
        Assert.Equal(a.Json, b.Json); // word counts, not text order, decide the merges
    }

    [Fact]
    public void Vocabulary_too_small_for_the_byte_alphabet_is_refused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["hello"], 100, Specials));
        Assert.Contains("259", e.Message);
    }
}
