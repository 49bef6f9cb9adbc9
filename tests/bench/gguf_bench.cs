// GGUF export throughput: a model with SmolLM2-135M's shapes (random weights, the starter tokenizer)
// written as Q8_0 and F16 GGUF, beside the safetensors writer (SavePretrained) on the same model in the
// same run. Run by tests/bench/gguf.sh. MB/s are megabytes of file written per second of the whole call
// (reading the weights, permuting, encoding, writing, flushing).
#:project ../../src/Tunebook.Models/Tunebook.Models.csproj
#:property PublishAot=false
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;

var folder = args[0];
var repo = args[1];
var shapes = JsonNode.Parse(File.ReadAllText(args[2]))!["model"]!;
var config = ModelConfig.FromJson(new JsonObject
{
    ["architectures"] = new JsonArray("LlamaForCausalLM"), ["model_type"] = "llama",
    ["vocab_size"] = (long)shapes["vocab_size"]!, ["hidden_size"] = (long)shapes["hidden_size"]!,
    ["num_hidden_layers"] = (int)shapes["num_hidden_layers"]!, ["num_attention_heads"] = (int)shapes["num_attention_heads"]!,
    ["num_key_value_heads"] = (int)shapes["num_key_value_heads"]!, ["intermediate_size"] = (long)shapes["intermediate_size"]!,
    ["rms_norm_eps"] = (double)shapes["rms_norm_eps"]!, ["rope_theta"] = (double)shapes["rope_theta"]!,
    ["tie_word_embeddings"] = (bool)shapes["tie_word_embeddings"]!, ["max_position_embeddings"] = 8192,
});
torch.manual_seed(1);
var model = CausalLM.FromConfig(config);
model.Tokenizer = Tokenizer.FromFolder(Path.Combine(repo, "datasets", "starter"));

(double Seconds, long Bytes) Time(Func<long> run)
{
    run(); // untimed: JIT compilation and first-touch page faults are not the writer's speed
    var clock = Stopwatch.StartNew();
    long bytes = run();
    return (clock.Elapsed.TotalSeconds, bytes);
}

var q8 = Time(() => GgufExport.Save(model, Path.Combine(folder, "model-q8_0.gguf"), GgufFileType.Q8_0).Bytes);
var f16 = Time(() => GgufExport.Save(model, Path.Combine(folder, "model-f16.gguf"), GgufFileType.F16).Bytes);
var st = Time(() =>
{
    model.SavePretrained(Path.Combine(folder, "hf"));
    return new FileInfo(Path.Combine(folder, "hf", "model.safetensors")).Length;
});
Console.WriteLine(JsonSerializer.Serialize(new
{
    parameters = model.parameters().Sum(p => p.numel()),
    gguf_q8_0_s = q8.Seconds, gguf_q8_0_bytes = q8.Bytes,
    gguf_f16_s = f16.Seconds, gguf_f16_bytes = f16.Bytes,
    safetensors_s = st.Seconds, safetensors_bytes = st.Bytes,
}));
