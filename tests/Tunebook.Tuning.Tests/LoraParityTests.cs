using System.Diagnostics;
using Tunebook.Models.Gpt2;
using Tunebook.Torch;
using Tunebook.Torch.nn;
using Tunebook.Tuning.Lora;

namespace Tunebook.Tuning.Tests;

/// <summary>The LoRA layer's forward, gradients and merge against PyTorch (Debian's python3-torch) on the same weights.</summary>
[Collection(TorchCollection.Name)]
public class LoraParityTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void ForwardGradientsAndMergeMatchPyTorch(bool fanInFanOut, bool rslora)
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(fanInFanOut ? 31 : 32);
        const int n = 6, inF = 24, outF = 20, r = 4;
        Module<Tensor, Tensor> baseLayer = fanInFanOut ? new Conv1D(inF, outF) : new Linear(inF, outF);
        using (torch.no_grad()) foreach (var p in baseLayer.parameters()) p.normal_(0, 0.3);
        var layer = LoraLinear.FromBase(baseLayer, r, alpha: 12, dropout: 0, rslora: rslora);
        using (torch.no_grad()) layer.lora_B.weight.normal_(0, 0.3);
        var x = torch.randn([n, inF], requires_grad: true);
        var upstream = torch.randn(n, outF);

        var y = layer.forward(x);
        (y * upstream).sum().backward();
        var merged = layer.Merge();

        var dir = Tiny.TempDir();
        var weight = fanInFanOut ? ((Conv1D)baseLayer).weight : ((Linear)baseLayer).weight;
        var bias = fanInFanOut ? ((Conv1D)baseLayer).bias : ((Linear)baseLayer).bias!;
        Safetensors.Save(Path.Combine(dir, "in.safetensors"), new Dictionary<string, Tensor>
        {
            ["x"] = x.detach(), ["weight"] = weight.detach(), ["bias"] = bias.detach(),
            ["lora_A"] = layer.lora_A.weight.detach(), ["lora_B"] = layer.lora_B.weight.detach(), ["upstream"] = upstream,
        });
        RunPython(Path.Combine(dir, "in.safetensors"), Path.Combine(dir, "out.safetensors"), layer.Scaling, fanInFanOut);
        var expected = Safetensors.Load(Path.Combine(dir, "out.safetensors"));

        Assert.Equal(rslora ? 12 / 2.0 : 12 / 4.0, layer.Scaling);
        AssertClose(expected["y"], y, "y");
        AssertClose(expected["grad_x"], x.grad!, "grad x");
        AssertClose(expected["grad_A"], layer.lora_A.weight.grad!, "grad A");
        AssertClose(expected["grad_B"], layer.lora_B.weight.grad!, "grad B");
        var mergedWeight = merged is Conv1D c ? c.weight : ((Linear)merged).weight;
        AssertClose(expected["merged"], mergedWeight, "merged weight");
        Assert.Null(weight.grad); // the base weight is frozen
    }

    static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double diff = Tiny.MaxAbsDiff(expected, actual);
        double scale = expected.abs().max().item<double>();
        Assert.True(diff <= 1e-5 * Math.Max(1, scale), $"{what}: max difference {diff} (scale {scale})");
    }

    static void RunPython(string input, string output, double scaling, bool fanInFanOut)
    {
        var script = Path.Combine(Tiny.RepoRoot, "tests", "Tunebook.Tuning.Tests", "reference", "lora_reference.py");
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (var a in new[] { script, input, output, scaling.ToString("R", System.Globalization.CultureInfo.InvariantCulture), fanInFanOut ? "1" : "0" })
            psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"python reference failed: {stderr.Result}");
    }
}
