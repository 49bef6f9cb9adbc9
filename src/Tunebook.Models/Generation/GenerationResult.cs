using System.Globalization;

namespace Tunebook.Models;

/// <summary>Why a sequence stopped.</summary>
public enum FinishReason
{
    /// <summary>An end-of-sequence token was generated.</summary>
    Eos,
    /// <summary>A stop string appeared in the text.</summary>
    Stop,
    /// <summary>The token budget (max new tokens) ran out.</summary>
    Length,
    /// <summary>The cancellation token fired.</summary>
    Cancelled,
}

/// <summary>One streamed step for one prompt: the token and the text it completed.</summary>
/// <param name="PromptIndex">Which prompt of the batch.</param>
/// <param name="TokenId">The generated token.</param>
/// <param name="TextDelta">New text since the previous chunk (may be empty while a character or a possible stop string is incomplete).</param>
/// <param name="Finish">Set on the last chunk of the sequence.</param>
public readonly record struct GenerationChunk(int PromptIndex, int TokenId, string TextDelta, FinishReason? Finish);

/// <summary>The output for one prompt.</summary>
/// <param name="Text">Decoded new text (stop string removed); empty without a tokenizer.</param>
/// <param name="TokenIds">The generated ids, the final EOS included.</param>
/// <param name="PromptTokens">Length of the prompt in tokens.</param>
/// <param name="FinishReason">Why it stopped.</param>
public sealed record GeneratedSequence(string Text, IReadOnlyList<int> TokenIds, int PromptTokens, FinishReason FinishReason);

/// <summary>All sequences of a call plus timing.</summary>
public sealed record GenerationResult(IReadOnlyList<GeneratedSequence> Sequences, int PromptTokens, int GeneratedTokens, double PromptSeconds, double TotalSeconds, long Seed)
{
    /// <summary>Text of the first (or only) prompt.</summary>
    public string Text => Sequences[0].Text;

    /// <summary>Generated tokens (all prompts) per second of the whole call, prompt processing included.</summary>
    public double TokensPerSecond => TotalSeconds > 0 ? GeneratedTokens / TotalSeconds : 0;

    /// <summary>Generated tokens per second after the prompt was processed (the decode rate).</summary>
    public double DecodeTokensPerSecond => TotalSeconds - PromptSeconds > 0 ? Math.Max(0, GeneratedTokens - Sequences.Count) / (TotalSeconds - PromptSeconds) : 0;

    /// <summary>Prompt tokens per second of the first forward pass.</summary>
    public double PromptTokensPerSecond => PromptSeconds > 0 ? PromptTokens / PromptSeconds : 0;

    public override string ToString() => Sequences.Count == 1
        ? $"{Text}\n[{Sequences[0].FinishReason.ToString().ToLowerInvariant()}; {GeneratedTokens} tokens, {TokensPerSecond.ToString("0.0", CultureInfo.InvariantCulture)} tokens/s]"
        : string.Join("\n---\n", Sequences.Select(s => s.Text)) + $"\n[{GeneratedTokens} tokens, {TokensPerSecond.ToString("0.0", CultureInfo.InvariantCulture)} tokens/s]";
}
