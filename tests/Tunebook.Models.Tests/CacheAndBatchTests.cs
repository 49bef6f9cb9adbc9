using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Models.Tests;

/// <summary>KV cache, left-padded batches and packed sequences must not change what the model computes.</summary>
public class CacheAndBatchTests
{
    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void CachedStepsEqualFullRecomputation(string kind)
    {
        using var model = TinyModels.Create(kind);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var all = TinyModels.Sequence(12, 1);
        var full = model.Forward(TinyModels.Ids([all]));
        using var cache = model.NewCache(capacity: 2); // small, so the buffers have to grow
        var prefill = model.Forward(TinyModels.Ids([all[..6]]), cache: cache);
        ParityTests.AssertClose(full.narrow(1, 0, 6), prefill, 1e-5, kind + " prefill");
        for (int t = 6; t < 12; t++)
        {
            var step = model.Forward(TinyModels.Ids([[all[t]]]), cache: cache);
            ParityTests.AssertClose(full.narrow(1, t, 1), step, 1e-5, $"{kind} cached step {t}");
        }
        Assert.Equal(12, cache.Length);
    }

    [Theory]
    [MemberData(nameof(TinyModels.All), MemberType = typeof(TinyModels))]
    public void GreedyTokensAreTheSameWithAndWithoutTheCache(string kind)
    {
        using var model = TinyModels.Create(kind);
        int[] prompt = [5, 9, 14, 33, 2 + 60, 71];
        var cached = model.Generate([prompt], new GenerationOptions { MaxNewTokens = 12, UseCache = true, EosTokenIds = [] });
        var uncached = model.Generate([prompt], new GenerationOptions { MaxNewTokens = 12, UseCache = false, EosTokenIds = [] });
        Assert.Equal(uncached.Sequences[0].TokenIds, cached.Sequences[0].TokenIds);
        Assert.Equal(12, cached.Sequences[0].TokenIds.Count);
        Assert.Equal(FinishReason.Length, cached.Sequences[0].FinishReason);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3-qknorm")]
    [InlineData("mistral-window")]
    [InlineData("gpt2")]
    public void LeftPaddedBatchEqualsIndividualRuns(string kind)
    {
        using var model = TinyModels.Create(kind);
        int[][] prompts = [[7, 8, 9], [10, 20, 30, 40, 50, 60, 70], [3, 4, 5, 6, 7]];
        var options = new GenerationOptions { MaxNewTokens = 8, EosTokenIds = [] };
        var batch = model.Generate(prompts, options);
        for (int i = 0; i < prompts.Length; i++)
        {
            var single = model.Generate([prompts[i]], options);
            Assert.Equal(single.Sequences[0].TokenIds, batch.Sequences[i].TokenIds);
            Assert.Equal(prompts[i].Length, batch.Sequences[i].PromptTokens);
        }
        // Logits of the real tokens too.
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = TinyModels.Ids([[0, 0, 0, 0, 7, 8, 9], [10, 20, 30, 40, 50, 60, 70]]);
        var mask = TinyModels.Ids([[0, 0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1]]);
        var padded = model.Forward(ids, mask);
        var alone = model.Forward(TinyModels.Ids([[7, 8, 9]]));
        ParityTests.AssertClose(alone[0], padded[0].narrow(0, 4, 3), 1e-5, kind + " padded row");
        Assert.False(padded.isnan().any().item<bool>(), "padding rows produced NaN");
    }

    [Theory]
    [InlineData("llama", true)]
    [InlineData("llama", false)]
    [InlineData("gpt2", true)]
    [InlineData("gpt2", false)]
    public void RowsOfABatchStopOnTheirOwnAndTheOthersCarryOn(string kind, bool useCache)
    {
        using var model = TinyModels.Create(kind);
        int[][] prompts = [[7, 8, 9], [10, 20, 30, 40, 50, 60, 70], [3, 4, 5, 6, 7], [11, 12]];
        var free = new GenerationOptions { MaxNewTokens = 10, EosTokenIds = [], UseCache = useCache };
        // End-of-sequence ids that some rows reach early and others later or never: the finished rows
        // leave the batch (and the cache) while the rest go on.
        var alone = prompts.Select(p => model.Generate([p], free).Sequences[0].TokenIds).ToArray();
        // A token row 0 produces that some other row never does.
        int eos = alone[0].First(t => alone.Skip(1).Any(other => !other.Contains(t)));
        var options = free with { EosTokenIds = [eos] };
        var batch = model.Generate(prompts, options);
        var reasons = new List<FinishReason>();
        for (int i = 0; i < prompts.Length; i++)
        {
            var single = model.Generate([prompts[i]], options).Sequences[0];
            Assert.Equal(single.TokenIds, batch.Sequences[i].TokenIds);
            Assert.Equal(single.FinishReason, batch.Sequences[i].FinishReason);
            reasons.Add(single.FinishReason);
        }
        Assert.Equal(FinishReason.Eos, batch.Sequences[0].FinishReason);
        Assert.Contains(FinishReason.Length, reasons);  // at least one row ran to the end after others stopped
        Assert.Equal(batch.Sequences.Sum(s => s.TokenIds.Count), batch.GeneratedTokens);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void LogitsToKeepReturnsTheLastPositionsOfTheFullForward(string kind)
    {
        using var model = TinyModels.Create(kind);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var ids = TinyModels.Ids([TinyModels.Sequence(9, 2), TinyModels.Sequence(9, 5)]);
        var full = model.Forward(ids);
        var last = model.Forward(ids, logitsToKeep: 1);
        Assert.Equal(new long[] { 2, 1, full.size(2) }, last.shape);
        ParityTests.AssertClose(full.narrow(1, 8, 1), last, 1e-5, kind + " last position");
        ParityTests.AssertClose(full.narrow(1, 6, 3), model.Forward(ids, logitsToKeep: 3), 1e-5, kind + " last three");
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Forward(ids, logitsToKeep: -1));
    }

    [Fact]
    public void KeepRowsKeepsTheChosenRowsOfTheCache()
    {
        using var model = TinyModels.Create("llama");
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        long[][] rows = [TinyModels.Sequence(6, 1), TinyModels.Sequence(6, 2), TinyModels.Sequence(6, 3)];
        using var cache = model.NewCache(8);
        model.Forward(TinyModels.Ids(rows), cache: cache);
        cache.KeepRows([2, 0]);
        var next = model.Forward(TinyModels.Ids([[5], [6]]), cache: cache);
        var alone2 = model.Forward(TinyModels.Ids([[.. rows[2], 5]]));
        var alone0 = model.Forward(TinyModels.Ids([[.. rows[0], 6]]));
        ParityTests.AssertClose(alone2.narrow(1, 6, 1)[0], next[0], 1e-5, "kept row 2");
        ParityTests.AssertClose(alone0.narrow(1, 6, 1)[0], next[1], 1e-5, "kept row 0");
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.KeepRows([3]));
        Assert.Throws<ArgumentException>(() => cache.KeepRows([]));
    }

    [Theory]
    [InlineData("llama3-rope")]
    [InlineData("qwen2-bias")]
    [InlineData("gpt2")]
    public void PackedSegmentsEqualSeparateSequences(string kind)
    {
        using var model = TinyModels.Create(kind);
        using var scope = torch.NewDisposeScope();
        using var noGrad = torch.no_grad();
        var a = TinyModels.Sequence(5, 2);
        var b = TinyModels.Sequence(7, 3);
        var c = TinyModels.Sequence(4, 4);
        var packed = TinyModels.Ids([[.. a, .. b, .. c]]);
        var segments = TinyModels.Ids([[.. Enumerable.Repeat(0L, 5), .. Enumerable.Repeat(1L, 7), .. Enumerable.Repeat(2L, 4)]]);
        var logits = model.Forward(packed, segmentIds: segments);
        ParityTests.AssertClose(model.Forward(TinyModels.Ids([a]))[0], logits[0].narrow(0, 0, 5), 1e-5, kind + " segment 0");
        ParityTests.AssertClose(model.Forward(TinyModels.Ids([b]))[0], logits[0].narrow(0, 5, 7), 1e-5, kind + " segment 1");
        ParityTests.AssertClose(model.Forward(TinyModels.Ids([c]))[0], logits[0].narrow(0, 12, 4), 1e-5, kind + " segment 2");
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void GradientCheckpointingGivesTheSameLossAndGradients(string kind)
    {
        using var model = TinyModels.Create(kind);
        model.train();
        using var scope = torch.NewDisposeScope();
        var ids = TinyModels.Ids([TinyModels.Sequence(10, 5), TinyModels.Sequence(10, 6)]);
        var mask = TinyModels.Ids([[0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]);
        var labels = ids.masked_fill(mask.eq(0), -100);
        Tensor Loss(Tensor logits) => CausalLM.CausalLMLoss(logits, labels);

        model.zero_grad();
        model.GradientCheckpointing = false;
        var plain = model.ForwardBackward(ids, Loss, mask).item<float>();
        var expected = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());

        model.zero_grad();
        model.GradientCheckpointing = true;
        var checkpointed = model.ForwardBackward(ids, Loss, mask).item<float>();
        Assert.Equal(plain, checkpointed, 6);
        foreach (var (name, p) in model.named_parameters())
        {
            var g = p.grad;
            Assert.NotNull(g);
            Assert.True(g!.allclose(expected[name], rtol: 1e-5, atol: 1e-7), $"gradient of {name} differs with checkpointing");
        }
    }

    [Fact]
    public void CausalLMLossShiftsLabelsAndIgnoresMaskedTokens()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var logits = torch.randn(2, 4, 5);
        var labels = TinyModels.Ids([[1, 2, 3, 4], [0, -100, 2, -100]]);
        var loss = CausalLM.CausalLMLoss(logits, labels).item<double>();
        // By hand: positions t predict labels t+1; -100 skipped.
        var lsm = logits.log_softmax(-1);
        double total = 0; int count = 0;
        foreach (var (b, t, y) in new[] { (0, 0, 2), (0, 1, 3), (0, 2, 4), (1, 1, 2) })
        {
            total -= lsm[b][t][y].item<double>();
            count++;
        }
        Assert.Equal(total / count, loss, 5);
    }
}
