namespace Tunebook.Tuning.Data;

/// <summary>Which end of a too-long example is cut off.</summary>
public enum TruncationSide
{
    /// <summary>Keep the beginning, drop the end (the usual choice; the answer may be cut).</summary>
    Right,
    /// <summary>Keep the end, drop the beginning (keeps the answer of a long prompt; the start of the prompt is lost).</summary>
    Left,
}

/// <summary>How Alpaca and prompt/completion examples become text.</summary>
public enum PromptStyle
{
    /// <summary>Alpaca → <see cref="Chat"/>; prompt/completion → <see cref="Plain"/>.</summary>
    Auto,
    /// <summary>As a conversation (optional system, user = instruction + blank line + input, assistant = answer)
    /// rendered with the model's chat template: what you want when you will chat with the model.</summary>
    Chat,
    /// <summary>The Stanford Alpaca prompt ("Below is an instruction ... ### Instruction: ... ### Response:") followed
    /// by the answer and the end-of-sequence token.</summary>
    AlpacaPrompt,
    /// <summary>The prompt text and then the completion text as they are (Alpaca: instruction, input, newline), with
    /// the tokenizer's own special tokens (BOS) and the end-of-sequence token appended.</summary>
    Plain,
}

/// <summary>Options for <see cref="RawDataset.Prepare"/>.</summary>
public sealed record PrepareOptions
{
    /// <summary>Longest example in tokens; longer ones are truncated (and counted in the report). With packing, also
    /// the length of a packed row.</summary>
    public int MaxLength { get; init; } = 1024;

    /// <summary>Which end of a too-long example is dropped.</summary>
    public TruncationSide Truncation { get; init; } = TruncationSide.Right;

    /// <summary>Train only on the answers (assistant turns, Alpaca output, completion): every other token gets label
    /// −100. Off: every token is trained. Text examples are always trained on every token.</summary>
    public bool CompletionOnly { get; init; } = true;

    /// <summary>For chat: train only on the last assistant turn (earlier replies are context).</summary>
    public bool LastAssistantTurnOnly { get; init; }

    /// <summary>Pack examples into rows of up to <see cref="MaxLength"/> tokens (best-fit decreasing); attention stays
    /// within each example through segment ids, and positions restart at every example.</summary>
    public bool Packing { get; init; }

    /// <summary>Fraction of the examples held out for validation (0 = none).</summary>
    public double ValFraction { get; init; }

    /// <summary>Number of examples held out for validation; overrides <see cref="ValFraction"/>.</summary>
    public int? ValCount { get; init; }

    /// <summary>Seed of the train/validation split.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>How Alpaca and prompt/completion examples become text.</summary>
    public PromptStyle PromptStyle { get; init; } = PromptStyle.Auto;

    /// <summary>Built-in chat template (chatml, llama3, llama2, alpaca) used when neither a template is passed nor the
    /// tokenizer has one.</summary>
    public string? BuiltInTemplate { get; init; }

    /// <summary>Extra variables for the chat template (for example <c>enable_thinking = false</c> for Qwen3).</summary>
    /// (A <see cref="DataRecipe"/> keeps them as JSON values of its own.)
    [System.Text.Json.Serialization.JsonIgnore]
    public IDictionary<string, object?>? TemplateVariables { get; init; }

    /// <summary>Append the end-of-sequence token to text, plain and Alpaca-prompt examples so the model learns to stop.
    /// (Chat templates write their own end-of-turn token.)</summary>
    public bool AppendEos { get; init; } = true;

    /// <summary>Examples that cannot be rendered (for example a Llama 2 conversation whose roles do not alternate) are
    /// skipped and listed in the report instead of failing the preparation.</summary>
    public bool SkipBadRows { get; init; }

    /// <summary>Number of bins of the token-length histogram.</summary>
    public int HistogramBins { get; init; } = 20;
}
