// Training throughput in Tunebook: LoRA, QLoRA or full fine-tuning of the fixed benchmark model
// (shared/bench/lora-cpu-32m.json) with the Trainer, on random token ids. One mode per process, so the
// peak resident memory is that mode's. Run by tests/bench/training.sh beside training_reference.py.
#:project ../../src/Tunebook.Tuning/Tunebook.Tuning.csproj
#:property AllowUnsafeBlocks=true
#:property PublishAot=false
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;
using Tunebook.Tuning.Training;

var spec = JsonNode.Parse(File.ReadAllText(args[0]))!;
var mode = args[1];
var device = args.Length > 2 ? new Device(args[2]) : Device.CPU;
var m = spec["model"]!;
var t = spec["train"]!;
var l = spec["lora"]!;
int seqLen = t["seq_len"]!.GetValue<int>(), batch = t["batch_size"]!.GetValue<int>();
int warmup = t["warmup_steps_untimed"]!.GetValue<int>(), timed = t["timed_steps"]!.GetValue<int>();

var config = ModelConfig.FromJson(new JsonObject
{
    ["architectures"] = new JsonArray("LlamaForCausalLM"),
    ["model_type"] = "llama",
    ["vocab_size"] = m["vocab_size"]!.GetValue<int>(),
    ["hidden_size"] = m["hidden_size"]!.GetValue<int>(),
    ["intermediate_size"] = m["intermediate_size"]!.GetValue<int>(),
    ["num_hidden_layers"] = m["num_hidden_layers"]!.GetValue<int>(),
    ["num_attention_heads"] = m["num_attention_heads"]!.GetValue<int>(),
    ["num_key_value_heads"] = m["num_key_value_heads"]!.GetValue<int>(),
    ["rms_norm_eps"] = m["rms_norm_eps"]!.GetValue<double>(),
    ["rope_theta"] = m["rope_theta"]!.GetValue<double>(),
    ["tie_word_embeddings"] = m["tie_word_embeddings"]!.GetValue<bool>(),
    ["max_position_embeddings"] = Math.Max(2048, seqLen),
});
torch.manual_seed(0);
var model = CausalLM.FromConfig(config, device);
string? memory = null;
switch (mode)
{
    case "qlora":
        memory = Nf4Quantizer.QuantizeModel(model).ToString();
        goto case "lora";
    case "lora":
        LoraModel.Apply(model, new LoraConfig
        {
            R = l["rank"]!.GetValue<int>(), Alpha = l["alpha"]!.GetValue<double>(), Dropout = l["dropout"]!.GetValue<double>(),
            Targets = LoraTargets.Names(l["targets"]!.AsArray().Select(x => x!.GetValue<string>()).ToArray()),
        });
        break;
    case "full":
        model.requires_grad_(true);
        break;
    default:
        throw new ArgumentException($"mode must be lora, qlora or full, got '{mode}'");
}

int steps = warmup + timed;
var random = new Random(1);
var sequences = Enumerable.Range(0, steps * batch)
    .Select(_ => Enumerable.Range(0, seqLen).Select(_ => (long)random.Next(config.VocabSize > int.MaxValue ? int.MaxValue : (int)config.VocabSize)).ToArray()).ToList();
using var trainer = new Trainer(model, InMemoryTrainingData.FromSequences(sequences), null, new TrainerOptions
{
    MaxSteps = steps, BatchSize = batch, LearningRate = t["lr"]!.GetValue<double>(), Schedule = LrScheduleKind.Constant,
    MaxGradNorm = null, Shuffle = false,
});
trainer.Step(warmup);
var clock = Stopwatch.StartNew();
trainer.Step(timed);
double seconds = clock.Elapsed.TotalSeconds;
var last = trainer.Steps.Last();
Console.WriteLine(JsonSerializer.Serialize(new
{
    mode,
    seconds,
    ms_per_step = 1000 * seconds / timed,
    tokens_per_s = (double)timed * batch * seqLen / seconds,
    peak_rss_mb = ProcessMemory.PeakResidentBytes() / (1024.0 * 1024.0),
    final_loss = last.Loss,
    trainable = trainer.OptimizedParameters.Sum(p => p.Parameter.numel()),
    threads = torch.get_num_threads(),
    base_weights = memory,
}));
