using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>
/// One pre-norm transformer block: h = x + attn(norm(x)); out = h + mlp(norm(h)). The residual
/// stream carries the token's representation; each sublayer adds a correction to it.
/// </summary>
public sealed class LlamaDecoderLayer : Module
{
    public LlamaAttention self_attn { get; }
    public LlamaMLP mlp { get; }
    public RMSNorm input_layernorm { get; }
    public RMSNorm post_attention_layernorm { get; }

    public LlamaDecoderLayer(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    {
        self_attn = RegisterModule("self_attn", new LlamaAttention(config, layerIndex, device, dtype));
        mlp = RegisterModule("mlp", new LlamaMLP(config, device, dtype));
        input_layernorm = RegisterModule("input_layernorm", new RMSNorm(config.HiddenSize, config.NormEps, device, dtype));
        post_attention_layernorm = RegisterModule("post_attention_layernorm", new RMSNorm(config.HiddenSize, config.NormEps, device, dtype));
    }

    public Tensor Forward(Tensor hidden, ForwardContext context)
    {
        using var scope = torch.NewDisposeScope();
        var h = hidden + self_attn.Forward(input_layernorm.forward(hidden), context);
        var output = h + mlp.forward(post_attention_layernorm.forward(h));
        return scope.MoveToOuter(output);
    }
}
