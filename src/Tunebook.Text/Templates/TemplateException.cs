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

    /// <summary>Where the template came from ("chat_template of models/x/tokenizer_config.json"), or null when it was parsed from a string.</summary>
    public string? Origin { get; }

    /// <summary>Creates an error located at a line and column of the template source.</summary>
    public TemplateException(string reason, int line, int column, bool raisedByTemplate = false, Exception? inner = null)
        : this(reason, line, column, raisedByTemplate, inner, origin: null)
    {
    }

    TemplateException(string reason, int line, int column, bool raisedByTemplate, Exception? inner, string? origin)
        : base(Format(reason, line, column) + (origin is null ? "" : $" (in {origin})"), inner)
    {
        Reason = reason;
        Line = line;
        Column = column;
        RaisedByTemplate = raisedByTemplate;
        Origin = origin;
    }

    /// <summary>The same error naming the template's origin, so a render-time failure says which file to fix.</summary>
    internal TemplateException WithOrigin(string origin) =>
        Origin is not null ? this : new TemplateException(Reason, Line, Column, RaisedByTemplate, this, origin);

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
