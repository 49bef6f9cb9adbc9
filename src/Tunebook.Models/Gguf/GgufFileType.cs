namespace Tunebook.Models.Gguf;

/// <summary>
/// The encodings a whole GGUF export can use (the --type of <c>#!save gguf</c> and
/// <c>./tunebook export gguf</c>), named as llama.cpp names its file types.
/// </summary>
public enum GgufFileType
{
    /// <summary>Every weight float32: exact, 32 bits per weight.</summary>
    F32,
    /// <summary>Matrices float16, norms float32.</summary>
    F16,
    /// <summary>Matrices bfloat16, norms float32.</summary>
    BF16,
    /// <summary>Matrices in 8-bit blocks of 32 with a float16 scale (8.5 bits per weight), llama.cpp's near-lossless type.</summary>
    Q8_0,
    /// <summary>Matrices in 4-bit blocks of 32 with a float16 scale (4.5 bits per weight); the output projection Q6_K, as llama.cpp's quantizer writes it.</summary>
    Q4_0,
    /// <summary>
    /// llama.cpp's Q4_K_M mix (what Ollama serves by default): matrices Q4_K (4.5 bits per weight), the output
    /// projection and about a third of the attention value and FFN down projections Q6_K (see <see cref="GgufTensorTypes"/>).
    /// </summary>
    Q4_K_M,
}

/// <summary>Names and ids of <see cref="GgufFileType"/>.</summary>
public static class GgufFileTypes
{
    /// <summary>The names accepted on the command line and in the magic.</summary>
    public static readonly IReadOnlyList<string> Names = ["f32", "f16", "bf16", "q8_0", "q4_k_m", "q4_0"];

    /// <summary>Parses "q8_0", "F16", ... (case-insensitive); the error names the accepted values.</summary>
    public static GgufFileType Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToLowerInvariant() switch
        {
            "f32" => GgufFileType.F32,
            "f16" => GgufFileType.F16,
            "bf16" => GgufFileType.BF16,
            "q8_0" => GgufFileType.Q8_0,
            "q4_0" => GgufFileType.Q4_0,
            "q4_k_m" => GgufFileType.Q4_K_M,
            _ => throw new ArgumentException($"unknown GGUF type '{name}'; use one of {string.Join(", ", Names)}"),
        };
    }

    /// <summary>Lower-case name, as llama.cpp's tools print it.</summary>
    public static string Name(this GgufFileType type) => type.ToString().ToLowerInvariant();

    /// <summary>general.file_type (llama.cpp's <c>enum llama_ftype</c>).</summary>
    internal static uint LlamaFileType(this GgufFileType type) => type switch
    {
        GgufFileType.F32 => 0,
        GgufFileType.F16 => 1,
        GgufFileType.Q4_0 => 2,
        GgufFileType.Q8_0 => 7,
        GgufFileType.Q4_K_M => 15,
        GgufFileType.BF16 => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The encoding of a weight matrix in a file of this type, before <see cref="GgufTensorTypes"/> picks per tensor.</summary>
    internal static GgmlType MatrixType(this GgufFileType type) => type switch
    {
        GgufFileType.F32 => GgmlType.F32,
        GgufFileType.F16 => GgmlType.F16,
        GgufFileType.BF16 => GgmlType.BF16,
        GgufFileType.Q8_0 => GgmlType.Q8_0,
        GgufFileType.Q4_0 => GgmlType.Q4_0,
        GgufFileType.Q4_K_M => GgmlType.Q4_K,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
