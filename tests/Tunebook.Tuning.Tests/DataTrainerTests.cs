using Tunebook.Tuning.Data;
using Tunebook.Tuning.Training;

namespace Tunebook.Tuning.Tests;

/// <summary>Prepared sets fed to the real trainer and model: packing must not change the loss.</summary>
public class DataTrainerTests
{
    static List<TokenizedExample> Examples(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(i =>
        {
            int length = random.Next(4, 20), prompt = random.Next(1, length - 1);
            var ids = Enumerable.Range(0, length).Select(_ => random.Next(3, 61)).ToArray();
            var labels = ids.Select((id, k) => k < prompt ? TokenizedExample.Ignore : id).ToArray();
            return new TokenizedExample { InputIds = ids, Labels = labels, SourceIndex = i, Location = new RowLocation("synthetic", ArrayIndex: i), Text = "", OriginalLength = length };
        }).ToList();
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gpt2")]
    public void Packed_rows_give_the_loss_of_the_examples_computed_one_by_one(string architecture)
    {
        var examples = Examples(24, seed: 11);
        var unpacked = TrainingSet.Unpacked(examples, padTokenId: 0);
        var packed = new TrainingSet(examples, Packing.Pack(examples, 48), padTokenId: 0, packed: true);
        Assert.True(packed.Count < unpacked.Count);

        using var model = architecture == "llama" ? Tiny.Llama(seed: 3) : Tiny.Gpt2(seed: 3);
        using var trainer = new Trainer(model, unpacked, null, new TrainerOptions { MaxSteps = 1, BatchSize = 5 });
        var (lossOne, tokensOne) = trainer.Measure(unpacked);
        var (lossPacked, tokensPacked) = trainer.Measure(packed);
        Assert.Equal(tokensOne, tokensPacked);
        Assert.Equal(unpacked.TargetTokens, tokensOne);
        Assert.Equal(lossOne, lossPacked, 5);
    }

    [Fact]
    public void The_trainer_learns_from_a_packed_set()
    {
        var examples = Examples(12, seed: 5);
        var packed = new TrainingSet(examples, Packing.Pack(examples, 40), padTokenId: 0, packed: true);
        using var model = Tiny.Llama(seed: 4);
        using var trainer = new Trainer(model, packed, null, new TrainerOptions { MaxSteps = 30, BatchSize = 2, LearningRate = 1e-2 });
        double before = trainer.Measure(packed).Loss;
        trainer.Run();
        double after = trainer.Measure(packed).Loss;
        Assert.True(after < before * 0.7, $"loss {before} → {after}");
    }
}
