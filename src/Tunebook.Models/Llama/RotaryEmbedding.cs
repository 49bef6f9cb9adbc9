using Tunebook.Torch;

namespace Tunebook.Models.Llama;

/// <summary>
/// Rotary position embedding (RoPE): each pair of query/key channels is rotated by an angle
/// position × frequency, so the dot product of a query and a key depends on their distance only.
/// Frequencies are θ^(−2i/d); rope_scaling stretches them for long contexts ("linear" divides every
/// frequency by the factor, "llama3" divides only the low frequencies and blends the middle band,
/// "dynamic" raises θ once a sequence outgrows the pretraining length).
/// </summary>
public sealed class RotaryEmbedding
{
    readonly long _dim;
    readonly double _theta;
    readonly RopeScaling? _scaling;
    readonly long _maxPositions;
    readonly float[] _invFreq;

    public RotaryEmbedding(ModelConfig config)
    {
        _dim = config.HeadDim;
        _theta = config.RopeTheta;
        _scaling = config.RopeScaling;
        // transformers' dynamic NTK scaling measures growth against max_position_embeddings.
        _maxPositions = config.MaxPositionEmbeddings;
        _invFreq = InverseFrequencies(_theta);
        if (_scaling?.Type == "linear")
            for (int i = 0; i < _invFreq.Length; i++) _invFreq[i] = (float)(_invFreq[i] / _scaling.Factor);
        else if (_scaling?.Type == "llama3")
            _invFreq = Llama3(_invFreq, _scaling);
    }

    /// <summary>The per-pair frequencies in use (before any dynamic adjustment).</summary>
    public IReadOnlyList<float> InverseFrequency => _invFreq;

    float[] InverseFrequencies(double baseTheta)
    {
        var result = new float[_dim / 2];
        // Same arithmetic as transformers: 1 / base^(arange(0, d, 2) / d) in float32.
        for (int i = 0; i < result.Length; i++)
            result[i] = 1f / MathF.Pow((float)baseTheta, (float)(2 * i) / _dim);
        return result;
    }

    static float[] Llama3(float[] inv, RopeScaling s)
    {
        double oldContext = s.OriginalMaxPositionEmbeddings!.Value;
        double lowWavelen = oldContext / s.LowFreqFactor;
        double highWavelen = oldContext / s.HighFreqFactor;
        var result = new float[inv.Length];
        for (int i = 0; i < inv.Length; i++)
        {
            double f = inv[i];
            double wavelen = 2 * Math.PI / f;
            if (wavelen < highWavelen) result[i] = (float)f;                 // high frequency: keep
            else if (wavelen > lowWavelen) result[i] = (float)(f / s.Factor); // low frequency: stretch
            else
            {
                double smooth = (oldContext / wavelen - s.LowFreqFactor) / (s.HighFreqFactor - s.LowFreqFactor);
                result[i] = (float)((1 - smooth) * f / s.Factor + smooth * f);
            }
        }
        return result;
    }

    /// <summary>
    /// cos and sin tables [B, T, head_dim] for integer positions [B, T], in <paramref name="dtype"/>.
    /// <paramref name="sequenceLength"/> (the longest position + 1) drives "dynamic" scaling.
    /// </summary>
    public (Tensor cos, Tensor sin) Compute(Tensor positionIds, ScalarType dtype, long sequenceLength)
    {
        using var scope = torch.NewDisposeScope();
        var freqs = _invFreq;
        // Like transformers, the length that counts is the largest position in this pass + 1.
        if (_scaling?.Type == "dynamic") sequenceLength = positionIds.max().item<long>() + 1;
        if (_scaling?.Type == "dynamic" && sequenceLength > _maxPositions)
        {
            double adjusted = _theta * Math.Pow(_scaling.Factor * sequenceLength / _maxPositions - (_scaling.Factor - 1), (double)_dim / (_dim - 2));
            freqs = InverseFrequencies(adjusted);
        }
        var inv = torch.tensor(freqs, device: positionIds.device);
        var angles = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inv;   // [B, T, d/2]
        var emb = torch.cat([angles, angles], -1);                             // [B, T, d]
        var cos = emb.cos().to(dtype);
        var sin = emb.sin().to(dtype);
        return (scope.MoveToOuter(cos), scope.MoveToOuter(sin));
    }

    /// <summary>Rotates [B, H, T, d] queries or keys: x·cos + rotate_half(x)·sin, with cos/sin [B, T, d].</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        var c = cos.unsqueeze(1);
        var s = sin.unsqueeze(1);
        long half = x.size(-1) / 2;
        var x1 = x.narrow(-1, 0, half);
        var x2 = x.narrow(-1, half, half);
        var rotated = torch.cat([x2.neg(), x1], -1);
        return scope.MoveToOuter(x * c + rotated * s);
    }
}
