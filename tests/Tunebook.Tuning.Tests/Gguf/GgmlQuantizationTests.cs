using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Tests.Starter;
using Xunit.Abstractions;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>
/// The block encodings (Q8_0, Q4_0, Q5_0, Q5_1 and the K-quants Q4_K, Q5_K, Q6_K) against ggml's own
/// quantizers in llama.cpp's library: the same bytes for rows that reach every branch; decoding as ggml
/// decodes; the round-trip error each type's bits allow; and the Q4_K_M file llama.cpp's quantizer makes
/// from Tunebook's float32 export equal, tensor by tensor, to Tunebook's own Q4_K_M export.
/// </summary>
public class GgmlQuantizationTests(ITestOutputHelper output)
{
    const int RowLength = 512;

    static readonly GgmlType[] Types = [GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q5_0, GgmlType.Q5_1, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K];

    public static TheoryData<GgmlType> BlockTypes => new(Types);

    /// <summary>
    /// Named rows of <see cref="RowLength"/> values: weight-like noise, outliers, one-signed rows (the K-quant
    /// minimum clamps to zero), zeros and constants (the degenerate branches), integers (exact rounding ties),
    /// values below ggml's all-zero threshold, and super-blocks half zero.
    /// </summary>
    static List<(string Kind, float[] Values)> Rows()
    {
        var random = new Random(11);
        float Gauss() => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        var kinds = new List<(string, Func<int, float>)>
        {
            ("outliers", _ => 3f * Gauss() * (random.Next(64) == 0 ? 40f : 1f)),
            ("positive", _ => (float)random.NextDouble()),
            ("negative", _ => -1f - (float)random.NextDouble()),
            ("zeros", _ => 0f),
            ("constant", _ => 0.5f),
            ("integers", _ => random.Next(-16, 16)),
            ("tiny", _ => 1e-20f * Gauss()),
            ("half zero", i => i % 256 < 128 ? 0f : Gauss()),
        };
        for (int r = 0; r < 24; r++) kinds.Add(($"weights {r}", _ => 0.02f * Gauss()));
        return kinds.Select(k => (k.Item1, Enumerable.Range(0, RowLength).Select(k.Item2).ToArray())).ToList();
    }

    static float[] Weights() => Rows().Where(r => r.Kind.StartsWith("weights", StringComparison.Ordinal)).SelectMany(r => r.Values).ToArray();

    [LlamaCppTheory]
    [MemberData(nameof(BlockTypes))]
    public void Encoding_is_byte_identical_to_ggml(GgmlType type)
    {
        foreach (var (kind, values) in Rows())
        {
            var ours = new byte[type.ByteCount(values.Length)];
            GgufQuantization.Encode(type, values, ours);
            var theirs = Ggml.Quantize(type, values, RowLength);
            int first = ours.AsSpan().CommonPrefixLength(theirs);
            if (first != ours.Length)
                Assert.Fail($"{type}, row '{kind}': first difference in block {first / type.BlockBytes()}, byte {first % type.BlockBytes()} ({ours[first]} vs ggml's {theirs[first]})");
        }
    }

    [LlamaCppTheory]
    [MemberData(nameof(BlockTypes))]
    public void Decoding_equals_ggml_dequantization(GgmlType type)
    {
        foreach (var (kind, values) in Rows())
        {
            var bytes = Ggml.Quantize(type, values, RowLength);
            var ours = GgufQuantization.Decode(type, bytes, values.Length);
            var theirs = Ggml.Dequantize(type, bytes, values.Length);
            for (int i = 0; i < values.Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(ours[i]) == BitConverter.SingleToInt32Bits(theirs[i]), $"{type}, row '{kind}', value {i}: {ours[i]} vs ggml's {theirs[i]}");
        }
    }

    /// <summary>
    /// RMS of the round-trip error relative to the RMS of weight-like values. Uniform rounding with step Δ has
    /// an RMS error of Δ/√12; with Δ about a block's range over its levels that is 0.5–0.6 % for 8 bits,
    /// about 2 % for 6, 4 % for 5 and 8–9 % for 4 (the K-quants' fitted scales do a little better than their
    /// bits alone). The bounds sit about a fifth above those figures.
    /// </summary>
    [Theory]
    [InlineData(GgmlType.Q8_0, 0.0065)]
    [InlineData(GgmlType.Q6_K, 0.022)]
    [InlineData(GgmlType.Q5_K, 0.042)]
    [InlineData(GgmlType.Q5_1, 0.045)]
    [InlineData(GgmlType.Q5_0, 0.052)]
    [InlineData(GgmlType.Q4_K, 0.085)]
    [InlineData(GgmlType.Q4_0, 0.105)]
    public void Round_trip_error_is_what_the_bits_allow(GgmlType type, double bound)
    {
        var x = Weights();
        var bytes = new byte[type.ByteCount(x.Length)];
        GgufQuantization.Encode(type, x, bytes);
        var back = GgufQuantization.Decode(type, bytes, x.Length);
        double error = 0, signal = 0, worst = 0;
        for (int i = 0; i < x.Length; i++)
        {
            error += (back[i] - x[i]) * (double)(back[i] - x[i]);
            signal += x[i] * (double)x[i];
            worst = Math.Max(worst, Math.Abs(back[i] - x[i]));
        }
        double relative = Math.Sqrt(error / signal);
        output.WriteLine($"{type}: relative RMS error {relative:P2}, largest error {worst / Math.Sqrt(signal / x.Length):0.000} RMS, {type.BitsPerWeight():0.####} bits per weight");
        Assert.True(relative <= bound, $"{type}: relative RMS error {relative:P2} above {bound:P2}");
        // No value lands further than the widest step of a 4-bit grid over the whole row (a broken scale or
        // minimum would put whole sub-blocks off).
        float amax = x.Max(MathF.Abs);
        Assert.True(worst <= 2 * amax / 15, $"{type}: error {worst} for values up to {amax}");
    }

    /// <summary>Zeros stay exactly zero; a constant comes back within the float16 rounding of the scales.</summary>
    [Fact]
    public void Degenerate_blocks_decode_to_themselves()
    {
        foreach (var type in Types)
            foreach (var value in new[] { 0f, 1f, -2f })
            {
                var x = Enumerable.Repeat(value, 256).ToArray();
                var bytes = new byte[type.ByteCount(256)];
                GgufQuantization.Encode(type, x, bytes);
                var back = GgufQuantization.Decode(type, bytes, 256);
                if (value == 0) Assert.All(back, v => Assert.Equal(0f, v));
                else Assert.All(back, v => Assert.InRange(v, value - Math.Abs(value) * 2e-3f, value + Math.Abs(value) * 2e-3f));
            }
    }

    /// <summary>The starter model (hidden 256, FFN 688, 6 layers, tied embedding) as Q4_K_M: the type of every matrix, written out.</summary>
    [Fact]
    public void Q4_K_M_gives_each_tensor_llama_cpp_s_type()
    {
        var model = CausalLM.FromPretrained(StarterTestSupport.Datasets("starter"));
        var result = GgufExport.Save(model, Path.Combine(Tiny.TempDir(), "starter.gguf"), GgufFileType.Q4_K_M);
        var file = new GgufFile(result.Path);
        GgmlType TypeOf(string name) => (GgmlType)file.Tensors.Single(t => t.Name == name).Type;
        Assert.Equal(15u, file.Metadata["general.file_type"]);
        Assert.Equal(GgmlType.Q6_K, TypeOf("token_embd.weight")); // tied: the output projection's type
        for (int layer = 0; layer < 6; layer++)
        {
            // use_more_bits for 6 layers: 6/8 = 0, 7·6/8 = 5, so layers 5 and (layer − 0) % 3 == 2 → 2 and 5.
            bool more = layer is 2 or 5;
            Assert.Equal(more ? GgmlType.Q6_K : GgmlType.Q4_K, TypeOf($"blk.{layer}.attn_v.weight"));
            foreach (var name in new[] { "attn_q", "attn_k", "attn_output", "ffn_gate", "ffn_up" })
                Assert.Equal(GgmlType.Q4_K, TypeOf($"blk.{layer}.{name}.weight"));
            // 688 columns: neither 256 (Q4_K, Q6_K) nor 32 (their fallbacks Q5_0, Q8_0) divides them.
            Assert.Equal(GgmlType.F16, TypeOf($"blk.{layer}.ffn_down.weight"));
            Assert.Equal(GgmlType.F32, TypeOf($"blk.{layer}.attn_norm.weight"));
        }
        Assert.Equal(new[] { true, false, false, true, false, false, true, true },
            Enumerable.Range(0, 8).Select(i => GgufTensorTypes.UseMoreBits(i, 8)).ToArray());
        output.WriteLine(result.ToString());
        // Q4_K with a Q6_K embedding and F16 down projections: llama.cpp's quantizer reports 7.19 for this model too.
        Assert.InRange(result.BitsPerWeight, 7.1, 7.3);
    }

    static JsonObject TinyJson(string architecture) => architecture == "gpt2"
        ? new JsonObject
        {
            ["architectures"] = new JsonArray("GPT2LMHeadModel"), ["model_type"] = "gpt2", ["vocab_size"] = 4096, ["n_embd"] = 256,
            ["n_layer"] = 4, ["n_head"] = 4, ["n_positions"] = 128, ["n_inner"] = 320, ["activation_function"] = "gelu_new",
            ["layer_norm_epsilon"] = 1e-5, ["bos_token_id"] = 0, ["eos_token_id"] = 2,
        }
        : new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama", ["vocab_size"] = 4096, ["hidden_size"] = 64,
            ["intermediate_size"] = 96, ["num_hidden_layers"] = 8, ["num_attention_heads"] = 4, ["num_key_value_heads"] = 2,
            ["max_position_embeddings"] = 128, ["rms_norm_eps"] = 1e-5, ["rope_theta"] = 10000.0, ["tie_word_embeddings"] = false,
            ["bos_token_id"] = 0, ["eos_token_id"] = 2,
        };

    /// <summary>
    /// Tunebook's export in a quantized type against llama.cpp's quantizer run on Tunebook's float32 export of
    /// the same model: every tensor has the same type and the same bytes. The starter model (Q4_K_M: K-quants,
    /// F16 fallbacks), an 8-layer llama with 64-wide rows (untied; every K-quant falls back to Q5_0/Q8_0) in
    /// Q4_K_M, Q4_0 and Q8_0, and a GPT-2 with fused QKV and position embeddings in Q4_K_M.
    /// </summary>
    [LlamaCppFact]
    public void Quantized_exports_equal_llama_cpp_s_quantizer_tensor_by_tensor()
    {
        var dir = Tiny.TempDir();
        var tokenizer = Tokenizer.FromFolder(StarterTestSupport.Datasets("starter"));
        var starter = CausalLM.FromPretrained(StarterTestSupport.Datasets("starter"));
        torch.manual_seed(5);
        var llama = CausalLM.FromConfig(ModelConfig.FromJson(TinyJson("llama")));
        var gpt2 = CausalLM.FromConfig(ModelConfig.FromJson(TinyJson("gpt2")));
        llama.Tokenizer = gpt2.Tokenizer = tokenizer;
        var cases = new (string Name, CausalLM Model, GgufFileType Type)[]
        {
            ("starter", starter, GgufFileType.Q4_K_M),
            ("llama", llama, GgufFileType.Q4_K_M), ("llama", llama, GgufFileType.Q4_0), ("llama", llama, GgufFileType.Q8_0),
            ("gpt2", gpt2, GgufFileType.Q4_K_M),
        };
        foreach (var (name, model, type) in cases)
        {
            var f32 = Path.Combine(dir, $"{name}-f32.gguf");
            if (!File.Exists(f32)) GgufExport.Save(model, f32, GgufFileType.F32);
            var ours = new GgufFile(GgufExport.Save(model, Path.Combine(dir, $"{name}-{type.Name()}.gguf"), type).Path);
            var reference = Path.Combine(dir, $"{name}-{type.Name()}-llama.cpp.gguf");
            Ggml.QuantizeModel(f32, reference, (uint)ours.Metadata["general.file_type"]);
            var theirs = new GgufFile(reference);
            // llama.cpp's quantizer writes the tensors in its own order; the set is the same.
            Assert.Equal(theirs.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal), ours.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
            var types = new SortedDictionary<string, int>();
            foreach (var (tensor, _, _, _) in ours.Tensors)
            {
                var (ourType, ourBytes) = ours.Tensor(tensor);
                var (theirType, theirBytes) = theirs.Tensor(tensor);
                Assert.True(ourType == theirType, $"{name} {type.Name()}: {tensor} is {ourType}, llama.cpp's quantizer wrote {theirType}");
                int same = ourBytes.AsSpan().CommonPrefixLength(theirBytes);
                if (same != ourBytes.Length) Assert.Fail($"{name} {type.Name()}: {tensor} ({ourType}) differs from llama.cpp's at byte {same} of {ourBytes.Length}");
                types[ourType.ToString()] = types.GetValueOrDefault(ourType.ToString()) + 1;
            }
            output.WriteLine($"{name} {type.Name()}: {ours.Tensors.Count} tensors identical to llama.cpp's ({string.Join(", ", types.Select(t => $"{t.Value} {t.Key}"))})");
        }
    }
}
