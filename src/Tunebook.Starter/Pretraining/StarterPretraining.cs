using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Tunebook.Models;
using Tunebook.Text.Tokenizers;
using Tunebook.Torch;
using Tunebook.Tuning.Training;

namespace Tunebook.Starter.Pretraining;

/// <summary>Settings of a starter-model pretraining run. The defaults made the committed datasets/starter model.</summary>
public sealed record PretrainOptions
{
    /// <summary>Folder to write the model into (Hugging Face layout).</summary>
    public required string OutputFolder { get; init; }
    /// <summary>The architecture: a config.json (datasets/starter/config.json).</summary>
    public required string ConfigPath { get; init; }
    /// <summary>Seed of the corpus, the tokenizer's corpus sample, the weights and the batch order.</summary>
    public int Seed { get; init; } = 1;
    /// <summary>Size of the generated corpus.</summary>
    public int CorpusChars { get; init; } = 8_000_000;
    /// <summary>Characters of the corpus the tokenizer is trained on (BPE training cost grows with it).</summary>
    public int TokenizerChars { get; init; } = 2_000_000;
    public int VocabSize { get; init; } = 4096;
    public int SequenceLength { get; init; } = 128;
    public int BatchSize { get; init; } = 16;
    public int Steps { get; init; } = 2000;
    public double LearningRate { get; init; } = 3e-3;
    public int WarmupSteps { get; init; } = 100;
    /// <summary>Share of the token rows held out to measure validation loss.</summary>
    public double ValidationFraction { get; init; } = 0.01;
    public int EvalEvery { get; init; } = 250;
    public int LogEvery { get; init; } = 25;
}

/// <summary>The outcome of <see cref="StarterPretraining.Run"/>.</summary>
public sealed record PretrainResult(string OutputFolder, long Parameters, int Steps, double FinalTrainLoss, double? ValidationLoss,
    double InitialValidationLoss, double WallSeconds, long TrainTokens);

/// <summary>
/// Pretrains the built-in starter model from nothing: generate the corpus, train a byte-level BPE
/// tokenizer on it, pack the tokens into fixed-length rows, and train a randomly initialised Llama with
/// the same <see cref="Trainer"/> that fine-tunes (full training, cosine schedule). Everything is seeded,
/// so the same options give the same weights on the same CPU and libtorch.
/// </summary>
public static class StarterPretraining
{
    public static PretrainResult Run(PretrainOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        log ??= _ => { };
        var clock = Stopwatch.StartNew();

        log($"corpus: generating {options.CorpusChars:N0} characters (seed {options.Seed})");
        var documents = TakeCorpus(options.Seed, options.CorpusChars);

        log($"tokenizer: training a {options.VocabSize}-token byte-level BPE on {options.TokenizerChars:N0} characters");
        var tokenizer = TrainTokenizer(documents, options);

        var rows = PackRows(documents, tokenizer, options.SequenceLength, out long totalTokens);
        int validationRows = Math.Max(1, (int)Math.Round(rows.Count * options.ValidationFraction));
        // Rows come from documents in corpus order; hold out the last ones so validation text is unseen.
        var train = InMemoryTrainingData.FromSequences(rows.Take(rows.Count - validationRows));
        var validation = InMemoryTrainingData.FromSequences(rows.Skip(rows.Count - validationRows));
        log($"data: {totalTokens:N0} tokens in {rows.Count:N0} rows of {options.SequenceLength} ({validationRows} held out)");

        var config = ModelConfig.Load(options.ConfigPath);
        // The BPE stops early when no pair repeats, so the tokenizer can be smaller than the embedding table;
        // the spare rows are never produced by the tokenizer (as in Qwen, whose vocab_size is padded too).
        if (config.VocabSize < tokenizer.VocabSize)
            throw new InvalidDataException($"{options.ConfigPath}: vocab_size is {config.VocabSize} but the tokenizer has {tokenizer.VocabSize} tokens; lower --vocab to at most {config.VocabSize} or raise vocab_size");
        torch.manual_seed(options.Seed);
        using var model = CausalLM.FromConfig(config);
        model.Tokenizer = tokenizer;
        model.requires_grad_(true);
        long parameters = model.parameters().Sum(p => p.numel());
        log($"model: {config.Architecture}, {parameters:N0} parameters");

        var trainerOptions = new TrainerOptions
        {
            MaxSteps = options.Steps,
            LearningRate = options.LearningRate,
            Schedule = LrScheduleKind.Cosine,
            WarmupSteps = options.WarmupSteps,
            BatchSize = options.BatchSize,
            MaxGradNorm = 1.0,
            WeightDecay = 0.1,
            Beta2 = 0.95,
            EvalEvery = options.EvalEvery,
            Seed = options.Seed,
            RestoreBestAtEnd = false,
        };
        using var trainer = new Trainer(model, train, validation, trainerOptions);
        double initialValidation = trainer.Measure(validation).Loss;
        log($"validation loss before training: {initialValidation:F3}");

        var logLines = new List<string>();
        trainer.EventRaised += e =>
        {
            logLines.Add(JsonSerializer.Serialize(e, e.GetType(), StarterJsonContext.Default));
            switch (e)
            {
                case StepCompleted s when s.Step % options.LogEvery == 0 || s.Step == options.Steps:
                    log($"step {s.Step,5}/{options.Steps}  loss {s.Loss:F3}  lr {s.LearningRate:E2}  {s.TokensPerSecond,7:F0} tok/s  {s.ElapsedSeconds,6:F0} s");
                    break;
                case Evaluated v:
                    log($"step {v.Step,5}  validation loss {v.Loss:F3}  perplexity {v.Perplexity:F1}");
                    break;
            }
        };
        var reason = trainer.Run(cancellationToken);
        if (reason == StopReason.Cancelled)
            throw new OperationCanceledException($"pretraining stopped at step {trainer.GlobalStep}; nothing was written");

        double finalTrain = trainer.Steps.LastOrDefault()?.Loss ?? double.NaN;
        double? finalValidation = trainer.Evaluations.LastOrDefault()?.Loss;
        var result = new PretrainResult(options.OutputFolder, parameters, trainer.GlobalStep, finalTrain, finalValidation,
            initialValidation, clock.Elapsed.TotalSeconds, totalTokens);
        Write(model, options, result, logLines);
        log($"wrote {options.OutputFolder} in {result.WallSeconds:F0} s");
        return result;
    }

    /// <summary>The corpus as documents: the same text as <see cref="StarterCorpus.Generate"/> (an endless stream, cut at the size).</summary>
    public static List<string> TakeCorpus(int seed, int sizeInChars) =>
        TakeUntil(StarterCorpus.Documents(seed, sizeInChars).Select(d => d.Text), sizeInChars, StarterCorpus.EndOfText.Length);

    // Documents in order until `size` characters are reached (each counted with `separatorLength` more).
    static List<string> TakeUntil(IEnumerable<string> documents, long size, int separatorLength = 0)
    {
        var taken = new List<string>();
        long chars = 0;
        foreach (var text in documents)
        {
            if (chars >= size) break;
            taken.Add(text);
            chars += text.Length + separatorLength;
        }
        return taken;
    }

    /// <summary>A byte-level BPE with the starter's special tokens at ids 0, 1, 2 and its ChatML template.</summary>
    public static Tokenizer TrainTokenizer(IReadOnlyList<string> documents, PretrainOptions options)
    {
        var sample = TakeUntil(documents, options.TokenizerChars);
        var config = new TokenizerConfig
        {
            EosToken = StarterCorpus.ImEnd,
            PadToken = StarterCorpus.EndOfText,
            BosToken = null,
            AddBosToken = false,
            ModelMaxLength = 256,
            ChatTemplate = StarterModel.ChatTemplate,
        };
        return BpeTrainer.Train(sample, options.VocabSize, StarterModel.SpecialTokens, config: config);
    }

    /// <summary>
    /// Concatenates the documents, each followed by &lt;|endoftext|&gt;, and cuts the stream into rows of
    /// <paramref name="length"/> tokens (the last partial row is dropped), the usual pretraining layout.
    /// </summary>
    public static List<long[]> PackRows(IEnumerable<string> documents, Tokenizer tokenizer, int length, out long totalTokens)
    {
        int endOfText = tokenizer.TokenToId(StarterCorpus.EndOfText)
            ?? throw new InvalidDataException($"the tokenizer has no {StarterCorpus.EndOfText} token");
        var rows = new List<long[]>();
        var current = new long[length];
        int fill = 0;
        totalTokens = 0;
        foreach (var doc in documents)
        {
            foreach (var id in tokenizer.EncodeToIds(doc, addSpecialTokens: false).Append(endOfText))
            {
                current[fill++] = id;
                totalTokens++;
                if (fill == length)
                {
                    rows.Add(current);
                    current = new long[length];
                    fill = 0;
                }
            }
        }
        return rows;
    }

    // Writes into a fresh sibling folder, then swaps file by file, so a failed run leaves the old model whole.
    // Hand-written files already in the output folder (README.md, generation_config.json) are kept.
    static void Write(CausalLM model, PretrainOptions options, PretrainResult result, List<string> logLines)
    {
        var output = Path.GetFullPath(options.OutputFolder);
        var staging = output.TrimEnd(Path.DirectorySeparatorChar) + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        Directory.CreateDirectory(staging);
        try
        {
            model.SavePretrained(staging);
            File.WriteAllLines(Path.Combine(staging, "training_log.jsonl"), logLines);
            var card = new JsonObject
            {
                // Every option that changes the weights, so the line reproduces the run.
                ["command"] = $"./tunebook pretrain --out {options.OutputFolder} --seed {options.Seed} --corpus-chars {options.CorpusChars} " +
                    $"--tokenizer-chars {options.TokenizerChars} --steps {options.Steps} --seq-len {options.SequenceLength} --batch {options.BatchSize} " +
                    $"--warmup {options.WarmupSteps} --lr {options.LearningRate} --vocab {options.VocabSize} --threads {torch.get_num_threads()}",
                ["seed"] = options.Seed,
                ["parameters"] = result.Parameters,
                ["steps"] = result.Steps,
                ["train_tokens"] = result.TrainTokens,
                ["initial_validation_loss"] = Math.Round(result.InitialValidationLoss, 4),
                ["final_train_loss"] = Math.Round(result.FinalTrainLoss, 4),
                ["final_validation_loss"] = result.ValidationLoss is { } v ? Math.Round(v, 4) : null,
                ["wall_seconds"] = Math.Round(result.WallSeconds),
                ["libtorch_threads"] = torch.get_num_threads(),
                ["corpus_license"] = "generated by the Tunebook project (CC0)",
            };
            File.WriteAllText(Path.Combine(staging, "pretraining.json"), card.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            Directory.CreateDirectory(output);
            foreach (var file in Directory.GetFiles(staging))
            {
                var target = Path.Combine(output, Path.GetFileName(file));
                // A hand-written generation_config.json (several stop ids, sampling defaults) wins over the derived one.
                if (Path.GetFileName(file) == "generation_config.json" && File.Exists(target)) continue;
                File.Move(file, target, overwrite: true);
            }
        }
        finally
        {
            if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        }
    }
}
