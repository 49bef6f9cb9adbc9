using Tunebook.Models;
using Tunebook.Notebook.Displays;
using Tunebook.Notebook.Magics;
using Tunebook.Torch;
using Tunebook.Tuning.Lora;
using Tunebook.Tuning.Training;

namespace Tunebook.Notebook.Tests;

/// <summary>The Tune facade and the magics end to end on a tiny random model (not the starter).</summary>
[Collection(HostCollection.Name)]
public class FacadeTests
{
    [Fact]
    public void Model_card_counts_parameters_and_its_lora_estimate_matches_the_real_adapters()
    {
        var model = TinyModel.Create();
        long parameters = model.parameters().Sum(p => p.numel());
        var card = Tune.Card(model);
        Assert.Equal(parameters, card.Summary.Parameters);
        var full = card.Memory.Methods.Single(m => m.Method == "Full");
        Assert.Equal((parameters, parameters * 4, parameters * 8), (full.Trainable, full.Gradients, full.Optimizer));

        var lora = Tune.ApplyLora(model, new LoraConfig { R = 8 });
        var estimated = card.Memory.Methods.Single(m => m.Method == "LoRA").Trainable;
        Assert.Equal(lora.TrainableParameters().Trainable, estimated);
        // q_proj 32→32 and v_proj 32→16 in each of 2 layers, rank 8.
        Assert.Equal(2 * 8 * ((32 + 32) + (32 + 16)), estimated);

        // QLoRA keeps the decoder's linear weights in NF4: less than a fifth of their float32 size.
        var qlora = card.Memory.Methods.Single(m => m.Method == "QLoRA");
        var loraMem = card.Memory.Methods.Single(m => m.Method == "LoRA");
        Assert.True(qlora.Weights < loraMem.Weights);

        var bundle = card.ToMimeBundle();
        HtmlCheck.WellFormed(bundle["text/html"]!);
        Assert.Contains(ModelSummary.FormatCount(parameters), bundle["text/html"]);
        Assert.Contains("QLoRA", bundle["text/plain"]);

        // With adapters in place the estimate still counts the base weights once.
        var after = MemoryEstimate.For(model);
        Assert.Equal(full.Trainable, after.Methods.Single(m => m.Method == "Full").Trainable);
    }

    [Fact]
    public void Data_report_shows_counts_histogram_and_masked_example()
    {
        var data = Tune.LoadData("datasets/puddle/train.jsonl", TinyModel.Tokenizer, val: 0.1, maxLength: 128);
        Assert.Equal(483, data.Report.Examples);
        Assert.Equal(data.Report.Examples, data.Report.TrainExamples + data.Report.ValidationExamples + data.Report.Dropped.Count);
        var view = Tune.Report(data, TinyModel.Tokenizer);
        var html = view.ToMimeBundle()["text/html"]!;
        HtmlCheck.WellFormed(html);
        Assert.Contains($"{data.Report.TrainExamples} train", html);
        Assert.Contains("<svg", html);
        // The example: its trained tokens in green, its masked ones grey, with every token's id.
        var example = view.Example!;
        int trained = example.Labels.Count(l => l != -100);
        Assert.Equal(trained, System.Text.RegularExpressions.Regex.Matches(html, "background:#b7efb2").Count);
        Assert.Equal(example.Length - trained, System.Text.RegularExpressions.Regex.Matches(html, "background:#e4e4e4").Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => Tune.LoadData("datasets/puddle/train.jsonl", TinyModel.Tokenizer, val: 1.5));
    }

    [Fact]
    public void Tokens_view_shows_every_token_with_its_id()
    {
        var view = Tune.Tokens(TinyModel.Tokenizer, "puddle zone list");
        var ids = TinyModel.Tokenizer.EncodeToIds("puddle zone list", false);
        Assert.Equal(ids, view.Tokens.Select(t => t.Id));
        Assert.Equal("puddle zone list", string.Concat(view.Tokens.Select(t => t.Text)));
        var html = view.ToMimeBundle()["text/html"]!;
        HtmlCheck.WellFormed(html);
        foreach (var id in ids) Assert.Contains($"title=\"id {id}\"", html);
    }

    [Fact]
    public void Generate_with_a_list_of_prompts_answers_each_as_if_alone_and_shows_each_reply()
    {
        var model = TinyModel.Create();
        string[] prompts = ["How do I list my zones?", "Zones?", "What does puddle init do with a config file?"];
        var options = new GenerationOptions { MaxNewTokens = 8, DoSample = false };
        var alone = prompts.Select(p => model.Chat([new Tunebook.Text.Templates.ChatMessage("user", p)], options).Sequences[0]).ToArray();
        var host = new ListHost();
        var saved = Interactive.Frontend.Host;
        Interactive.Frontend.Host = host;
        try
        {
            var result = Tune.Generate(model, prompts, options);
            Assert.Equal(alone.Select(a => a.TokenIds), result.Sequences.Select(s => s.TokenIds));
            Assert.Equal(alone.Select(a => a.Text), result.Sequences.Select(s => s.Text));
            var views = host.Shown.OfType<StreamingText>().Distinct().ToList();
            Assert.Equal(prompts, views.Select(v => v.Prompt));
            for (int i = 0; i < prompts.Length; i++) Assert.StartsWith(alone[i].Text, views[i].ToString());
        }
        finally { Interactive.Frontend.Host = saved; }
    }

    /// <summary>Keeps every value displayed or updated.</summary>
    sealed class ListHost : Interactive.INotebookHost
    {
        public List<object?> Shown { get; } = new();
        public CancellationToken Cancellation => CancellationToken.None;
        public void ClearOutput(bool wait = false) { }
        public Interactive.IDisplayHandle Display(object? value) { lock (Shown) Shown.Add(value); return new Handle(this); }
        sealed class Handle(ListHost host) : Interactive.IDisplayHandle
        {
            public string DisplayId => "list";
            public void Update(object? value) { lock (host.Shown) host.Shown.Add(value); }
            public void Clear() { }
        }
    }

    [Fact]
    public void Compare_runs_the_base_model_with_adapters_off_and_restores_them()
    {
        var model = TinyModel.Create();
        // Prompts of different lengths: Compare answers them in one left-padded batch per side.
        string[] prompts = ["How do I list my zones?", "What does puddle init do?", "Zones?"];
        var options = new GenerationOptions { MaxNewTokens = 8, DoSample = false };
        var baseline = prompts.Select(p => model.Chat([new Tunebook.Text.Templates.ChatMessage("user", p)], options).Text.Trim()).ToArray();

        var lora = Tune.ApplyLora(model, new LoraConfig { R = 4 });
        // Give the adapters a large non-zero update so that the tuned model answers differently.
        using (torch.no_grad())
            foreach (var layer in lora.Layers.Values) layer.lora_B.weight.detach().normal_(0, 2.0);
        var bBefore = lora.Layers.Values.Select(l => l.lora_B.weight.detach().clone()).ToList();

        var comparison = Tune.Compare(lora, prompts, ["a", "b", "c"], options);
        Assert.Equal(baseline, comparison.Rows.Select(r => r.Base));
        var tuned = prompts.Select(p => model.Chat([new Tunebook.Text.Templates.ChatMessage("user", p)], options).Text.Trim()).ToArray();
        Assert.Equal(tuned, comparison.Rows.Select(r => r.Tuned));
        Assert.NotEqual(baseline, tuned);
        foreach (var (layer, before) in lora.Layers.Values.Zip(bBefore)) Assert.True(layer.lora_B.weight.detach().equal(before));

        var html = comparison.ToMimeBundle()["text/html"]!;
        HtmlCheck.WellFormed(html);
        Assert.Contains(System.Net.WebUtility.HtmlEncode(prompts[0]), html);
        Assert.Contains("Expected", html);
        Assert.Throws<ArgumentException>(() => Tune.Compare(lora, prompts, ["only one"]));
    }

    [Fact]
    public async Task Magics_load_prepare_adapt_train_generate_and_save()
    {
        var folder = TinyModel.TempDir();
        var tiny = TinyModel.Create();
        tiny.SavePretrained(folder);
        TinyModel.Tokenizer.Save(folder);

        var context = new FakeContext();
        var saved = Interactive.Frontend.Host;
        Interactive.Frontend.Host = context.Recorder;
        try
        {
            async Task Run(string name, string args)
            {
                var magic = NotebookExtension.Magics.Single(m => m.Name == name);
                await magic.RunAsync(Interactive.MagicParser.Parse(magic, args), context);
            }

            await Run("model", $"load {folder}");
            var model = Assert.IsAssignableFrom<CausalLM>(context.Variables["model"]);
            Assert.NotNull(context.Variables["tokenizer"]);
            Assert.Contains("Training memory estimate", context.Recorder.Areas[^1].Last["text/html"]);

            await Run("data", "load datasets/puddle/train.jsonl --val 0.1 --max-length 96");
            Assert.IsType<Tunebook.Tuning.Data.PreparedData>(context.Variables["data"]);

            await Run("lora", "--rank 4 --alpha 8");
            var lora = Assert.IsType<LoraModel>(context.Variables["lora"]);
            Assert.Contains("Trainable parameters", context.Recorder.Areas[^1].Last["text/html"]);

            await Run("train", "--steps 4 --batch 2 --lr 5e-3 --eval-every 2");
            var trainer = Assert.IsType<Trainer>(context.Variables["trainer"]);
            Assert.Equal(4, trainer.GlobalStep);
            Assert.Equal([2, 4], trainer.Evaluations.Select(e => e.Step));
            var progress = context.Recorder.Areas[^2].Last;
            Assert.Contains("completed at step 4", progress["text/plain"]);
            Assert.Contains("validation loss", context.Recorder.Areas[^1].Last[Charts.Figure.PlotlyMimeType]);

            await Run("train", "stop");
            Assert.StartsWith("stopped at step 4", context.Recorder.Areas[^1].Last["text/plain"]);

            await Run("generate", "\"How do I list my zones?\" --max-tokens 5");
            var generation = Assert.IsType<GenerationResult>(context.Variables["generation"]);
            Assert.Contains(generation.Text, context.Recorder.Areas[^1].Last["text/plain"]);

            await Run("compare", "\"How do I list my zones?\" --heldout datasets/puddle/heldout.jsonl --count 2 --max-tokens 4");
            var comparison = Assert.IsType<Comparison>(context.Variables["comparison"]);
            Assert.Equal(3, comparison.Rows.Count);
            Assert.Null(comparison.Rows[0].Reference);
            Assert.NotNull(comparison.Rows[2].Reference);

            var adapter = Path.Combine(folder, "adapter");
            await Run("save", $"adapter {adapter}");
            Assert.True(File.Exists(Path.Combine(adapter, "adapter_config.json")));
            Assert.True(File.Exists(Path.Combine(adapter, "adapter_model.safetensors")));

            var mergedFolder = Path.Combine(folder, "merged");
            await Run("save", $"merged {mergedFolder}");
            Assert.Null(context.Variables["lora"]);
            var reloaded = Tune.LoadModel(mergedFolder);
            var prompt = "How do I list my zones?";
            var options = new GenerationOptions { MaxNewTokens = 6, DoSample = false };
            Assert.Equal(((CausalLM)context.Variables["model"]!).Chat([new Tunebook.Text.Templates.ChatMessage("user", prompt)], options).Text, reloaded.Chat([new Tunebook.Text.Templates.ChatMessage("user", prompt)], options).Text);
        }
        finally { Interactive.Frontend.Host = saved; }
    }

    [Fact]
    public void The_QLoRA_weight_estimate_is_what_the_quantized_model_holds()
    {
        var model = TinyModel.Create();
        var estimate = MemoryEstimate.For(model, loraRank: 1, loraTargets: ["none"]).Methods.Single(m => m.Method == "QLoRA");
        var report = Tunebook.Tuning.Quantization.Nf4Quantizer.QuantizeModel(model);
        // Per quantized layer the estimate leaves out the float32 offset and the rounding up of the last group of
        // 256 scales (the tiny model's layers are whole blocks of 64): at most 8 bytes each. A 4.5-bit rule
        // would be off by about 9% of the NF4 bytes, far more than that.
        long slack = report.QuantizedLayers * (4 + 4);
        Assert.InRange(report.BytesAfter - estimate.Weights, 0, slack);
        long quantized = model.named_modules().Select(m => m.module).OfType<Tunebook.Tuning.Quantization.Nf4Linear>().Sum(q => q.InFeatures * q.OutFeatures);
        Assert.True(slack < quantized * (4.5 / 8 - Tunebook.Tuning.Quantization.Nf4.BytesPerWeight), "the test must tell the block-size rule from a 4.5-bit one");
    }

    [Fact]
    public void A_trainer_made_in_a_cell_behaves_like_one_made_by_the_train_magic()
    {
        var data = Tune.LoadData("datasets/puddle/train.jsonl", TinyModel.Tokenizer, val: 0.1, maxLength: 96);
        var options = new TrainerOptions { MaxSteps = 20, BatchSize = 2, LearningRate = 5e-3, EvalEvery = 2, RestoreBestAtEnd = true };
        var saved = Interactive.Frontend.Host;
        var host = new RecordingHost();
        Interactive.Frontend.Host = host;
        try
        {
            (Trainer Trainer, string Status) RunAndStop(Func<CausalLM, Trainer> create)
            {
                var model = TinyModel.Create();
                Tune.ApplyLora(model, new LoraConfig { R = 4 });
                var trainer = create(model);
                Tune.Step(trainer, 5);
                return (trainer, Tune.Stop(trainer).Status);
            }
            var (byMagic, magicStatus) = RunAndStop(m => Tune.CreateTrainer(m, data, options));
            var (byHand, handStatus) = RunAndStop(m => new Trainer(m, data.Train, data.Validation, options));
            using (byMagic) using (byHand)
            {
                Assert.True(byHand.HasValidation);
                // Stop evaluated the final weights (step 5) and put back the best ones, for both.
                Assert.Equal([2, 4, 5], byHand.Evaluations.Select(e => e.Step));
                Assert.Equal(byMagic.Evaluations.Select(e => (e.Step, e.Loss)), byHand.Evaluations.Select(e => (e.Step, e.Loss)));
                Assert.Equal(magicStatus, handStatus);
                Assert.Contains("(weights restored)", handStatus);
                Assert.Equal(byMagic.Measure(data.Validation!).Loss, byHand.Measure(data.Validation!).Loss);
            }
        }
        finally { Interactive.Frontend.Host = saved; }
    }

    [Fact]
    public void Load_model_errors_say_what_is_missing()
    {
        Assert.Throws<DirectoryNotFoundException>(() => Tune.LoadModel(Path.Combine(TinyModel.TempDir(), "nope")));
        var empty = TinyModel.TempDir();
        File.WriteAllText(Path.Combine(empty, "config.json"), "{}");
        Assert.Contains("safetensors", Assert.Throws<FileNotFoundException>(() => Tune.LoadModel(empty)).Message);
        Assert.Contains("config.json", Assert.Throws<FileNotFoundException>(() => Tune.LoadModel(TinyModel.TempDir())).Message);
    }
}
