using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models.Llama;

/// <summary>
/// Rotary position embedding (RoPE): each pair of query/key channels is rotated by an angle
/// position × frequency, so the dot product of a query and a key depends on their distance only.
/// Frequencies are θ^(−2i/d); rope_scaling stretches them for long contexts ("linear" divides every
/// frequency by the factor, "llama3" divides only the low frequencies and blends the middle band,
/// "dynamic" raises θ once a sequence outgrows the pretraining length, "longrope" divides each frequency
/// by its own short or long factor, the long ones once the sequence outgrows the pretraining length,
/// and scales cos and sin by an attention factor). With partial rotary (Phi-4-mini) only the first
/// d = head_dim × partial_rotary_factor channels of a head rotate; the rest pass unchanged.
/// </summary>
public sealed class RotaryEmbedding
{
    readonly long _dim;
    readonly double _theta;
    readonly RopeScaling? _scaling;
    readonly long _maxPositions;
    readonly float[] _invFreq;
    // longrope: the frequencies for sequences longer than the pretraining context, and the cos/sin multiplier.
    readonly float[]? _longInvFreq;
    readonly long _originalMaxPositions;
    readonly double _attentionScaling = 1.0;

    /// <summary>The rotary embedding of a config's attention layers (θ = rope_theta, its rope_scaling, its rotary width).</summary>
    public RotaryEmbedding(ModelConfig config) : this(config, config.RopeTheta, config.RopeScaling) { }

    /// <summary>A rotary embedding with another base and scaling (Gemma 3's sliding-window layers: rope_local_base_freq, no scaling).</summary>
    public RotaryEmbedding(ModelConfig config, double theta, RopeScaling? scaling)
    {
        _dim = config.RotaryDim;
        _theta = theta;
        _scaling = scaling;
        // transformers' dynamic NTK scaling measures growth against max_position_embeddings.
        _maxPositions = config.MaxPositionEmbeddings;
        _invFreq = InverseFrequencies(_theta);
        if (_scaling?.Type == "linear")
            for (int i = 0; i < _invFreq.Length; i++) _invFreq[i] = (float)(_invFreq[i] / _scaling.Factor);
        else if (_scaling?.Type == "llama3")
            _invFreq = Llama3(_invFreq, _scaling);
        else if (_scaling?.Type == "longrope")
        {
            // transformers' _compute_longrope_parameters: Phi-3 keeps the pretraining length at the top
            // of config.json and derives the stretch from it; the attention factor follows the paper.
            _originalMaxPositions = config.OriginalMaxPositionEmbeddings ?? _scaling.OriginalMaxPositionEmbeddings ?? config.MaxPositionEmbeddings;
            double factor = config.OriginalMaxPositionEmbeddings is { } original ? (double)config.MaxPositionEmbeddings / original : _scaling.Factor;
            _attentionScaling = _scaling.AttentionFactor
                ?? (factor <= 1 ? 1.0 : Math.Sqrt(1 + Math.Log(factor) / Math.Log(_originalMaxPositions)));
            _invFreq = LongRope(_scaling.ShortFactor!);
            _longInvFreq = LongRope(_scaling.LongFactor!);
        }
    }

    /// <summary>1 / (factor_i · θ^(2i/d)) in float32, as transformers computes it.</summary>
    float[] LongRope(IReadOnlyList<double> factors)
    {
        var result = new float[_dim / 2];
        for (int i = 0; i < result.Length; i++)
            result[i] = 1f / ((float)factors[i] * MathF.Pow((float)_theta, (float)(2 * i) / _dim));
        return result;
    }

    /// <summary>
    /// longrope: the sequence length beyond which the long factors replace the short ones (every position,
    /// earlier ones included, then rotates differently); null for other scalings.
    /// </summary>
    public long? LongFactorsBeyond => _longInvFreq is null ? null : _originalMaxPositions;

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
    /// cos and sin tables [B, T, head_dim] for integer positions [B, T], in <paramref name="dtype"/>. The sin
    /// table carries rotate_half's sign (−sin in the first half, +sin in the second), as <see cref="Apply"/>
    /// uses it. <paramref name="sequenceLength"/> (the longest position + 1) drives "dynamic" scaling.
    /// </summary>
    public (Tensor cos, Tensor sin) Compute(Tensor positionIds, ScalarType dtype, long sequenceLength)
    {
        using var scope = torch.NewDisposeScope();
        var freqs = _invFreq;
        // Like transformers, the length that counts is the largest position in this pass + 1.
        if (_scaling?.Type is "dynamic" or "longrope") sequenceLength = positionIds.max().item<long>() + 1;
        if (_longInvFreq is not null && sequenceLength > _originalMaxPositions) freqs = _longInvFreq;
        if (_scaling?.Type == "dynamic" && sequenceLength > _maxPositions)
        {
            double adjusted = _theta * Math.Pow(_scaling.Factor * sequenceLength / _maxPositions - (_scaling.Factor - 1), (double)_dim / (_dim - 2));
            freqs = InverseFrequencies(adjusted);
        }
        var inv = torch.tensor(freqs, device: positionIds.device);
        var angles = positionIds.to(ScalarType.Float32).unsqueeze(-1) * inv;   // [B, T, d/2]
        var cos = torch.cat([angles, angles], -1).cos();                       // [B, T, d]
        // rotate_half(x)·sin = [x₂, x₁]·[−sin, sin]: the sign goes onto this small table once per forward
        // pass, so applying it to every layer's queries and keys needs no negation pass.
        var halfSin = angles.sin();
        var sin = torch.cat([halfSin.neg(), halfSin], -1);
        if (_attentionScaling != 1.0) { cos = cos * _attentionScaling; sin = sin * _attentionScaling; }
        cos = cos.to(dtype);
        sin = sin.to(dtype);
        return (scope.MoveToOuter(cos), scope.MoveToOuter(sin));
    }

    /// <summary>
    /// Rotates [B, H, T, head_dim] queries or keys: x·cos + rotate_half(x)·sin, with the cos and signed sin
    /// tables [B, T, d] of <see cref="Compute"/>. When
    /// d is less than head_dim (partial rotary) the first d channels rotate and the others pass unchanged.
    /// </summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        long rotary = cos.size(-1), width = x.size(-1);
        if (rotary < width)
        {
            using var partial = torch.NewDisposeScope();
            var turned = Apply(x.narrow(-1, 0, rotary), cos, sin);
            return partial.MoveToOuter(torch.cat([turned, x.narrow(-1, rotary, width - rotary)], -1));
        }
        return functional.rotary(x, cos, sin);
    }
}
