"""What every reliability test shares: where the repository is, which mode runs, how a figure is recorded,
and the small `./tunebook train` config the CLI harnesses train with."""
import json
import os
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]
FULL = os.environ.get("RELIABILITY_MODE", "REDUCED").upper() == "FULL"
CLI = ROOT / "src/Tunebook.Cli/bin/Release/net10.0/tunebook.dll"


def record(name, trials, failures, worst, unit=""):
    """Appends one figure (scripts/reliability.sh prints them and docs/reliability.md quotes them)."""
    path = os.environ.get("RELIABILITY_FIGURES")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"figure": name, "trials": trials, "failures": failures, "worst": worst, "unit": unit}) + "\n")


def write_train_config(path, steps, lr, **trainer):
    """A LoRA run of the starter model on the demo data (r 4, batch 2, no validation split) as train.yaml at
    `path`; `trainer` adds trainer settings (log_every=1, checkpoint_every=1, ...)."""
    extra = "".join(f"  {key}: {value}\n" for key, value in trainer.items())
    path.write_text(f"""model: starter
data:
  file: {ROOT / 'datasets/puddle/train.jsonl'}
  max_length: 64
  val_fraction: 0.0
adapter:
  mode: lora
  r: 4
  alpha: 8
trainer:
  steps: {steps}
  lr: {lr}
  batch: 2
{extra}output: out
""")
    return path
