namespace Tunebook.Models.Gguf;

/// <summary>
/// The encoding of each tensor in a file of a given <see cref="GgufFileType"/>, chosen as llama.cpp's quantizer
/// chooses it (src/llama-quant.cpp, <c>llama_tensor_get_type</c> without an importance matrix), so that an export
/// has the tensor types a user would get from <c>llama-quantize model-f32.gguf q4_k_m</c>:
/// <list type="bullet">
/// <item>vectors (norms, biases) and GPT-2's position embeddings stay float32;</item>
/// <item>in a quantized file the output projection (the token embedding when tied) is Q6_K, or Q8_0 when its
/// rows are not a multiple of the file type's block, or stays Q8_0 in a Q8_0 file;</item>
/// <item>Q4_K_M gives Q6_K to the attention value projection (fused QKV where there is no separate one) and
/// the FFN down projection of the layers <see cref="UseMoreBits"/> selects: the first and last eighth and
/// every third layer between;</item>
/// <item>a K-quant whose block of 256 does not divide a row falls back to the 32-value type of about the same
/// precision (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0), and to F16 when 32 does not divide it either.
/// llama.cpp stops with an error where Q8_0 or Q4_0 cannot encode a row; Tunebook writes F16 instead.</item>
/// </list>
/// </summary>
public static class GgufTensorTypes
{
    /// <summary>The encoding of tensor <paramref name="name"/> (llama.cpp's name) of PyTorch shape <paramref name="shape"/>.</summary>
    public static GgmlType Choose(string name, long[] shape, GgufFileType file, ModelConfig config)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(config);
        if (shape.Length == 1) return GgmlType.F32;
        var type = file.MatrixType();
        if (type.BlockSize() == 1) return type; // float files: every matrix in the file's type
        if (name == "position_embd.weight") return GgmlType.F32;

        long columns = shape[^1];
        bool output = name == "output.weight" || (name == "token_embd.weight" && config.TieWordEmbeddings);
        if (output)
        {
            if (columns % type.BlockSize() != 0) type = GgmlType.Q8_0;
            else if (type != GgmlType.Q8_0) type = GgmlType.Q6_K;
        }
        else if (file == GgufFileType.Q4_K_M && Layer(name) is int layer)
        {
            // One value projection (or fused QKV) and one down projection per layer, so llama.cpp's running
            // counts of them equal the layer index, and their totals the layer count.
            bool valueLike = name.Contains("attn_v.weight", StringComparison.Ordinal) || name.Contains("attn_qkv.weight", StringComparison.Ordinal);
            bool down = name.Contains("ffn_down", StringComparison.Ordinal);
            if ((valueLike || down) && UseMoreBits(layer, config.NumHiddenLayers)) type = GgmlType.Q6_K;
        }
        return Fallback(type, columns);
    }

    /// <summary>llama.cpp's use_more_bits: the first and last eighth of the layers, and every third layer between.</summary>
    public static bool UseMoreBits(int layer, int layers) =>
        layer < layers / 8 || layer >= 7 * layers / 8 || (layer - layers / 8) % 3 == 2;

    static GgmlType Fallback(GgmlType type, long columns)
    {
        if (columns % type.BlockSize() == 0) return type;
        var fallback = type switch
        {
            GgmlType.Q4_K => GgmlType.Q5_0,
            GgmlType.Q5_K => GgmlType.Q5_1,
            GgmlType.Q6_K => GgmlType.Q8_0,
            _ => GgmlType.F16,
        };
        return columns % fallback.BlockSize() == 0 ? fallback : GgmlType.F16;
    }

    static int? Layer(string name)
    {
        if (!name.StartsWith("blk.", StringComparison.Ordinal)) return null;
        int end = name.IndexOf('.', 4);
        return end > 4 && int.TryParse(name.AsSpan(4, end - 4), out int layer) ? layer : null;
    }
}
