using Tunebook.Interactive;
using Tunebook.Models;
using Tunebook.Notebook.Displays;
using Tunebook.Notebook.Magics;
using Tunebook.Tuning.Data;
using Tunebook.Tuning.Training;

[assembly: KernelExtension(typeof(Tunebook.Notebook.NotebookExtension))]

namespace Tunebook.Notebook;

/// <summary>
/// Loaded by the kernel at start: registers the fine-tuning magics (#!model, #!data, #!lora, #!train,
/// #!generate, #!compare, #!save), the formatters of the types they produce, and the usings every cell gets.
/// </summary>
public sealed class NotebookExtension : IKernelExtension
{
    /// <summary>The magics this extension adds.</summary>
    public static IReadOnlyList<MagicCommand> Magics { get; } =
        [new ModelMagic(), new DataMagic(), new LoraMagic(), new TrainMagic(), new GenerateMagic(), new CompareMagic(), new SaveMagic(), new RunsMagic()];

    /// <summary>The namespaces every cell imports, in any host.</summary>
    public static IReadOnlyList<string> Usings { get; } =
    [
        "Tunebook.Torch", "Tunebook.Models", "Tunebook.Text.Tokenizers", "Tunebook.Text.Templates",
        "Tunebook.Tuning", "Tunebook.Tuning.Data", "Tunebook.Tuning.Data.Quality", "Tunebook.Tuning.Lora", "Tunebook.Tuning.Quantization", "Tunebook.Tuning.Training",
        "Tunebook.Notebook", "Tunebook.Notebook.Charts", "Tunebook.Notebook.Displays",
    ];

    public void Load(IExtensionContext context)
    {
        foreach (var magic in Magics) context.AddMagic(magic);
        context.AddUsings([.. Usings]);
        context.AddReferences(typeof(CausalLM).Assembly, typeof(Trainer).Assembly, typeof(Tunebook.Text.Tokenizers.Tokenizer).Assembly,
            typeof(Tunebook.Torch.Tensor).Assembly);
        RegisterFormatters();
    }

    /// <summary>Formatters for values a cell may end with (the displays implement IRichDisplay themselves).</summary>
    public static void RegisterFormatters()
    {
        Formatters.Register<CausalLM>(m => new ModelCard(m).ToMimeBundle());
        Formatters.Register<PreparedData>(d => new DatasetView(d).ToMimeBundle());
        Formatters.Register<Tunebook.Tuning.Lora.LoraModel>(l => new LoraSummary(l).ToMimeBundle());
        Formatters.Register<Trainer>(t => new TrainingView(t).ToMimeBundle());
    }
}
