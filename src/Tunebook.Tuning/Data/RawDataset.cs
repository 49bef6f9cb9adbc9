using Tunebook.Text.Templates;

namespace Tunebook.Tuning.Data;

/// <summary>
/// One example as read from a file, before any template or tokenizer: the fields of its format, already checked
/// (every required field present and of the right type). Which fields are set depends on <see cref="Format"/>.
/// </summary>
public sealed record RawExample
{
    /// <summary>0-based position of the example in its dataset (after skipped rows are left out).</summary>
    public required int Index { get; init; }
    /// <summary>Where the example is in its file.</summary>
    public required RowLocation Location { get; init; }
    /// <summary>The example's layout.</summary>
    public required DataFormat Format { get; init; }

    /// <summary>Chat: the conversation (ShareGPT turns already mapped to system/user/assistant/tool).</summary>
    public IReadOnlyList<ChatMessage>? Messages { get; init; }
    /// <summary>Alpaca: the instruction.</summary>
    public string? Instruction { get; init; }
    /// <summary>Alpaca: the optional input (context) of the instruction; empty when absent.</summary>
    public string? Input { get; init; }
    /// <summary>Alpaca: the expected answer.</summary>
    public string? Output { get; init; }
    /// <summary>Alpaca: an optional system prompt.</summary>
    public string? System { get; init; }
    /// <summary>Prompt/completion: the prompt.</summary>
    public string? Prompt { get; init; }
    /// <summary>Prompt/completion: the completion (the trained part).</summary>
    public string? Completion { get; init; }
    /// <summary>Text: the document.</summary>
    public string? Text { get; init; }

    /// <summary>The record's other plain fields (strings, numbers, booleans), such as category, source or language,
    /// as text; null when it has none. The balance check counts their values.</summary>
    public IReadOnlyDictionary<string, string>? Fields { get; init; }
}

/// <summary>
/// Examples loaded from one file (or given as records), all of one <see cref="DataFormat"/>. Turn them into token ids
/// with <see cref="Prepare"/>.
/// </summary>
public sealed partial class RawDataset : IReadOnlyList<RawExample>
{
    readonly IReadOnlyList<RawExample> _rows;

    internal RawDataset(string source, DataFormat format, IReadOnlyList<RawExample> rows, IReadOnlyList<DataLoadException> skipped)
    {
        Source = source;
        Format = format;
        _rows = rows;
        SkippedRows = skipped;
    }

    /// <summary>Where the examples were loaded from (null for in-memory records): what <see cref="DataRecipe"/> records.</summary>
    internal DataOrigin? Origin { get; set; }

    /// <summary>The file the examples came from (or a name given to in-memory records).</summary>
    public string Source { get; }

    /// <summary>The examples' layout (given, or detected from the fields of the first row).</summary>
    public DataFormat Format { get; }

    /// <summary>The examples in file order.</summary>
    public IReadOnlyList<RawExample> Rows => _rows;

    /// <summary>Rows left out because they were malformed (only with <see cref="LoadOptions.SkipBadRows"/>), each
    /// with its file, line and field.</summary>
    public IReadOnlyList<DataLoadException> SkippedRows { get; }

    /// <summary>Number of examples.</summary>
    public int Count => _rows.Count;

    /// <summary>The example at <paramref name="index"/>.</summary>
    public RawExample this[int index] => _rows[index];

    /// <inheritdoc/>
    public IEnumerator<RawExample> GetEnumerator() => _rows.GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>"RawDataset: 312 chat examples from data/train.jsonl (2 bad rows skipped)".</summary>
    public override string ToString() =>
        $"RawDataset: {Count} {Format} examples from {Source}" + (SkippedRows.Count > 0 ? $" ({SkippedRows.Count} bad rows skipped)" : "");
}
