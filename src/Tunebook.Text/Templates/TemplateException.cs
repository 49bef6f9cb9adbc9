namespace Tunebook.Text.Templates;

/// <summary>
/// A chat template failed to parse or to render. <see cref="Exception.Message"/> reads
/// "chat template line 7, col 12: unknown filter 'foo'"; <see cref="Reason"/> holds the part after the location,
/// which for <c>raise_exception(msg)</c> is the template's own message, unchanged.
/// </summary>
public sealed class TemplateException : Exception
{
    /// <summary>1-based line in the template source, or 0 when the location is unknown.</summary>
    public int Line { get; }

    /// <summary>1-based column (UTF-16 code units) in the template source, or 0 when unknown.</summary>
    public int Column { get; }

    /// <summary>Why it failed, without the location prefix.</summary>
    public string Reason { get; }

    /// <summary>True when the template itself called <c>raise_exception</c> (for example on a bad role order).</summary>
    public bool RaisedByTemplate { get; }

    /// <summary>Creates an error located at a line and column of the template source.</summary>
    public TemplateException(string reason, int line, int column, bool raisedByTemplate = false, Exception? inner = null)
        : base(Format(reason, line, column), inner)
    {
        Reason = reason;
        Line = line;
        Column = column;
        RaisedByTemplate = raisedByTemplate;
    }

    static string Format(string reason, int line, int column) =>
        line > 0 ? $"chat template line {line}, col {column}: {reason}" : $"chat template: {reason}";
}

/// <summary>An error raised while evaluating, before the interpreter knows which template node it belongs to.</summary>
sealed class JinjaError(string message, bool raisedByTemplate = false) : Exception(message)
{
    public bool RaisedByTemplate { get; } = raisedByTemplate;
}

/// <summary>A position in the original template source (offset in UTF-16 code units).</summary>
readonly record struct SourcePos(int Offset)
{
    public static readonly SourcePos None = new(-1);
}
