using Tunebook.Torch;
using Tunebook.Torch.nn;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;

namespace Tunebook.Tuning.Tests;

[Collection(TorchCollection.Name)]
public class Nf4Tests
{
    [Fact]
    public void BytesPerWeight_is_what_a_quantized_layer_holds()
    {
        using var scope = torch.NewDisposeScope();
        // 2 × 256 blocks of 64: no padding, so the layer holds exactly the per-weight bytes plus the one float32 offset.
        var linear = new Linear(512, 64, bias: false);
        using var layer = Nf4Linear.FromLinear(linear);
        long n = 512 * 64;
        long held = layer.Weight.BytesByDType().Values.Sum();
        Assert.Equal(n * Nf4.BytesPerWeight + 4, held);
        // About 4.13 bits per weight, as the QLoRA paper counts it.
        Assert.Equal(4.127, Nf4.BytesPerWeight * 8, 3);
    }

    // The NF4 values as published (QLoRA paper, appendix E; bitsandbytes' NF4 lookup table).
    static readonly double[] Published =
    [
        -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
        -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
        0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
        0.7229568362236023, 1.0,
    ];

    [Fact]
    public void CodeTableComputedFromTheDefinitionMatchesThePublishedConstants()
    {
        var table = Nf4.CodeTable;
        Assert.Equal(16, table.Length);
        for (int i = 0; i < 16; i++)
            Assert.True(Math.Abs(table[i] - Published[i]) < 2e-7, $"code {i}: computed {table[i]:R}, published {Published[i]:R}");
        Assert.Equal(0f, table[7]);          // exact zero
        Assert.Equal(8, table.Count(v => v > 0)); // asymmetric: 8 positive, 7 negative
    }

    [Fact]
    public void NormalQuantilesAreAccurate()
    {
        Assert.Equal(1.959963984540054, NormalDistribution.InverseCdf(0.975), 12);
        Assert.Equal(-2.3263478740408408, NormalDistribution.InverseCdf(0.01), 12);
        Assert.Equal(0.0, NormalDistribution.InverseCdf(0.5), 15);
        Assert.Equal(0.8413447460685429, NormalDistribution.Cdf(1), 14);
    }

    [Fact]
    public void DynamicMapIsBitsandbytesSignedMap()
    {
        var map = Nf4.DynamicMap;
        Assert.Equal(256, map.Length);
        Assert.Equal(1f, map[^1]);
        Assert.Contains(0f, map);
        Assert.True(map.Zip(map.Skip(1)).All(p => p.First <= p.Second), "sorted");
        Assert.Equal(-0.99296875f, map[0], 6); // −(1 − 0.9/64/2): the last midpoint of the finest grid (65 points in [0.1, 1])
    }

    [Fact]
    public void PackingPutsTheFirstValueInTheHighNibble()
    {
        using var scope = torch.NewDisposeScope();
        var values = new float[64];
        values[0] = 1f;   // code 15
        values[1] = -1f;  // code 0
        values[2] = 0f;   // code 7
        values[3] = 0.5f; // nearest: 0.4407 (code 12), not 0.5626
        using var q = Nf4.Quantize(torch.tensor(values));
        var packed = q.Packed.data<byte>();
        Assert.Equal(32, packed.Length);
        Assert.Equal(0xF0, packed[0]);
        Assert.Equal(0x7C, packed[1]);
    }

    [Fact]
    public void DequantizingReadsEachByteAsHighNibbleThenLowNibbleTimesTheBlockScale()
    {
        // The value of every element written out from the stored bytes, one nibble at a time, in float32.
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(21);
        using var q = Nf4.Quantize(torch.randn(50, 30) * 0.1);   // 1500 values: 24 blocks, the last one padded
        var packed = q.Packed.data<byte>();
        var scales = q.BlockScales().data<float>();
        var table = Nf4.CodeTable;
        var expected = new float[1500];
        for (int i = 0; i < expected.Length; i++)
        {
            int code = i % 2 == 0 ? packed[i / 2] >> 4 : packed[i / 2] & 15;
            expected[i] = table[code] * scales[i / Nf4.BlockSize];
        }
        Assert.Equal(expected, q.Dequantize().reshape(-1).data<float>());
        // Other dtypes: the float32 values rounded once.
        Assert.True(torch.tensor(expected).view(50, 30).to(ScalarType.BFloat16).equal(q.Dequantize(ScalarType.BFloat16)));
    }

    [Theory]
    [InlineData(64, 64)]
    [InlineData(100, 37)]    // numel not a multiple of the block size
    [InlineData(300, 200)]   // more than 256 blocks: several second-level blocks
    public void RoundTripErrorIsBoundedByHalfTheLargestGapTimesTheBlockScale(int rows, int cols)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(rows + cols);
        var w = torch.randn(rows, cols) * 0.05;
        w.view(-1)[5].fill_(0.9); // an outlier: its block gets a large scale
        using var q = Nf4.Quantize(w);
        var restored = q.Dequantize();
        Assert.Equal(w.shape, restored.shape);

        long n = w.numel();
        long blocks = (n + 63) / 64;
        var flat = functional.pad(w.reshape(-1), [0, blocks * 64 - n]).view(blocks, 64);
        var absmax = flat.abs().amax([1]);
        var recovered = q.BlockScales();

        // Double quantization: each scale within half a gap of the 8-bit dynamic map × its block's scale.
        var map = Nf4.DynamicMap;
        double mapHalfGap = map.Zip(map.Skip(1)).Max(p => p.Second - p.First) / 2.0;
        var scaleScales = q.ScaleScales.data<float>();
        var scaleError = (recovered - absmax).abs().data<float>();
        for (int b = 0; b < blocks; b++)
            Assert.True(scaleError[b] <= mapHalfGap * scaleScales[b / 256] + 1e-6, $"block scale {b}: error {scaleError[b]} > {mapHalfGap * scaleScales[b / 256]}");

        // Values: half the largest NF4 gap × the true scale, plus what the scale itself is off by (|code| ≤ 1).
        var table = Nf4.CodeTable;
        double halfGap = table.Zip(table.Skip(1)).Max(p => p.Second - p.First) / 2.0;
        var error = (functional.pad(restored.reshape(-1), [0, blocks * 64 - n]).view(blocks, 64) - flat).abs().amax([1]).data<float>();
        var am = absmax.data<float>();
        for (int b = 0; b < blocks; b++)
            Assert.True(error[b] <= halfGap * am[b] + scaleError[b] + 1e-6, $"block {b}: error {error[b]} > bound {halfGap * am[b] + scaleError[b]}");
        // and the error is well below the weights' own size on average (it is a real quantizer)
        Assert.True((restored - w).abs().mean().item<double>() < 0.1 * w.abs().mean().item<double>());
    }

    [Fact]
    public void Nf4LinearForwardUsesTheDequantizedWeightAndPassesGradientToTheInputOnly()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(3);
        var linear = new Linear(96, 40);
        init.normal_(linear.weight, 0, 0.05); // NF4 is designed for normally distributed weights
        var q = Nf4Linear.FromLinear(linear);
        var x = torch.randn([5, 96], requires_grad: true);
        var y = q.forward(x);
        var reference = functional.linear(x.detach(), q.Weight.Dequantize(), linear.bias!.detach());
        Assert.True(Tiny.MaxAbsDiff(y, reference) < 1e-5);
        var exact = functional.linear(x, linear.weight, linear.bias);
        double relative = (y - exact).norm().item<double>() / exact.norm().item<double>();
        Assert.True(relative < 0.2, $"NF4 stays close to the float32 layer: relative error {relative}");
        y.sum().backward();
        Assert.NotNull(x.grad);
        Assert.Empty(q.parameters().Where(p => p.requires_grad));
    }

    [Fact]
    public void QuantizedWeightsFollowModuleToAndKeepTheirDtypes()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Llama();
        Nf4Quantizer.QuantizeModel(model);
        var layer = (Nf4Linear)model.get_submodule("model.layers.0.mlp.up_proj");
        var ids = Tiny.Ids(1, 5);
        var before = model.Forward(ids).detach().clone();

        // Casting the model leaves the codes uint8 and the scales float32 (bitsandbytes keeps them so too).
        model.to(ScalarType.BFloat16);
        Assert.Equal(ScalarType.UInt8, layer.Weight.Packed.dtype);
        Assert.Equal(ScalarType.Float32, layer.Weight.ScaleScales.dtype);
        model.to(ScalarType.Float32);
        Assert.True(Tiny.MaxAbsDiff(model.Forward(ids), before) < 5e-2);

        // Moving it moves the codes with the parameters (Module.to calls Nf4Linear.MoveState).
        var target = TestDevice.Current;
        model.to(target);
        Assert.Equal(target, layer.Weight.Device);
        Assert.Equal(target, layer.Weight.ScaleOffset.device);
        Assert.True(Tiny.MaxAbsDiff(model.Forward(ids.to(target)).to(Device.CPU), before) < 5e-2);
    }

    [Fact]
    public void QuantizingAModelCutsBaseWeightMemoryAndLoraTrainsOnTop()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Llama();
        long original = model.parameters().Sum(p => p.numel());
        var report = Nf4Quantizer.QuantizeModel(model);
        Assert.Equal(14, report.QuantizedLayers);
        Assert.True(report.After.ContainsKey(ScalarType.UInt8));
        // linear weights: 4.127 bits instead of 32; embeddings, norms and lm_head stay float32
        long linearElements = 2 * (32 * 32 * 2 + 32 * 16 * 2 + 3 * 32 * 48);
        // after: half a byte per weight, a byte per 64 (scale codes), 8 bytes per layer (second-level scale and mean)
        long expectedDrop = linearElements * 4 - (linearElements / 2 + linearElements / 64 + 14 * 8);
        Assert.Equal(expectedDrop, report.BytesBefore - report.BytesAfter);
        Assert.Contains("float32", report.ToString());
        Assert.IsType<Nf4Linear>(model.get_submodule("model.layers.0.mlp.up_proj"));
        Assert.IsType<Linear>(model.get_submodule("lm_head"));

        var lora = LoraModel.Apply(model, new LoraConfig { R = 4, Targets = LoraTargets.AllLinearLayers });
        Assert.True(lora.IsQuantized);
        var ids = Tiny.Ids(2, 6);
        var loss = model.Forward(ids).square().mean();
        loss.backward();
        Assert.All(lora.Layers.Values, l => Assert.NotNull(l.lora_A.weight.grad));
        var counts = lora.TrainableParameters();
        Assert.Equal(original + counts.Trainable, counts.Total); // NF4 weights count with their original size
    }

    [Fact]
    public void MergingQLoraDequantizesToTheRequestedDtype()
    {
        using var scope = torch.NewDisposeScope();
        var model = Tiny.Gpt2();
        Nf4Quantizer.QuantizeModel(model);
        var lora = LoraModel.Apply(model, new LoraConfig { R = 4, Targets = LoraTargets.Names("c_attn") });
        Assert.True(lora.FanInFanOut);
        torch.manual_seed(2);
        using (torch.no_grad()) foreach (var l in lora.Layers.Values) l.lora_B.weight.normal_(0, 0.1);
        var ids = Tiny.Ids(1, 5);
        model.eval();
        Tensor before;
        using (torch.no_grad()) before = model.Forward(ids);
        var merged = lora.MergeAndUnload(ScalarType.Float32);
        var cattn = Assert.IsType<Tunebook.Models.Gpt2.Conv1D>(merged.get_submodule("transformer.h.0.attn.c_attn"));
        Assert.Equal(ScalarType.Float32, cattn.weight.dtype);
        Assert.Equal(new long[] { 32, 96 }, cattn.weight.shape); // back in Conv1D's [in, out] layout
        using (torch.no_grad()) Assert.True(Tiny.MaxAbsDiff(before, merged.Forward(ids)) < 1e-4);
    }
}
