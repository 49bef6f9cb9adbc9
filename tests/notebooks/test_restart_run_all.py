"""Restart & Run All gives the same numbers: executes one small training notebook twice, each time in a fresh
`tunebook` kernel (nbclient, as run_notebooks.py), and compares every logged loss and the generated answer.
Timings (tokens/s, seconds) are never compared: only the cells that print losses and answers.

Usage: tests/notebooks/run-notebooks.sh installs the kernel; then
  JUPYTER_PATH=build/jupyter/share/jupyter /usr/bin/python3 tests/notebooks/test_restart_run_all.py
Three training steps of the starter model: well under a minute per execution. Exits 1 on a difference.
"""
import pathlib
import sys
import tempfile

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]


def notebook():
    data = ROOT / "datasets" / "puddle" / "train.jsonl"
    cells = [
        "#!model load starter",
        f"#!data load {data} --max-length 64",
        "#!lora --rank 4 --alpha 8 --dropout 0.1",
        "#!train --steps 3 --batch 4 --eval-every 3 --run restart-run-all",
        # What must not change between executions: every loss, bit for bit (R format), and a greedy answer.
        'string.Join("\\n", trainer.Steps.Select(s => $"step {s.Step} loss {s.Loss:R}")'
        '.Concat(trainer.Evaluations.Select(e => $"eval {e.Step} loss {e.Loss:R}")))',
        'Tune.Generate(model, "How do I list my zones?", new GenerationOptions { MaxNewTokens = 16, DoSample = false }).Text',
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "tunebook", "display_name": "Tunebook (C#)", "language": "csharp"}
    return nb


def execute(folder):
    nb = notebook()
    NotebookClient(nb, timeout=300, startup_timeout=180, kernel_name="tunebook", resources={"metadata": {"path": str(folder)}}).execute()
    return nb


def results(nb):
    """The text/plain results of the last two cells (losses, answer)."""
    out = []
    for cell in nb.cells[-2:]:
        texts = [o["data"]["text/plain"] for o in cell.outputs if o.get("output_type") == "execute_result"]
        if not texts:
            raise SystemExit(f"no result in cell: {cell.source!r} (outputs: {cell.outputs!r})")
        out.append(texts[-1])
    return out


def main():
    with tempfile.TemporaryDirectory(prefix="tunebook-restart-run-all-") as folder:
        first = results(execute(folder))
        second = results(execute(folder))
    losses = [l for l in first[0].splitlines() if " loss " in l]
    if len(losses) != 4:
        print(f"expected 3 step losses and 1 evaluation, got:\n{first[0]}")
        return 1
    if first != second:
        print("Restart & Run All changed the numbers:")
        for name, a, b in zip(["losses", "answer"], first, second):
            if a != b:
                print(f"  {name}:\n    first:  {a!r}\n    second: {b!r}")
        return 1
    print(f"Restart & Run All: the same {len(losses)} losses (bit for bit) and the same answer {first[1]!r} in both executions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
