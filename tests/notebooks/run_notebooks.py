"""Executes notebooks headless against the installed `tunebook` kernel (nbclient) and writes JUnit XML.

Usage: run_notebooks.py --results DIR --output-dir DIR [--update] [notebook.ipynb ...]

One testcase per notebook. A notebook fails when any cell produces an error output, except cells
tagged `raises-exception` (nbclient's convention), which must produce one, or when its outputs do not
show what the notebook teaches (expectations.py). Executed copies go to
--output-dir; --update also rewrites the committed notebooks with their fresh outputs.
"""
import argparse
import os
import pathlib
import sys
import time
import traceback
import xml.etree.ElementTree as ET

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import expectations  # noqa: E402  (what each notebook's outputs must show)

CELL_TIMEOUT = int(os.environ.get("TUNEBOOK_NOTEBOOK_CELL_TIMEOUT", "900"))


def check_outputs(nb):
    """Problems in an executed notebook: unexpected errors, and expected errors that did not happen."""
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        expects_error = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        if errors and not expects_error:
            e = errors[0]
            problems.append(f"cell {index}: {e.get('ename')}: {e.get('evalue')}")
        if expects_error and not errors and cell.get("execution_count") is not None:
            problems.append(f"cell {index}: tagged raises-exception but raised nothing")
    return problems


def write_atomically(nb, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".ipynb.tmp")
    nbformat.write(nb, str(tmp))
    tmp.replace(path)


def run(path, output_dir, update):
    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, startup_timeout=180, kernel_name="tunebook",
                            resources={"metadata": {"path": str(path.parent)}})
    failure = None
    try:
        client.execute()
    except CellExecutionError as e:
        failure = str(e)
    except Exception:  # kernel died, timeout, ...
        failure = traceback.format_exc()
    problems = check_outputs(nb)
    if failure is None and not problems:
        problems = expectations.check(path.name, nb)
    write_atomically(nb, output_dir / path.name)
    if failure is None and not problems and update:
        write_atomically(nb, path)
    if failure or problems:
        return "\n".join(problems + ([failure] if failure else []))
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--update", action="store_true")
    parser.add_argument("notebooks", nargs="*")
    args = parser.parse_args()

    root = pathlib.Path(__file__).resolve().parents[2]
    notebooks = [pathlib.Path(p).resolve() for p in args.notebooks] or sorted((root / "notebooks").glob("*.ipynb"))
    output_dir = pathlib.Path(args.output_dir)

    suite = ET.Element("testsuite", name="notebooks")
    failures = 0
    for path in notebooks:
        start = time.monotonic()
        print(f"notebook {path.name} ...", flush=True)
        problem = run(path, output_dir, args.update)
        elapsed = time.monotonic() - start
        case = ET.SubElement(suite, "testcase", classname="notebooks", name=path.name, time=f"{elapsed:.1f}")
        if problem:
            failures += 1
            ET.SubElement(case, "failure", message=problem.splitlines()[0][:500]).text = problem
            print(f"  FAILED after {elapsed:.0f}s\n{problem}", flush=True)
        else:
            print(f"  ok ({elapsed:.0f}s)", flush=True)
    suite.set("tests", str(len(notebooks)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")

    results = pathlib.Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    tmp = results / "notebooks.xml.tmp"
    tree = ET.ElementTree(ET.Element("testsuites"))
    tree.getroot().append(suite)
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    tmp.replace(results / "notebooks.xml")
    sys.exit(1 if failures or not notebooks else 0)


if __name__ == "__main__":
    main()
