using Tunebook.Models.Llama;
using Tunebook.Torch;

namespace Tunebook.Models.SmolLM3;

// SmolLM3, as transformers' modeling_smollm3.py computes it. What differs from Llama:
//
//  1. NoPE layers: every fourth layer (no_rope_layers[i] = 0; by default layers 3, 7, 11, ...) applies
//     no rotary position embedding — queries and keys meet by content alone, and the causal mask is
//     the only thing that orders the tokens there. ModelConfig.UsesRope(i) reads the list, and
//     LlamaAttention skips the rotation on those layers.
//  2. A sliding window, only with use_sliding_window, on the layers layer_types marks
//     "sliding_attention" (by default the NoPE layers); ModelConfig.SlidingWindowFor(i) gives it.
//     Released SmolLM3 checkpoints attend over the whole context.
// Everything else — weights, names, RMSNorm, SwiGLU, grouped-query attention, tied embeddings — is Llama's,
// so the model is LlamaForCausalLM built from a smollm3 config.

/// <summary>SmolLM3 (SmolLM3ForCausalLM, model_type smollm3): Llama with NoPE layers.</summary>
public sealed class SmolLM3ForCausalLM : LlamaForCausalLM
{
    public SmolLM3ForCausalLM(ModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(Checked(config), device, dtype) { }

    static ModelConfig Checked(ModelConfig config) => config.ModelType == "smollm3" ? config
        : throw new ArgumentException($"SmolLM3ForCausalLM: the config describes {config.Architecture} (model_type {config.ModelType})");
}
