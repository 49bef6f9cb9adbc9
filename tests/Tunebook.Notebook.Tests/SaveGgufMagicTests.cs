using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Notebook.Magics;
using Tunebook.Tuning.Lora;

namespace Tunebook.Notebook.Tests;

/// <summary>#!save gguf: one line saying what was written, the Modelfile beside it, the model in the notebook untouched.</summary>
public class SaveGgufMagicTests
{
    static MagicCommand Save => NotebookExtension.Magics.Single(m => m.Name == "save");

    [Fact]
    public async Task Save_gguf_writes_the_file_and_says_size_type_and_bits_per_weight()
    {
        var o = (SaveOptions)MagicParser.Parse(Save, "gguf out/x.gguf --type q4_0");
        Assert.Equal(("gguf", "out/x.gguf", "q4_0"), (o.What, o.Path, o.Type));
        Assert.Equal("q8_0", ((SaveOptions)MagicParser.Parse(Save, "gguf out/x.gguf")).Type);

        var model = Tune.LoadModel("starter");
        var lora = Tune.ApplyLora(model, new LoraConfig { R = 4 });
        var context = new FakeContext();
        context.SetVariable("model", model);
        context.SetVariable("lora", lora);
        var dir = Path.Combine(Path.GetTempPath(), "tunebook-notebook-tests", Guid.NewGuid().ToString("N"));
        var path = Path.Combine(dir, "puddle.gguf");
        await Save.RunAsync(MagicParser.Parse(Save, $"gguf {path} --type q4_k_m"), context);

        var text = context.Output.ToString();
        Assert.Contains($"wrote {path}: ", text);
        Assert.Contains("q4_k_m", text);
        Assert.Contains("bits per weight", text);
        Assert.Contains("Modelfile", text);
        Assert.True(new FileInfo(path).Length > 1_000_000);
        Assert.True(File.Exists(Path.Combine(dir, "Modelfile")));
        // The adapters were merged into a copy: the notebook's model still has them.
        Assert.Same(lora, context.GetVariable("lora"));
        Assert.NotEmpty(lora.Layers);

        await Assert.ThrowsAsync<MagicUsageException>(() => Save.RunAsync(MagicParser.Parse(Save, $"gguf {path} --type q5_k"), context));
    }
}
