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
"""),
    code("#!lora --rank 16 --alpha 32 --targets all-linear"),
    md("""
## 4. Train
The live view updates a few times a second: progress, loss and learning rate, and the validation loss every
25 steps. Interrupt the kernel to stop at a step boundary; `#!train continue` resumes.
"""),
    code("#!train --steps 160 --lr 3e-3 --batch 8 --eval-every 40 --warmup 10 --schedule cosine"),
    md("""
## 5. Before and after
`#!compare` answers each held-out question (never trained on) twice on the same model: with the adapters
switched off (the base model) and on (the tuned model).
"""),
    code("#!compare --heldout datasets/puddle/heldout.jsonl --count 8 --max-tokens 32"),
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
$"train loss {summary.FinalTrainLoss:0.###}, validation loss {summary.FinalValidationLoss:0.###} after {summary.Steps} steps; exact matches: base {comparison.Matches.Base}/{comparison.Matches.WithReference}, tuned {comparison.Matches.Tuned}/{comparison.Matches.WithReference}"
"""),
]

NOTEBOOKS = {
    "01-quickstart": QUICKSTART,
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
