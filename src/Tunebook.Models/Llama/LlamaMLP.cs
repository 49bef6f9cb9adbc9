using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>
/// SwiGLU feed-forward: down_proj(silu(gate_proj(x)) × up_proj(x)). The gate decides, per hidden
/// unit, how much of the "up" signal passes.
/// </summary>
public sealed class LlamaMLP : Module<Tensor, Tensor>
{
    public Module<Tensor, Tensor> gate_proj { get; private set; }
    public Module<Tensor, Tensor> up_proj { get; private set; }
    public Module<Tensor, Tensor> down_proj { get; private set; }

    public LlamaMLP(ModelConfig config, Device device, ScalarType dtype)
    {
        gate_proj = RegisterModule("gate_proj", new Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias, device, dtype));
        up_proj = RegisterModule("up_proj", new Linear(config.HiddenSize, config.IntermediateSize, config.MlpBias, device, dtype));
        down_proj = RegisterModule("down_proj", new Linear(config.IntermediateSize, config.HiddenSize, config.MlpBias, device, dtype));
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = torch.NewDisposeScope();
        var gated = functional.swiglu(gate_proj.forward(x), up_proj.forward(x));
        return scope.MoveToOuter(down_proj.forward(gated));
    }
}
