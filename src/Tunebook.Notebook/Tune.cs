using System.Text.Json.Nodes;
using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Notebook.Displays;
using Tunebook.Text.Templates;
using Tunebook.Torch;
using Tunebook.Tuning;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Quantization;
using Tunebook.Tuning.Runs;
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
/// <see cref="Interactive.Frontend.Host"/>, so they work the same in the kernel, a test or a console.
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
        string folder = ResolveModelFolder(pathOrStarter);
        var dev = Device.ParseSpec(device);
        ScalarType? type = dtype is null ? null : ParseFloatDType(dtype);
        var model = CausalLM.FromPretrained(folder, dev, type);
        if (quantize is not null)
        {
            if (!quantize.Equals("nf4", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--quantize: expected nf4, got '{quantize}'");
            Nf4Quantizer.QuantizeModel(model);
        }
        return model;
    }

    /// <summary>"starter" → datasets/starter of this repository; anything else must be a model folder (<see cref="RepositoryPaths.ModelFolder"/>).</summary>
    public static string ResolveModelFolder(string pathOrStarter) => RepositoryPaths.ModelFolder(pathOrStarter);

    /// <summary>A path inside this repository (<see cref="RepositoryPaths.Find"/>), or null.</summary>
    public static string? RepoPath(string relative) => RepositoryPaths.Find(relative);

    static ScalarType ParseFloatDType(string name)
    {
        ScalarType type;
        try { type = ScalarTypes.Parse(name); }
        catch (ArgumentException) { type = ScalarType.Bool; }
        return type is ScalarType.Float32 or ScalarType.BFloat16 or ScalarType.Float16
            ? type
            : throw new ArgumentException($"--dtype: expected float32, bfloat16 or float16, got '{name}'");
    }

    /// <summary>The model card of <paramref name="model"/> (architecture, parameters, training-memory estimate).</summary>
    public static ModelCard Card(CausalLM model) => new(model);

    /// <summary>
    /// Loads a data file (JSONL/JSON/CSV/text; format detected unless given), renders it with the model's chat
    /// template, masks everything but the answers, truncates to <paramref name="maxLength"/> tokens and splits off
    /// a seeded <paramref name="val"/> fraction for validation. The data checks run too (leakage into the validation
    /// split and into the <paramref name="heldout"/> file, near-duplicates, secrets and personal data, balance; see
    /// docs/data.md); <paramref name="checks"/> sets their thresholds and asks to redact, drop leaks or deduplicate.
    /// </summary>
    public static PreparedData LoadData(string path, Tunebook.Text.Tokenizers.Tokenizer tokenizer, DataFormat? format = null, double val = 0.1, int maxLength = 512, bool packing = false, long seed = 42,
        string? heldout = null, Tunebook.Tuning.Data.Quality.DataCheckOptions? checks = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (val is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(val), val, "--val: expected a fraction in [0, 1)");
        if (maxLength < 8) throw new ArgumentOutOfRangeException(nameof(maxLength), maxLength, "--max-length: expected at least 8 tokens");
        var raw = Dataset.Load(ResolveDataPath(path), format);
        var heldOut = heldout is null ? null : Dataset.Load(ResolveDataPath(heldout));
        return raw.PrepareChecked(tokenizer, null, new PrepareOptions { ValFraction = val, MaxLength = maxLength, Packing = packing, Seed = seed }, checks, heldOut);
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

    /// <summary>
    /// A trainer without running it (for <see cref="Step"/> and <see cref="Continue"/>): <c>new Trainer(model, data.Train, data.Validation, options)</c>.
    /// With <paramref name="runFolder"/>, the run is recorded there (run.json, metrics.jsonl; see <see cref="Record"/>).
    /// </summary>
    public static Trainer CreateTrainer(CausalLM model, PreparedData data, TrainerOptions options, string? runFolder = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        var trainer = new Trainer(model, data.Train, data.Validation, options);
        if (runFolder is not null) Record(trainer, data, runFolder);
        return trainer;
    }

    /// <summary>
    /// Records <paramref name="trainer"/>'s run in <paramref name="runFolder"/> (<see cref="RunInputs.Of"/>): run.json (environment,
    /// the model folder and data files with their SHA-256, the prepared token ids' fingerprint, the trainer options, the data
    /// recipe, the LoRA config and seed, seeds, times, losses, the saved adapter) and metrics.jsonl, as <c>./tunebook train</c>
    /// does; the adapter is saved into RUN/adapter whenever a run call stops (docs/reproducibility.md).
    /// </summary>
    public static RunRecorder Record(Trainer trainer, PreparedData data, string runFolder)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(data);
        return new RunRecorder(trainer, runFolder, RunInputs.Of(trainer.Model, data, startedBy: "notebook"));
    }

    /// <summary>
    /// Replays a recorded run (<c>./tunebook replay</c>; a notebook run's data is prepared again from its recipe): checks the
    /// model and data digests, retrains <paramref name="steps"/> steps (default: all) into RUN/replay and compares every
    /// logged loss with the record.
    /// </summary>
    public static ReplayReport Replay(string runFolder, int? steps = null, bool allowChanged = false, CancellationToken cancellation = default) =>
        RunReplay.Replay(runFolder, steps, allowChanged, cancellationToken: cancellation);

    /// <summary>The runs recorded under <paramref name="folder"/> (a table and one loss chart); <c>.Compare("a", "b")</c> shows what differs.</summary>
    public static RunsView Runs(string folder = "runs", int? last = null) => RunsView.Load(folder, last);

    /// <summary>Runs <paramref name="steps"/> more optimizer steps with the live view.</summary>
    public static StopReason Step(Trainer trainer, int steps = 1, CancellationToken cancellation = default)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "expected at least 1 step");
        return Run(trainer, t => t.Step(steps, cancellation));
    }

    /// <summary>Continues a paused or interrupted run to its end with the live view.</summary>
    public static StopReason Continue(Trainer trainer, CancellationToken cancellation = default) => Run(trainer, t => t.Run(cancellation));

    /// <summary>
    /// Ends a run early (<see cref="Trainer.Stop"/>: evaluate the final weights, put back the best ones when the
    /// options ask for it) and shows the final view "stopped at step N".
    /// </summary>
    public static TrainingView Stop(Trainer trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var summary = trainer.Stop();
        var view = new TrainingView(trainer);
        view.Complete(TrainingView.Describe(summary));
        return view;
    }

    /// <summary>
    /// Runs the trainer with the live view. This is the one place where an interrupted run becomes an
    /// exception: the trainer returns <see cref="StopReason.Cancelled"/> at a step boundary (the view says
    /// "stopped at step N" and how to resume), and the cell must still end as interrupted, so that the kernel
    /// reports KeyboardInterrupt and a "Run All" stops here instead of going on.
    /// </summary>
    static StopReason Run(Trainer trainer, Func<Trainer, StopReason> run)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        using var view = new TrainingView(trainer).Show();
        StopReason reason;
        try { reason = run(trainer); }
        catch (OperationCanceledException)
        {
            // Something below the trainer (an event handler) was cancelled: the same status as a cancelled run.
            view.Complete(TrainingView.Describe(new TrainingStopped(trainer.GlobalStep, StopReason.Cancelled, trainer.BestStep, trainer.BestLoss)));
            throw;
        }
        catch (Exception e)
        {
            view.Complete($"failed at step {trainer.GlobalStep}: {e.Message}");
            throw;
        }
        view.Complete(trainer.History.LastOrDefault() is TrainingStopped s ? TrainingView.Describe(s) : $"paused at step {trainer.GlobalStep}");
        if (reason == StopReason.Cancelled)
            throw new OperationCanceledException($"training interrupted at step {trainer.GlobalStep}");
        return reason;
    }

    /// <summary>
    /// Generates a reply to <paramref name="prompt"/>, streaming tokens into one updating display. With a chat
    /// template (and <paramref name="chat"/>) the prompt is a user message; otherwise it is continued as text.
    /// </summary>
    public static GenerationResult Generate(CausalLM model, string prompt, GenerationOptions? options = null, bool chat = true)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return Stream(model, [prompt], options, chat, [new StreamingText(prompt)]);
    }

    /// <summary>
    /// Replies to several prompts in one left-padded batch (one decode for all of them, each row stopping on
    /// its own), streaming every reply into its own updating display. With a chat template (and
    /// <paramref name="chat"/>) each prompt is a user message; otherwise it is continued as text.
    /// </summary>
    public static GenerationResult Generate(CausalLM model, IReadOnlyList<string> prompts, GenerationOptions? options = null, bool chat = true)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0) throw new ArgumentException("Generate: give at least one prompt");
        return Stream(model, prompts, options, chat,
            prompts.Select((p, i) => new StreamingText(p ?? throw new ArgumentNullException(nameof(prompts), $"prompt {i} is null"), i)).ToArray());
    }

    /// <summary>
    /// One batched generation of <paramref name="prompts"/>, each reply streamed into its own display (<paramref name="streams"/>,
    /// one per prompt), the displays refreshed at most every 100 ms. A run recorded for the model records the settings.
    /// </summary>
    static GenerationResult Stream(CausalLM model, IReadOnlyList<string> prompts, GenerationOptions? options, bool chat, StreamingText[] streams)
    {
        ArgumentNullException.ThrowIfNull(model);
        options ??= new GenerationOptions { MaxNewTokens = 64, DoSample = false };
        RunRecorder.Of(model)?.RecordGeneration(options);
        var handles = streams.Select(s => Interactive.Frontend.Display(s)).ToArray();
        var clock = TimeProvider.System;
        long last = clock.GetTimestamp();
        var streaming = options with
        {
            CancellationToken = options.CancellationToken.CanBeCanceled ? options.CancellationToken : Interactive.Frontend.Cancellation,
            OnToken = chunk =>
            {
                options.OnToken?.Invoke(chunk);
                streams[chunk.PromptIndex].Append(chunk.TextDelta);
                if (clock.GetElapsedTime(last) >= TimeSpan.FromMilliseconds(100))
                {
                    for (int i = 0; i < streams.Length; i++) handles[i].Update(streams[i]);
                    last = clock.GetTimestamp();
                }
            },
        };
        var result = GenerateBatch(model, prompts, streaming, chat);
        for (int i = 0; i < streams.Length; i++) { streams[i].Finish(result); handles[i].Update(streams[i]); }
        return result;
    }

    /// <summary>One batched generation of <paramref name="prompts"/>, as chat turns when the model has a template.</summary>
    static GenerationResult GenerateBatch(CausalLM model, IReadOnlyList<string> prompts, GenerationOptions options, bool chat) =>
        UseChat(model, chat)
            ? model.Chat(prompts.Select(p => (IReadOnlyList<ChatMessage>)[new ChatMessage("user", p)]).ToArray(), options)
            : model.Generate(prompts, options);

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
        options = options with { CancellationToken = options.CancellationToken.CanBeCanceled ? options.CancellationToken : Interactive.Frontend.Cancellation };
        var model = lora.Model;
        RunRecorder.Of(model)?.RecordGeneration(options);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            // All prompts go through one left-padded batch per side: the questions cost about one
            // decode each way instead of one per question.
            string[] Answer() => GenerateBatch(model, prompts, options, chat).Sequences.Select(s => s.Text.Trim()).ToArray();
            string[] before;
            using (lora.DisableAdapters()) before = Answer();
            var after = Answer();
            return new Comparison(prompts.Select((p, i) => new ComparisonRow(p, before[i], after[i], references?[i])).ToList());
        }
        finally { if (wasTraining) model.train(); }
    }

    /// <summary>
    /// The first <paramref name="count"/> (user question, assistant answer) pairs of a chat JSONL file such as
    /// datasets/puddle/heldout.jsonl (<see cref="HeldOutQuestions.Load"/>).
    /// </summary>
    public static (IReadOnlyList<string> Questions, IReadOnlyList<string> Answers) HeldOut(string path, int count = 5)
    {
        var pairs = HeldOutQuestions.Load(ResolveDataPath(path), count);
        return (pairs.Questions, pairs.Answers);
    }

    /// <summary>
    /// Each question answered greedily by <paramref name="model"/> here and by llama.cpp from <paramref name="gguf"/>
    /// (an export of the same model): both get the question through the model's chat template, and llama.cpp
    /// tokenizes, generates and detokenizes on its own. Needs node-llama-cpp in tests/reference
    /// (scripts/setup-reference.sh, which make test runs); the error says so when it is missing.
    /// </summary>
    public static LlamaCppComparison CompareWithLlamaCpp(CausalLM model, string gguf, IReadOnlyList<string> questions, int maxNewTokens = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(gguf);
        ArgumentNullException.ThrowIfNull(questions);
        if (questions.Count == 0) throw new ArgumentException("CompareWithLlamaCpp: give at least one question");
        var tokenizer = model.Tokenizer ?? throw new InvalidOperationException("CompareWithLlamaCpp: the model has no tokenizer");
        var template = ChatGeneration.TemplateOf(tokenizer);
        IReadOnlyList<ChatMessage> Turn(string question) => [new ChatMessage("user", question)];
        var options = new GenerationOptions { MaxNewTokens = maxNewTokens, DoSample = false, CancellationToken = Interactive.Frontend.Cancellation };
        bool wasTraining = model.training;
        model.eval();
        string[] ours;
        // One question at a time, as llama.cpp answers them: no padding in the way of an exact comparison.
        try { ours = questions.Select(q => model.Chat(Turn(q), options).Text.Trim()).ToArray(); }
        finally { if (wasTraining) model.train(); }
        var path = Path.GetFullPath(gguf);
        var theirs = LlamaCpp.LlamaCppRunner.Generate(path, questions.Select(q => template.Render(Turn(q), addGenerationPrompt: true)).ToList(), maxNewTokens);
        return new LlamaCppComparison(questions.Select((q, i) => new LlamaCppAnswer(q, ours[i], theirs[i].Trim())).ToList(), DisplayPath.Of(path));
    }

    /// <summary>Perplexity of <paramref name="model"/> on <paramref name="text"/> in windows of <paramref name="window"/> tokens (<see cref="Perplexity.OfText"/>).</summary>
    public static double Perplexity(CausalLM model, string text, int window = 128) => Tuning.Training.Perplexity.OfText(model, text, window);

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
    /// The adapters are gone afterwards: the returned model is the merged one. Weights above <paramref name="maxShardSize"/>
    /// ("5GB", "200MB", a byte count) are split into shards with an index, as transformers does.
    /// </summary>
    public static CausalLM SaveMerged(LoraModel lora, string folder, string maxShardSize = "5GB")
    {
        ArgumentNullException.ThrowIfNull(lora);
        Tunebook.Torch.ShardSize.Parse(maxShardSize);
        var merged = lora.MergeAndUnload();
        // One folder swap writes weights, config and tokenizer together (ModelSaver).
        merged.SavePretrained(Path.GetFullPath(folder), maxShardSize);
        return merged;
    }

    /// <summary>
    /// Writes the model as a GGUF file for llama.cpp, Ollama and LM Studio, with an Ollama Modelfile beside it;
    /// <paramref name="type"/> is f32, f16, bf16, q8_0, q4_k_m or q4_0. Adapters are merged (and NF4 weights
    /// dequantized) into a copy of the affected weights: the model in the notebook keeps its adapters.
    /// </summary>
    public static Tunebook.Models.Gguf.GgufExportResult SaveGguf(CausalLM model, string path, string type = "q8_0") =>
        MergedWeights.SaveGguf(model, Path.GetFullPath(path), Tunebook.Models.Gguf.GgufFileTypes.Parse(type));

    /// <inheritdoc cref="SaveGguf(CausalLM, string, string)"/>
    public static Tunebook.Models.Gguf.GgufExportResult SaveGguf(LoraModel lora, string path, string type = "q8_0") =>
        MergedWeights.SaveGguf(lora, Path.GetFullPath(path), Tunebook.Models.Gguf.GgufFileTypes.Parse(type));
}
