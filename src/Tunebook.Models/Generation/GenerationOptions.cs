namespace Tunebook.Models;

/// <summary>
/// Settings of one <see cref="Generator.Generate(IReadOnlyList{string}, GenerationOptions?)"/> call. Unset
/// sampling fields fall back to the model's generation_config.json, then to greedy decoding.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>Most tokens to generate per prompt (default 128, or generation_config's max_new_tokens).</summary>
    public int? MaxNewTokens { get; init; }

    /// <summary>
    /// Sample (true) or take the most likely token (false). Unset: sample when <see cref="Temperature"/>
    /// is set above 0, else what generation_config.json says, else greedy.
    /// </summary>
    public bool? DoSample { get; init; }

    /// <summary>Divides the logits before sampling: below 1 sharpens, above 1 flattens. 0 means greedy.</summary>
    public double? Temperature { get; init; }

    /// <summary>Sample only among the k most likely tokens (0 = off).</summary>
    public int? TopK { get; init; }

    /// <summary>Nucleus sampling: sample among the fewest tokens whose probabilities sum to at least p (1 = off).</summary>
    public double? TopP { get; init; }

    /// <summary>Min-p sampling: drop tokens less likely than MinP × the most likely token's probability (0 = off).</summary>
    public double? MinP { get; init; }

    /// <summary>
    /// Above 1 discourages tokens already present in the prompt or output (CTRL-style: positive logits
    /// divided, negative ones multiplied by the penalty). 1 = off.
    /// </summary>
    public double? RepetitionPenalty { get; init; }

    /// <summary>End-of-sequence ids; unset uses generation_config.json / config.json and the tokenizer's eos token.</summary>
    public IReadOnlyList<int>? EosTokenIds { get; init; }

    /// <summary>Strings that end generation when they appear in the decoded output; they are cut from the returned text.</summary>
    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Seed of the sampling random generator (local to the call: reproducible, independent of torch.manual_seed). Unset: a random seed.</summary>
    public long? Seed { get; init; }

    /// <summary>Reuse keys/values of earlier tokens (true, fast) or recompute the whole sequence each step (false).</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Add the tokenizer's special tokens (e.g. BOS) when encoding string prompts.</summary>
    public bool AddSpecialTokens { get; init; } = true;

    /// <summary>Leave special tokens (EOS, chat markers) out of the decoded text.</summary>
    public bool SkipSpecialTokens { get; init; } = true;

    /// <summary>Called for each generated token with the new text (always whole UTF-8 characters, never part of a stop string).</summary>
    public Action<GenerationChunk>? OnToken { get; init; }

    /// <summary>Stops generation between tokens; the result then reports <see cref="FinishReason.Cancelled"/>.</summary>
    public CancellationToken CancellationToken { get; init; }
}
