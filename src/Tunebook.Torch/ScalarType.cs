namespace Tunebook.Torch;

/// <summary>Element types. Values are libtorch's c10::ScalarType codes.</summary>
public enum ScalarType
{
    UInt8 = 0,
    Int8 = 1,
    Int16 = 2,
    Int32 = 3,
    Int64 = 4,
    Float16 = 5,
    Float32 = 6,
    Float64 = 7,
    Bool = 11,
    BFloat16 = 15,
}

/// <summary>Facts about <see cref="ScalarType"/> values.</summary>
public static class ScalarTypes
{
    /// <summary>Bytes per element.</summary>
    public static int ElementSize(this ScalarType t) => t switch
    {
        ScalarType.UInt8 or ScalarType.Int8 or ScalarType.Bool => 1,
        ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
        ScalarType.Int32 or ScalarType.Float32 => 4,
        ScalarType.Int64 or ScalarType.Float64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    public static bool IsFloatingPoint(this ScalarType t) =>
        t is ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Float32 or ScalarType.Float64;

    /// <summary>PyTorch's name, e.g. "float32", "bfloat16", "int64".</summary>
    public static string Name(this ScalarType t) => t switch
    {
        ScalarType.UInt8 => "uint8",
        ScalarType.Int8 => "int8",
        ScalarType.Int16 => "int16",
        ScalarType.Int32 => "int32",
        ScalarType.Int64 => "int64",
        ScalarType.Float16 => "float16",
        ScalarType.Float32 => "float32",
        ScalarType.Float64 => "float64",
        ScalarType.Bool => "bool",
        ScalarType.BFloat16 => "bfloat16",
        _ => $"dtype({(int)t})",
    };

    /// <summary>Parses PyTorch and safetensors names: "float32"/"F32"/"fp32", "bfloat16"/"BF16", "int64"/"I64", "bool"/"BOOL", ...</summary>
    public static ScalarType Parse(string name) => TryParse(name, out var type)
        ? type
        : throw new ArgumentException($"unknown dtype '{name}'; expected one of float32, float16, bfloat16, float64, int64, int32, int16, int8, uint8, bool", nameof(name));

    /// <summary><see cref="Parse"/> without the exception: false for a name it does not know.</summary>
    public static bool TryParse(string name, out ScalarType type)
    {
        ScalarType? parsed = name.ToLowerInvariant() switch
        {
            "float32" or "float" or "f32" or "fp32" => ScalarType.Float32,
            "float16" or "half" or "f16" or "fp16" => ScalarType.Float16,
            "bfloat16" or "bf16" => ScalarType.BFloat16,
            "float64" or "double" or "f64" => ScalarType.Float64,
            "int64" or "long" or "i64" => ScalarType.Int64,
            "int32" or "int" or "i32" => ScalarType.Int32,
            "int16" or "short" or "i16" => ScalarType.Int16,
            "int8" or "i8" => ScalarType.Int8,
            "uint8" or "u8" => ScalarType.UInt8,
            "bool" => ScalarType.Bool,
            _ => null,
        };
        type = parsed.GetValueOrDefault();
        return parsed.HasValue;
    }

    internal static ScalarType FromCode(int code) => Enum.IsDefined(typeof(ScalarType), code)
        ? (ScalarType)code
        : throw new TorchException($"tensor has a dtype (code {code}) that Tunebook.Torch does not support");
}
