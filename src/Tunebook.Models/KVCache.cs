using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>
/// Keys and values of every attention layer for the tokens seen so far, so that each generation
/// step feeds only the new token instead of the whole sequence. Per layer the cache holds
/// [batch, kv_heads, capacity, head_dim] buffers that grow by doubling; <see cref="Update"/> writes the
/// new positions and returns views of everything stored. Dispose it (or let <see cref="Generator"/>
/// do so) to free the memory.
/// </summary>
public sealed class KVCache : IDisposable
{
    readonly Tensor?[] keys;
    readonly Tensor?[] values;
    readonly long[] lengths;
    readonly long initialCapacity;

    /// <param name="numLayers">Decoder layers of the model.</param>
    /// <param name="initialCapacity">Positions to reserve up front (e.g. prompt + max new tokens); it grows when exceeded.</param>
    public KVCache(int numLayers, long initialCapacity = 256)
    {
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "KVCache: the model must have at least one layer");
        keys = new Tensor?[numLayers];
        values = new Tensor?[numLayers];
        lengths = new long[numLayers];
        this.initialCapacity = Math.Max(1, initialCapacity);
    }

    /// <summary>Number of layers.</summary>
    public int NumLayers => keys.Length;

    /// <summary>Tokens stored (those of layer 0): the position the next token gets.</summary>
    public long Length => lengths[0];

    /// <summary>Bytes held by the buffers (reserved capacity included).</summary>
    public long ReservedBytes => keys.Concat(values).Where(t => t is not null).Sum(t => t!.NumBytes);

    /// <summary>
    /// Appends keys/values [B, H_kv, T, D] for layer <paramref name="layer"/> and returns all stored
    /// keys and values [B, H_kv, length, D] (views into the cache buffers; owned by the current scope).
    /// </summary>
    public (Tensor keys, Tensor values) Update(int layer, Tensor key, Tensor value)
    {
        if ((uint)layer >= (uint)keys.Length) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"KVCache has {keys.Length} layers");
        var shape = key.shape;
        long length = lengths[layer], added = shape[2], needed = length + added;
        if (keys[layer] is { } existing)
        {
            var es = existing.shape;
            if (es[0] != shape[0] || es[1] != shape[1] || es[3] != shape[3])
                throw new ArgumentException($"KVCache layer {layer}: new keys {Shapes.Format(shape)} do not match the cached batch/heads/head_dim {Shapes.Format(es)}");
        }
        if (keys[layer] is null || keys[layer]!.size(2) < needed)
        {
            long capacity = Math.Max(needed, keys[layer] is null ? initialCapacity : keys[layer]!.size(2) * 2);
            Grow(layer, key, capacity);
        }
        using (torch.no_grad())
        {
            using var kSlot = keys[layer]!.narrow(2, length, added);
            using var vSlot = values[layer]!.narrow(2, length, added);
            kSlot.copy_(key);
            vSlot.copy_(value);
        }
        lengths[layer] = needed;
        return (keys[layer]!.narrow(2, 0, needed), values[layer]!.narrow(2, 0, needed));
    }

    void Grow(int layer, Tensor like, long capacity)
    {
        var s = like.shape;
        var k = torch.zeros([s[0], s[1], capacity, s[3]], like.dtype, like.device).DetachFromDisposeScope();
        var v = torch.zeros([s[0], s[1], capacity, s[3]], like.dtype, like.device).DetachFromDisposeScope();
        if (keys[layer] is { } oldK && values[layer] is { } oldV && lengths[layer] > 0)
        {
            using var _ = torch.no_grad();
            using var kDst = k.narrow(2, 0, lengths[layer]);
            using var vDst = v.narrow(2, 0, lengths[layer]);
            using var kSrc = oldK.narrow(2, 0, lengths[layer]);
            using var vSrc = oldV.narrow(2, 0, lengths[layer]);
            kDst.copy_(kSrc);
            vDst.copy_(vSrc);
        }
        keys[layer]?.Dispose();
        values[layer]?.Dispose();
        keys[layer] = k;
        values[layer] = v;
    }

    /// <summary>Forgets every stored token (buffers are kept for reuse).</summary>
    public void Clear() => Array.Clear(lengths);

    /// <summary>Frees the buffers.</summary>
    public void Dispose()
    {
        for (int i = 0; i < keys.Length; i++)
        {
            keys[i]?.Dispose(); keys[i] = null;
            values[i]?.Dispose(); values[i] = null;
            lengths[i] = 0;
        }
    }
}
