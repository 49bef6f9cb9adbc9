using Tunebook.Interactive;
using Tunebook.Notebook.Displays;

namespace Tunebook.Notebook.Magics;

public sealed class ModelOptions
{
    [Argument(0, "action", Help = "load", Choices = ["load"])] public string Action { get; set; } = "";
    [Argument(1, "path", Help = "A Hugging Face model folder (config.json, *.safetensors, tokenizer.json), or 'starter'")] public string Path { get; set; } = "";
    [Option("--device", Help = "Where the weights live", Choices = ["cpu", "cuda"])] public string Device { get; set; } = "cpu";
    [Option("--dtype", Help = "Cast the weights (default: as stored)", Choices = ["float32", "bfloat16", "float16"])] public string? DType { get; set; }
    [Option("--quantize", Help = "Store the linear layers in 4-bit NF4 for QLoRA", Choices = ["nf4"])] public string? Quantize { get; set; }
}

/// <summary>#!model load PATH|starter → variables <c>model</c> and <c>tokenizer</c>, and the model card.</summary>
public sealed class ModelMagic : MagicCommand<ModelOptions>
{
    public override string Name => "model";
    public override string Summary => "Load a model and its tokenizer into `model` and `tokenizer`; shows the model card";
    public override IReadOnlyList<string> Examples =>
    [
        "#!model load starter",
        "#!model load ~/models/SmolLM2-135M-Instruct --dtype bfloat16 --quantize nf4",
        "C#: var model = Tune.LoadModel(\"starter\", device: \"cpu\", dtype: null, quantize: null); var tokenizer = model.Tokenizer; Tune.Card(model)",
    ];

    protected override Task RunAsync(ModelOptions o, IMagicContext context)
    {
        var path = o.Path.StartsWith("~/", StringComparison.Ordinal)
            ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), o.Path[2..]) : o.Path;
        var model = Tune.LoadModel(path, o.Device, o.DType, o.Quantize);
        context.SetVariable(SessionVariables.Model, model);
        context.SetVariable(SessionVariables.Tokenizer, model.Tokenizer);
        // A new model invalidates the adapters and the trainer of the previous one.
        if (context.GetVariable(SessionVariables.Lora) is not null) context.SetVariable(SessionVariables.Lora, null);
        if (context.GetVariable(SessionVariables.Trainer) is not null) context.SetVariable(SessionVariables.Trainer, null);
        context.Host.Display(new ModelCard(model, path));
        return Task.CompletedTask;
    }
}
