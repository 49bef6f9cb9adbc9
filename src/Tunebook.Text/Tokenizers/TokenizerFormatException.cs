namespace Tunebook.Text.Tokenizers;

/// <summary>
/// A tokenizer file could not be understood. The message names the file and the JSON path of the
/// offending field, for example <c>tokenizer.json: model.merges[12]: expected 'a b' or [a, b]</c>.
/// </summary>
public sealed class TokenizerFormatException : FormatException
{
    /// <summary>The file that was being read (may be null for in-memory JSON).</summary>
    public string? FilePath { get; }

    /// <summary>The JSON path of the field at fault, e.g. <c>model.merges[12]</c> (empty for the whole document).</summary>
    public string JsonPath { get; }

    /// <summary>What was expected there, in words.</summary>
    public string Problem { get; }

    public TokenizerFormatException(string? filePath, string jsonPath, string problem, Exception? inner = null)
        : base(Compose(filePath, jsonPath, problem), inner)
    {
        FilePath = filePath;
        JsonPath = jsonPath;
        Problem = problem;
    }

    static string Compose(string? file, string path, string problem)
    {
        var where = string.IsNullOrEmpty(path) ? "" : path + ": ";
        return (file is null ? "" : file + ": ") + where + problem;
    }
}
