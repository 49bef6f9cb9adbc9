using System.CommandLine;
using Tunebook.Text.Tokenizers;

namespace Tunebook.Cli;

/// <summary>./tunebook tokenize: stdin texts → stdout JSON arrays of token ids, one per line.</summary>
static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer", "-t")
        {
            Description = "A tokenizer.json file or a model folder (tokenizer.json or vocab.json + merges.txt, with tokenizer_config.json)",
            Required = true,
        };
        var json = new Option<bool>("--json")
        {
            Description = "Each input line is a JSON string (lets a text contain newlines)",
        };
        var noSpecial = new Option<bool>("--no-special")
        {
            Description = "Do not add BOS/EOS or other template tokens (Hugging Face's add_special_tokens=False)",
        };
        var command = new Command("tokenize", "Read one text per line from stdin and print its token ids as a JSON array per line.")
        {
            tokenizer, json, noSpecial,
        };
        command.SetAction(parse =>
        {
            Tokenizer loaded;
            try
            {
                loaded = Tokenizer.FromFile(parse.GetValue(tokenizer)!);
            }
            catch (Exception e) when (e is TokenizerFormatException or IOException or UnauthorizedAccessException)
            {
                Console.Error.WriteLine($"tokenize: {e.Message}");
                return 1;
            }
            Console.InputEncoding = System.Text.Encoding.UTF8;
            var stdout = new StreamWriter(Console.OpenStandardOutput(), new System.Text.UTF8Encoding(false)) { AutoFlush = false };
            var stdin = new StreamReader(Console.OpenStandardInput(), System.Text.Encoding.UTF8);
            var code = TokenizeCli.Run(loaded, parse.GetValue(json), !parse.GetValue(noSpecial), stdin, stdout, Console.Error);
            stdout.Flush();
            return code;
        });
        return command;
    }
}
