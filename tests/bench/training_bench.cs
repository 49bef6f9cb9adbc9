// Training throughput in Tunebook: LoRA, QLoRA or full fine-tuning of a fixed benchmark model
// (shared/bench/lora-cpu-*.json) with the Trainer, on random token ids, in float32 or bf16 mixed precision
// (bfloat16 compute, float32 master weights). One mode per process, so the peak resident memory is that
// mode's. Also prints where a step's time goes (the trainer's StepPhaseTimes) and the matrix-product
// FLOP/s the step reaches. Run by tests/bench/training.sh beside training_reference.py.
//   dotnet run training_bench.cs -- SPEC MODE [DEVICE] [DTYPE]   (DTYPE: float32 | bfloat16; default: the spec's compute_dtype)
//   dotnet run training_bench.cs -- peak                          (this CPU's matmul GFLOP/s in float32 and bfloat16)
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

if (args[0] == "peak")
{
    Console.WriteLine(new JsonObject
    {
        ["peak_gflops_float32"] = Peak(ScalarType.Float32),
        ["peak_gflops_bfloat16"] = Peak(ScalarType.BFloat16),
        ["matmul"] = "2048x2048 @ 2048x2048, best of 12",
        ["threads"] = torch.get_num_threads(),
        // OpenBLAS's kernels decide the float32 rate (OPENBLAS_CORETYPE, else the CPU model); both sides share them.
        ["blas_core"] = torch.blas_core,
        // Tunebook's float32 products: oneDNN where libtorch exposes it (torch.cpu_matmul), else the BLAS above.
        ["cpu_matmul"] = torch.cpu_matmul_name,
    }.ToJsonString());
    return;
}

var spec = JsonNode.Parse(File.ReadAllText(args[0]))!;
var mode = args[1];
var device = args.Length > 2 ? new Device(args[2]) : Device.CPU;
var m = spec["model"]!;
var t = spec["train"]!;
var l = spec["lora"]!;
var dtype = ScalarTypes.Parse(args.Length > 3 ? args[3] : t["compute_dtype"]?.GetValue<string>() ?? "float32");
if (dtype is not (ScalarType.Float32 or ScalarType.BFloat16)) throw new ArgumentException($"dtype must be float32 or bfloat16, got {dtype.Name()}");
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
// "targets" is a list of module names or "all-linear".
var targetNames = l["targets"] is JsonArray list ? list.Select(x => x!.GetValue<string>()).ToArray() : [l["targets"]!.GetValue<string>()];
var targets = LoraTargets.Names(targetNames);
int rank = l["rank"]!.GetValue<int>();
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
            R = rank, Alpha = l["alpha"]!.GetValue<double>(), Dropout = l["dropout"]!.GetValue<double>(), Targets = targets,
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
    Precision = dtype == ScalarType.BFloat16 ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32,
});
trainer.Step(warmup);
var clock = Stopwatch.StartNew();
trainer.Step(timed);
double seconds = clock.Elapsed.TotalSeconds;
var last = trainer.Steps.Last();
var phases = trainer.Steps.Skip(warmup).Select(s => s.Phases!).ToList();
double Ms(Func<StepPhaseTimes, double> f) => Math.Round(1000 * phases.Average(f), 1);
double stepFlops = MatmulFlopsPerStep(config, batch, seqLen, mode, rank, model);
Console.WriteLine(JsonSerializer.Serialize(new
{
    mode,
    dtype = dtype.Name(),
    seconds,
    ms_per_step = 1000 * seconds / timed,
    tokens_per_s = (double)timed * batch * seqLen / seconds,
    peak_rss_mb = ProcessMemory.PeakResidentBytes() / (1024.0 * 1024.0),
    final_loss = last.Loss,
    trainable = trainer.OptimizedParameters.Sum(p => p.Parameter.numel()),
    threads = torch.get_num_threads(),
    phases_ms = new { forward = Ms(p => p.Forward), backward = Ms(p => p.Backward), optimizer = Ms(p => p.Optimizer), host = Ms(p => p.Host) },
    matmul_gflop_per_step = Math.Round(stepFlops / 1e9, 1),
    achieved_gflops = Math.Round(stepFlops / 1e9 / (seconds / timed), 1),
    base_weights = memory,
}));

// The matrix-product work of one training step, counted from the shapes (2 FLOPs per multiply-add):
// forward, the input gradients of the backward pass (every product's, as the chain reaches embeddings
// through the adapters), the weight gradients of what trains (every linear weight in full fine-tuning,
// the adapters under LoRA), and attention's two products per head (four in backward). Elementwise work,
// norms and the optimizer are left out: this is the work a matmul peak can be held against.
static double MatmulFlopsPerStep(ModelConfig c, int batch, int seqLen, string mode, int rank, CausalLM model)
{
    double tokens = (double)batch * seqLen;
    double h = c.HiddenSize, v = c.VocabSize, inter = c.IntermediateSize, layers = c.NumHiddenLayers;
    double d = h / c.NumAttentionHeads, q = c.NumAttentionHeads * d, kv = c.NumKeyValueHeads * d;
    double perLayer = h * q + 2 * h * kv + q * h + 3 * h * inter;
    double linear = layers * perLayer + h * v;
    double attention = layers * 4.0 * batch * seqLen * (double)seqLen * d * c.NumAttentionHeads;
    double adapters = 0;
    if (mode != "full")
        foreach (var (name, p) in model.named_parameters())
            if (name.EndsWith("lora_A.weight")) adapters += rank * (double)p.shape[1];
            else if (name.EndsWith("lora_B.weight")) adapters += rank * (double)p.shape[0];
    double forward = 2 * linear * tokens + attention + 2 * adapters * tokens;
    double backward = 2 * linear * tokens + 2 * attention + 4 * adapters * tokens + (mode == "full" ? 2 * linear * tokens : 0);
    return forward + backward;
}

// This CPU's matrix-product rate in one dtype: the best of several large products (the peak a training
// step can be held against), after a pause that lets the previous product's spinning threads sleep.
static double Peak(ScalarType dtype)
{
    Thread.Sleep(500);
    using var scope = torch.NewDisposeScope();
    const long n = 2048;
    var a = torch.randn([n, n]).to(dtype);
    var b = torch.randn([n, n]).to(dtype);
    a.matmul(b);
    double best = double.MaxValue;
    for (int i = 0; i < 12; i++)
    {
        using var inner = torch.NewDisposeScope();
        var clock = Stopwatch.StartNew();
        a.matmul(b);
        best = Math.Min(best, clock.Elapsed.TotalSeconds);
    }
    return Math.Round(2.0 * n * n * n / best / 1e9, 1);
}
