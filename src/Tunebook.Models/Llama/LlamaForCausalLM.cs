using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>
/// Llama and its relatives (Mistral, Qwen2, Qwen3, SmolLM2, TinyLlama): RMSNorm, rotary positions,
/// grouped-query attention, SwiGLU, optional q/k/v bias, q/k norm and sliding window; lm_head tied
/// to the embedding or separate. Architectures: LlamaForCausalLM, MistralForCausalLM,
/// Qwen2ForCausalLM, Qwen3ForCausalLM (and SmolLM3ForCausalLM, which derives from it).
/// </summary>
public class LlamaForCausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
    : LlamaLikeForCausalLM<LlamaDecoderLayer>(NotGpt2(config), device, dtype,
        (i, dev) => new LlamaDecoderLayer(config, i, dev, dtype),
        dev => new RMSNorm(config.HiddenSize, config.NormEps, dev, dtype))
{
    static ModelConfig NotGpt2(ModelConfig config) => config?.IsGpt2 != true ? config!
        : throw new ArgumentException("LlamaForCausalLM: the config describes a GPT-2 model; use GPT2LMHeadModel");
}
