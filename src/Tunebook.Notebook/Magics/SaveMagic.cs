using Tunebook.Interactive;

namespace Tunebook.Notebook.Magics;

public sealed class SaveOptions
{
    [Argument(0, "what", Help = "adapter: PEFT adapter folder; merged: adapters merged into a full Hugging Face model; gguf: one file for llama.cpp and Ollama", Choices = ["adapter", "merged", "gguf"])]
    public string What { get; set; } = "";
    [Argument(1, "path", Help = "Output folder (a .gguf file for gguf)")] public string Path { get; set; } = "";
    [Option("--type", Help = "gguf: tensor type, one of f32, f16, bf16, q8_0, q4_k_m, q4_0")] public string Type { get; set; } = "q8_0";
    [Option("--max-shard-size", Help = "merged: split the weights into shards of at most this size (5GB, 200MB, a byte count)")] public string MaxShardSize { get; set; } = "5GB";
}

/// <summary>#!save adapter|merged PATH, #!save gguf FILE [--type q8_0].</summary>
public sealed class SaveMagic : MagicCommand<SaveOptions>
{
    public override string Name => "save";
    public override string Summary => "Save the LoRA adapter (PEFT layout), the merged model (Hugging Face layout) or a GGUF file for llama.cpp/Ollama";
    public override IReadOnlyList<string> Examples =>
    [
        "#!save adapter out/puddle-adapter      C#: Tune.SaveAdapter(lora, \"out/puddle-adapter\")",
        "#!save merged out/puddle-merged        C#: model = Tune.SaveMerged(lora, \"out/puddle-merged\")",
        "#!save merged out/m --max-shard-size 200MB  C#: model = Tune.SaveMerged(lora, \"out/m\", \"200MB\")",
        "#!save gguf out/puddle.gguf --type q8_0 C#: Tune.SaveGguf(lora, \"out/puddle.gguf\", \"q8_0\")",
    ];

    protected override Task RunAsync(SaveOptions o, IMagicContext context)
    {
        if (o.What.Equals("gguf", StringComparison.OrdinalIgnoreCase))
        {
            // The adapters are merged into a copy of the weights: `model` and `lora` stay as they are.
            var type = Tunebook.Models.Gguf.GgufFileTypes.Names.Contains(o.Type.ToLowerInvariant()) ? o.Type
                : throw new MagicUsageException($"--type: expected one of {string.Join(", ", Tunebook.Models.Gguf.GgufFileTypes.Names)}, got '{o.Type}'");
            var result = context.GetVariable(SessionVariables.Lora) is Tunebook.Tuning.Lora.LoraModel l
                ? Tune.SaveGguf(l, o.Path, type)
                : Tune.SaveGguf(SessionVariables.RequireModel(context), o.Path, type);
            context.Out.WriteLine(Displays.DisplayPath.InText(result.ToString()));
            foreach (var warning in result.Warnings) context.Out.WriteLine("warning: " + Displays.DisplayPath.InText(warning));
            if (result.ModelfilePath is { } modelfile)
            {
                var shown = Displays.DisplayPath.Of(modelfile);
                context.Out.WriteLine($"wrote {shown}: ollama create NAME -f {shown}");
            }
            return Task.CompletedTask;
        }
        var lora = SessionVariables.RequireLora(context);
        if (o.What.Equals("adapter", StringComparison.OrdinalIgnoreCase))
        {
            var folder = Tune.SaveAdapter(lora, o.Path);
            context.Out.WriteLine($"saved the adapter to {Displays.DisplayPath.Of(folder)}: " + string.Join(", ", Directory.GetFiles(folder).Select(System.IO.Path.GetFileName)));
        }
        else
        {
            try { Tunebook.Torch.ShardSize.Parse(o.MaxShardSize); }
            catch (FormatException e) { throw new MagicUsageException($"--max-shard-size: {e.Message}"); }
            var merged = Tune.SaveMerged(lora, o.Path, o.MaxShardSize);
            // The adapters are merged into the weights: `model` is now the merged model and `lora` is gone.
            context.SetVariable(SessionVariables.Model, merged);
            context.SetVariable(SessionVariables.Lora, null);
            var folder = System.IO.Path.GetFullPath(o.Path);
            context.Out.WriteLine($"merged the adapters and saved the model to {Displays.DisplayPath.Of(folder)}: " + string.Join(", ", Directory.GetFiles(folder).Select(System.IO.Path.GetFileName)));
        }
        return Task.CompletedTask;
    }
}
