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
    readonly Tensor?[] _keys;
    readonly Tensor?[] _values;
    readonly long[] _lengths;
    readonly long _initialCapacity;

    /// <param name="numLayers">Decoder layers of the model.</param>
    /// <param name="initialCapacity">Positions to reserve up front (e.g. prompt + max new tokens); it grows when exceeded.</param>
    public KVCache(int numLayers, long initialCapacity = 256)
    {
        if (numLayers <= 0) throw new ArgumentOutOfRangeException(nameof(numLayers), numLayers, "KVCache: the model must have at least one layer");
        _keys = new Tensor?[numLayers];
        _values = new Tensor?[numLayers];
        _lengths = new long[numLayers];
        _initialCapacity = Math.Max(1, initialCapacity);
    }

    /// <summary>Number of layers.</summary>
    public int NumLayers => _keys.Length;

    /// <summary>Tokens stored (those of layer 0): the position the next token gets.</summary>
    public long Length => _lengths[0];

    /// <summary>Bytes held by the buffers (reserved capacity included).</summary>
    public long ReservedBytes => _keys.Concat(_values).Where(t => t is not null).Sum(t => t!.NumBytes);

    /// <summary>
    /// Appends keys/values [B, H_kv, T, D] for layer <paramref name="layer"/> and returns all stored
    /// keys and values [B, H_kv, length, D] (views into the cache buffers; owned by the current scope).
    /// </summary>
    public (Tensor keys, Tensor values) Update(int layer, Tensor key, Tensor value)
    {
        if ((uint)layer >= (uint)_keys.Length) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"KVCache has {_keys.Length} layers");
        var shape = key.shape;
        long length = _lengths[layer], added = shape[2], needed = length + added;
        if (_keys[layer] is { } existing)
        {
            var es = existing.shape;
            if (es[0] != shape[0] || es[1] != shape[1] || es[3] != shape[3])
                throw new ArgumentException($"KVCache layer {layer}: new keys {Tensor.ShapeString(shape)} do not match the cached batch/heads/head_dim {Tensor.ShapeString(es)}");
        }
        if (_keys[layer] is null || _keys[layer]!.size(2) < needed)
        {
            long capacity = Math.Max(needed, _keys[layer] is null ? _initialCapacity : _keys[layer]!.size(2) * 2);
            Grow(layer, key, capacity);
        }
        using (torch.no_grad())
        {
            using var kSlot = _keys[layer]!.narrow(2, length, added);
            using var vSlot = _values[layer]!.narrow(2, length, added);
            kSlot.copy_(key);
            vSlot.copy_(value);
        }
        _lengths[layer] = needed;
        return (_keys[layer]!.narrow(2, 0, needed), _values[layer]!.narrow(2, 0, needed));
    }

    void Grow(int layer, Tensor like, long capacity)
    {
        var s = like.shape;
        var k = torch.zeros([s[0], s[1], capacity, s[3]], like.dtype, like.device).DetachFromDisposeScope();
        var v = torch.zeros([s[0], s[1], capacity, s[3]], like.dtype, like.device).DetachFromDisposeScope();
        if (_keys[layer] is { } oldK && _values[layer] is { } oldV && _lengths[layer] > 0)
        {
            using var _ = torch.no_grad();
            using var kDst = k.narrow(2, 0, _lengths[layer]);
            using var vDst = v.narrow(2, 0, _lengths[layer]);
            using var kSrc = oldK.narrow(2, 0, _lengths[layer]);
            using var vSrc = oldV.narrow(2, 0, _lengths[layer]);
            kDst.copy_(kSrc);
            vDst.copy_(vSrc);
        }
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        _keys[layer] = k;
        _values[layer] = v;
    }

    /// <summary>
    /// Keeps only the batch rows <paramref name="rows"/> (in that order) and frees the others: when a
    /// row of a batched generation has finished, the remaining steps attend over the rows still going.
    /// </summary>
    public void KeepRows(IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0) throw new ArgumentException("KVCache.KeepRows: keep at least one row (dispose the cache to drop them all)");
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            if (_keys[layer] is not { } k || _values[layer] is not { } v) continue;
            long batch = k.size(0);
            foreach (var r in rows)
                if (r < 0 || r >= batch) throw new ArgumentOutOfRangeException(nameof(rows), r, $"KVCache.KeepRows: row {r} is outside the cached batch of {batch}");
            using var index = torch.tensor(rows.Select(r => (long)r).ToArray(), device: k.device);
            // Only the filled positions are copied; capacity stays as it was.
            var keptK = torch.zeros([rows.Count, k.size(1), k.size(2), k.size(3)], k.dtype, k.device).DetachFromDisposeScope();
            var keptV = torch.zeros([rows.Count, v.size(1), v.size(2), v.size(3)], v.dtype, v.device).DetachFromDisposeScope();
            using (torch.no_grad())
            {
                long n = _lengths[layer];
                using var kDst = keptK.narrow(2, 0, n);
                using var vDst = keptV.narrow(2, 0, n);
                using var kSrc = k.narrow(2, 0, n);
                using var vSrc = v.narrow(2, 0, n);
                using var kRows = kSrc.index_select(0, index);
                using var vRows = vSrc.index_select(0, index);
                kDst.copy_(kRows);
                vDst.copy_(vRows);
            }
            k.Dispose();
            v.Dispose();
            _keys[layer] = keptK;
            _values[layer] = keptV;
        }
    }

    /// <summary>Forgets every stored token (buffers are kept for reuse).</summary>
    public void Clear() => Array.Clear(_lengths);

    /// <summary>Frees the buffers.</summary>
    public void Dispose()
    {
        for (int i = 0; i < _keys.Length; i++)
        {
            _keys[i]?.Dispose(); _keys[i] = null;
            _values[i]?.Dispose(); _values[i] = null;
            _lengths[i] = 0;
        }
    }
}
