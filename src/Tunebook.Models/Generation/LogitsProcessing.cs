using Tunebook.Torch;

namespace Tunebook.Models;

/// <summary>
/// The transformations between a model's next-token logits and the token picked, in Hugging Face's
/// order: repetition penalty, temperature, top-k, top-p, min-p. Each works on one row of logits [V] in float32.
/// </summary>
public static class LogitsProcessing
{
    /// <summary>CTRL repetition penalty: logits of tokens in <paramref name="seen"/> are divided by the penalty when positive, multiplied when negative.</summary>
    public static Tensor RepetitionPenalty(Tensor logits, IReadOnlyCollection<int> seen, double penalty)
    {
        if (penalty == 1 || seen.Count == 0) return logits.alias();
        if (penalty <= 0) throw new ArgumentOutOfRangeException(nameof(penalty), penalty, "repetition penalty must be positive");
        using var scope = torch.NewDisposeScope();
        var index = torch.tensor(seen.Distinct().Select(i => (long)i).ToArray(), device: logits.device);
        var values = logits.gather(0, index);
        var penalised = torch.where(values.lt(0), values * penalty, values / penalty);
        return scope.MoveToOuter(logits.scatter(0, index, penalised));
    }

    /// <summary>Keeps the k largest logits (ties at the k-th value kept), others become −∞.</summary>
    public static Tensor TopK(Tensor logits, int k)
    {
        if (k <= 0 || k >= logits.size(-1)) return logits.alias();
        using var scope = torch.NewDisposeScope();
        var (values, _) = logits.topk(k);
        var threshold = values.narrow(-1, k - 1, 1);
        return scope.MoveToOuter(logits.masked_fill(logits.lt(threshold), double.NegativeInfinity));
    }

    /// <summary>Nucleus filter: keeps the most likely tokens whose probabilities sum to at least <paramref name="p"/> (always at least one).</summary>
    public static Tensor TopP(Tensor logits, double p)
    {
        if (p >= 1) return logits.alias();
        if (p <= 0) throw new ArgumentOutOfRangeException(nameof(p), p, "top_p must be in (0, 1]");
        using var scope = torch.NewDisposeScope();
        var (sorted, indices) = logits.sort(descending: false);
        var cumulative = sorted.softmax(-1).cumsum(-1);
        var remove = cumulative.le(1 - p);
        long n = remove.size(-1);
        remove.narrow(-1, n - 1, 1).fill_(0); // the most likely token always stays
        var removeOriginal = remove.scatter(-1, indices, remove);
        return scope.MoveToOuter(logits.masked_fill(removeOriginal, double.NegativeInfinity));
    }

    /// <summary>Min-p filter: drops tokens whose probability is below <paramref name="minP"/> × the top token's probability (0 = off).</summary>
    public static Tensor MinP(Tensor logits, double minP)
    {
        if (minP <= 0) return logits.alias();
        if (minP > 1) throw new ArgumentOutOfRangeException(nameof(minP), minP, "min_p must be in [0, 1]");
        using var scope = torch.NewDisposeScope();
        var probs = logits.softmax(-1);
        var top = probs.max();
        return scope.MoveToOuter(logits.masked_fill(probs.lt(top * minP), double.NegativeInfinity));
    }

    /// <summary>Draws an index from a probability row using a caller-owned random generator.</summary>
    public static int Sample(Tensor probabilities, Random random)
    {
        var p = probabilities.to(Device.CPU, ScalarType.Float32).contiguous().data<float>();
        double total = 0;
        foreach (var v in p) total += v;
        double u = random.NextDouble() * total;
        double acc = 0;
        int last = -1;
        for (int i = 0; i < p.Length; i++)
        {
            if (p[i] <= 0) continue;
            last = i;
            acc += p[i];
            if (u < acc) return i;
        }
        return last >= 0 ? last : throw new InvalidOperationException("sampling: every probability is zero (logits were all −∞ or NaN)");
    }
}
