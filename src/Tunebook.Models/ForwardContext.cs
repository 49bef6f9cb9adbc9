using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>
/// What every decoder layer of one forward pass shares: the rotary tables, the attention masks, the
/// KV cache and where the new tokens start. Built by <see cref="CausalLM"/> before the first layer.
/// </summary>
public sealed class ForwardContext
{
    /// <summary>Batch size B.</summary>
    public required long Batch { get; init; }
    /// <summary>New tokens T.</summary>
    public required long Length { get; init; }
    /// <summary>Tokens already in the cache before this pass.</summary>
    public required long PastLength { get; init; }
    /// <summary>Position of each new token [B, T].</summary>
    public required Tensor PositionIds { get; init; }
    /// <summary>Additive mask [B, 1, T, past+T] for full-attention layers; null = causal / none (see <see cref="IsCausal"/>).</summary>
    public Tensor? Mask { get; init; }
    /// <summary>Additive mask for sliding-window layers (null when the model has no window).</summary>
    public Tensor? SlidingMask { get; init; }
    /// <summary>True when attention should apply the plain causal triangle itself (no explicit mask needed).</summary>
    public bool IsCausal { get; init; }
    /// <summary>Rotary tables [B, T, head_dim] (Llama family).</summary>
    public Tensor? Cos { get; init; }
    public Tensor? Sin { get; init; }
    /// <summary>The cache to read and extend, or null.</summary>
    public KVCache? Cache { get; init; }
}
