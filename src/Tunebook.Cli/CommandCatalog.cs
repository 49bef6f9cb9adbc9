using System.CommandLine;

namespace Tunebook.Cli;

/// <summary>Every top-level subcommand of ./tunebook. One line per area; each area owns its own file.</summary>
static class CommandCatalog
{
    public static IEnumerable<Command> All()
    {
        yield return VersionCommand.Create();
        yield return KernelCommands.Create();
        yield return ChatTemplateCommand.Create();
        yield return TokenizeCommand.Create();
        yield return TrainCommand.Create();
        yield return ReplayCommand.Create();
        yield return PretrainCommand.Create();
        yield return DatasetsCommand.Create();
        yield return ExportCommand.Create();
        yield return GenerateCommand.Create();
    }
}

static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print Tunebook's version.");
        command.SetAction(_ =>
        {
            Console.WriteLine(typeof(VersionCommand).Assembly.GetName().Version);
            return 0;
        });
        return command;
    }
}
