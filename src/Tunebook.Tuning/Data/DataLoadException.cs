namespace Tunebook.Tuning.Data;

/// <summary>
/// A row of a data file that cannot be read, with where it is: the file, the 1-based line (JSON Lines, CSV, text)
/// or the array index (JSON), and the field. The message reads like
/// <c>data/train.jsonl line 17: field 'messages[2].role' must be one of system, user, assistant, tool; got 'bot'</c>.
/// </summary>
public sealed class DataLoadException : FormatException
{
    /// <summary>Creates the error; <paramref name="location"/> says where (see <see cref="RowLocation"/>).</summary>
    public DataLoadException(RowLocation location, string? field, string problem, Exception? inner = null)
        : base(Format(location, field, problem), inner)
    {
        Location = location;
        Field = field;
        Problem = problem;
    }

    /// <summary>Where the bad row is.</summary>
    public RowLocation Location { get; }

    /// <summary>The field at fault (for example <c>messages[2].role</c>), or null when the row as a whole is.</summary>
    public string? Field { get; }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }

    static string Format(RowLocation location, string? field, string problem) =>
        field is null ? $"{location}: {problem}" : $"{location}: field '{field}' {problem}";
}

/// <summary>Where a row came from: a file and a 1-based line, or an index into a JSON array.</summary>
/// <param name="File">The file as it was given to the loader.</param>
/// <param name="Line">1-based line where the row starts (JSON Lines, CSV, plain text), or null.</param>
/// <param name="ArrayIndex">0-based index in a JSON array, or null.</param>
public readonly record struct RowLocation(string File, int? Line = null, int? ArrayIndex = null)
{
    /// <summary>"file line N", "file [i]" or "file".</summary>
    public override string ToString() =>
        Line is { } l ? $"{File} line {l}" : ArrayIndex is { } i ? $"{File} [{i}]" : File;
}
