using System.CommandLine;
using Tunebook.Models;
using Tunebook.Models.Gguf;
using Tunebook.Notebook;
using Tunebook.Tuning.Lora;

namespace Tunebook.Cli;

/// <summary>./tunebook export gguf: a model folder (plus a PEFT adapter, merged) → one GGUF file and an Ollama Modelfile.</summary>
static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A Hugging Face model folder, or \"starter\"", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "A PEFT LoRA adapter folder to merge into the model" };
        var output = new Option<string>("--out") { Description = "The .gguf file to write (an Ollama Modelfile is written beside it)", Required = true };
        var type = new Option<string>("--type") { Description = "Tensor type: " + string.Join(", ", GgufFileTypes.Names), DefaultValueFactory = _ => "q8_0" };
        var gguf = new Command("gguf", "Write a GGUF file for llama.cpp, Ollama and LM Studio, and a Modelfile beside it.") { model, adapter, output, type };
        gguf.SetAction(parse =>
        {
            try
            {
                var fileType = GgufFileTypes.Parse(parse.GetValue(type)!);
                var loaded = Tune.LoadModel(parse.GetValue(model)!);
                var result = parse.GetValue(adapter) is { } adapterFolder
                    ? MergedWeights.SaveGguf(LoadAdapter(adapterFolder, loaded), parse.GetValue(output)!, fileType)
                    : MergedWeights.SaveGguf(loaded, parse.GetValue(output)!, fileType);
                Console.WriteLine(result);
                foreach (var warning in result.Warnings) Console.Error.WriteLine("warning: " + warning);
                if (result.ModelfilePath is { } modelfile) Console.WriteLine($"wrote {modelfile}: ollama create NAME -f {modelfile}");
                return 0;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or NotSupportedException or InvalidOperationException
                                           or UnauthorizedAccessException or ModelConfigException or Tunebook.Torch.TorchException)
            {
                Console.Error.WriteLine($"export gguf: {e.Message}");
                return 1;
            }
        });
        return new Command("export", "Export a model in another format.") { gguf };
    }

    /// <summary>A PEFT adapter applied to the loaded model.</summary>
    public static LoraModel LoadAdapter(string folder, CausalLM model)
    {
        using var adapter = LoraAdapter.Load(Path.GetFullPath(folder), model.Device);
        return adapter.ApplyTo(model);
    }
}
