using System.Runtime.InteropServices;
using Tunebook.Models.Gguf;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>
/// llama.cpp's own quantizers, called in the native libraries that node-llama-cpp ships (tests/reference):
/// ggml's <c>ggml_quantize_chunk</c> and <c>dequantize_row_*</c> for single tensors, and llama.cpp's
/// <c>llama_model_quantize</c> (what the <c>llama-quantize</c> tool runs) for whole files. The reference
/// for byte identity.
/// </summary>
static unsafe class Ggml
{
    static string Folder => Path.Combine(LlamaCpp.ReferenceFolder, "node_modules", "@node-llama-cpp", "linux-x64", "bins", "linux-x64");

    static readonly Lazy<nint> Base = new(() => NativeLibrary.Load(Path.Combine(Folder, "libggml-base.so")));

    static readonly Lazy<nint> Llama = new(() =>
    {
        var library = Directory.GetFiles(Folder, "libllama*.so").Single(f => !Path.GetFileName(f).StartsWith("libllama-", StringComparison.Ordinal));
        var handle = NativeLibrary.Load(library);
        ((delegate* unmanaged<void>)NativeLibrary.GetExport(handle, "llama_backend_init"))();
        return handle;
    });

    /// <summary>ggml's encoding of rows of <paramref name="rowLength"/> values, without an importance matrix.</summary>
    public static byte[] Quantize(GgmlType type, float[] values, int rowLength)
    {
        var quantize = (delegate* unmanaged<int, float*, byte*, long, long, long, float*, nuint>)NativeLibrary.GetExport(Base.Value, "ggml_quantize_chunk");
        var output = new byte[type.ByteCount(values.Length)];
        fixed (float* x = values)
        fixed (byte* y = output)
        {
            nuint written = quantize((int)type, x, y, 0, values.Length / rowLength, rowLength, null);
            Assert.Equal((nuint)output.Length, written);
        }
        return output;
    }

    /// <summary>ggml's dequantize_row_* for a block type.</summary>
    public static float[] Dequantize(GgmlType type, byte[] bytes, int count)
    {
        string name = "dequantize_row_" + type switch
        {
            GgmlType.Q4_K or GgmlType.Q5_K or GgmlType.Q6_K => type.ToString()[..2].ToLowerInvariant() + "_K",
            _ => type.ToString().ToLowerInvariant(),
        };
        var dequantize = (delegate* unmanaged<byte*, float*, long, void>)NativeLibrary.GetExport(Base.Value, name);
        var values = new float[count];
        fixed (byte* x = bytes)
        fixed (float* y = values)
            dequantize(x, y, count);
        return values;
    }

    /// <summary>
    /// llama_model_quantize_params: only the leading thread count and file type are set here; the rest keeps
    /// llama.cpp's defaults. Larger than the C struct, so that the by-value return fits whatever its size.
    /// </summary>
    [StructLayout(LayoutKind.Sequential, Size = 256)]
    struct QuantizeParams
    {
        public int Threads;
        public int FileType;
    }

    /// <summary>Quantizes a GGUF file as <c>llama-quantize IN OUT TYPE</c> does (llama_ftype id, one thread).</summary>
    public static void QuantizeModel(string input, string output, uint llamaFileType)
    {
        var defaults = (delegate* unmanaged<QuantizeParams>)NativeLibrary.GetExport(Llama.Value, "llama_model_quantize_default_params");
        var quantize = (delegate* unmanaged<byte*, byte*, QuantizeParams*, uint>)NativeLibrary.GetExport(Llama.Value, "llama_model_quantize");
        var parameters = defaults();
        parameters.Threads = 1;
        parameters.FileType = (int)llamaFileType;
        var inputBytes = System.Text.Encoding.UTF8.GetBytes(input + "\0");
        var outputBytes = System.Text.Encoding.UTF8.GetBytes(output + "\0");
        fixed (byte* i = inputBytes)
        fixed (byte* o = outputBytes)
            Assert.Equal(0u, quantize(i, o, &parameters));
    }
}
