using System.CommandLine;
using Tunebook.Cli;

// ./tunebook: each area of the product adds its subcommands in a file of its own (KernelCommands.cs, ...).
var root = new RootCommand("Tunebook: fine-tune language models with LoRA and QLoRA from C# notebooks.");
foreach (var command in CommandCatalog.All())
    root.Subcommands.Add(command);
return await root.Parse(args).InvokeAsync();
