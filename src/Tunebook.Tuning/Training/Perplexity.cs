using Tunebook.Models;
using Tunebook.Torch;

namespace Tunebook.Tuning.Training;

/// <summary>
/// Perplexity of a model on running text, the measure beside <see cref="Trainer.Measure"/> (which takes prepared
/// examples): the text is tokenized once, cut into consecutive windows of <c>window</c> tokens, and
/// exp(mean loss per predicted token) is taken over all windows. Each window's first token has no context and is
/// not predicted, so a text of n tokens in w windows has n − w predicted tokens.
/// </summary>
public static class Perplexity
{
    /// <summary>Perplexity of <paramref name="model"/> on <paramref name="text"/>, tokenized with the model's tokenizer.</summary>
    public static double OfText(CausalLM model, string text, int window = 128)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("Perplexity needs the model's tokenizer");
        return OfTokens(model, tokenizer.EncodeToIds(text, addSpecialTokens: false), window);
    }

    /// <summary>Perplexity of <paramref name="model"/> on the token sequence <paramref name="ids"/>.</summary>
    public static double OfTokens(CausalLM model, IReadOnlyList<int> ids, int window = 128)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(ids);
        if (window < 2) throw new ArgumentOutOfRangeException(nameof(window), window, "expected at least 2 tokens per window");
        if (ids.Count < 2) throw new ArgumentException("Perplexity: the text has fewer than 2 tokens");
        bool wasTraining = model.training;
        model.eval();
        double sum = 0;
        long count = 0;
        try
        {
            using var _ = torch.no_grad();
            for (int start = 0; start + 1 < ids.Count; start += window)
            {
                using var scope = torch.NewDisposeScope();
                int length = Math.Min(window, ids.Count - start);
                if (length < 2) break;
                var chunk = new long[length];
                for (int i = 0; i < length; i++) chunk[i] = ids[start + i];
                var input = torch.tensor(chunk, [1, length], device: model.Device);
                sum += model.LossSum(input, input).item<float>();
                count += length - 1;
            }
        }
        finally { model.train(wasTraining); }
        return Math.Exp(sum / count);
    }
}
