using Tunebook.Interactive;

namespace Tunebook.Notebook.Magics;

public sealed class SaveOptions
{
    [Argument(0, "what", Help = "adapter: PEFT adapter folder; merged: adapters merged into a full Hugging Face model", Choices = ["adapter", "merged"])]
    public string What { get; set; } = "";
    [Argument(1, "path", Help = "Output folder")] public string Path { get; set; } = "";
}

/// <summary>#!save adapter|merged PATH.</summary>
public sealed class SaveMagic : MagicCommand<SaveOptions>
{
    public override string Name => "save";
    public override string Summary => "Save the LoRA adapter (PEFT layout) or the merged model (Hugging Face layout)";
    public override IReadOnlyList<string> Examples =>
    [
        "#!save adapter out/puddle-adapter      C#: Tune.SaveAdapter(lora, \"out/puddle-adapter\")",
        "#!save merged out/puddle-merged        C#: model = Tune.SaveMerged(lora, \"out/puddle-merged\")",
    ];

    protected override Task RunAsync(SaveOptions o, IMagicContext context)
    {
        var lora = SessionVariables.RequireLora(context);
        if (o.What.Equals("adapter", StringComparison.OrdinalIgnoreCase))
        {
            var folder = Tune.SaveAdapter(lora, o.Path);
            context.Out.WriteLine($"saved the adapter to {Displays.DisplayPath.Of(folder)}: " + string.Join(", ", Directory.GetFiles(folder).Select(System.IO.Path.GetFileName)));
        }
        else
        {
            var merged = Tune.SaveMerged(lora, o.Path);
            // The adapters are merged into the weights: `model` is now the merged model and `lora` is gone.
            context.SetVariable(SessionVariables.Model, merged);
            context.SetVariable(SessionVariables.Lora, null);
            var folder = System.IO.Path.GetFullPath(o.Path);
            context.Out.WriteLine($"merged the adapters and saved the model to {Displays.DisplayPath.Of(folder)}: " + string.Join(", ", Directory.GetFiles(folder).Select(System.IO.Path.GetFileName)));
        }
        return Task.CompletedTask;
    }
}
