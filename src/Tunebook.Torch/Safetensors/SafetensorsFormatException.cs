namespace Tunebook.Torch;

/// <summary>
/// A safetensors file, or a sharded checkpoint index, that does not follow the format. The message
/// names the file and, where one is involved, the tensor, and says what was expected.
/// </summary>
public sealed class SafetensorsFormatException : FormatException
{
    /// <summary>Creates the exception; the message is prefixed with the file and tensor.</summary>
    public SafetensorsFormatException(string filePath, string? tensorName, string problem, Exception? inner = null)
        : base(Describe(filePath, tensorName, problem), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
    }

    /// <summary>The file that failed to load.</summary>
    public string FilePath { get; }

    /// <summary>The tensor the problem is about, or null when it concerns the whole file.</summary>
    public string? TensorName { get; }

    static string Describe(string filePath, string? tensorName, string problem) =>
        tensorName is null ? $"{filePath}: {problem}" : $"{filePath}: tensor '{tensorName}': {problem}";
}
