using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>
/// What the decoder layers of one forward pass are handed, built by <see cref="CausalLM"/> before the
/// first layer: where the new tokens sit (positions, rotary tables), what each layer may attend to
/// (its mask), and the KV cache. Layers read from it; nothing calls back up into the model.
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
    /// <summary>
    /// The additive mask [B, 1, T, past+T] of each layer, by layer index (layers with the same sliding
    /// window share one tensor). A null entry means no explicit mask: see <see cref="IsCausal"/>.
    /// </summary>
    public required IReadOnlyList<Tensor?> Masks { get; init; }
    /// <summary>
    /// True when the new tokens must not see their own future (a prompt of more than one token with an
    /// empty cache): a layer whose mask is null then asks attention for the plain causal triangle.
    /// </summary>
    public bool IsCausal { get; init; }
    /// <summary>Rotary cosine table [B, T, head_dim] (models with rotary positions; null otherwise).</summary>
    public Tensor? Cos { get; init; }
    /// <summary>Rotary sine table [B, T, head_dim] with rotate_half's sign (<see cref="Llama.RotaryEmbedding.Compute"/>; null without rotary positions).</summary>
    public Tensor? Sin { get; init; }
    /// <summary>
    /// Rotary tables of the sliding-window layers when their RoPE differs from the global layers'
    /// (Gemma 3's rope_local_base_freq); null when every layer uses <see cref="Cos"/>/<see cref="Sin"/>.
    /// </summary>
    public Tensor? LocalCos { get; init; }
    /// <summary>Sine table matching <see cref="LocalCos"/>.</summary>
    public Tensor? LocalSin { get; init; }
    /// <summary>The cache to read and extend, or null.</summary>
    public KVCache? Cache { get; init; }
}
