#!/usr/bin/env bash
# make demo: the quickstart notebook (notebooks/01-quickstart.ipynb) executed headless against the installed
# kernel, rendered to HTML, and its results printed: final losses and the before/after answers.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
if [ ! -f datasets/starter/model.safetensors ]; then
  echo "datasets/starter/model.safetensors is missing: the starter model has to be built first (see datasets/starter/README.md)." >&2
  exit 1
fi
out="$root/build/notebooks"
mkdir -p "$out"
rm -f "$out/01-quickstart.summary.json"
echo "Running notebooks/01-quickstart.ipynb headless (a few minutes on 2 CPU cores)..."
tests/notebooks/run-notebooks.sh "$root/build/test-results/demo" notebooks/01-quickstart.ipynb
executed="$out/01-quickstart.ipynb"
# Debian's nbconvert 6.5 drops inline SVG from HTML; this template keeps the static charts.
jupyter nbconvert --to html --template-file "$root/tests/Tunebook.Notebook.Tests/BrowserTemplates/inline-svg.html.j2" \
  --output-dir "$out" "$executed" >/dev/null 2>&1 \
  || jupyter nbconvert --to html --output-dir "$out" "$executed" >/dev/null
/usr/bin/python3 - "$out/01-quickstart.summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
val = s.get("FinalValidationLoss")
print()
print(f"Trained {s['Steps']} steps: final train loss {s['FinalTrainLoss']:.3f}" + (f", validation loss {val:.3f}" if val is not None else ""))
print()
print("Held-out questions, before (base model) and after (with the LoRA adapter):")
for row in s["Comparison"]:
    print(f"\n  Q:        {row['Prompt']}")
    print(f"  before:   {row['Base']}")
    print(f"  after:    {row['Tuned']}")
    if row.get("Expected"):
        print(f"  expected: {row['Expected']}")
PY
echo
echo "Executed notebook: $executed"
echo "HTML rendering:    $out/01-quickstart.html"
echo "LoRA adapter:      $out/01-quickstart-adapter"
