using Tunebook.Torch.Interop;

namespace Tunebook.Torch.nn;

/// <summary>Stateless layers and losses (torch.nn.functional). Use as <c>using F = Tunebook.Torch.nn.functional;</c>.</summary>
public static class functional
{
    /// <summary>y = x Wᵀ + b with weight [out, in].</summary>
    public static Tensor linear(Tensor input, Tensor weight, Tensor? bias = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        return Tensor.Wrap(NativeMethods.tb_linear(input.HandleFor("linear", 0), weight.HandleFor("linear", 1), bias is null ? IntPtr.Zero : bias.HandleFor("linear", 2)), "linear");
    }

    public static Tensor relu(Tensor x) => x.relu();
    public static Tensor silu(Tensor x) => x.silu();
    public static Tensor gelu(Tensor x, string approximate = "none") => x.gelu(approximate);
    public static Tensor sigmoid(Tensor x) => x.sigmoid();
    public static Tensor softmax(Tensor x, int dim, ScalarType? dtype = null) => x.softmax(dim, dtype);
    public static Tensor log_softmax(Tensor x, int dim, ScalarType? dtype = null) => x.log_softmax(dim, dtype);

    /// <summary>Inverted dropout: zeroes elements with probability p when training, scaling the rest by 1/(1−p).</summary>
    public static Tensor dropout(Tensor x, double p = 0.5, bool training = true)
    {
        if (p < 0 || p > 1) throw new ArgumentOutOfRangeException(nameof(p), p, "dropout: p must be in [0, 1]");
        return Aten.Dropout.Call(x, p, training);
    }

    /// <summary>Rows of <paramref name="weight"/> selected by integer <paramref name="input"/>; padding_idx rows get no gradient.</summary>
    public static Tensor embedding(Tensor input, Tensor weight, long? padding_idx = null)
    {
        var dt = input.dtype;
        if (dt != ScalarType.Int64 && dt != ScalarType.Int32)
            throw new ArgumentException($"embedding: indices must be int64 or int32, got {dt.Name()}");
        return Aten.Embedding.Call(weight, input, padding_idx ?? -1);
    }

    /// <summary>Layer normalization over the trailing <paramref name="normalized_shape"/> dimensions.</summary>
    public static Tensor layer_norm(Tensor input, long[] normalized_shape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5) =>
        Aten.LayerNorm.Call(input, normalized_shape, weight, bias, eps);

    /// <summary>
    /// Llama's RMS norm over the last dimension: weight · (x / √(mean(x²) + eps)), with x / √(…) computed in float32
    /// and cast back to the input's dtype before the weight's product, as transformers' LlamaRMSNorm does. CPU float32
    /// and bfloat16 run as one fused kernel (<see cref="torch.fused_cpu_kernels"/>).
    /// </summary>
    public static Tensor rms_norm(Tensor input, Tensor weight, double eps = 1e-6)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (torch.RunsFused(input, weight))
            return Tensor.Wrap(NativeMethods.tb_rms_norm(input.HandleFor("rms_norm", 0), weight.HandleFor("rms_norm", 1), eps), "rms_norm");
        return rms_norm_composed(input, weight, eps);
    }

    /// <summary><see cref="rms_norm"/> written out in libtorch operations (GPUs, other dtypes, and the reference for the fused kernel).</summary>
    public static Tensor rms_norm_composed(Tensor input, Tensor weight, double eps = 1e-6)
    {
        var dt = input.dtype;
        using var scope = torch.NewDisposeScope();
        var x = dt == ScalarType.Float32 || dt == ScalarType.Float64 ? input : input.to(ScalarType.Float32);
        var variance = x.pow(2).mean(-1, keepdim: true);
        var normed = x * (variance + eps).rsqrt();
        if (normed.dtype != dt) normed = normed.to(dt);
        return scope.MoveToOuter(weight * normed);
    }

    /// <summary>
    /// SwiGLU's gating, silu(gate) · up (the feed-forward of Llama and its relatives). CPU float32 and bfloat16 run
    /// as one fused kernel (<see cref="torch.fused_cpu_kernels"/>), which also keeps no silu(gate) for the backward.
    /// </summary>
    public static Tensor swiglu(Tensor gate, Tensor up)
    {
        ArgumentNullException.ThrowIfNull(gate);
        ArgumentNullException.ThrowIfNull(up);
        if (torch.RunsFused(gate, up) && gate.shape.AsSpan().SequenceEqual(up.shape))
            return Tensor.Wrap(NativeMethods.tb_swiglu(gate.HandleFor("swiglu", 0), up.HandleFor("swiglu", 1)), "swiglu");
        return swiglu_composed(gate, up);
    }

    /// <summary><see cref="swiglu"/> written out: silu(gate) * up (broadcasting; the reference for the fused kernel).</summary>
    public static Tensor swiglu_composed(Tensor gate, Tensor up)
    {
        using var silu = gate.silu();
        return silu * up;
    }

    /// <summary>
    /// The rotary position embedding (RoPE) of queries or keys <paramref name="x"/> [B, H, T, D]: x·cos + rotate_half(x)·sin,
    /// where rotate_half(x) = [x₂, x₁] (the two halves of the last dimension swapped) and <paramref name="sin"/> carries
    /// rotate_half's sign (−sin in the first half, +sin in the second). cos and sin are [B, T, D] or [1, T, D] (one
    /// table for every sequence). CPU float32 and bfloat16 run as one fused kernel (<see cref="torch.fused_cpu_kernels"/>)
    /// whose result is a contiguous [B, H, T, D]; tables that require a gradient, odd D and other shapes take the
    /// written-out formula.
    /// </summary>
    public static Tensor rotary(Tensor x, Tensor cos, Tensor sin)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(cos);
        ArgumentNullException.ThrowIfNull(sin);
        if (torch.RunsFused(x, cos) && torch.RunsFused(x, sin) && !cos.requires_grad && !sin.requires_grad
            && x.dim() == 4 && cos.dim() == 3 && cos.shape.AsSpan().SequenceEqual(sin.shape)
            && (cos.size(0) == 1 || cos.size(0) == x.size(0)) && cos.size(1) == x.size(2) && cos.size(2) == x.size(3) && x.size(3) % 2 == 0)
            return Tensor.Wrap(NativeMethods.tb_rotary(x.HandleFor("rotary", 0), cos.HandleFor("rotary", 1), sin.HandleFor("rotary", 2)), "rotary");
        return rotary_composed(x, cos, sin);
    }

    /// <summary><see cref="rotary"/> written out: x·cos + [x₂, x₁]·sin, the tables broadcast over the heads (the reference for the fused kernel).</summary>
    public static Tensor rotary_composed(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = torch.NewDisposeScope();
        long half = x.size(-1) / 2;
        var swapped = torch.cat([x.narrow(-1, half, half), x.narrow(-1, 0, half)], -1);
        // addcmul does the second product and the sum in one pass.
        return scope.MoveToOuter((x * cos.unsqueeze(1)).addcmul(swapped, sin.unsqueeze(1)));
    }

    /// <summary>
    /// Cross-entropy between logits [N, C] (or [N, C, d...]) and class indices [N] (or [N, d...]).
    /// Targets equal to <paramref name="ignore_index"/> contribute nothing (and do not count in the mean).
    /// reduction: "mean", "sum" or "none".
    /// </summary>
    public static Tensor cross_entropy(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100, string reduction = "mean", double label_smoothing = 0)
    {
        var ts = target.dtype;
        if (ts != ScalarType.Int64 && !ts.IsFloatingPoint())
            throw new ArgumentException($"cross_entropy: target must hold int64 class indices (or float probabilities), got {ts.Name()}");
        return Aten.CrossEntropyLoss.Call(input, target, weight, Reduction(reduction, "cross_entropy"), ignore_index, label_smoothing);
    }

    /// <summary>
    /// Cross-entropy of logits [N, V] at class indices [N], with its gradient, for losses that carry their gradient
    /// themselves (no autograd): the sum over counted rows (target ≠ <paramref name="ignore_index"/>) of
    /// logsumexp(z) − z[target], a float32 scalar; and when <paramref name="gradient"/>, d(scale · that sum)/dz =
    /// scale · (softmax(z) − one_hot(target)), 0 on ignored rows, [N, V] in the logits' dtype, multiplied elementwise
    /// by <paramref name="factor"/> (float32, [N, V]) when given. Computed in float32. CPU float32 and bfloat16 logits
    /// without a factor run as one fused kernel (<see cref="torch.fused_cpu_kernels"/>): three passes over the logits,
    /// where the written-out formula takes about eight over a float32 copy. Targets must be in 0..V−1 or ignore_index.
    /// </summary>
    public static unsafe (Tensor LossSum, Tensor? Gradient) cross_entropy_with_gradient(Tensor logits, Tensor targets, long ignore_index = -100,
        double scale = 1, bool gradient = true, Tensor? factor = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.dim() != 2 || targets.dim() != 1 || targets.size(0) != logits.size(0) || targets.dtype != ScalarType.Int64)
            throw new ArgumentException($"cross_entropy_with_gradient: expected logits [N, V] and int64 targets [N], got {Tensor.ShapeString(logits.shape)} and {targets.dtype.Name()} {Tensor.ShapeString(targets.shape)}");
        using var noGrad = torch.no_grad();
        if (factor is null && torch.RunsFused(logits, logits) && targets.device.Type == DeviceType.CPU)
        {
            IntPtr grad = IntPtr.Zero;
            var loss = Tensor.Wrap(NativeMethods.tb_cross_entropy_with_gradient(logits.HandleFor("cross_entropy_with_gradient", 0),
                targets.HandleFor("cross_entropy_with_gradient", 1), ignore_index, scale, gradient ? 1 : 0, &grad), "cross_entropy_with_gradient");
            return (loss, grad == IntPtr.Zero ? null : Tensor.Wrap(grad, "cross_entropy_with_gradient"));
        }
        using var scope = torch.NewDisposeScope();
        var counted = targets.ne(ignore_index);
        var safe = targets.masked_fill(counted.logical_not(), 0).unsqueeze(1);          // [N, 1]
        var z = logits.to(ScalarType.Float32);
        var lse = z.logsumexp(-1);                                                     // [N]
        var picked = z.gather(1, safe).squeeze(1);
        var lossSum = scope.MoveToOuter((lse - picked).masked_fill(counted.logical_not(), 0).sum());
        if (!gradient) return (lossSum, null);
        // In place on the float32 copy of lower-precision logits; float32 logits are the caller's, so a new tensor then.
        var g = (logits.dtype == ScalarType.Float32 ? z - lse.unsqueeze(1) : z.sub_(lse.unsqueeze(1))).exp_();
        g.scatter_add_(1, safe, torch.full([logits.size(0), 1], -1.0, ScalarType.Float32, g.device));
        g.mul_((counted.to(ScalarType.Float32) * scale).unsqueeze(1));
        if (factor is not null) g.mul_(factor);
        return (lossSum, scope.MoveToOuter(g.to(logits.dtype)));
    }

    /// <summary>Negative log-likelihood of log-probabilities [N, C] (or [N, C, d...]) at class indices, skipping ignore_index.</summary>
    public static Tensor nll_loss(Tensor input, Tensor target, Tensor? weight = null, long ignore_index = -100, string reduction = "mean") =>
        Aten.NllLossNd.Call(input, target, weight, Reduction(reduction, "nll_loss"), ignore_index);

    public static Tensor mse_loss(Tensor input, Tensor target, string reduction = "mean") =>
        Aten.MseLoss.Call(input, target, Reduction(reduction, "mse_loss"));

    public static Tensor binary_cross_entropy_with_logits(Tensor input, Tensor target, string reduction = "mean") =>
        Aten.BinaryCrossEntropyWithLogits.Call(input, target, OpArg.None, OpArg.None, Reduction(reduction, "binary_cross_entropy_with_logits"));

    static long Reduction(string reduction, string operation) => reduction switch
    {
        "none" => 0,
        "mean" => 1,
        "sum" => 2,
        _ => throw new ArgumentException($"{operation}: reduction must be \"none\", \"mean\" or \"sum\", got \"{reduction}\""),
    };

    /// <summary>Constant padding; pad lists (left, right) pairs starting from the last dimension.</summary>
    public static Tensor pad(Tensor input, long[] pad, double value = 0) => Aten.ConstantPadNd.Call(input, pad, value);

    /// <summary>One-hot int64 encoding with <paramref name="num_classes"/> classes (-1 infers).</summary>
    public static Tensor one_hot(Tensor input, long num_classes = -1) => Aten.OneHot.Call(input, num_classes);

    /// <summary>
    /// softmax(scale · scores) over the last dimension; with <paramref name="is_causal"/>, keys after each query
    /// are masked out first ([.., L, S] scores, query i sees keys 0..i, top-left aligned as in
    /// <see cref="scaled_dot_product_attention"/>). CPU float32 and bfloat16 run as one fused pass forward and one
    /// backward (<see cref="torch.fused_cpu_kernels"/>); attention's weights are this.
    /// </summary>
    public static Tensor scaled_softmax(Tensor scores, double scale, bool is_causal = false)
    {
        ArgumentNullException.ThrowIfNull(scores);
        if (is_causal && scores.dim() < 2)
            throw new ArgumentException($"scaled_softmax: a causal mask needs [.., L, S] scores, got {Tensor.ShapeString(scores.shape)}");
        if (scale > 0 && torch.RunsFused(scores, scores) && scores.dim() >= 1)
            return Tensor.Wrap(NativeMethods.tb_softmax_scaled(scores.HandleFor("scaled_softmax", 0), scale, is_causal ? 1 : 0), "scaled_softmax");
        using var scope = torch.NewDisposeScope();
        var scaled = scores * scale;
        if (is_causal)
        {
            long L = scores.size(-2), S = scores.size(-1);
            scaled = scaled.masked_fill(torch.ones([L, S], ScalarType.Bool, scores.device).triu(1), double.NegativeInfinity);
        }
        return scope.MoveToOuter(scaled.softmax(-1));
    }

    // ---- attention ----------------------------------------------------------------------------

    static readonly Op? SdpaPublic = Op.TryGet("aten::scaled_dot_product_attention");
    static readonly Op? SdpaPrivate113 = Op.TryGet("aten::_scaled_dot_product_attention");

    /// <summary>Which implementation <see cref="scaled_dot_product_attention"/> uses with this libtorch.</summary>
    public static string sdpa_backend => SdpaPublic is not null ? "aten::scaled_dot_product_attention" : SdpaPrivate113 is not null ? "aten::_scaled_dot_product_attention" : "composed";

    /// <summary>
    /// softmax(Q Kᵀ · scale + mask) V for [..., L, E] queries and [..., S, E] keys/values. attn_mask is
    /// boolean (true = attend) or additive float. is_causal applies the top-left aligned lower
    /// triangle (query i sees keys 0..i), as PyTorch does; for single-token decoding with a KV cache
    /// pass is_causal=false. Keys/values with fewer heads (dim −3) than queries are repeated
    /// (grouped-query attention). Uses libtorch's fused kernel when the linked version has one.
    /// </summary>
    public static Tensor scaled_dot_product_attention(Tensor query, Tensor key, Tensor value, Tensor? attn_mask = null,
        double dropout_p = 0, bool is_causal = false, double? scale = null)
    {
        CheckAttention(query, key, value, attn_mask, is_causal);
        using var scope = torch.NewDisposeScope();
        if (FoldedQueryShape(query, key, attn_mask, is_causal) is { } folded)
        {
            // Grouped-query attention where every query row sees the same keys (one-token decoding): fold
            // each key/value head's group of query heads into the query length instead of repeating keys
            // and values, which would copy the whole KV cache on every decoding step. Rows are independent
            // in attention, so this is the same computation, on every libtorch version.
            var output = scaled_dot_product_attention(query.reshape(folded), key, value, attn_mask, dropout_p, false, scale);
            return scope.MoveToOuter(output.reshape(query.shape));
        }
        // The other grouped cases (causal, per-row masks: training and prompts). 1.13 has no fused kernel
        // (its private entry point is the composite formula), so repeating keys and values gains nothing
        // there: the grouped form skips the copies (and the index_add_ that is their backward) and
        // multiplies larger matrices. 2.x keeps the repeat, which lets its fused (flash) kernel run.
        // Causal training-length attention runs in blocks (TakesBlockedCausal), grouped heads included: the blocks skip a
        // quarter or more of the products.
        double factor = scale ?? 1.0 / Math.Sqrt(query.size(-1));
        if (SdpaPublic is null && TakesBlockedCausal(query, key, value, attn_mask, dropout_p, is_causal, factor))
            return scope.MoveToOuter(BlockedCausalAttention(query, key, value, factor));
        if (SdpaPublic is null && scale is null && GroupedAttention(query, key, value, attn_mask, dropout_p, is_causal) is { } grouped)
            return scope.MoveToOuter(grouped);
        (key, value) = RepeatKv(query, key, value);
        Tensor result;
        if (SdpaPublic is not null)
        {
            // 2.x: (query, key, value, attn_mask, dropout_p, is_causal, *, scale)
            result = scale is { } s && SdpaPublic.Schema.Contains("scale")
                ? SdpaPublic.Call(query, key, value, attn_mask, dropout_p, is_causal, s)
                : scale is null ? SdpaPublic.Call(query, key, value, attn_mask, dropout_p, is_causal)
                : scaled_dot_product_attention_composed(query, key, value, attn_mask, dropout_p, is_causal, scale);
        }
        // 1.13's private entry point is the written-out formula with libtorch's softmax; with the fused kernels on, the
        // composed path below runs the same formula with the fused softmax (and blocks, where they apply).
        else if (SdpaPrivate113 is not null && scale is null && !(attn_mask is not null && is_causal) && !ProductsOnOneDnn(query, key)
                 && !torch.RunsFused(query, query))
        {
            // 1.13: (query, key, value, attn_mask, dropout_p, need_attn_weights, is_causal) -> (out, attn)
            var (output, weights) = SdpaPrivate113.Call2(query, key, value, attn_mask, dropout_p, false, is_causal);
            weights.Dispose();
            result = output;
        }
        else
        {
            result = scaled_dot_product_attention_composed(query, key, value, attn_mask, dropout_p, is_causal, scale);
        }
        return scope.MoveToOuter(result);
    }

    /// <summary>The attention formula written out in basic ops (reference and fallback for <see cref="scaled_dot_product_attention"/>).</summary>
    public static Tensor scaled_dot_product_attention_composed(Tensor query, Tensor key, Tensor value, Tensor? attn_mask = null,
        double dropout_p = 0, bool is_causal = false, double? scale = null)
    {
        CheckAttention(query, key, value, attn_mask, is_causal);
        using var scope = torch.NewDisposeScope();
        double factor = scale ?? 1.0 / Math.Sqrt(query.size(-1));
        if (TakesBlockedCausal(query, key, value, attn_mask, dropout_p, is_causal, factor))
            return scope.MoveToOuter(BlockedCausalAttention(query, key, value, factor));
        (key, value) = RepeatKv(query, key, value);
        var qs = query.shape;
        var ks = key.shape;
        long L = qs[^2], S = ks[^2];
        var scores = query.matmul(key.transpose(-2, -1));
        Tensor weights;
        if (factor > 0 && torch.RunsFused(scores, scores))
        {
            // One pass for scale, causal mask and softmax (fused kernel); a padding mask is applied first.
            if (attn_mask is not null && attn_mask.dtype == ScalarType.Bool)
                scores = scores.masked_fill(attn_mask.logical_not(), double.NegativeInfinity);
            else if (attn_mask is not null)
                (scores, factor) = (scores * factor + attn_mask, 1.0);
            weights = scaled_softmax(scores, factor, is_causal);
        }
        else
        {
            scores = scores * factor;
            if (is_causal)
            {
                var causal = torch.ones([L, S], ScalarType.Bool, query.device).tril();
                scores = scores.masked_fill(causal.logical_not(), double.NegativeInfinity);
            }
            if (attn_mask is not null)
                scores = attn_mask.dtype == ScalarType.Bool
                    ? scores.masked_fill(attn_mask.logical_not(), double.NegativeInfinity)
                    : scores + attn_mask;
            weights = scores.softmax(-1);
        }
        if (dropout_p > 0) weights = dropout(weights, dropout_p, true);
        return scope.MoveToOuter(weights.matmul(value));
    }

    /// <summary>
    /// Causal attention in blocks of <see cref="CausalBlockRows"/> positions, each multiplying only the keys it sees
    /// (shim_attention.cpp; docs/engine.md, "Fused kernels"). The g query heads that share a key/value head go in
    /// together ([.., H_kv, g, L, E], a view of the queries), so the keys and values are not repeated and each product is
    /// g times taller. The result is [.., H, L, Ev] laid out as [.., L, H, Ev]: what the output projection reads after
    /// the models' transpose(1, 2).reshape, which then copies nothing.
    /// </summary>
    static Tensor BlockedCausalAttention(Tensor query, Tensor key, Tensor value, double factor)
    {
        using var scope = torch.NewDisposeScope();
        var qs = query.shape;
        long H = qs[^3], Hkv = key.size(-3), L = qs[^2], E = qs[^1], Ev = value.size(-1);
        var output = Tensor.Wrap(NativeMethods.tb_blocked_causal_attention(query.reshape(-1, Hkv, H / Hkv, L, E).HandleFor("scaled_dot_product_attention", 0),
            key.reshape(-1, Hkv, L, E).HandleFor("scaled_dot_product_attention", 1), value.reshape(-1, Hkv, L, Ev).HandleFor("scaled_dot_product_attention", 2),
            factor, CausalBlockRows), "scaled_dot_product_attention");
        var shape = (long[])qs.Clone();
        shape[^1] = Ev;
        return scope.MoveToOuter(output.view(shape));
    }

    /// <summary>Positions per block of <see cref="TakesBlockedCausal"/>'s attention: sequences of at least two blocks take it.</summary>
    internal const long CausalBlockRows = 128;

    /// <summary>
    /// Whether causal self-attention runs in blocks of <see cref="CausalBlockRows"/> positions that multiply only the
    /// keys they see (<see cref="BlockedCausalAttention"/>): no other mask, as many queries as keys, query heads a
    /// multiple of key/value heads, CPU float32 or bfloat16 with the fused kernels on, no dropout, a positive scale, and
    /// at least two blocks. Two blocks do 3/4 of the written-out formula's products, eight 9/16.
    /// </summary>
    static bool TakesBlockedCausal(Tensor query, Tensor key, Tensor value, Tensor? attn_mask, double dropout_p, bool is_causal, double factor) =>
        is_causal && attn_mask is null && dropout_p == 0 && factor > 0 && query.dim() >= 3 && key.dim() == query.dim()
        && query.size(-2) == key.size(-2) && query.size(-2) >= 2 * CausalBlockRows
        && key.size(-3) > 0 && query.size(-3) % key.size(-3) == 0
        && query.shape.AsSpan(0, query.dim() - 3).SequenceEqual(key.shape.AsSpan(0, key.dim() - 3))
        && torch.RunsFused(query, key) && torch.RunsFused(query, value);

    static void CheckAttention(Tensor q, Tensor k, Tensor v, Tensor? mask, bool isCausal)
    {
        ArgumentNullException.ThrowIfNull(q);
        ArgumentNullException.ThrowIfNull(k);
        ArgumentNullException.ThrowIfNull(v);
        var qs = q.shape; var ks = k.shape; var vs = v.shape;
        if (qs.Length < 2 || ks.Length != qs.Length || vs.Length != qs.Length)
            throw new ArgumentException($"scaled_dot_product_attention: query, key and value need the same rank (at least 2), got {Tensor.ShapeString(qs)}, {Tensor.ShapeString(ks)}, {Tensor.ShapeString(vs)}");
        if (qs[^1] != ks[^1])
            throw new ArgumentException($"scaled_dot_product_attention: query and key must share the last dimension, got {Tensor.ShapeString(qs)} and {Tensor.ShapeString(ks)}");
        if (ks[^2] != vs[^2])
            throw new ArgumentException($"scaled_dot_product_attention: key and value must have the same sequence length, got {Tensor.ShapeString(ks)} and {Tensor.ShapeString(vs)}");
        if (qs.Length >= 3 && qs[^3] != ks[^3] && (ks[^3] == 0 || qs[^3] % ks[^3] != 0))
            throw new ArgumentException($"scaled_dot_product_attention: query heads ({qs[^3]}) must be a multiple of key/value heads ({ks[^3]})");
        if (q.dtype != k.dtype || q.dtype != v.dtype)
            throw new ArgumentException($"scaled_dot_product_attention: query, key and value must share a dtype, got {q.dtype.Name()}, {k.dtype.Name()}, {v.dtype.Name()}");
    }

    /// <summary>
    /// [..., kv_heads, group·L, E] when query heads outnumber key/value heads and no query row needs a mask
    /// of its own (not causal; a mask, if any, the same for every head and query row, as a padding mask in
    /// one-token decoding is); null otherwise. Query head h attends with key/value head h / group, as
    /// repeat_interleave pairs them.
    /// </summary>
    static long[]? FoldedQueryShape(Tensor q, Tensor k, Tensor? mask, bool isCausal)
    {
        var qs = q.shape; var ks = k.shape;
        if (qs.Length < 3 || qs[^3] == ks[^3] || isCausal) return null;
        // Float32/float64 only, as GroupedAttention below (oneDNN's bfloat16 products were slower grouped).
        if (q.dtype is not (ScalarType.Float32 or ScalarType.Float64)) return null;
        if (mask is not null)
        {
            var ms = mask.shape;
            bool sameForEveryRow = ms.Length < 2 || ms[^2] == 1;
            bool sameForEveryHead = ms.Length < 3 || ms[^3] == 1;
            if (!sameForEveryRow || !sameForEveryHead) return null;
        }
        long groups = qs[^3] / ks[^3];
        var folded = (long[])qs.Clone();
        folded[^3] = ks[^3];
        folded[^2] = groups * qs[^2];
        return folded;
    }

    /// <summary>
    /// Grouped-query attention without repeating keys and values: [B, H, L, E] queries are viewed as
    /// [B, H_kv, g·L, E] (query head h belongs to key/value head h / g, as repeat_interleave pairs them),
    /// so each key/value head meets its g query heads in one product; the mask is tiled over the group.
    /// Returns null where this form does not apply (equal head counts, ranks other than 4, masks whose
    /// head dimension is neither 1 nor H); the caller then repeats keys and values.
    /// </summary>
    /// <summary>
    /// Whether this attention's scores product ([L, E]·[E, S] per head) would run on oneDNN when written out
    /// (<see cref="torch.cpu_matmul"/>; products too small for OpenBLAS to thread stay with ATen anyway).
    /// 1.13's attention entry point is the same formula with its products on libtorch's BLAS, whose own thread
    /// pool then competes with the OpenMP pool oneDNN and the other operations run on; the written-out formula
    /// keeps one pool (docs/engine.md, "Float32 products on the CPU").
    /// </summary>
    static bool ProductsOnOneDnn(Tensor query, Tensor key) =>
        query.dtype == ScalarType.Float32 && query.device.Type == DeviceType.CPU
        && torch.runs_on_onednn(query.size(-2), query.size(-1), key.size(-2));

    internal static Tensor? GroupedAttention(Tensor query, Tensor key, Tensor value, Tensor? attn_mask, double dropout_p, bool is_causal)
    {
        var qs = query.shape; var ks = key.shape;
        if (qs.Length != 4 || qs[1] == ks[1] || SdpaPrivate113 is null) return null;
        // bfloat16 products go to oneDNN, which ran the grouped shape ([g·L, E] @ [E, S] per key/value head)
        // slower than the repeated one (2.0 against 0.9 ms for the 32M benchmark's scores, best of 15),
        // so the grouped form is taken in float32 and float64 only.
        if (query.dtype is not (ScalarType.Float32 or ScalarType.Float64)) return null;
        long B = qs[0], H = qs[1], L = qs[2], E = qs[3], Hkv = ks[1], S = ks[2], g = H / Hkv;
        if (ks[0] != B) return null;
        if (attn_mask is not null && (attn_mask.dim() is not (2 or 4) || attn_mask.dim() == 4 && attn_mask.size(1) is var mh && mh != 1 && mh != H))
            return null;
        using var scope = torch.NewDisposeScope();
        // One additive mask [.., L, S] in the queries' dtype: the causal triangle (top-left aligned, as
        // is_causal means) and the caller's mask (boolean: true = attend).
        Tensor? mask = null;
        if (is_causal) mask = torch.full([L, S], double.NegativeInfinity, query.dtype, query.device).triu(1);
        if (attn_mask is not null)
        {
            var additive = attn_mask.dtype == ScalarType.Bool
                ? torch.zeros(attn_mask.shape, query.dtype, query.device).masked_fill(attn_mask.logical_not(), double.NegativeInfinity)
                : attn_mask.to(query.dtype);
            mask = mask is null ? additive : mask + additive;
        }
        if (mask is not null)
        {
            // Rows broadcast over queries ([.., 1, S]) are expanded first, so tiling sees L rows.
            if (mask.dim() == 2) mask = mask.expand(L, S).repeat(g, 1);                                    // [g·L, S]
            else if (mask.size(1) == 1) mask = mask.expand(mask.size(0), 1, L, S).repeat(1, 1, g, 1);      // [Bm, 1, g·L, S]
            else mask = mask.expand(mask.size(0), H, L, S).reshape(mask.size(0), Hkv, g * L, S);          // per-head rows, grouped
        }
        var q = query.reshape(B, Hkv, g * L, E);
        Tensor output;
        if (ProductsOnOneDnn(q, key)) output = scaled_dot_product_attention_composed(q, key, value, mask, dropout_p);
        else
        {
            (output, var weights) = SdpaPrivate113!.Call2(q, key, value, mask, dropout_p, false, false);
            weights.Dispose();
        }
        return scope.MoveToOuter(output.view(B, H, L, E));
    }

    static (Tensor, Tensor) RepeatKv(Tensor q, Tensor k, Tensor v)
    {
        var qs = q.shape; var ks = k.shape;
        if (qs.Length < 3 || qs[^3] == ks[^3]) return (k, v);
        long groups = qs[^3] / ks[^3];
        return (RepeatHeads(k, groups), RepeatHeads(v, groups));
    }

    /// <summary>
    /// [.., H_kv, S, E] → [.., H_kv·g, S, E], each head g times in a row (as repeat_interleave(g, -3)). Written as g
    /// copies side by side, so that the backward is g − 1 elementwise additions of slices (autograd sums the
    /// copies' gradients), where repeat_interleave's is an index_add_ and a broadcast's a strided sum (measured:
    /// 7 and 9 ms of a 480 ms bfloat16 training step).
    /// </summary>
    static Tensor RepeatHeads(Tensor x, long groups)
    {
        var repeated = (long[])x.shape.Clone();
        repeated[^3] *= groups;
        using var head = x.unsqueeze(-3);                                   // [.., H_kv, 1, S, E]
        using var copies = torch.cat(Enumerable.Repeat(head, (int)groups).ToArray(), -3);   // [.., H_kv, g, S, E]
        return copies.reshape(repeated);
    }
}
