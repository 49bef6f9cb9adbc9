using Tunebook.Models;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

public class GenerationTests
{
    /// <summary>A byte-level BPE tokenizer trained on ASCII text, so accented letters and emoji are split into byte tokens.</summary>
    static readonly Lazy<Tokenizer> Bpe = new(() => BpeTrainer.Train(
        Enumerable.Repeat("the quick brown fox jumps over the lazy dog. hello world, tunes and songs in the book.", 20),
        300, ["<|endoftext|>"], config: new TokenizerConfig { EosToken = "<|endoftext|>" }));

    static CausalLM ModelWithTokenizer(string kind = "llama")
    {
        var json = TinyModels.Json(kind);
        json["vocab_size"] = 300;
        json["eos_token_id"] = 0;
        torch.manual_seed(11);
        var model = CausalLM.FromConfig(ModelConfig.FromJson(json));
        model.Tokenizer = Bpe.Value;
        model.eval();
        return model;
    }

    [Fact]
    public void SameSeedSameSamplesIndependentOfTheGlobalSeed()
    {
        using var model = ModelWithTokenizer();
        var options = new GenerationOptions { MaxNewTokens = 20, Temperature = 1.5, Seed = 42, EosTokenIds = [] };
        torch.manual_seed(1);
        var a = model.Generate("the quick", options);
        torch.manual_seed(999);
        var b = model.Generate("the quick", options);
        var c = model.Generate("the quick", options with { Seed = 43 });
        Assert.Equal(a.Sequences[0].TokenIds, b.Sequences[0].TokenIds);
        Assert.NotEqual(a.Sequences[0].TokenIds, c.Sequences[0].TokenIds);
        Assert.Equal(42, a.Seed);
    }

    [Fact]
    public void TopKOfOneSamplesTheGreedyTokens()
    {
        using var model = ModelWithTokenizer("gpt2");
        var greedy = model.Generate("hello", new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [] });
        var topK1 = model.Generate("hello", new GenerationOptions { MaxNewTokens = 10, Temperature = 2.0, TopK = 1, Seed = 5, EosTokenIds = [] });
        var tinyP = model.Generate("hello", new GenerationOptions { MaxNewTokens = 10, Temperature = 2.0, TopP = 1e-6, Seed = 5, EosTokenIds = [] });
        Assert.Equal(greedy.Sequences[0].TokenIds, topK1.Sequences[0].TokenIds);
        Assert.Equal(greedy.Sequences[0].TokenIds, tinyP.Sequences[0].TokenIds);
    }

    [Fact]
    public void StopsAtAnEosTokenAndKeepsIt()
    {
        using var model = ModelWithTokenizer();
        var free = model.Generate("the", new GenerationOptions { MaxNewTokens = 16, EosTokenIds = [] }).Sequences[0];
        Assert.Equal(FinishReason.Length, free.FinishReason);
        int eos = free.TokenIds[4];
        int first = free.TokenIds.ToList().IndexOf(eos);
        var stopped = model.Generate("the", new GenerationOptions { MaxNewTokens = 16, EosTokenIds = [12345, eos] }).Sequences[0];
        Assert.Equal(FinishReason.Eos, stopped.FinishReason);
        Assert.Equal(free.TokenIds.Take(first + 1), stopped.TokenIds);
    }

    [Fact]
    public void StopStringIsCutFromTheTextAndNeverStreamed()
    {
        using var model = ModelWithTokenizer();
        var free = model.Generate("the lazy", new GenerationOptions { MaxNewTokens = 24, EosTokenIds = [] }).Sequences[0];
        var text = free.Text;
        Assert.True(text.Length >= 6, $"generated text too short for the test: '{text}'");
        var stop = text.Substring(text.Length / 2, 3);
        var streamed = new List<string>();
        var result = model.Generate("the lazy", new GenerationOptions
        {
            MaxNewTokens = 24, EosTokenIds = [], StopStrings = ["never-appears", stop],
            OnToken = c => streamed.Add(c.TextDelta),
        }).Sequences[0];
        Assert.Equal(FinishReason.Stop, result.FinishReason);
        Assert.Equal(text[..text.IndexOf(stop, StringComparison.Ordinal)], result.Text);
        Assert.Equal(result.Text, string.Concat(streamed));
        Assert.DoesNotContain(stop, string.Concat(streamed));
    }

    [Fact]
    public void StreamedDeltasAreWholeCharactersAndAddUpToTheText()
    {
        var tok = Bpe.Value;
        const string text = "héllo wörld 🎵 naïve — done";
        var ids = tok.Encode(text, addSpecialTokens: false).Ids;
        Assert.True(ids.Length > text.Length / 2);
        var stream = new TextStream(tok, [], skipSpecialTokens: true);
        var deltas = ids.Select(stream.Push).ToList();
        deltas.Add(stream.Flush());
        Assert.All(deltas, d => Assert.DoesNotContain('\uFFFD', d));
        Assert.All(deltas.Where(d => d.Length > 0), d => Assert.False(char.IsHighSurrogate(d[^1])));
        Assert.Equal(text, string.Concat(deltas));
        // Some token must have completed nothing on its own (a split multi-byte character).
        Assert.Contains("", deltas.Take(deltas.Count - 1));
    }

    [Fact]
    public void StreamingCallbackReportsEveryTokenAndTheFinish()
    {
        using var model = ModelWithTokenizer();
        var chunks = new List<GenerationChunk>();
        var result = model.Generate(["the", "hello world"], new GenerationOptions { MaxNewTokens = 6, EosTokenIds = [], OnToken = chunks.Add });
        for (int p = 0; p < 2; p++)
        {
            var mine = chunks.Where(c => c.PromptIndex == p).ToList();
            Assert.Equal(result.Sequences[p].TokenIds, mine.Select(c => c.TokenId));
            Assert.Equal(result.Sequences[p].Text, string.Concat(mine.Select(c => c.TextDelta)));
            Assert.Equal(FinishReason.Length, mine[^1].Finish);
            Assert.All(mine.Take(mine.Count - 1), c => Assert.Null(c.Finish));
        }
        Assert.Equal(12, result.GeneratedTokens);
        Assert.True(result.TokensPerSecond > 0);
    }

    [Fact]
    public void CancellationStopsBetweenTokens()
    {
        using var model = ModelWithTokenizer();
        using var cts = new CancellationTokenSource();
        int seen = 0;
        var result = model.Generate("the", new GenerationOptions
        {
            MaxNewTokens = 50, EosTokenIds = [], CancellationToken = cts.Token,
            OnToken = _ => { if (++seen == 3) cts.Cancel(); },
        });
        Assert.Equal(FinishReason.Cancelled, result.Sequences[0].FinishReason);
        Assert.Equal(3, result.Sequences[0].TokenIds.Count);
    }

    [Fact]
    public void RepetitionPenaltyMatchesTheCtrlFormula()
    {
        using var scope = torch.NewDisposeScope();
        var logits = torch.tensor(new float[] { 2f, -1f, 0.5f, 3f });
        var penalised = LogitsProcessing.RepetitionPenalty(logits, [0, 1], 2.0).data<float>();
        Assert.Equal(new float[] { 1f, -2f, 0.5f, 3f }, penalised);
    }

    [Fact]
    public void TopKAndTopPKeepTheExpectedTokens()
    {
        using var scope = torch.NewDisposeScope();
        // probabilities 0.5, 0.3, 0.15, 0.05
        var logits = torch.tensor(new float[] { 0.5f, 0.3f, 0.15f, 0.05f }).log();
        var k2 = LogitsProcessing.TopK(logits, 2).isinf().data<bool>();
        Assert.Equal(new[] { false, false, true, true }, k2);
        var p80 = LogitsProcessing.TopP(logits, 0.8).isinf().data<bool>();
        Assert.Equal(new[] { false, false, true, true }, p80);
        var p81 = LogitsProcessing.TopP(logits, 0.81).isinf().data<bool>();
        Assert.Equal(new[] { false, false, false, true }, p81);
        var p1 = LogitsProcessing.TopP(logits, 0.01).isinf().data<bool>();
        Assert.Equal(new[] { false, true, true, true }, p1);
        // min-p 0.25: threshold 0.125 keeps 0.5, 0.3, 0.15.
        var m = LogitsProcessing.MinP(logits, 0.25).isinf().data<bool>();
        Assert.Equal(new[] { false, false, false, true }, m);
    }

    [Fact]
    public void GenerationConfigEosIdsAreUsedByDefault()
    {
        using var folder = new TempFolder();
        using var model = ModelWithTokenizer();
        var free = model.Generate("the", new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [] }).Sequences[0];
        File.WriteAllText(folder["generation_config.json"], $"{{\"eos_token_id\": [77777, {free.TokenIds[2]}], \"max_new_tokens\": 10}}");
        model.SavePretrained(folder.Path + "/m");
        File.Copy(folder["generation_config.json"], folder.Path + "/m/generation_config.json", overwrite: true);
        using var loaded = CausalLM.FromPretrained(folder.Path + "/m");
        Assert.Equal(new[] { 77777, free.TokenIds[2] }, loaded.GenerationConfig.EosTokenIds);
        Assert.NotNull(loaded.Tokenizer);
        var r = loaded.Generate("the").Sequences[0];
        Assert.Equal(FinishReason.Eos, r.FinishReason);
        Assert.Equal(free.TokenIds.Take(free.TokenIds.ToList().IndexOf(free.TokenIds[2]) + 1), r.TokenIds);
    }
}

public class ChatGenerationTests
{
    [Fact]
    public void ChatRendersTheTemplateAndContinuesIt()
    {
        var tokenizer = Tunebook.Text.Tokenizers.BpeTrainer.Train(
            Enumerable.Repeat("user assistant system hello there how are you today", 20), 290,
            ["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
            config: new Tunebook.Text.Tokenizers.TokenizerConfig
            {
                EosToken = "<|im_end|>",
                ChatTemplate = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}",
            });
        var json = TinyModels.Json("llama");
        json["vocab_size"] = 290;
        torch.manual_seed(5);
        using var model = CausalLM.FromConfig(ModelConfig.FromJson(json));
        model.Tokenizer = tokenizer;
        var messages = new[] { Tunebook.Text.Templates.ChatMessage.User("hello there") };
        var chat = model.Chat(messages, new GenerationOptions { MaxNewTokens = 5, EosTokenIds = [] });
        var rendered = "<|im_start|>user\nhello there<|im_end|>\n<|im_start|>assistant\n";
        var ids = tokenizer.Encode(rendered, addSpecialTokens: false).Ids;
        Assert.Equal(ids.Length, chat.Sequences[0].PromptTokens);
        var direct = model.Generate([ids], new GenerationOptions { MaxNewTokens = 5, EosTokenIds = [] });
        Assert.Equal(direct.Sequences[0].TokenIds, chat.Sequences[0].TokenIds);
    }
}
