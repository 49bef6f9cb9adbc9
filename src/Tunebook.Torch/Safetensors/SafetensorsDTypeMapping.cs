namespace Tunebook.Torch;

/// <summary>Conversions between safetensors dtypes and tensor <see cref="ScalarType"/>s.</summary>
public static class SafetensorsDTypeMapping
{
    /// <summary>The tensor dtype for a safetensors dtype, or null when tensors cannot hold it.</summary>
    public static ScalarType? TryToScalarType(this SafetensorsDType dtype) => dtype switch
    {
        SafetensorsDType.Bool => ScalarType.Bool,
        SafetensorsDType.U8 => ScalarType.UInt8,
        SafetensorsDType.I8 => ScalarType.Int8,
        SafetensorsDType.I16 => ScalarType.Int16,
        SafetensorsDType.I32 => ScalarType.Int32,
        SafetensorsDType.I64 => ScalarType.Int64,
        SafetensorsDType.F16 => ScalarType.Float16,
        SafetensorsDType.BF16 => ScalarType.BFloat16,
        SafetensorsDType.F32 => ScalarType.Float32,
        SafetensorsDType.F64 => ScalarType.Float64,
        _ => null,
    };

    /// <summary>
    /// The tensor dtype for a tensor stored in a file; throws <see cref="NotSupportedException"/> naming
    /// the file and tensor for dtypes tensors cannot hold (float8, packed 4/6-bit, unsigned 16–64-bit, complex).
    /// </summary>
    public static ScalarType ToScalarType(this SafetensorsDType dtype, string filePath, string tensorName) =>
        dtype.TryToScalarType() ?? throw new NotSupportedException(
            $"{filePath}: tensor '{tensorName}' is stored as {dtype.ToSpecName()}, which Tunebook.Torch tensors do not support " +
            "(supported: BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64); its raw bytes remain readable with GetBytes or OpenRead");

    /// <summary>The safetensors dtype that stores a tensor dtype.</summary>
    public static SafetensorsDType ToSafetensorsDType(this ScalarType dtype) => dtype switch
    {
        ScalarType.Bool => SafetensorsDType.Bool,
        ScalarType.UInt8 => SafetensorsDType.U8,
        ScalarType.Int8 => SafetensorsDType.I8,
        ScalarType.Int16 => SafetensorsDType.I16,
        ScalarType.Int32 => SafetensorsDType.I32,
        ScalarType.Int64 => SafetensorsDType.I64,
        ScalarType.Float16 => SafetensorsDType.F16,
        ScalarType.BFloat16 => SafetensorsDType.BF16,
        ScalarType.Float32 => SafetensorsDType.F32,
        ScalarType.Float64 => SafetensorsDType.F64,
        _ => throw new NotSupportedException($"dtype {dtype} has no safetensors equivalent"),
    };
}
