namespace Tunebook.Tuning.Data;

/// <summary>The layout of a training example, independent of the file it came from.</summary>
public enum DataFormat
{
    /// <summary>Alpaca: <c>instruction</c>, optional <c>input</c>, <c>output</c>, optional <c>system</c>.</summary>
    Alpaca,
    /// <summary>Chat: <c>messages</c> of {role, content} with roles system/user/assistant/tool; ShareGPT's
    /// <c>conversations</c> of {from, value} (human/gpt/system/tool) is accepted and mapped.</summary>
    Chat,
    /// <summary>Prompt/completion: <c>prompt</c> and <c>completion</c>; the loss goes on the completion.</summary>
    PromptCompletion,
    /// <summary>Raw text (<c>text</c> field, or a plain-text file): every token is trained.</summary>
    Text,
}

/// <summary>How a plain-text file is cut into examples.</summary>
public enum TextSplit
{
    /// <summary>Paragraphs separated by one or more blank lines (the default).</summary>
    BlankLines,
    /// <summary>Every non-empty line is an example.</summary>
    Lines,
    /// <summary>The whole file is one example (one document per file).</summary>
    Document,
}

/// <summary>Options for <see cref="Dataset.Load(string, DataFormat?, LoadOptions?)"/>.</summary>
public sealed record LoadOptions
{
    /// <summary>How plain-text files are split into examples.</summary>
    public TextSplit TextSplit { get; init; } = TextSplit.BlankLines;

    /// <summary>Skip rows that fail to parse instead of failing the whole load; they are listed in
    /// <see cref="RawDataset.SkippedRows"/> and in the data report. Off by default: a bad row stops the load and
    /// nothing is half-loaded.</summary>
    public bool SkipBadRows { get; init; }
}
