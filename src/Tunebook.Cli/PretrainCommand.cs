using System.CommandLine;
using Tunebook.Torch;
using Tunebook.Starter.Pretraining;

namespace Tunebook.Cli;

/// <summary>./tunebook pretrain: rebuilds the built-in starter model (datasets/starter) from the generated corpus.</summary>
static class PretrainCommand
{
    public static Command Create()
    {
        var defaults = new PretrainOptions { OutputFolder = "datasets/starter", ConfigPath = "datasets/starter/config.json" };
        var output = new Option<string>("--out") { Description = "Output folder (Hugging Face layout)", DefaultValueFactory = _ => defaults.OutputFolder };
        var config = new Option<string?>("--config") { Description = "Architecture config.json (default: OUT/config.json)" };
        var seed = new Option<int>("--seed") { Description = "Seed of corpus, weights and batch order", DefaultValueFactory = _ => defaults.Seed };
        var corpus = new Option<int>("--corpus-chars") { Description = "Size of the generated corpus in characters", DefaultValueFactory = _ => defaults.CorpusChars };
        var tokenizerChars = new Option<int>("--tokenizer-chars") { Description = "Corpus characters the BPE tokenizer is trained on", DefaultValueFactory = _ => defaults.TokenizerChars };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps", DefaultValueFactory = _ => defaults.Steps };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per training row", DefaultValueFactory = _ => defaults.SequenceLength };
        var batch = new Option<int>("--batch") { Description = "Rows per step", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (cosine schedule with warmup)", DefaultValueFactory = _ => defaults.LearningRate };
        var warmup = new Option<int>("--warmup") { Description = "Warmup steps", DefaultValueFactory = _ => defaults.WarmupSteps };
        var vocab = new Option<int>("--vocab") { Description = "Tokenizer vocabulary size (must match the config)", DefaultValueFactory = _ => defaults.VocabSize };
        var threads = new Option<int?>("--threads") { Description = "libtorch intra-op threads (default: all cores)" };
        var command = new Command("pretrain", "Pretrain the starter model from the project's generated corpus: tokenizer, weights and a training log, written into a Hugging Face folder.")
        {
            output, config, seed, corpus, tokenizerChars, steps, seqLen, batch, lr, warmup, vocab, threads,
        };
        command.SetAction(parse =>
        {
            var outFolder = parse.GetValue(output)!;
            var options = new PretrainOptions
            {
                OutputFolder = outFolder,
                ConfigPath = parse.GetValue(config) ?? Path.Combine(outFolder, "config.json"),
                Seed = parse.GetValue(seed),
                CorpusChars = parse.GetValue(corpus),
                TokenizerChars = parse.GetValue(tokenizerChars),
                Steps = parse.GetValue(steps),
                SequenceLength = parse.GetValue(seqLen),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(lr),
                WarmupSteps = parse.GetValue(warmup),
                VocabSize = parse.GetValue(vocab),
            };
            if (parse.GetValue(threads) is { } n) torch.set_num_threads(n);
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
            Console.CancelKeyPress += onCancel;
            try
            {
                StarterPretraining.Run(options, Console.WriteLine, cancel.Token);
                return 0;
            }
            catch (OperationCanceledException e)
            {
                Console.Error.WriteLine($"pretrain: {e.Message}");
                return 130;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or TorchException
                                           or Tunebook.Models.ModelConfigException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"pretrain: {e.Message}");
                return 1;
            }
            finally
            {
                Console.CancelKeyPress -= onCancel;
            }
        });
        return command;
    }
}
