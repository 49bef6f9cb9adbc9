using System.CommandLine;
using Tunebook.Tuning.Runs;

namespace Tunebook.Cli;

/// <summary>./tunebook replay RUN_DIR: retrain a recorded run and compare every logged loss (docs/reproducibility.md).</summary>
static class ReplayCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("run") { Description = "A run folder (with run.json and metrics.jsonl), as ./tunebook train writes" };
        var steps = new Option<int?>("--steps") { Description = "Replay only the first N steps (default: all recorded)" };
        var allowChanged = new Option<bool>("--allow-changed") { Description = "Replay even when the model or data files differ from the record (the report lists the changes)" };
        var command = new Command("replay", "Rebuild a run from its run.json, check the model and data digests, train, and compare every logged loss with the record.")
        {
            run, steps, allowChanged,
        };
        command.SetAction(parse =>
        {
            try
            {
                var report = RunReplay.Replay(parse.GetValue(run)!, parse.GetValue(steps), parse.GetValue(allowChanged), line => Console.WriteLine(line));
                Console.WriteLine(report);
                return report.BitIdentical ? 0 : 3;
            }
            catch (RunInputsChangedException e)
            {
                Console.Error.WriteLine($"replay: {e.Message}");
                return 4;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or InvalidOperationException or FormatException
                                           or UnauthorizedAccessException or Tunebook.Tuning.Config.TrainConfigException
                                           or Tunebook.Models.ModelConfigException or Tunebook.Torch.TorchException)
            {
                Console.Error.WriteLine($"replay: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
