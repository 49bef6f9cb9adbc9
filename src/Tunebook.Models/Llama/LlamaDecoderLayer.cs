using Tunebook.Torch;

namespace Tunebook.Models.Llama;

/// <summary>Llama's block: the pre-norm block around <see cref="LlamaAttention"/> and the SwiGLU <see cref="LlamaMLP"/>.</summary>
public sealed class LlamaDecoderLayer(ModelConfig config, int layerIndex, Device device, ScalarType dtype)
    : PreNormDecoderLayer<LlamaAttention, LlamaMLP>(config, new LlamaAttention(config, layerIndex, device, dtype), new LlamaMLP(config, device, dtype), device, dtype);
