"""Checks the committed notebooks' outputs without executing them: no absolute path of the machine that executed them
(expectations.portable_outputs). Usage: check_committed.py [notebook.ipynb ...]; exits 1 listing the problems."""
import pathlib
import sys

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import expectations  # noqa: E402


def main():
    root = pathlib.Path(__file__).resolve().parents[2]
    paths = [pathlib.Path(p) for p in sys.argv[1:]] or sorted((root / "notebooks").glob("*.ipynb"))
    failed = False
    for path in paths:
        problems = expectations.portable_outputs(nbformat.read(str(path), as_version=4))
        for p in problems:
            print(f"{path.name}: {p}")
        failed |= bool(problems)
    print("committed notebooks: " + ("absolute paths found (re-execute them: tests/notebooks/run-notebooks.sh build/test-results --update)" if failed else "no absolute paths"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
