// ParityProbe: the Tunebook half of scripts/gpu-check.sh. Every command writes one JSON file that the
// Python half (scripts/gpu/check.py) reads beside transformers/PEFT.
//
//   forward  MODEL_DIR INPUT_JSON OUT_JSON DEVICE DTYPE [ADAPTER_DIR]
//            logits of the padded batch in INPUT_JSON and greedy continuations of its unpadded prompts
//   forward-all MODELS_DIR INPUT_JSON OUT_DIR DEVICE
//            forward for every model in MODELS_DIR/made.json, float32 and bfloat16: OUT_DIR/tb-ARCH-DTYPE.json
//   export   MODEL_DIR ADAPTER_OUT MERGED_OUT DEVICE
//            LoRA r 8 on every linear layer with random B (seed 12), saved as a PEFT adapter, and merged
//   train    SPEC_JSON OUT_JSON DEVICE
//            timed LoRA / QLoRA / full fine-tuning steps on random tokens (see Train below)
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;
using Tunebook.Tuning.Training;

if (args.Length == 0) { Console.Error.WriteLine("usage: ParityProbe forward|export|train ..."); return 2; }
switch (args[0])
{
    case "forward": Forward(args[1], args[2], args[3], new Device(args[4]), ScalarTypes(args[5]), args.Length > 6 ? args[6] : null); break;
    case "forward-all": return ForwardAll(args[1], args[2], args[3], new Device(args[4]));
    case "export": Export(args[1], args[2], args[3], new Device(args[4])); break;
    case "train": Train(args[1], args[2], new Device(args[3])); break;
    default: Console.Error.WriteLine($"ParityProbe: unknown command '{args[0]}'"); return 2;
}
return 0;

static ScalarType ScalarTypes(string name) => name switch
{
    "float32" => ScalarType.Float32,
    "bfloat16" => ScalarType.BFloat16,
    _ => throw new ArgumentException($"dtype must be float32 or bfloat16, got '{name}'"),
};

static void WriteJson(string path, JsonNode node)
{
    var tmp = path + ".tmp";
    File.WriteAllText(tmp, node.ToJsonString());
    File.Move(tmp, path, overwrite: true);
}

static void Forward(string modelDir, string inputPath, string outPath, Device device, ScalarType dtype, string? adapterDir)
{
    using var scope = torch.NewDisposeScope();
    var input = JsonNode.Parse(File.ReadAllText(inputPath))!;
    long[][] Rows(string key) => input[key]!.AsArray().Select(r => r!.AsArray().Select(x => x!.GetValue<long>()).ToArray()).ToArray();
    var ids = Rows("input_ids");
    var mask = Rows("attention_mask");
    int newTokens = input["max_new_tokens"]!.GetValue<int>();

    var model = CausalLM.FromPretrained(modelDir, device, dtype);
    string? applied = null;
    if (adapterDir is not null)
    {
        using var adapter = LoraAdapter.Load(adapterDir, device);
        adapter.ApplyTo(model);
        applied = adapterDir;
    }
    Tensor Batch(long[][] rows) => torch.tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length], device: device);
    Tensor logits;
    using (torch.no_grad()) logits = model.Forward(Batch(ids), Batch(mask)).to(ScalarType.Float32).to(Device.CPU);
    var shape = logits.shape;
    var flat = logits.data<float>();
    var logitsJson = new JsonArray();
    for (long b = 0; b < shape[0]; b++)
    {
        var rows = new JsonArray();
        for (long t = 0; t < shape[1]; t++)
        {
            long offset = (b * shape[1] + t) * shape[2];
            rows.Add(new JsonArray(flat.AsSpan((int)offset, (int)shape[2]).ToArray().Select(v => (JsonNode)JsonValue.Create(v)!).ToArray()));
        }
        logitsJson.Add(rows);
    }

    // Greedy continuations of each prompt without its padding (left or right), no end-of-sequence stop.
    var prompts = ids.Select((row, i) => row.Where((_, j) => mask[i][j] != 0).Select(x => (int)x).ToArray()).ToList();
    var result = model.Generate(prompts, new GenerationOptions { MaxNewTokens = newTokens, DoSample = false, EosTokenIds = [] });
    var greedy = new JsonArray(result.Sequences.Select(s => (JsonNode)new JsonArray(s.TokenIds.TakeLast(newTokens).Select(x => (JsonNode)JsonValue.Create(x)!).ToArray())).ToArray());
    WriteJson(outPath, new JsonObject
    {
        ["device"] = device.ToString(), ["dtype"] = args_dtype(dtype), ["adapter"] = applied,
        ["sdpa"] = Tunebook.Torch.nn.functional.sdpa_backend, ["logits"] = logitsJson, ["greedy"] = greedy,
    });

    static string args_dtype(ScalarType t) => t == ScalarType.BFloat16 ? "bfloat16" : "float32";
}

static int ForwardAll(string modelsDir, string inputPath, string outDir, Device device)
{
    int failed = 0;
    foreach (var arch in JsonNode.Parse(File.ReadAllText(Path.Combine(modelsDir, "made.json")))!.AsObject().Select(kv => kv.Key))
        foreach (var dtype in new[] { "float32", "bfloat16" })
        {
            // One model's failure must not hide the others' figures.
            try { Forward(Path.Combine(modelsDir, arch), inputPath, Path.Combine(outDir, $"tb-{arch}-{dtype}.json"), device, ScalarTypes(dtype), null); }
            catch (Exception e) { Console.Error.WriteLine($"forward {arch} {dtype}: {e.GetType().Name}: {e.Message}"); failed++; }
        }
    return failed == 0 ? 0 : 1;
}

static void Export(string modelDir, string adapterOut, string mergedOut, Device device)
{
    using var scope = torch.NewDisposeScope();
    var model = CausalLM.FromPretrained(modelDir, device, ScalarType.Float32);
    torch.manual_seed(11);
    var lora = LoraModel.Apply(model, new LoraConfig { R = 8, Alpha = 16, Targets = LoraTargets.AllLinearLayers });
    // Fresh LoRA has B = 0 (no effect): give B random values so the adapter changes the logits.
    torch.manual_seed(12);
    using (torch.no_grad()) foreach (var l in lora.Layers.Values) l.lora_B.weight.normal_(0, 0.05);
    lora.SaveAdapter(adapterOut, modelDir);
    lora.MergeAndUnload().SavePretrained(mergedOut);
    Console.WriteLine($"export: adapter {adapterOut}, merged model {mergedOut}");
}

// SPEC_JSON: {"mode": "lora"|"qlora"|"full", "model": {HF config fields}, "seq_len", "batch_size",
// "warmup_steps", "timed_steps", "lr", "precision": "bf16"|"fp32", "lora_rank", "lora_alpha"}.
static void Train(string specPath, string outPath, Device device)
{
    var spec = JsonNode.Parse(File.ReadAllText(specPath))!;
    string mode = spec["mode"]!.GetValue<string>();
    int seqLen = spec["seq_len"]!.GetValue<int>(), batch = spec["batch_size"]!.GetValue<int>();
    int warmup = spec["warmup_steps"]!.GetValue<int>(), timed = spec["timed_steps"]!.GetValue<int>();
    bool bf16 = spec["precision"]!.GetValue<string>() == "bf16";
    var config = ModelConfig.FromJson(spec["model"]!.AsObject().DeepClone().AsObject());
    torch.manual_seed(0);
    // bf16: weights in bfloat16 like transformers' torch_dtype=bfloat16 (LoRA matrices and masters per TrainerOptions).
    var model = CausalLM.FromConfig(config, device, mode == "full" || !bf16 ? ScalarType.Float32 : ScalarType.BFloat16);
    switch (mode)
    {
        case "qlora":
            Nf4Quantizer.QuantizeModel(model);
            goto case "lora";
        case "lora":
            LoraModel.Apply(model, new LoraConfig
            {
                R = spec["lora_rank"]!.GetValue<int>(), Alpha = spec["lora_alpha"]!.GetValue<double>(), Dropout = 0,
                Targets = LoraTargets.AllLinearLayers,
            });
            break;
        case "full":
            model.requires_grad_(true);
            break;
        default:
            throw new ArgumentException($"{specPath}: field 'mode': expected lora, qlora or full, got '{mode}'");
    }
    int steps = warmup + timed;
    var random = new Random(1);
    int vocab = (int)Math.Min(config.VocabSize, int.MaxValue);
    var sequences = Enumerable.Range(0, steps * batch)
        .Select(_ => Enumerable.Range(0, seqLen).Select(_ => (long)random.Next(vocab)).ToArray()).ToList();
    using var trainer = new Trainer(model, InMemoryTrainingData.FromSequences(sequences), null, new TrainerOptions
    {
        MaxSteps = steps, BatchSize = batch, LearningRate = spec["lr"]!.GetValue<double>(), Schedule = LrScheduleKind.Constant,
        MaxGradNorm = null, Shuffle = false, Precision = bf16 ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32,
    });
    trainer.Step(warmup);
    if (device.IsCuda) { torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats(); }
    var clock = Stopwatch.StartNew();
    trainer.Step(timed);
    if (device.IsCuda) torch.cuda.synchronize();
    double seconds = clock.Elapsed.TotalSeconds;
    var last = trainer.Steps.Last();
    long parameters = model.parameters().Sum(p => p.numel());
    double tokensPerSecond = (double)timed * batch * seqLen / seconds;
    WriteJson(outPath, new JsonObject
    {
        ["side"] = "tunebook", ["mode"] = mode, ["device"] = device.ToString(), ["precision"] = bf16 ? "bf16" : "fp32",
        ["seconds"] = seconds, ["ms_per_step"] = 1000 * seconds / timed, ["tokens_per_s"] = tokensPerSecond,
        ["parameters"] = parameters, ["trainable"] = trainer.OptimizedParameters.Sum(p => p.Parameter.numel()),
        ["peak_memory_bytes"] = last.PeakMemoryBytes, ["peak_memory_on_gpu"] = last.PeakMemoryOnGpu,
        ["final_loss"] = last.Loss, ["sdpa"] = Tunebook.Torch.nn.functional.sdpa_backend,
    });
}
