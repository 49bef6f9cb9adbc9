using System.Text;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Tests.Starter;

namespace Tunebook.Tuning.Tests.Gguf;

/// <summary>The GGUF container and encodings, read back by an independent minimal reader; bad input.</summary>
[Collection(TorchCollection.Name)]
public class GgufWriterTests
{
    static CausalLM Starter()
    {
        var model = CausalLM.FromPretrained(StarterTestSupport.Datasets("starter"));
        model.eval();
        return model;
    }

    [Fact]
    public void Export_writes_the_header_metadata_and_tensors_llama_cpp_reads()
    {
        var model = Starter();
        var dir = Tiny.TempDir();
        var result = GgufExport.Save(model, Path.Combine(dir, "s.gguf"), GgufFileType.Q4_0);
        var file = new GgufFile(result.Path);
        Assert.Equal(new FileInfo(result.Path).Length, result.Bytes);
        Assert.Equal("llama", file.Metadata["general.architecture"]);
        Assert.Equal(2u, file.Metadata["general.file_type"]);
        Assert.Equal(6u, file.Metadata["llama.block_count"]);
        Assert.Equal(4u, file.Metadata["llama.attention.head_count_kv"]);
        Assert.Equal(1e-5f, file.Metadata["llama.attention.layer_norm_rms_epsilon"]);
        Assert.Equal("gpt2", file.Metadata["tokenizer.ggml.model"]);
        Assert.Equal("llama-bpe", file.Metadata["tokenizer.ggml.pre"]);
        Assert.Equal(4096, ((List<object>)file.Metadata["tokenizer.ggml.tokens"]).Count);
        Assert.Equal((uint)model.Tokenizer!.TokenToId("<|im_end|>")!, file.Metadata["tokenizer.ggml.eos_token_id"]);
        Assert.Equal(false, file.Metadata["tokenizer.ggml.add_bos_token"]);
        Assert.Equal(model.Tokenizer.Config.ChatTemplate, file.Metadata["tokenizer.chat_template"]);

        // Offsets aligned to 32 bytes, tied embedding Q6_K in a Q4_0 file (as llama.cpp's quantizer writes it), norms float32, no output.weight (tied).
        Assert.All(file.Tensors, t => Assert.Equal(0ul, t.Offset % 32));
        Assert.Equal((uint)GgmlType.Q6_K, file.Tensors.Single(t => t.Name == "token_embd.weight").Type);
        Assert.Equal(2u, file.Tensors.Single(t => t.Name == "blk.0.attn_q.weight").Type);
        Assert.Equal(0u, file.Tensors.Single(t => t.Name == "blk.0.attn_norm.weight").Type);
        Assert.DoesNotContain(file.Tensors, t => t.Name == "output.weight");
        Assert.Equal(new long[] { 256, 256 }, file.Tensors.Single(t => t.Name == "blk.0.attn_q.weight").Dims);
        Assert.Equal(new long[] { 256, 4096 }, file.Tensors.Single(t => t.Name == "token_embd.weight").Dims); // innermost first

        // The bytes decode to the weights: a query matrix within Q4_0's rounding, the norm exactly.
        var query = Permuted(model.state_dict()["model.layers.0.self_attn.q_proj.weight"], model.Config.NumAttentionHeads);
        var decoded = GgufQuantization.Decode(GgmlType.Q4_0, file.Data("blk.0.attn_q.weight", GgmlType.Q4_0.ByteCount(query.Length)), query.Length);
        for (int b = 0; b < query.Length / 32; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.Max(amax, Math.Abs(query[32 * b + j]));
            for (int j = 0; j < 32; j++) Assert.True(Math.Abs(decoded[32 * b + j] - query[32 * b + j]) <= amax / 8 + amax / 1024 + 1e-7, $"block {b}");
        }
        var norm = model.state_dict()["model.layers.0.input_layernorm.weight"].data<float>();
        Assert.Equal(norm, GgufQuantization.Decode(GgmlType.F32, file.Data("blk.0.attn_norm.weight", 4 * norm.Length), norm.Length));
    }

    /// <summary>Hugging Face query rows in llama.cpp's order: per head, row i and row i + head_dim/2 become rows 2i and 2i+1.</summary>
    static float[] Permuted(Tensor q, long heads)
    {
        var hf = q.contiguous().data<float>();
        long rows = q.shape[0], width = q.shape[1], headDim = rows / heads;
        var result = new float[hf.Length];
        for (long h = 0; h < heads; h++)
            for (long i = 0; i < headDim / 2; i++)
            {
                Array.Copy(hf, (h * headDim + i) * width, result, (h * headDim + 2 * i) * width, width);
                Array.Copy(hf, (h * headDim + headDim / 2 + i) * width, result, (h * headDim + 2 * i + 1) * width, width);
            }
        return result;
    }

    [Fact]
    public void Query_rows_are_permuted_into_llama_cpp_rope_order_and_gpt2_conv1d_transposed()
    {
        var model = Starter();
        var dir = Tiny.TempDir();
        var file = new GgufFile(GgufExport.Save(model, Path.Combine(dir, "s.gguf"), GgufFileType.F32).Path);
        var q = model.state_dict()["model.layers.1.self_attn.q_proj.weight"];
        var stored = GgufQuantization.Decode(GgmlType.F32, file.Data("blk.1.attn_q.weight", 4 * q.numel()), q.numel());
        // Head h, pair i: llama.cpp's row 2i is Hugging Face's row i, its row 2i+1 Hugging Face's row i + head_dim/2.
        var hf = q.contiguous().data<float>();
        long headDim = model.Config.HeadDim, width = q.shape[1];
        for (long h = 0; h < model.Config.NumAttentionHeads; h++)
            for (long i = 0; i < headDim / 2; i++)
                for (long c = 0; c < width; c += 37)
                {
                    Assert.Equal(hf[(h * headDim + i) * width + c], stored[(h * headDim + 2 * i) * width + c]);
                    Assert.Equal(hf[(h * headDim + headDim / 2 + i) * width + c], stored[(h * headDim + 2 * i + 1) * width + c]);
                }
    }

    [Fact]
    public void Float16_and_bfloat16_round_as_libtorch_does()
    {
        torch.manual_seed(3);
        var values = (torch.randn([4096]) * 100).data<float>().Concat([1.00390625f, -1.01171875f, 65504f, 70000f, 1e-8f, 0f, -0f, float.PositiveInfinity]).ToArray();
        var t = torch.tensor(values, [values.Length]);
        var half = t.to(ScalarType.Float16).view(ScalarType.Int16).data<short>();
        var bf16 = t.to(ScalarType.BFloat16).view(ScalarType.Int16).data<short>();
        for (int i = 0; i < values.Length; i++)
        {
            Assert.Equal((ushort)half[i], GgufQuantization.ToFloat16(values[i]));
            Assert.Equal((ushort)bf16[i], GgufQuantization.ToBFloat16(values[i]));
        }
    }

    [Fact]
    public void Q8_0_and_Q4_0_blocks_follow_ggml()
    {
        // Q8_0: scale max|x|/127 as float16, values rounded half away from zero.
        var x = Enumerable.Range(0, 32).Select(i => (i - 16) * 0.5f).ToArray(); // max |x| = 8 at index 0
        var q8 = new byte[34];
        GgufQuantization.Encode(GgmlType.Q8_0, x, q8);
        Assert.Equal(GgufQuantization.ToFloat16(8f / 127), BitConverter.ToUInt16(q8, 0));
        Assert.Equal(-127, (sbyte)q8[2]);
        Assert.Equal(0, (sbyte)q8[2 + 16]);
        Assert.Equal((int)MathF.Round(0.5f * 127 / 8, MidpointRounding.AwayFromZero), (sbyte)q8[2 + 17]);

        // Q4_0: the largest magnitude (-8 here, at index 0) maps to nibble 0, d = -8 / -8 = 1.
        var q4 = new byte[18];
        var y = Enumerable.Range(0, 32).Select(i => (float)(i % 16) - 8).ToArray();
        GgufQuantization.Encode(GgmlType.Q4_0, y, q4);
        Assert.Equal(GgufQuantization.ToFloat16(1f), BitConverter.ToUInt16(q4, 0));
        Assert.Equal(y, GgufQuantization.Decode(GgmlType.Q4_0, q4, 32));
        Assert.Equal(0x00, q4[2]);            // values 0 and 16 are both -8
        Assert.Equal(0xFF, q4[2 + 15]);       // values 15 and 31 are both 7 → nibble 15

        // Random rows: the error stays within half a step (Q8_0) and one step (Q4_0, whose top is clamped).
        torch.manual_seed(5);
        var r = torch.randn([32 * 64]).data<float>();
        foreach (var (type, steps) in new[] { (GgmlType.Q8_0, 127f), (GgmlType.Q4_0, 8f) })
        {
            var bytes = new byte[type.ByteCount(r.Length)];
            GgufQuantization.Encode(type, r, bytes);
            var back = GgufQuantization.Decode(type, bytes, r.Length);
            for (int b = 0; b < 64; b++)
            {
                float amax = r.Skip(32 * b).Take(32).Max(Math.Abs);
                float step = amax / steps;
                for (int j = 0; j < 32; j++)
                    // Plus the float16 rounding of the scale, multiplied by up to `steps`.
                    Assert.True(Math.Abs(back[32 * b + j] - r[32 * b + j]) <= (type == GgmlType.Q8_0 ? 0.5f : 1f) * step + steps * step / 1024 + 1e-6f, $"{type} block {b}");
            }
        }
        Assert.Equal(8.5, GgmlType.Q8_0.BitsPerWeight());
        Assert.Equal(4.5, GgmlType.Q4_0.BitsPerWeight());
    }

    [Fact]
    public void An_interrupted_export_leaves_no_file_under_the_final_name()
    {
        var dir = Tiny.TempDir();
        var path = Path.Combine(dir, "broken.gguf");
        File.WriteAllText(path, "previous version");
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        w.AddTensor("a.weight", [2, 32], GgmlType.F32, () => torch.ones([2, 32]));
        w.AddTensor("b.weight", [2, 32], GgmlType.F32, () => throw new IOException("disk full"));
        Assert.Throws<IOException>(() => w.Write(path));
        Assert.Equal("previous version", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void Bad_input_gets_errors_and_warnings_that_say_what_llama_cpp_will_do()
    {
        var model = Starter();
        var dir = Tiny.TempDir();

        // Block sizes must divide rows; names must be unique.
        var w = new GgufWriter();
        Assert.Contains("blocks of 32", Assert.Throws<ArgumentException>(() => w.AddTensor("x", [2, 30], GgmlType.Q8_0, () => torch.ones([2, 30]))).Message);
        w.Add("k", 1u);
        Assert.Contains("set twice", Assert.Throws<ArgumentException>(() => w.Add("k", 2u)).Message);
        Assert.Throws<ArgumentException>(() => GgufFileTypes.Parse("q5_k"));

        // A checkpoint tensor without a llama.cpp counterpart is named.
        var weights = model.CheckpointTensors();
        weights["model.layers.0.mlp.extra.weight"] = torch.ones([4, 4]);
        var e = Assert.Throws<NotSupportedException>(() => GgufExport.Save(model.Config, model.Tokenizer!, weights, Path.Combine(dir, "x.gguf"), GgufFileType.F32));
        Assert.Contains("model.layers.0.mlp.extra.weight", e.Message);
        Assert.False(File.Exists(Path.Combine(dir, "x.gguf")));

        // A model without a tokenizer: llama.cpp needs one.
        var bare = CausalLM.FromConfig(model.Config);
        Assert.Contains("no tokenizer", Assert.Throws<InvalidOperationException>(() => GgufExport.Save(bare, Path.Combine(dir, "y.gguf"))).Message);

        // A pre-tokenizer llama.cpp does not implement: warned, and the file says "default".
        var json = JsonNode.Parse(model.Tokenizer!.Json)!;
        json["pre_tokenizer"]!["pretokenizers"]![0]!["pattern"]!["Regex"] = @"\p{L}+|\p{N}+|\s+|[^\s\p{L}\p{N}]+";
        var odd = Tokenizer.FromJson(json.ToJsonString(), model.Tokenizer.Config);
        var result = GgufExport.Save(model.Config, odd, model.CheckpointTensors(), Path.Combine(dir, "z.gguf"), GgufFileType.F16, modelfile: false);
        var warning = Assert.Single(result.Warnings);
        Assert.Contains("llama.cpp does not know this tokenizer's pre-tokenizer", warning);
        Assert.Contains("default", warning);
        Assert.Equal("default", new GgufFile(result.Path).Metadata["tokenizer.ggml.pre"]);
    }
}
