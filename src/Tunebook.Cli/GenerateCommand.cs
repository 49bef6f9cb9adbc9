using System.CommandLine;
using Tunebook.Models;
using Tunebook.Notebook;
using Tunebook.Notebook.Magics;
using Tunebook.Text.Templates;

namespace Tunebook.Cli;

/// <summary>
/// ./tunebook generate: a completion from a model folder (plus an adapter) printed to stdout, greedy by
/// default, with #!generate's options: for scripts and for checking an export against llama.cpp or Ollama.
/// </summary>
static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A Hugging Face model folder, or \"starter\"", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "A PEFT LoRA adapter folder to apply" };
        var prompt = new Option<string>("--prompt") { Description = "The prompt: a user message through the chat template, or plain text with --raw", Required = true };
        var maxTokens = new Option<int>("--max-tokens") { Description = "New tokens at most", DefaultValueFactory = _ => 64 };
        var raw = new Option<bool>("--raw") { Description = "Continue the prompt as plain text instead of applying the chat template" };
        var temperature = new Option<double>("--temperature") { Description = "0 for greedy decoding (default); > 0 samples" };
        var topP = new Option<double?>("--top-p") { Description = "Nucleus sampling threshold" };
        var topK = new Option<int?>("--top-k") { Description = "Sample among the k most likely tokens" };
        var penalty = new Option<double?>("--repetition-penalty") { Description = "Penalty > 1 for tokens already present" };
        var seed = new Option<long?>("--seed") { Description = "Sampling seed" };
        var command = new Command("generate", "Print a model's completion of a prompt (greedy unless --temperature > 0).")
        {
            model, adapter, prompt, maxTokens, raw, temperature, topP, topK, penalty, seed,
        };
        command.SetAction(parse =>
        {
            try
            {
                var options = GenerateMagic.ToOptions(new GenerateOptions
                {
                    Prompt = parse.GetValue(prompt)!, MaxTokens = parse.GetValue(maxTokens), Raw = parse.GetValue(raw),
                    Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), TopK = parse.GetValue(topK),
                    RepetitionPenalty = parse.GetValue(penalty), Seed = parse.GetValue(seed),
                });
                var loaded = Tune.LoadModel(parse.GetValue(model)!);
                if (parse.GetValue(adapter) is { } adapterFolder) ExportCommand.LoadAdapter(adapterFolder, loaded);
                loaded.eval();
                var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false)) { AutoFlush = true };
                options = options with { OnToken = chunk => stdout.Write(chunk.TextDelta) };
                bool chat = !parse.GetValue(raw) && loaded.Tokenizer?.Config.ChatTemplate is not null;
                if (chat) loaded.Chat([new ChatMessage("user", parse.GetValue(prompt)!)], options);
                else loaded.Generate(parse.GetValue(prompt)!, options);
                stdout.WriteLine();
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException or InvalidOperationException
                                           or UnauthorizedAccessException or ModelConfigException or Tunebook.Torch.TorchException
                                           or Tunebook.Interactive.MagicUsageException)
            {
                Console.Error.WriteLine($"generate: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
