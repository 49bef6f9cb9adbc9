#!/usr/bin/env python3
"""Writes the source cells of notebooks 01-06 (no outputs). Outputs come from executing them:
tests/notebooks/run-notebooks.sh --update notebooks/NN-name.ipynb

Run: /usr/bin/python3 notebooks/generate.py [name ...]   (default: all)
"""
import pathlib
import sys

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = pathlib.Path(__file__).resolve().parent
KERNELSPEC = {"name": "tunebook", "display_name": "C# (Tunebook)", "language": "csharp"}
LANGUAGE_INFO = {"name": "csharp", "file_extension": ".cs", "mimetype": "text/x-csharp", "version": "13.0"}


def md(text):
    return new_markdown_cell(text.strip("\n"))


def code(text):
    return new_code_cell(text.strip("\n"))


QUICKSTART = [
    md("""
# Quickstart: teach a small model a new command-line tool

This notebook fine-tunes the repository's **starter model** (a 5 M-parameter Llama trained from scratch on
English text and made-up command-line tools, see `datasets/starter/README.md`) on **puddle**, a garden-watering
CLI it has never seen (`datasets/puddle`). It takes a few minutes on two CPU cores.

Every `#!` line is a shortcut for one C# call on the `Tune` class; `#!model --help` and friends show the call.
The result of each step lands in a variable (`model`, `tokenizer`, `data`, `lora`, `trainer`, `comparison`)
that later cells use.
"""),
    md("## 1. Load the model\n`#!model load` reads a Hugging Face folder (config.json, safetensors, tokenizer.json); `starter` is `datasets/starter`."),
    code("#!model load starter"),
    md("The tokenizer splits text into the tokens the model sees; hover a token for its id."),
    code('Tune.Tokens(tokenizer, "How do I water the roses zone for 10 minutes? Run `puddle water roses --minutes 10`.")'),
    md("""
## 2. Load the data
483 questions and answers about puddle in chat format. The report shows the token lengths, the validation
split, and one example: only the assistant's answer (green) is trained on, the question (grey) is masked.
"""),
    code("#!data load datasets/puddle/train.jsonl --val 0.1 --max-length 128"),
    md("Before fine-tuning, the model answers in the right *form* but knows nothing about puddle:"),
    code('#!generate "How do I list my zones?" --max-tokens 24'),
    md("""
## 3. Add LoRA adapters
LoRA freezes the model and learns a low-rank update `B·A` for chosen layers: a few percent of the parameters.

puddle's answers use words the starter model met rarely or never in pretraining (*zone*, *schedule*, *valve*,
*pause*...): the embedding rows of their tokens were hardly trained, and low-rank updates of the other layers
cannot teach the model to read or write them. `--modules-to-save embed_tokens` also trains the token embeddings
in full (PEFT's `modules_to_save`; with tied embeddings this is the output layer too). Without it the same run
ends near validation loss 2.5 instead of 0.5 — try it.
"""),
    code("#!lora --rank 16 --alpha 32 --targets all-linear --modules-to-save embed_tokens"),
    md("""
## 4. Train
The live view updates a few times a second: progress, loss and learning rate, and the validation loss every
50 steps. Interrupt the kernel to stop at a step boundary; `#!train continue` resumes.
"""),
    code("#!train --steps 300 --lr 2e-3 --batch 8 --eval-every 50 --warmup 10 --schedule cosine"),
    md("""
## 5. Before and after
`#!compare` answers each held-out question (never trained on) twice on the same model: with the adapters
switched off (the base model) and on (the tuned model).
"""),
    code("#!compare --heldout datasets/puddle/heldout.jsonl --count 12 --max-tokens 32"),
    md("""
The base model answers in the right *form* with tools it invented; the tuned model calls `puddle` with the right
subcommands and options. Where it misses, it usually puts in a name or value from its training data instead of
the one in the question (a 5 M-parameter model copies unreliably); a larger base model closes that gap.
"""),
    md("## 6. Save the adapter\nIn PEFT's layout: `adapter_config.json` + `adapter_model.safetensors`, loadable by Hugging Face PEFT."),
    code("#!save adapter ../build/notebooks/01-quickstart-adapter"),
    md("""
## The same in C#
The magics are sugar; the C# API is the product. This cell reads the run's numbers from `trainer` and
`comparison` and writes them to a summary file (which `make demo` prints).
"""),
    code("""
var summary = new
{
    Steps = trainer.GlobalStep,
    FinalTrainLoss = trainer.Steps.Last().Loss,
    FinalValidationLoss = trainer.Evaluations.LastOrDefault()?.Loss,
    Comparison = comparison.Rows.Select(r => new { r.Prompt, r.Base, r.Tuned, Expected = r.Reference }),
};
Directory.CreateDirectory("../build/notebooks");
File.WriteAllText("../build/notebooks/01-quickstart.summary.json",
    System.Text.Json.JsonSerializer.Serialize(summary, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
int CallsPuddle(Func<ComparisonRow, string> answer) => comparison.Rows.Count(r => answer(r).Contains("`puddle "));
$"train loss {summary.FinalTrainLoss:0.###}, validation loss {summary.FinalValidationLoss:0.###} after {summary.Steps} steps; " +
$"answers calling puddle: base {CallsPuddle(r => r.Base)}/{comparison.Rows.Count}, tuned {CallsPuddle(r => r.Tuned)}/{comparison.Rows.Count}; " +
$"exact matches: base {comparison.Matches.Base}/{comparison.Matches.WithReference}, tuned {comparison.Matches.Tuned}/{comparison.Matches.WithReference}"
"""),
]


DATA_PREP = [
    md("""
# Data preparation: formats, chat templates, masking and the report

Fine-tuning data is a list of examples; what the model learns from each depends on how it is rendered to
text, tokenized, and which tokens the loss is taken on. This notebook goes through each step with
`Tunebook.Tuning.Data` and the displays of `Tunebook.Notebook`.
"""),
    code("""
var tokenizer = Tokenizer.FromFolder(Tune.RepoPath("datasets/starter")!);
Tune.Tokens(tokenizer, "Run `puddle zone add ferns --valve 9 --soil clay`.")
"""),
    md("""
## Three formats of the same data
`datasets/puddle` has the same 483 examples as chat messages, Alpaca records and prompt/completion pairs;
`Dataset.Load` detects the format from the first record.
"""),
    code("""
var files = new[] { "train.jsonl", "train.alpaca.jsonl", "train.completion.jsonl" };
files.Select(f => Dataset.Load(Tune.RepoPath("datasets/puddle/" + f)!)).Select(d => $"{Path.GetFileName(d.Source)}: {d.Count} examples, format {d.Format}")
"""),
    md("""
## The chat template
A chat model was trained on conversations rendered by its chat template (Jinja, in tokenizer_config.json).
Fine-tuning data must be rendered the same way; generation then adds the assistant header and lets the model
continue.
"""),
    code("""
var template = ChatGeneration.TemplateOf(tokenizer);
template.Render([new ChatMessage("user", "How do I list my zones?"), new ChatMessage("assistant", "Run `puddle zone list`.")], addGenerationPrompt: false)
"""),
    md("""
## Masking: train on the answers only
With `CompletionOnly` (the default) the labels of the prompt are -100, so the loss — and the gradient — comes
from the answer alone. Green tokens are trained on, grey ones are context.
"""),
    code("""
var chat = Dataset.Load(Tune.RepoPath("datasets/puddle/train.jsonl")!).Prepare(tokenizer, null, new PrepareOptions { ValFraction = 0.1, MaxLength = 128 });
Tune.Report(chat, tokenizer)
"""),
    md("Alpaca records are rendered through the same chat template (instruction and input as the user turn):"),
    code("""
var alpaca = Tune.LoadData("datasets/puddle/train.alpaca.jsonl", tokenizer, val: 0.1, maxLength: 128);
Tune.Report(alpaca, tokenizer, example: 3)
"""),
    md("Without masking, the loss also covers the question — most of the tokens:"),
    code("""
var unmasked = Dataset.Load(Tune.RepoPath("datasets/puddle/train.jsonl")!).Prepare(tokenizer, null, new PrepareOptions { ValFraction = 0.1, MaxLength = 128, CompletionOnly = false });
$"trained tokens: masked {chat.Report.TrainedTokenFraction:P0} of all tokens, unmasked {unmasked.Report.TrainedTokenFraction:P0}"
"""),
    md("""
## Too little data
With 20 examples, a run of 100 steps of 8 would show each example 40 times: the report warns about it before
any compute is spent.
"""),
    code("""
var few = Dataset.FromJsonLines(string.Join("\\n", File.ReadLines(Tune.RepoPath("datasets/puddle/train.jsonl")!).Take(20)), source: "first 20 examples")
    .Prepare(tokenizer, null, new PrepareOptions { ValFraction = 0.1, MaxLength = 128 });
few.Report.WarningsFor(plannedSteps: 100, batchSize: 8)
"""),
    md("""
## Data you can trust: leakage, near-duplicates, secrets, balance
`datasets/samples/checks.jsonl` was made with problems planted in it (all fake): two held-out questions that are
also in the training data, four near-copies of one question, an AWS key, a GitHub token, an e-mail address, a phone
number, and one category holding most of the examples. `#!data load` and `Tune.LoadData` run the checks by
default; `--heldout` adds the questions you will evaluate on after training.
"""),
    code("""
var checkedData = Tune.LoadData("datasets/samples/checks.jsonl", tokenizer, val: 0.2, maxLength: 128, heldout: "datasets/samples/checks.heldout.jsonl");
checkedData.Report.Quality!.Warnings
"""),
    md("""
### Leakage
Each leaking evaluation example beside its closest training example. The first held-out question is in training
with other case and spacing (exact after normalising); the second differs by one word (near: similarity of
character shingles, estimated by MinHash, at least 0.8). A validation example can leak too, when the split puts one
copy on each side.

**The lesson:** a question the model was trained on is a memory test, not a test of what it learned. Scores on
leaked questions are inflated, and validation loss looks better than the model is. Drop the leaks from training
(`--drop-leaks`) or pick other evaluation questions.
"""),
    code("""
new DataQualityView(checkedData.Report.Quality!, QualitySection.Leakage)
"""),
    md("""
### Near-duplicates
Examples that are near-copies of each other, clustered; the first member of each cluster is its representative.

**The lesson:** a repeated example is trained on once per copy, so it weighs more than the others and the data is
smaller than it looks: the overfitting warnings above count copies as new examples. `--dedupe` keeps one per cluster.
"""),
    code("""
new DataQualityView(checkedData.Report.Quality!, QualitySection.NearDuplicates)
"""),
    md("""
### Secrets and personal data
Every finding with its file, line and field. Secrets are shown with their middle hidden; personal data in full, so
that you can tell a real address from a false positive.

**The lesson:** a fine-tuned model can repeat its training text word for word. A key or an address in the data can
come back out of the model to anyone who prompts it the right way. Remove them at the source, or let `--redact`
replace them by placeholders in the prepared data (the file itself is never changed):
"""),
    code("""
new DataQualityView(checkedData.Report.Quality!, QualitySection.Sensitive)
"""),
    code("""
var redacted = Tune.LoadData("datasets/samples/checks.jsonl", tokenizer, val: 0.2, maxLength: 128,
    checks: DataCheckOptions.Default with { Redact = true, DropLeaks = true, Dedupe = true });
var account = redacted.Train.Examples.Concat(redacted.Validation!.Examples).Where(e => e.Text.Contains("<EMAIL>") || e.Text.Contains("<SECRET>"));
$"{redacted.Report.Quality!.Sensitive.Redacted} findings redacted; {redacted.Report.Quality.LeaksDropped} leaking and " +
$"{redacted.Report.Quality.DuplicatesDropped} duplicate examples dropped from training\\n" + string.Join("\\n", account.Select(e => e.Text))
"""),
    md("""
### Balance
Examples per value of the `category` field (or, without such a field, per script of the text).

**The lesson:** the tuned model leans towards what most of its examples do. Here *watering* holds most of the
examples, and *billing* and *account* have too few to learn from: expect the model to answer billing questions
as if they were about watering. Add examples of the rare categories, or accept that it will not learn them.
"""),
    code("""
new DataQualityView(checkedData.Report.Quality!, QualitySection.Balance)
"""),
]

METHODS = [
    md("""
# LoRA, QLoRA and full fine-tuning

The same data, three ways to train: every weight (full), a low-rank update on frozen weights (LoRA), and the
same with the frozen weights stored in 4-bit NF4 (QLoRA). We compare trainable parameters, memory, loss
curves and answers.
"""),
    code("""
var data = Tune.LoadData("datasets/puddle/train.jsonl", Tokenizer.FromFolder(Tune.RepoPath("datasets/starter")!), val: 0.1, maxLength: 128);
var options = new TrainerOptions { MaxSteps = 150, LearningRate = 2e-3, BatchSize = 8, EvalEvery = 25, Schedule = LrScheduleKind.Cosine, WarmupSteps = 10 };
// LoRA and QLoRA also train the token embeddings (see notebook 01): puddle uses words the starter model barely knows.
var adapter = new LoraConfig { R = 16, Alpha = 32, Targets = LoraTargets.AllLinearLayers, ModulesToSave = ["embed_tokens"] };
var question = "How do I list my zones?";
var runs = new List<SweepRun>();
"""),
    md("The model card estimates the training memory of each method before anything is trained:"),
    code("Tune.Card(Tune.LoadModel(\"starter\"))"),
    md("## Full fine-tuning\nEvery parameter is trained, with a lower learning rate (all weights move)."),
    code("""
var full = Tune.LoadModel("starter");
var fullTrainer = Tune.Train(full, data, options with { LearningRate = 1e-3 });
runs.Add(SweepRun.Of("full", fullTrainer));
"""),
    md("## LoRA"),
    code("""
var loraModel = Tune.LoadModel("starter");
var lora = Tune.ApplyLora(loraModel, adapter);
new LoraSummary(lora)
"""),
    code("""
var loraTrainer = Tune.Train(loraModel, data, options);
runs.Add(SweepRun.Of("LoRA", loraTrainer));
"""),
    md("## QLoRA\nThe linear layers are quantized to NF4 when loading; the adapters train in float32 on top."),
    code("""
var qModel = Tune.LoadModel("starter", quantize: "nf4");
var qlora = Tune.ApplyLora(qModel, adapter);
var qTrainer = Tune.Train(qModel, data, options);
runs.Add(SweepRun.Of("QLoRA", qTrainer));
"""),
    md("## Memory\nThe weights each model holds while training (LoRA and QLoRA include their adapters); NF4 stores a frozen weight in about 4.1 bits instead of 32."),
    code("""
double WeightsMiB(CausalLM m) => WeightMemoryReport.Measure(m).Values.Sum() / (1024.0 * 1024.0);
$"weights in memory: full {WeightsMiB(full):0.0} MiB, LoRA {WeightsMiB(loraModel):0.0} MiB, QLoRA {WeightsMiB(qModel):0.0} MiB"
"""),
    md("## Loss curves and answers"),
    code("new SweepChart(runs, \"Full vs LoRA vs QLoRA\")"),
    code("""
var greedy = new GenerationOptions { MaxNewTokens = 24, DoSample = false };
new[] { ("full", full), ("LoRA", loraModel), ("QLoRA", qModel) }
    .Select(m => $"{m.Item1,-6} {m.Item2.Chat([new ChatMessage("user", question)], greedy).Text}")
"""),
]

SWEEP = [
    md("""
# Learning rate and batch size

A small sweep: the same LoRA run at three learning rates, then two batch sizes. Then overfitting: on a
small subset the validation loss turns up while the training loss keeps falling, and early stopping keeps
the best weights.
"""),
    code("""
var tokenizer = Tokenizer.FromFolder(Tune.RepoPath("datasets/starter")!);
var data = Tune.LoadData("datasets/puddle/train.jsonl", tokenizer, val: 0.1, maxLength: 128);
// Each run is recorded in runs/04-SWEEP/NAME (run.json, metrics.jsonl): Tune.Runs lists and charts a sweep's folder.
Trainer TrainRun(PreparedData d, TrainerOptions o, string? record = null)
{
    var model = Tune.LoadModel("starter");
    Tune.ApplyLora(model, new LoraConfig { R = 8, Alpha = 16, Targets = LoraTargets.AllLinearLayers, ModulesToSave = ["embed_tokens"] });
    var trainer = Tune.CreateTrainer(model, d, o, record);
    trainer.Run(Cancellation);   // no live view: the runs table and chart below show every run
    return trainer;
}
"""),
    md("## Learning rate"),
    code("""
foreach (var lr in new[] { 2e-4, 2e-3, 2e-2 })
    TrainRun(data, new TrainerOptions { MaxSteps = 60, LearningRate = lr, BatchSize = 8, EvalEvery = 15 }, $"runs/04-lr/lr-{lr:0e0}");
Tune.Runs("runs/04-lr")
"""),
    md("What differs between two of the records: the learning rate, and the results it led to."),
    code("""
Tune.Runs("runs/04-lr").Compare("lr-2e-4", "lr-2e-3")
"""),
    md("## Batch size\nA larger batch gives a smoother loss and fewer steps per epoch; here both runs see the same number of examples."),
    code("""
foreach (var (batch, steps) in new[] { (4, 80), (16, 20) })
    TrainRun(data, new TrainerOptions { MaxSteps = steps, LearningRate = 2e-3, BatchSize = batch, EvalEvery = steps / 4 }, $"runs/04-batch/batch-{batch}");
Tune.Runs("runs/04-batch")
"""),
    md("""
## Overfitting and early stopping
Fifty training examples, many passes, a constant high learning rate: the validation loss bottoms out and turns up
while the training loss keeps falling — the model memorizes the fifty answers instead of learning puddle.
With `EarlyStoppingPatience` the run stops after three evaluations without improvement and puts back the best
weights.
"""),
    code("""
var small = Dataset.FromJsonLines(string.Join("\\n", File.ReadLines(Tune.RepoPath("datasets/puddle/train.jsonl")!).Take(90)), source: "90 examples")
    .Prepare(tokenizer, null, new PrepareOptions { ValCount = 40, MaxLength = 128 });
var overfit = TrainRun(small, new TrainerOptions { MaxSteps = 150, LearningRate = 5e-3, BatchSize = 8, EvalEvery = 10, Schedule = LrScheduleKind.Constant });
var early = TrainRun(small, new TrainerOptions { MaxSteps = 150, LearningRate = 5e-3, BatchSize = 8, EvalEvery = 10, Schedule = LrScheduleKind.Constant, EarlyStoppingPatience = 3 });
new SweepChart([SweepRun.Of("no early stopping", overfit), SweepRun.Of("early stopping", early)], "Overfitting on 50 examples")
"""),
    code("""
$"without early stopping: {overfit.GlobalStep} steps, final validation loss {overfit.Evaluations.Last().Loss:0.###}, best {overfit.BestLoss:0.###} at step {overfit.BestStep}; " +
$"with: stopped at step {early.GlobalStep} ({early.FinishReason}), best {early.BestLoss:0.###} at step {early.BestStep}"
"""),
]

EXPORT = [
    md("""
# Export: PEFT adapter, merged model, reload

A LoRA adapter is small and needs its base model; a merged model is a plain Hugging Face checkpoint. Both
load back here and in Python (PEFT / transformers).
"""),
    code("#!model load starter"),
    code("#!data load datasets/puddle/train.jsonl --val 0.1 --max-length 128"),
    code("#!lora --rank 16 --alpha 32 --targets all-linear --modules-to-save embed_tokens"),
    code("#!train --steps 150 --lr 2e-3 --batch 8 --eval-every 50 --warmup 10 --schedule cosine"),
    code("""
var question = "How do I list my zones?";
var greedy = new GenerationOptions { MaxNewTokens = 24, DoSample = false };
var tunedAnswer = model.Chat([new ChatMessage("user", question)], greedy).Text;
tunedAnswer
"""),
    md("## The adapter\n`adapter_config.json` + `adapter_model.safetensors`, in PEFT's key layout."),
    code("#!save adapter ../build/notebooks/05-export/adapter"),
    code("""
var adapterFolder = Path.GetFullPath("../build/notebooks/05-export/adapter");
// base_model_name_or_path is this machine's model folder; shown, like every path here, from the notebook's folder.
DisplayPath.InText(File.ReadAllText(Path.Combine(adapterFolder, "adapter_config.json")))
"""),
    md("Reload: a fresh base model, the same adapters, the saved weights — the same answer."),
    code("""
var reloaded = Tune.LoadModel("starter");
var reloadedLora = Tune.ApplyLora(reloaded, lora.Config);
var adapter = LoraAdapter.Load(adapterFolder);
reloadedLora.LoadAdapterWeights(adapter.Tensors, adapterFolder);
var reloadedAnswer = reloaded.Chat([new ChatMessage("user", question)], greedy).Text;
(reloadedAnswer, reloadedAnswer == tunedAnswer)
"""),
    md("## The merged model\nW + scaling·B·A folded into each layer; saved with its tokenizer as a plain model folder."),
    code("#!save merged ../build/notebooks/05-export/merged"),
    code("""
var merged = Tune.LoadModel("../build/notebooks/05-export/merged");
var mergedAnswer = merged.Chat([new ChatMessage("user", question)], greedy).Text;
(mergedAnswer, mergedAnswer == tunedAnswer)
"""),
    code("Directory.GetFiles(\"../build/notebooks/05-export/merged\").Select(f => $\"{Path.GetFileName(f)}: {new FileInfo(f).Length:N0} bytes\")"),
    md("""
## GGUF for llama.cpp and Ollama
One file holds the weights (here Q8_0: 8-bit blocks of 32 with one scale each), the tokenizer and the chat
template. Beside it goes a `Modelfile`, so `ollama create puddle -f Modelfile` is the only step left;
`llama-cli -m puddle.gguf` runs it in llama.cpp. docs/export.md shows how close each tensor type stays to
the float32 model.
"""),
    code("#!save gguf ../build/notebooks/05-export/puddle.gguf --type q8_0"),
    code("File.ReadAllText(\"../build/notebooks/05-export/Modelfile\")"),
]

PROMPTING = [
    md("""
# Prompting or fine-tuning?

Before training anything, try a few-shot prompt: show the base model a handful of questions with answers and
ask the held-out ones. Then compare with a fine-tuned model, and measure perplexity on the puddle manual
(`datasets/puddle/docs.txt`) before and after.
"""),
    code("""
var model = Tune.LoadModel("starter");
var tokenizer = model.Tokenizer!;
var (questions, answers) = Tune.HeldOut("datasets/puddle/heldout.jsonl", 6);
var shots = File.ReadLines(Tune.RepoPath("datasets/puddle/train.jsonl")!).Take(6)
    .Select(l => System.Text.Json.Nodes.JsonNode.Parse(l)!["messages"]!.AsArray())
    .SelectMany(m => m.Select(x => new ChatMessage((string)x!["role"]!, (string)x["content"]!))).ToList();
var greedy = new GenerationOptions { MaxNewTokens = 32, DoSample = false };
var docs = File.ReadAllText(Tune.RepoPath("datasets/puddle/docs.txt")!);
var basePerplexity = Tune.Perplexity(model, docs);
$"{shots.Count / 2} examples in the prompt; perplexity on the puddle manual before training: {basePerplexity:0.#}"
"""),
    md("## Few-shot prompting the base model"),
    code("""
var fewShot = questions.Select(q => model.Chat([.. shots, new ChatMessage("user", q)], greedy).Text.Trim()).ToList();
"""),
    md("## Fine-tuning"),
    code("""
var data = Tune.LoadData("datasets/puddle/train.jsonl", tokenizer, val: 0.1, maxLength: 128);
var lora = Tune.ApplyLora(model, new LoraConfig { R = 16, Alpha = 32, Targets = LoraTargets.AllLinearLayers, ModulesToSave = ["embed_tokens"] });
var trainer = Tune.Train(model, data, new TrainerOptions { MaxSteps = 300, LearningRate = 2e-3, BatchSize = 8, EvalEvery = 100, WarmupSteps = 10, Schedule = LrScheduleKind.Cosine });
"""),
    code("""
var tuned = questions.Select(q => model.Chat([new ChatMessage("user", q)], greedy).Text.Trim()).ToList();
new Comparison(questions.Select((q, i) => new ComparisonRow(q, fewShot[i], tuned[i], answers[i])).ToList(), baseLabel: "few-shot base", tunedLabel: "fine-tuned")
"""),
    code("""
int Exact(IReadOnlyList<string> said) => said.Where((a, i) => a == answers[i].Trim()).Count();
$"exact answers: few-shot base {Exact(fewShot)}/{questions.Count}, fine-tuned {Exact(tuned)}/{questions.Count}"
"""),
    md("## Perplexity on the manual\nThe model was trained on questions and answers, not on the manual; a lower perplexity means it has picked up puddle's vocabulary."),
    code("""
var tunedPerplexity = Tune.Perplexity(model, docs);
$"perplexity on datasets/puddle/docs.txt: base {basePerplexity:0.#}, fine-tuned {tunedPerplexity:0.#}"
"""),
]

NOTEBOOKS = {
    "01-quickstart": QUICKSTART,
    "02-data-preparation": DATA_PREP,
    "03-lora-qlora-full": METHODS,
    "04-learning-rate-and-batch-size": SWEEP,
    "05-export": EXPORT,
    "06-prompting-vs-fine-tuning": PROMPTING,
}


def write(name, cells):
    nb = new_notebook(cells=cells, metadata={"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO})
    path = HERE / f"{name}.ipynb"
    if path.exists():
        # Keep the outputs of cells whose source did not change.
        old = nbformat.read(str(path), as_version=4)
        by_source = {c.source: c for c in old.cells if c.cell_type == "code"}
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source in by_source:
                cell.outputs = by_source[cell.source].get("outputs", [])
                cell.execution_count = by_source[cell.source].get("execution_count")
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
    print(f"wrote {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    names = sys.argv[1:] or list(NOTEBOOKS)
    for n in names:
        write(n, NOTEBOOKS[n])
