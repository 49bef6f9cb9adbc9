using Tunebook.Torch;
using Tunebook.Torch.nn;

namespace Tunebook.Models;

/// <summary>
/// The output projection as plain tensors: the weight [vocab, hidden] (lm_head's, or the embedding
/// matrix when tied) and the final-logit soft-cap (Gemma's cap·tanh(logits / cap)), if the model has one.
/// </summary>
public sealed record OutputProjection(Tensor Weight, double? LogitSoftcap = null);

/// <summary>
/// The causal-LM training loss computed with the output projection, a block of rows at a time, so the
/// logits of the whole batch never exist at once (the idea behind Liger's fused linear cross-entropy and
/// Apple's cut cross-entropy, written in ordinary libtorch ops).
/// <para>
/// The logits are the largest tensors of a training step: batch × sequence × vocabulary values, kept for
/// the backward pass together with their float32 copy, the log-probabilities and, in backward, a
/// gradient of the same size (about 130 MB for 1,024 tokens of an 8,192-word vocabulary; 2 GB for
/// Llama 3's 128,256). Here each block of rows is projected, and its loss and the gradient of that loss
/// are taken at once (the gradient of cross-entropy by the logits is softmax − one-hot, nothing more), then
/// the block is multiplied back through the weight into the gradient of the hidden states and dropped.
/// The returned loss carries that gradient into autograd through a term whose value is zero:
/// <c>loss + Σ hidden·g − Σ (hidden·g).detach()</c> has the loss's value and, by hidden, exactly g.
/// </para>
/// Same arithmetic as <see cref="CausalLM.CausalLMLoss"/> of the projected logits (the products in the
/// model's dtype, the softmax in float32), so results agree to rounding.
/// </summary>
public static class ChunkedCrossEntropy
{
    /// <summary>
    /// Rows per block for a vocabulary: about 4M logits (16 MB in float32), and at least 256 rows, since
    /// every block reads the whole weight matrix twice and fewer rows would make that reading the cost.
    /// </summary>
    public static long RowsPerChunk(long vocabSize) => Math.Max(256, (1L << 22) / Math.Max(1, vocabSize));

    /// <summary>
    /// sum over target tokens of −log p(label) × <paramref name="scale"/>, where logits at position t
    /// predict label t+1 (the shift happens here) and labels equal to <paramref name="ignoreIndex"/> count
    /// for nothing. Differentiable in <paramref name="normed"/> and, when it requires a gradient, in the
    /// projection's weight.
    /// </summary>
    /// <param name="normed">Final-norm output [B, T, H], the input of the output projection.</param>
    /// <param name="labels">[B, T] token ids, or <paramref name="ignoreIndex"/>.</param>
    /// <param name="projection">The output projection.</param>
    /// <param name="scale">Multiplies the summed loss (1 / target tokens gives the mean).</param>
    /// <param name="ignoreIndex">Label value that contributes nothing.</param>
    /// <param name="chunkRows">Rows per block; 0 picks <see cref="RowsPerChunk"/>.</param>
    public static Tensor CausalLMLoss(Tensor normed, Tensor labels, OutputProjection projection, double scale = 1, long ignoreIndex = -100, long chunkRows = 0)
    {
        ArgumentNullException.ThrowIfNull(normed);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(projection);
        var weight = projection.Weight;
        if (normed.dim() != 3 || labels.dim() != 2 || labels.size(0) != normed.size(0) || labels.size(1) != normed.size(1))
            throw new ArgumentException($"ChunkedCrossEntropy: expected hidden states [B, T, H] and labels [B, T], got {Tensor.ShapeString(normed.shape)} and {Tensor.ShapeString(labels.shape)}");
        if (weight.dim() != 2 || weight.size(1) != normed.size(2))
            throw new ArgumentException($"ChunkedCrossEntropy: the output weight must be [vocab, {normed.size(2)}], got {Tensor.ShapeString(weight.shape)}");
        if (weight.dtype != normed.dtype)
            throw new ArgumentException($"ChunkedCrossEntropy: hidden states ({normed.dtype.Name()}) and output weight ({weight.dtype.Name()}) must share a dtype");
        if (chunkRows < 0) throw new ArgumentOutOfRangeException(nameof(chunkRows), chunkRows, "ChunkedCrossEntropy: chunkRows must be ≥ 0 (0 = automatic)");
        long T = normed.size(1), H = normed.size(2), V = weight.size(0);
        if (T < 2) throw new ArgumentException($"ChunkedCrossEntropy: need at least 2 positions to shift, got hidden states {Tensor.ShapeString(normed.shape)}");

        using var scope = torch.NewDisposeScope();
        var hidden = normed.narrow(1, 0, T - 1).reshape(-1, H);                       // predicts…
        var targets = labels.narrow(1, 1, T - 1).reshape(-1).to(ScalarType.Int64).to(normed.device);   // …these
        CheckTargets(targets, V, ignoreIndex);
        long N = hidden.size(0), rows = chunkRows > 0 ? chunkRows : RowsPerChunk(V);
        bool weightGrad = weight.requires_grad && torch.is_grad_enabled();
        // Evaluation (no gradient wanted) needs the loss alone: the softmax and the products back are skipped.
        bool hiddenGrad = normed.requires_grad && torch.is_grad_enabled();

        Tensor lossSum;
        Tensor? gradHidden = null, gradWeight = null;
        using (torch.no_grad())
        {
            var h = hidden.detach();
            var w = weight.detach();
            lossSum = torch.zeros([], ScalarType.Float32, normed.device);
            if (hiddenGrad) gradHidden = torch.empty_like(h);
            if (weightGrad) gradWeight = torch.zeros_like(w);
            for (long start = 0; start < N; start += rows)
            {
                using var block = torch.NewDisposeScope();
                long n = Math.Min(rows, N - start);
                var hBlock = h.narrow(0, start, n);
                var y = targets.narrow(0, start, n);

                // Logits as the model's head computes them: the product (and soft-cap) in the model's
                // dtype; the softmax in float32, with d(scale · loss)/d logits = scale · (softmax − one-hot).
                var logits = functional.linear(hBlock, w);
                Tensor? capSlope = null;   // d capped / d raw
                if (projection.LogitSoftcap is { } cap)
                {
                    logits = (logits / cap).tanh() * cap;
                    capSlope = 1 - (logits.to(ScalarType.Float32) / cap).pow(2);
                }
                bool wantGradient = hiddenGrad || weightGrad;
                var (blockLoss, gm) = functional.cross_entropy_with_gradient(logits, y, ignoreIndex, scale, wantGradient, capSlope);
                lossSum.add_(blockLoss);
                if (gm is null) continue;
                gradHidden?.narrow(0, start, n).copy_(gm.mm(w));
                gradWeight?.add_(gm.t().mm(hBlock));
            }
        }

        // Value: the loss. Gradient: gradHidden into the hidden states and gradWeight into the weight.
        var loss = lossSum * scale;
        if (gradHidden is not null) loss = loss + Carrier(hidden, gradHidden);
        if (gradWeight is not null) loss = loss + Carrier(weight, gradWeight);
        return scope.MoveToOuter(loss);
    }

    /// <summary>Zero in value, and <paramref name="gradient"/> as its gradient by <paramref name="x"/>.</summary>
    static Tensor Carrier(Tensor x, Tensor gradient)
    {
        var sum = (x * gradient).sum(ScalarType.Float32);
        return sum - sum.detach();
    }

    static void CheckTargets(Tensor targets, long vocab, long ignoreIndex)
    {
        using var scope = torch.NewDisposeScope();
        var bad = targets.ne(ignoreIndex).logical_and(targets.lt(0).logical_or(targets.ge(vocab)));
        if (!bad.any().item<bool>()) return;
        long at = bad.to(ScalarType.Int64).argmax().item<long>();
        throw new ArgumentException($"ChunkedCrossEntropy: label {targets.narrow(0, at, 1).item<long>()} at shifted position {at} is outside the vocabulary (0..{vocab - 1}) and is not ignore_index ({ignoreIndex})");
    }
}
