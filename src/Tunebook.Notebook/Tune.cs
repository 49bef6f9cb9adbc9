using System.Text.Json.Nodes;
using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Notebook.Displays;
using Tunebook.Text.Templates;
using Tunebook.Torch;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook;

/// <summary>
/// The notebook API: each magic is one call to this class, and cells can make the same calls directly.
/// <code>
/// var model = Tune.LoadModel("starter");                       // #!model load starter
/// var data = Tune.LoadData("datasets/puddle/train.jsonl", model.Tokenizer!, val: 0.1);   // #!data load ...
/// var lora = Tune.ApplyLora(model, new LoraConfig { R = 8 });  // #!lora --rank 8
/// var trainer = Tune.Train(model, data, new TrainerOptions { MaxSteps = 60 });           // #!train --steps 60
/// Tune.Generate(model, "How do I list zones?");               // #!generate "How do I list zones?"
/// Tune.Compare(lora, ["How do I list zones?"]);                // #!compare "How do I list zones?"
/// Tune.SaveAdapter(lora, "out/adapter");                       // #!save adapter out/adapter
/// </code>
/// Calls that show something (a model card, the live training view, streamed text) show it through
/// <see cref="Interactive.Notebook.Host"/>, so they work the same in the kernel, a test or a console.
/// </summary>
public static class Tune
{
    /// <summary>
    /// Loads a Hugging Face model folder (config.json, *.safetensors, tokenizer.json) — or "starter", the
    /// repository's small pretrained model in datasets/starter — onto <paramref name="device"/>, optionally
    /// casting to <paramref name="dtype"/> (float32, bfloat16, float16) and quantizing the linear layers to NF4
    /// for QLoRA (<paramref name="quantize"/> = "nf4").
    /// </summary>
    public static CausalLM LoadModel(string pathOrStarter, string device = "cpu", string? dtype = null, string? quantize = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pathOrStarter);
        string folder = ResolveModelFolder(pathOrStarter);
        var dev = Device.ParseSpec(device);
        ScalarType? type = dtype is null ? null : ParseDType(dtype);
        var model = CausalLM.FromPretrained(folder, dev, type);
        if (quantize is not null)
        {
            if (!quantize.Equals("nf4", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--quantize: expected nf4, got '{quantize}'");
            Nf4Quantizer.QuantizeModel(model);
        }
        return model;
    }

    /// <summary>"starter" → datasets/starter of this repository; anything else must be a model folder.</summary>
    public static string ResolveModelFolder(string pathOrStarter)
    {
        string folder = pathOrStarter.Equals("starter", StringComparison.OrdinalIgnoreCase)
            ? RepoPath("datasets/starter") ?? throw new DirectoryNotFoundException("the starter model (datasets/starter) was not found above the current folder or the kernel's folder")
            : Path.GetFullPath(pathOrStarter);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"model folder not found: {folder}");
        if (!File.Exists(Path.Combine(folder, "config.json"))) throw new FileNotFoundException($"{folder} has no config.json: expected a Hugging Face model folder");
        if (!Directory.EnumerateFiles(folder, "*.safetensors").Any())
            throw new FileNotFoundException(pathOrStarter.Equals("starter", StringComparison.OrdinalIgnoreCase)
                ? $"{folder} has no model.safetensors yet: build the starter model first (see datasets/starter/README.md)"
                : $"{folder} has no *.safetensors weights");
        return folder;
    }

    /// <summary>A path inside this repository (found above the current folder, then above the kernel's folder), or null.</summary>
    public static string? RepoPath(string relative)
    {
        foreach (var start in new[] { Environment.GetEnvironmentVariable("TUNEBOOK_HOME"), Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = start is null ? null : new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, relative);
                if (Directory.Exists(candidate) || File.Exists(candidate)) return candidate;
            }
        }
        return null;
    }

    static ScalarType ParseDType(string name) => name.ToLowerInvariant() switch
    {
        "float32" or "fp32" or "f32" => ScalarType.Float32,
        "bfloat16" or "bf16" => ScalarType.BFloat16,
        "float16" or "fp16" or "f16" or "half" => ScalarType.Float16,
        _ => throw new ArgumentException($"--dtype: expected float32, bfloat16 or float16, got '{name}'"),
    };

    /// <summary>The model card of <paramref name="model"/> (architecture, parameters, training-memory estimate).</summary>
    public static ModelCard Card(CausalLM model) => new(model);

    /// <summary>
    /// Loads a data file (JSONL/JSON/CSV/text; format detected unless given), renders it with the model's chat
    /// template, masks everything but the answers, truncates to <paramref name="maxLength"/> tokens and splits off
    /// a seeded <paramref name="val"/> fraction for validation.
    /// </summary>
    public static PreparedData LoadData(string path, Tunebook.Text.Tokenizers.Tokenizer tokenizer, DataFormat? format = null, double val = 0.1, int maxLength = 512, bool packing = false, long seed = 42)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (val is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(val), val, "--val: expected a fraction in [0, 1)");
        if (maxLength < 8) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "--max-length: expected at least 8 tokens");
        var raw = Dataset.Load(ResolveDataPath(path), format);
        return raw.Prepare(tokenizer, null, new PrepareOptions { ValFraction = val, MaxLength = maxLength, Packing = packing, Seed = seed });
    }

    static string ResolveDataPath(string path) =>
        File.Exists(path) || Path.IsPathRooted(path) ? path : RepoPath(path) ?? path;

    /// <summary>The data report view of <paramref name="data"/> with example <paramref name="example"/> shown token by token.</summary>
    public static DatasetView Report(PreparedData data, Tunebook.Text.Tokenizers.Tokenizer? tokenizer = null, int example = 0) => new(data, tokenizer, example);

    /// <summary><paramref name="text"/> as coloured tokens with their ids.</summary>
    public static TokensView Tokens(Tunebook.Text.Tokenizers.Tokenizer tokenizer, string text) => new(tokenizer, text);

    /// <summary>Freezes the model and wraps the target layers in LoRA adapters (PEFT's get_peft_model).</summary>
    public static LoraModel ApplyLora(CausalLM model, LoraConfig? config = null) => LoraModel.Apply(model, config ?? new LoraConfig());

    /// <summary>
    /// Creates a trainer for <paramref name="model"/> on <paramref name="data"/> and runs it to the end with the
    /// live view. An interrupt (the kernel's cancellation) stops it at a step boundary: the view then says
    /// "stopped at step N" and <see cref="Continue"/> resumes.
    /// </summary>
    public static Trainer Train(CausalLM model, PreparedData data, TrainerOptions options, CancellationToken cancellation = default)
    {
        var trainer = CreateTrainer(model, data, options);
        Run(trainer, t => t.Run(cancellation));
        return trainer;
    }

    /// <summary>A trainer without running it (for <see cref="Step"/> and <see cref="Continue"/>).</summary>
    public static Trainer CreateTrainer(CausalLM model, PreparedData data, TrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        var trainer = new Trainer(model, data.Train, data.Validation, options);
        if (data.Validation is not null) WithValidation.AddOrUpdate(trainer, data.Validation);
        return trainer;
    }

    /// <summary>Runs <paramref name="steps"/> more optimizer steps with the live view.</summary>
    public static StopReason Step(Trainer trainer, int steps = 1, CancellationToken cancellation = default)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "expected at least 1 step");
        return Run(trainer, t => t.Step(steps, cancellation));
    }

    /// <summary>Continues a paused or interrupted run to its end with the live view.</summary>
    public static StopReason Continue(Trainer trainer, CancellationToken cancellation = default) => Run(trainer, t => t.Run(cancellation));

    /// <summary>
    /// Ends a run early: evaluates on the validation data (when the trainer has some and the last evaluation
    /// is older than the current step), puts back the best weights when the options ask for it, and shows the
    /// final view "stopped at step N".
    /// </summary>
    public static TrainingView Stop(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        if (WithValidation.TryGetValue(trainer, out _) && trainer.GlobalStep > 0 && trainer.Evaluations.LastOrDefault()?.Step != trainer.GlobalStep)
            trainer.Evaluate();
        bool restore = trainer.Options.RestoreBestAtEnd ?? trainer.Options.EarlyStoppingPatience is not null;
        if (restore && trainer.BestStep is { } best && best != trainer.GlobalStep) trainer.RestoreBest();
        var view = new TrainingView(trainer);
        view.Complete($"stopped at step {trainer.GlobalStep}" +
            (trainer.BestStep is { } b ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"; best validation loss {trainer.BestLoss:0.####} at step {b}{(restore && b != trainer.GlobalStep ? " (weights restored)" : "")}") : ""));
        return view;
    }

    static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Trainer, object> WithValidation = new();

    static StopReason Run(Trainer trainer, Func<Trainer, StopReason> run)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        using var view = new TrainingView(trainer).Show();
        StopReason reason;
        try { reason = run(trainer); }
        catch (OperationCanceledException)
        {
            view.Complete($"stopped at step {trainer.GlobalStep} (interrupted; #!train continue resumes)");
            throw;
        }
        catch (Exception e)
        {
            view.Complete($"failed at step {trainer.GlobalStep}: {e.Message}");
            throw;
        }
        view.Complete(trainer.History.LastOrDefault() is TrainingStopped s ? TrainingView.Describe(s) : $"paused at step {trainer.GlobalStep}");
        // The trainer stops quietly at a step boundary; the notebook cell must still end as interrupted, so
        // that the kernel reports KeyboardInterrupt and a "Run All" stops here instead of going on.
        if (reason == StopReason.Cancelled)
            throw new OperationCanceledException($"training interrupted at step {trainer.GlobalStep}; #!train continue (Tune.Continue(trainer)) resumes");
        return reason;
    }

    /// <summary>
    /// Generates a reply to <paramref name="prompt"/>, streaming tokens into one updating display. With a chat
    /// template (and <paramref name="chat"/>) the prompt is a user message; otherwise it is continued as text.
    /// </summary>
    public static GenerationResult Generate(CausalLM model, string prompt, GenerationOptions? options = null, bool chat = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(prompt);
        options ??= new GenerationOptions { MaxNewTokens = 64, DoSample = false };
        var stream = new StreamingText(prompt);
        var handle = Interactive.Notebook.Display(stream);
        var clock = TimeProvider.System;
        long last = clock.GetTimestamp();
        var streaming = options with
        {
            CancellationToken = options.CancellationToken.CanBeCanceled ? options.CancellationToken : Interactive.Notebook.Cancellation,
            OnToken = chunk =>
            {
                options.OnToken?.Invoke(chunk);
                stream.Append(chunk.TextDelta);
                if (clock.GetElapsedTime(last) >= TimeSpan.FromMilliseconds(100)) { handle.Update(stream); last = clock.GetTimestamp(); }
            },
        };
        var result = UseChat(model, chat) ? model.Chat([new ChatMessage("user", prompt)], streaming) : model.Generate(prompt, streaming);
        stream.Finish(result);
        handle.Update(stream);
        return result;
    }

    static bool UseChat(CausalLM model, bool chat) => chat && model.Tokenizer?.Config.ChatTemplate is not null;

    /// <summary>
    /// Answers each prompt with the adapters off (the base model) and on (the tuned model), on the same model —
    /// no second copy — greedily unless <paramref name="options"/> say otherwise. <paramref name="references"/>,
    /// when given, are the expected answers (one per prompt).
    /// </summary>
    public static Comparison Compare(LoraModel lora, IReadOnlyList<string> prompts, IReadOnlyList<string>? references = null, GenerationOptions? options = null, bool chat = true)
    {
        ArgumentNullException.ThrowIfNull(lora);
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("Compare: give at least one prompt");
        if (references is not null && references.Count != prompts.Count) throw new ArgumentException($"Compare: {prompts.Count} prompts but {references.Count} references");
        options ??= new GenerationOptions { MaxNewTokens = 48, DoSample = false };
        options = options with { CancellationToken = options.CancellationToken.CanBeCanceled ? options.CancellationToken : Interactive.Notebook.Cancellation };
        var model = lora.Model;
        bool wasTraining = model.training;
        model.eval();
        try
        {
            string[] Answer() => prompts.Select(p => (UseChat(model, chat) ? model.Chat([new ChatMessage("user", p)], options) : model.Generate(p, options)).Text.Trim()).ToArray();
            string[] before;
            using (lora.DisableAdapters()) before = Answer();
            var after = Answer();
            return new Comparison(prompts.Select((p, i) => new ComparisonRow(p, before[i], after[i], references?[i])).ToList());
        }
        finally { if (wasTraining) model.train(); }
    }

    /// <summary>
    /// The first <paramref name="count"/> (user question, assistant answer) pairs of a chat JSONL file such as
    /// datasets/puddle/heldout.jsonl.
    /// </summary>
    public static (IReadOnlyList<string> Questions, IReadOnlyList<string> Answers) HeldOut(string path, int count = 5)
    {
        var file = ResolveDataPath(path);
        var questions = new List<string>();
        var answers = new List<string>();
        int line = 0;
        foreach (var text in File.ReadLines(file))
        {
            line++;
            if (string.IsNullOrWhiteSpace(text)) continue;
            if (questions.Count == count) break;
            var messages = (JsonNode.Parse(text)?["messages"] as JsonArray) ?? throw new FormatException($"{file}:{line}: expected an object with \"messages\"");
            string? Find(string role) => messages.LastOrDefault(m => (string?)m?["role"] == role)?["content"]?.GetValue<string>();
            questions.Add(Find("user") ?? throw new FormatException($"{file}:{line}: no user message"));
            answers.Add(Find("assistant") ?? throw new FormatException($"{file}:{line}: no assistant message"));
        }
        return (questions, answers);
    }

    /// <summary>
    /// Perplexity of <paramref name="model"/> on <paramref name="text"/>: the text is tokenized once, cut into
    /// consecutive windows of <paramref name="window"/> tokens, and exp(mean loss per predicted token) is taken over
    /// all windows (each window's first token has no context and is not predicted).
    /// </summary>
    public static double Perplexity(CausalLM model, string text, int window = 128)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        if (window < 2) throw new ArgumentOutOfRangeException(nameof(window), window, "expected at least 2 tokens per window");
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("Perplexity needs the model's tokenizer");
        var ids = tokenizer.EncodeToIds(text, addSpecialTokens: false);
        if (ids.Length < 2) throw new ArgumentException("Perplexity: the text has fewer than 2 tokens");
        bool wasTraining = model.training;
        model.eval();
        double sum = 0;
        long count = 0;
        try
        {
            using var _ = torch.no_grad();
            for (int start = 0; start + 1 < ids.Length; start += window)
            {
                using var scope = torch.NewDisposeScope();
                int length = Math.Min(window, ids.Length - start);
                if (length < 2) break;
                var chunk = ids.AsSpan(start, length).ToArray().Select(i => (long)i).ToArray();
                var input = torch.tensor(chunk, [1, length], device: model.Device);
                var logits = model.Forward(input);
                sum += CausalLM.CausalLMLoss(logits, input, reduction: "sum").item<float>();
                count += length - 1;
            }
        }
        finally { if (wasTraining) model.train(); }
        return Math.Exp(sum / count);
    }

    /// <summary>Saves the adapter in PEFT's layout (adapter_config.json + adapter_model.safetensors).</summary>
    public static string SaveAdapter(LoraModel lora, string folder)
    {
        ArgumentNullException.ThrowIfNull(lora);
        var full = Path.GetFullPath(folder);
        // PEFT's base_model_name_or_path names the model folder (or hub id), not a weights file inside it.
        var source = lora.Model.LoadReport?.Source;
        if (source is not null && File.Exists(source)) source = Path.GetDirectoryName(source);
        lora.SaveAdapter(full, source);
        return full;
    }

    /// <summary>
    /// Merges the adapters into the base weights and saves a plain Hugging Face model folder (with the tokenizer).
    /// The adapters are gone afterwards: the returned model is the merged one.
    /// </summary>
    public static CausalLM SaveMerged(LoraModel lora, string folder)
    {
        ArgumentNullException.ThrowIfNull(lora);
        var merged = lora.MergeAndUnload();
        merged.SavePretrained(Path.GetFullPath(folder));
        merged.Tokenizer?.Save(Path.GetFullPath(folder));
        return merged;
    }

    /// <summary>
    /// Writes the model as a GGUF file for llama.cpp, Ollama and LM Studio, with an Ollama Modelfile beside it;
    /// <paramref name="type"/> is f32, f16, bf16, q8_0 or q4_0. Adapters are merged (and NF4 weights
    /// dequantized) into a copy of the affected weights: the model in the notebook keeps its adapters.
    /// </summary>
    public static Tunebook.Models.Gguf.GgufExportResult SaveGguf(CausalLM model, string path, string type = "q8_0") =>
        MergedWeights.SaveGguf(model, Path.GetFullPath(path), Tunebook.Models.Gguf.GgufFileTypes.Parse(type));

    /// <inheritdoc cref="SaveGguf(CausalLM, string, string)"/>
    public static Tunebook.Models.Gguf.GgufExportResult SaveGguf(LoraModel lora, string path, string type = "q8_0") =>
        MergedWeights.SaveGguf(lora, Path.GetFullPath(path), Tunebook.Models.Gguf.GgufFileTypes.Parse(type));
}
