using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Tests;

/// <summary>
/// The block-by-block training loss (ChunkedCrossEntropy) against the loss of the full logits
/// (CausalLM.CausalLMLoss): the same value and the same gradients, for every block size, with ignored
/// labels, a trainable or frozen output weight, tied embeddings, Gemma's logit soft-cap, gradient
/// checkpointing and bfloat16.
/// </summary>
public class ChunkedCrossEntropyTests
{
    [Theory]
    [InlineData(0, null, true)]
    [InlineData(1, null, true)]
    [InlineData(3, null, false)]
    [InlineData(4, 5.0, true)]
    [InlineData(100, 2.0, false)]
    public void LossAndGradientsEqualThoseOfTheFullLogits(long chunkRows, double? softcap, bool weightTrains)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(11);
        var normed = (torch.randn([3, 6, 8], ScalarType.Float64) * 2).requires_grad_();
        var weight = (torch.randn([13, 8], ScalarType.Float64) * 0.7).requires_grad_(weightTrains);
        var labels = TinyModels.Ids([[1, 2, 3, 4, 5, 6], [0, -100, 12, -100, 7, 7], [9, 9, -100, -100, -100, 11]]);
        const double scale = 1.0 / 9;

        var logits = functional.linear(normed, weight);
        if (softcap is { } cap) logits = (logits / cap).tanh() * cap;
        var expected = CausalLM.CausalLMLoss(logits, labels, reduction: "sum") * scale;
        expected.backward();
        var expectedHidden = normed.grad!.clone();
        var expectedWeight = weightTrains ? weight.grad!.clone() : null;
        normed.grad = null;
        if (weightTrains) weight.grad = null;

        var loss = ChunkedCrossEntropy.CausalLMLoss(normed, labels, new OutputProjection(weight, softcap), scale, chunkRows: chunkRows);
        loss.backward();
        Assert.Equal(expected.item<double>(), loss.item<double>(), 5);
        ParityTests.AssertClose(expectedHidden, normed.grad!, 1e-6, "gradient by the hidden states");
        if (weightTrains) ParityTests.AssertClose(expectedWeight!, weight.grad!, 1e-6, "gradient by the output weight");
        else Assert.Null(weight.grad);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("gemma3-softcap")]
    [InlineData("gpt2")]
    public void EvaluationLossSumEqualsTheLossOfTheLogits(string kind)
    {
        using var model = TinyModels.Create(kind);
        using var scope = torch.NewDisposeScope();
        var ids = TinyModels.Ids([TinyModels.Sequence(12, 3), TinyModels.Sequence(12, 4)]);
        var mask = TinyModels.Ids([[0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]);
        var labels = ids.masked_fill(mask.eq(0), -100);
        using var noGrad = torch.no_grad();
        double expected = CausalLM.CausalLMLoss(model.Forward(ids, mask), labels, reduction: "sum").item<double>();
        var sum = model.LossSum(ids, labels, mask);
        Assert.False(sum.requires_grad);
        Assert.Equal(expected, sum.item<double>(), 4);
    }

    [Fact]
    public void AllIgnoredLabelsGiveZeroLossAndGradient()
    {
        using var scope = torch.NewDisposeScope();
        var normed = torch.randn(1, 4, 8).requires_grad_();
        var weight = torch.randn(13, 8);
        var labels = TinyModels.Ids([[5, -100, -100, -100]]);
        var loss = ChunkedCrossEntropy.CausalLMLoss(normed, labels, new OutputProjection(weight));
        loss.backward();
        Assert.Equal(0.0, loss.item<double>());
        Assert.Equal(0.0, normed.grad!.abs().max().item<double>());
    }

    [Fact]
    public void LabelsOutsideTheVocabularyAreRejectedByPosition()
    {
        using var scope = torch.NewDisposeScope();
        var normed = torch.randn(1, 4, 8);
        var weight = torch.randn(13, 8);
        var e = Assert.Throws<ArgumentException>(() => ChunkedCrossEntropy.CausalLMLoss(normed, TinyModels.Ids([[1, 2, 13, 3]]), new OutputProjection(weight)));
        Assert.Contains("label 13 at shifted position 1 is outside the vocabulary (0..12)", e.Message);
        e = Assert.Throws<ArgumentException>(() => ChunkedCrossEntropy.CausalLMLoss(normed, TinyModels.Ids([[1, 2]]), new OutputProjection(weight)));
        Assert.Contains("labels [B, T]", e.Message);
        e = Assert.Throws<ArgumentException>(() => ChunkedCrossEntropy.CausalLMLoss(normed, TinyModels.Ids([[1, 2, 3, 4]]), new OutputProjection(torch.randn(13, 7))));
        Assert.Contains("[vocab, 8]", e.Message);
    }

    /// <summary>Every parameter's gradient and the loss of the model's training entry point, against the logits path.</summary>
    static void AssertTrainingMatchesLogitsPath(CausalLM model, bool checkpointing, double tolerance, string what)
    {
        using var scope = torch.NewDisposeScope();
        model.train();
        model.GradientCheckpointing = checkpointing;
        model.requires_grad_(true);
        var ids = TinyModels.Ids([TinyModels.Sequence(10, 5), TinyModels.Sequence(10, 6)]);
        var mask = TinyModels.Ids([[0, 0, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]]);
        var labels = ids.masked_fill(mask.eq(0), -100);
        const double scale = 1.0 / 15;

        model.zero_grad();
        var expected = model.ForwardBackward(ids, logits => CausalLM.CausalLMLoss(logits, labels, reduction: "sum") * scale, mask).item<double>();
        var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.to(ScalarType.Float32).clone());

        model.zero_grad();
        bool called = false;
        var loss = model.ForwardBackward(ids, labels, scale, mask, forwardDone: () => called = true).item<double>();
        Assert.True(called, "forwardDone was not called");
        Assert.Equal(expected, loss, tolerance * Math.Max(1, Math.Abs(expected)));
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.NotNull(p.grad);
            var g = p.grad!.to(ScalarType.Float32);
            double error = (g - grads[name]).norm().item<double>() / Math.Max(1e-12, grads[name].norm().item<double>());
            Assert.True(error < tolerance, $"{what}: gradient of {name} differs by {error:g3} (relative), more than {tolerance:g3}");
        }
    }

    [Theory]
    [InlineData("llama", false)]            // tied embedding: the weight's gradient joins the embedding's
    [InlineData("llama", true)]
    [InlineData("qwen2-bias", false)]       // separate lm_head
    [InlineData("gemma3-softcap", false)]   // final-logit soft-cap
    [InlineData("gpt2", true)]
    public void TrainingTakesTheLossInBlocksWithTheGradientsOfTheLogitsPath(string kind, bool checkpointing)
    {
        using var model = TinyModels.Create(kind);
        Assert.True(model.ChunkedTrainingLoss);
        AssertTrainingMatchesLogitsPath(model, checkpointing, 1e-5, kind);
    }

    [Fact]
    public void BFloat16TrainingAgreesWithTheLogitsPathToBFloat16Rounding()
    {
        using var model = TinyModels.Create("qwen2-bias");
        model.to(ScalarType.BFloat16);
        AssertTrainingMatchesLogitsPath(model, false, 2e-2, "bfloat16");
    }

    /// <summary>An output head that is not a plain Linear (as a LoRA adapter on lm_head is).</summary>
    sealed class WrappedHead(Linear inner) : Module<Tensor, Tensor>
    {
        readonly Linear _inner = inner;
        public override Tensor forward(Tensor x) => _inner.forward(x) * 1.5;
    }

    [Fact]
    public void AReplacedOutputHeadTrainsThroughTheLogits()
    {
        using var model = TinyModels.Create("qwen2-bias");
        var llama = (Tunebook.Models.Llama.LlamaForCausalLM)model;
        model.ReplaceModule("lm_head", new WrappedHead((Linear)llama.lm_head!));
        Assert.False(model.ChunkedTrainingLoss);
        AssertTrainingMatchesLogitsPath(model, false, 1e-6, "replaced head");
    }
}
