using System.CommandLine;
using Tunebook.Tuning.Config;

namespace Tunebook.Cli;

/// <summary>./tunebook train CONFIG.yaml: LoRA, QLoRA or full fine-tuning from a YAML file (see docs/tuning.md).</summary>
static class TrainCommand
{
    public static Command Create()
    {
        var config = new Argument<string>("config") { Description = "The training config (YAML): model, data, adapter, trainer, output" };
        var resume = new Option<bool>("--resume") { Description = "Continue from the checkpoint in the output folder" };
        var check = new Option<bool>("--check") { Description = "Check the config and the data (leakage, near-duplicates, secrets and personal data, balance), print the config resolved and the data report, and exit without training" };
        var command = new Command("train", "Fine-tune a model as a YAML config says; writes the adapter (or model), metrics.jsonl and the resolved config to the output folder.")
        {
            config, resume, check,
        };
        command.SetAction(parse =>
        {
            TrainConfig loaded;
            try
            {
                loaded = TrainConfig.Load(parse.GetValue(config)!);
            }
            catch (Exception e) when (e is TrainConfigException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"train: {e.Message}");
                return 2;
            }
            if (parse.GetValue(check))
            {
                Console.Write(loaded.ToYaml());
                try
                {
                    // Only the tokenizer is needed to prepare and check the data: the weights are not loaded.
                    var tokenizer = Tunebook.Text.Tokenizers.Tokenizer.FromFolder(TrainRun.ModelFolder(loaded));
                    Console.WriteLine(ConfigData.Load(loaded, tokenizer).Report);
                }
                catch (Exception e) when (e is TrainConfigException or IOException or InvalidDataException or FormatException or ArgumentException
                                               or InvalidOperationException or UnauthorizedAccessException)
                {
                    Console.Error.WriteLine($"train: {e.Message}");
                    return 1;
                }
                return 0;
            }
            // Ctrl+C stops at the next step boundary and saves a checkpoint; a second Ctrl+C kills the process.
            using var cancel = new CancellationTokenSource();
            ConsoleCancelEventHandler handler = (_, e) =>
            {
                if (cancel.IsCancellationRequested) return;
                e.Cancel = true;
                cancel.Cancel();
                Console.Error.WriteLine("train: stopping after the current step (Ctrl+C again to abort)");
            };
            Console.CancelKeyPress += handler;
            try
            {
                var result = TrainRun.Run(loaded, line => Console.WriteLine(line), parse.GetValue(resume), cancel.Token);
                return result.Reason == Tunebook.Tuning.Training.StopReason.Cancelled ? 130 : 0;
            }
            catch (Exception e) when (e is TrainConfigException or IOException or InvalidDataException or FormatException or ArgumentException
                                           or InvalidOperationException or NotSupportedException or UnauthorizedAccessException
                                           or Tunebook.Models.ModelConfigException or Tunebook.Torch.TorchException)
            {
                Console.Error.WriteLine($"train: {e.Message}");
                return 1;
            }
            finally
            {
                Console.CancelKeyPress -= handler;
            }
        });
        return command;
    }
}
