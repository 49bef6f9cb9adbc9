"""What each executed notebook must show, beyond running without errors.

The notebooks teach by their outputs, so `make test` checks the outputs that carry the lesson: the tuned
model beats the base model on held-out questions (01, 06), the validation loss turns up and early stopping
catches it (04), an exported adapter and a merged model reload to the same answers (05), and every chart
carries a static SVG beside its Plotly figure so it still shows on GitHub and in nbconvert's HTML.
Each check returns a list of problems (empty when the notebook is fine).
"""
import os
import pathlib
import re


def _texts(nb):
    """(cell index, text/plain or stream text) for every output of every code cell."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = data.get("text/plain") or output.get("text")
            if text:
                yield index, "".join(text) if isinstance(text, list) else text


def _find(nb, pattern):
    """The last match of pattern in any output text, or None."""
    found = None
    for _, text in _texts(nb):
        for m in re.finditer(pattern, text):
            found = m
    return found


def charts_have_static_svg(nb):
    problems = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if "application/vnd.plotly.v1+json" in data and "image/svg+xml" not in data:
                problems.append(f"cell {index}: a Plotly figure without its image/svg+xml rendering")
    return problems


def quickstart(nb):
    m = _find(nb, r"exact matches: base (\d+)/(\d+), tuned (\d+)/(\d+)")
    if m is None:
        return ["01: no 'exact matches: base X/N, tuned Y/N' summary in the last cell"]
    base, tuned, n = int(m.group(1)), int(m.group(3)), int(m.group(4))
    problems = []
    if tuned <= base or tuned < 2:
        problems.append(f"01: the tuned model does not beat the base model on held-out questions (exact: base {base}/{n}, tuned {tuned}/{n})")
    calls = _find(nb, r"answers calling puddle: base (\d+)/(\d+), tuned (\d+)/(\d+)")
    if calls is None:
        problems.append("01: no 'answers calling puddle: base X/N, tuned Y/N' summary")
    elif int(calls.group(3)) < int(calls.group(4)) - 1 or int(calls.group(1)) > 0:
        problems.append(f"01: the tuned model should answer with puddle and the base model should not ({calls.group(0)})")
    if not any("application/vnd.plotly.v1+json" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])):
        problems.append("01: no live loss chart")
    return problems


def data_checks(nb):
    """02: the data checks find what datasets/samples/checks.jsonl plants (leaks, near-copies, fake secrets, imbalance)."""
    problems = []
    for pattern, what in [(r"2 of 5 held-out examples", "the 2 planted held-out leaks"),
                          (r"near-duplicates: [1-9]\d* clusters", "the planted near-duplicates"),
                          (r"secrets and personal data: 4 findings", "the 4 planted secrets and personal data"),
                          (r"4 findings redacted", "4 redactions"),
                          (r"'category' watering holds \d+% of the examples", "the dominant category")]:
        if not _find(nb, pattern):
            problems.append(f"02: the data checks do not show {what} (no output matches {pattern!r})")
    return problems


def methods(nb):
    m = _find(nb, r"weights in memory: full ([\d.,]+) MiB, LoRA ([\d.,]+) MiB, QLoRA ([\d.,]+) MiB")
    if m is None:
        return ["03: no 'weights in memory: full X MiB, LoRA Y MiB, QLoRA Z MiB' line"]
    lora, qlora = float(m.group(2).replace(",", "")), float(m.group(3).replace(",", ""))
    return [] if qlora < lora else [f"03: QLoRA's weights ({qlora} MiB) are not smaller than LoRA's ({lora} MiB)"]


def sweep(nb):
    m = _find(nb, r"without early stopping: (\d+) steps, final validation loss ([\d.]+), best ([\d.]+) at step (\d+); "
                  r"with: stopped at step (\d+) \((\w+)\), best ([\d.]+) at step (\d+)")
    if m is None:
        return ["04: no early-stopping summary line"]
    steps, final, best = int(m.group(1)), float(m.group(2)), float(m.group(3))
    stopped, reason, best_step = int(m.group(5)), m.group(6), int(m.group(8))
    problems = []
    if final <= best:
        problems.append(f"04: the validation loss does not turn up (final {final} vs best {best})")
    if reason != "EarlyStopped" or stopped >= steps:
        problems.append(f"04: early stopping did not stop the run early ({reason} at step {stopped} of {steps})")
    if best_step >= stopped:
        problems.append(f"04: the best step ({best_step}) is not before the stop ({stopped})")
    return problems


def export(nb):
    reloads = [t for _, t in _texts(nb) if re.fullmatch(r"\(.*, (True|False)\)", t.strip(), re.S)]
    if len(reloads) < 2:
        return ["05: expected the adapter reload and the merged-model reload to print (answer, same?)"]
    return [f"05: a reloaded model answers differently: {t.strip()}" for t in reloads if not t.strip().endswith("True)")]


def prompting(nb):
    problems = []
    m = _find(nb, r"perplexity on datasets/puddle/docs.txt: base ([\d.]+), fine-tuned ([\d.]+)")
    if m is None:
        problems.append("06: no perplexity line")
    elif float(m.group(2)) >= float(m.group(1)):
        problems.append(f"06: fine-tuning did not lower the perplexity on the manual ({m.group(1)} -> {m.group(2)})")
    m = _find(nb, r"exact answers: few-shot base (\d+)/(\d+), fine-tuned (\d+)/(\d+)")
    if m is None:
        problems.append("06: no 'exact answers: few-shot base X/N, fine-tuned Y/N' line")
    elif int(m.group(3)) <= int(m.group(1)):
        problems.append(f"06: the fine-tuned model does not beat the few-shot prompt ({m.group(0)})")
    return problems


BY_NOTEBOOK = {
    "01-quickstart.ipynb": [quickstart],
    "02-data-preparation.ipynb": [data_checks],
    "03-lora-qlora-full.ipynb": [methods],
    "04-learning-rate-and-batch-size.ipynb": [sweep],
    "05-export.ipynb": [export],
    "06-prompting-vs-fine-tuning.ipynb": [prompting],
}


# An absolute path in an output: a "/" that starts a word (not a URL's "//" or "a/b"), then two or more segments.
_ABSOLUTE_PATH = re.compile(r"(?<![\w.:/~<])/(?:[\w.@+-]+/)+[\w.@+-]+")


def _all_output_text(nb):
    """(cell index, text) for every text-like output: plain text, streams, HTML and error tracebacks."""
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            parts = [output.get("text"), output.get("evalue")] + [output.get("data", {}).get(k) for k in ("text/plain", "text/html", "text/markdown")]
            parts += output.get("traceback") or []
            for part in parts:
                if part:
                    yield index, "".join(part) if isinstance(part, list) else part


def portable_outputs(nb, roots=None):
    """Outputs must not carry the executing machine's absolute paths: they mean nothing to a reader.

    Fails on the given roots (default: this checkout's absolute path and $HOME) and on any absolute path with two
    or more segments, so notebooks executed elsewhere are caught too. Displays show paths relative to the notebook's
    folder or from ~ (Tunebook.Notebook.Displays.DisplayPath)."""
    if roots is None:
        roots = [str(pathlib.Path(__file__).resolve().parents[2]), os.environ.get("HOME", "")]
    roots = [r.rstrip("/") for r in roots if r and r.rstrip("/")]
    problems = []
    for index, text in _all_output_text(nb):
        found = [r for r in roots if r + "/" in text or text.endswith(r)]
        found += [m.group(0) for m in _ABSOLUTE_PATH.finditer(text)]
        if found:
            problems.append(f"cell {index}: an absolute path of the executing machine in the output: {found[0]}")
    return problems


def check(name, nb):
    problems = charts_have_static_svg(nb) + portable_outputs(nb)
    for f in BY_NOTEBOOK.get(name, []):
        problems += f(nb)
    return problems
