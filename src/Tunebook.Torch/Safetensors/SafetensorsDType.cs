namespace Tunebook.Torch;

/// <summary>
/// Element types of the safetensors format. The declaration order is the reference implementation's
/// order of increasing alignment, which the writer relies on: tensors are laid out by descending
/// alignment so that every tensor's data starts at a multiple of its element size.
/// </summary>
public enum SafetensorsDType
{
    /// <summary><c>BOOL</c>: one byte per element, 0 or 1.</summary>
    Bool,
    /// <summary><c>F4</c>: 4-bit float (E2M1, OCP MX), two elements per byte.</summary>
    F4,
    /// <summary><c>F6_E2M3</c>: 6-bit float (OCP MX), packed.</summary>
    F6E2M3,
    /// <summary><c>F6_E3M2</c>: 6-bit float (OCP MX), packed.</summary>
    F6E3M2,
    /// <summary><c>U8</c>: unsigned byte.</summary>
    U8,
    /// <summary><c>I8</c>: signed byte.</summary>
    I8,
    /// <summary><c>F8_E5M2</c>: 8-bit float, 5 exponent and 2 mantissa bits.</summary>
    F8E5M2,
    /// <summary><c>F8_E4M3</c>: 8-bit float, 4 exponent and 3 mantissa bits (the "fn" variant).</summary>
    F8E4M3,
    /// <summary><c>F8_E8M0</c>: 8-bit power-of-two scale (OCP MX).</summary>
    F8E8M0,
    /// <summary><c>I16</c>: signed 16-bit integer.</summary>
    I16,
    /// <summary><c>U16</c>: unsigned 16-bit integer.</summary>
    U16,
    /// <summary><c>F16</c>: IEEE half precision.</summary>
    F16,
    /// <summary><c>BF16</c>: bfloat16.</summary>
    BF16,
    /// <summary><c>I32</c>: signed 32-bit integer.</summary>
    I32,
    /// <summary><c>U32</c>: unsigned 32-bit integer.</summary>
    U32,
    /// <summary><c>F32</c>: IEEE single precision.</summary>
    F32,
    /// <summary><c>C64</c>: complex number of two F32.</summary>
    C64,
    /// <summary><c>F64</c>: IEEE double precision.</summary>
    F64,
    /// <summary><c>I64</c>: signed 64-bit integer.</summary>
    I64,
    /// <summary><c>U64</c>: unsigned 64-bit integer.</summary>
    U64,
}

/// <summary>Spec names, sizes and byte counts of <see cref="SafetensorsDType"/> values.</summary>
public static class SafetensorsDTypes
{
    static readonly (SafetensorsDType DType, string Name, int Bits)[] Table =
    [
        (SafetensorsDType.Bool, "BOOL", 8),
        (SafetensorsDType.F4, "F4", 4),
        (SafetensorsDType.F6E2M3, "F6_E2M3", 6),
        (SafetensorsDType.F6E3M2, "F6_E3M2", 6),
        (SafetensorsDType.U8, "U8", 8),
        (SafetensorsDType.I8, "I8", 8),
        (SafetensorsDType.F8E5M2, "F8_E5M2", 8),
        (SafetensorsDType.F8E4M3, "F8_E4M3", 8),
        (SafetensorsDType.F8E8M0, "F8_E8M0", 8),
        (SafetensorsDType.I16, "I16", 16),
        (SafetensorsDType.U16, "U16", 16),
        (SafetensorsDType.F16, "F16", 16),
        (SafetensorsDType.BF16, "BF16", 16),
        (SafetensorsDType.I32, "I32", 32),
        (SafetensorsDType.U32, "U32", 32),
        (SafetensorsDType.F32, "F32", 32),
        (SafetensorsDType.C64, "C64", 64),
        (SafetensorsDType.F64, "F64", 64),
        (SafetensorsDType.I64, "I64", 64),
        (SafetensorsDType.U64, "U64", 64),
    ];

    static readonly Dictionary<string, SafetensorsDType> ByName =
        Table.ToDictionary(t => t.Name, t => t.DType, StringComparer.Ordinal);

    /// <summary>Every dtype, in the reference implementation's alignment order.</summary>
    public static IReadOnlyList<SafetensorsDType> All { get; } = Table.Select(t => t.DType).ToArray();

    /// <summary>The name the format uses in headers, e.g. <c>"BF16"</c> or <c>"F8_E4M3"</c>.</summary>
    public static string ToSpecName(this SafetensorsDType dtype) => Table[Index(dtype)].Name;

    /// <summary>Bits per element; 4 and 6 for the packed micro-scaling floats, otherwise a multiple of 8.</summary>
    public static int BitsPerElement(this SafetensorsDType dtype) => Table[Index(dtype)].Bits;

    /// <summary>Parses a header dtype name (case-sensitive, as the spec writes them).</summary>
    public static bool TryParse(string name, out SafetensorsDType dtype) => ByName.TryGetValue(name, out dtype);

    /// <summary>Names accepted by <see cref="TryParse"/>, for error messages.</summary>
    public static string SpecNames => string.Join(", ", Table.Select(t => t.Name));

    /// <summary>
    /// Bytes occupied by <paramref name="elementCount"/> elements, or null when the count does not
    /// fill whole bytes (a packed dtype with an odd total) or the size overflows a long.
    /// </summary>
    public static long? ByteCount(this SafetensorsDType dtype, long elementCount)
    {
        if (elementCount < 0) return null;
        var bits = dtype.BitsPerElement();
        if (bits % 8 == 0)
        {
            var size = bits / 8;
            return elementCount > long.MaxValue / size ? null : elementCount * size;
        }
        if (elementCount > long.MaxValue / bits) return null;
        var totalBits = elementCount * bits;
        return totalBits % 8 == 0 ? totalBits / 8 : null;
    }

    static int Index(SafetensorsDType dtype) =>
        (uint)dtype < (uint)Table.Length ? (int)dtype : throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a safetensors dtype");
}
