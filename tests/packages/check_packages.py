"""Checks the NuGet packages in build/packages and runs both samples against them (see run-packages.sh).

Every check is one JUnit test case; the process fails when any does."""
import argparse
import os
import re
import subprocess
import sys
import time
import traceback
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

VERSION = "0.1.0"
# Every package `make pack` must produce. A new packable project (IsPackable=true) is added here.
EXPECTED = [
    "Tunebook.Torch",
    "Tunebook.Text",
    "Tunebook.Models",
    "Tunebook.Tuning",
    "Tunebook.Interactive",
    "Tunebook.Notebook",
    "Tunebook.Interactive.DotNet",
]
NATIVE = "runtimes/linux-x64/native/libtunebook_torch.so"
SAMPLE_STEPS = os.environ.get("TUNEBOOK_SAMPLE_STEPS", "40")
LOSS_LINE = re.compile(r"validation loss: before (\d+\.\d+), after (\d+\.\d+)")

root = Path(__file__).resolve().parents[2]


def nuspec(package: Path):
    with zipfile.ZipFile(package) as z:
        name = next(n for n in z.namelist() if n.endswith(".nuspec"))
        meta = ET.fromstring(z.read(name)).find("{*}metadata")
        return meta, set(z.namelist()), z


def field(meta, tag):
    node = meta.find("{*}" + tag)
    return None if node is None else node


def check_set(packages: Path):
    found = sorted(p.name for p in packages.glob("*.nupkg"))
    expected = sorted(f"{p}.{VERSION}.nupkg" for p in EXPECTED)
    assert found == expected, f"build/packages holds {found}, expected {expected}"
    symbols = sorted(p.name for p in packages.glob("*.snupkg"))
    assert symbols == sorted(f"{p}.{VERSION}.snupkg" for p in EXPECTED), f"symbol packages: {symbols}"


def check_metadata(packages: Path, pid: str):
    path = packages / f"{pid}.{VERSION}.nupkg"
    meta, names, _ = nuspec(path)
    assert field(meta, "id").text == pid, f"{path.name}: id {field(meta, 'id').text}"
    assert field(meta, "version").text == VERSION, f"{path.name}: version {field(meta, 'version').text}"
    for tag in ("description", "authors", "copyright", "tags"):
        node = field(meta, tag)
        assert node is not None and node.text and node.text.strip(), f"{path.name}: nuspec has no <{tag}>"
    license = field(meta, "license")
    assert license is not None and license.get("type") == "expression" and license.text == "MIT", f"{path.name}: license {ET.tostring(license) if license is not None else None}"
    readme = field(meta, "readme")
    assert readme is not None and readme.text in names, f"{path.name}: no readme in the package"
    assert "LICENSE" in names, f"{path.name}: no LICENSE file"
    repository = field(meta, "repository")
    assert repository is not None and repository.get("type") == "git" and re.fullmatch(r"[0-9a-f]{40}", repository.get("commit", "")), \
        f"{path.name}: source link metadata (<repository type=git commit=...>) missing: {ET.tostring(repository) if repository is not None else None}"
    for suffix in ("dll", "xml"):
        assert f"lib/net10.0/{pid}.{suffix}" in names, f"{path.name}: lib/net10.0/{pid}.{suffix} missing"
    with zipfile.ZipFile(packages / f"{pid}.{VERSION}.snupkg") as z:
        assert f"lib/net10.0/{pid}.pdb" in z.namelist(), f"{pid}.{VERSION}.snupkg: no PDB"


def check_native(packages: Path):
    path = packages / f"Tunebook.Torch.{VERSION}.nupkg"
    meta, names, _ = nuspec(path)
    assert NATIVE in names, f"{path.name}: {NATIVE} missing"
    with zipfile.ZipFile(path) as z:
        assert z.read(NATIVE) == (root / "build/native/libtunebook_torch.so").read_bytes(), f"{path.name}: {NATIVE} differs from build/native"
    description = field(meta, "description").text
    assert "libtorch 1.13" in description and "apt install" in description, f"{path.name}: the description does not say which libtorch to install: {description}"


def run_sample(name: str, command: list[str]):
    started = time.time()
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=1200)
    log = root / "build/packages-test" / f"{name}.log"
    log.write_text(f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    assert done.returncode == 0, f"{' '.join(command)} exited with {done.returncode}; see {log.relative_to(root)}:\n{(done.stdout + done.stderr)[-3000:]}"
    match = LOSS_LINE.search(done.stdout)
    assert match, f"no 'validation loss: before X, after Y' line in the output of {name}:\n{done.stdout[-2000:]}"
    before, after = float(match.group(1)), float(match.group(2))
    assert after < before, f"{name}: the validation loss did not fall ({before} -> {after})"
    # The Tunebook packages came from build/packages into the cleaned cache, not from anywhere else.
    cache = Path(os.environ["NUGET_PACKAGES"])
    restored = cache / "tunebook.torch" / VERSION
    metadata = (restored / ".nupkg.metadata").read_text()
    assert "build/packages" in metadata, f"{restored} was not restored from build/packages: {metadata}"
    print(f"  {name}: validation loss {before} -> {after} in {time.time() - started:.0f} s")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", type=Path, required=True)
    ap.add_argument("--packages", type=Path, required=True)
    ap.add_argument("--work", type=Path, required=True)
    args = ap.parse_args()

    checks = [("package set", lambda: check_set(args.packages))]
    checks += [(f"metadata {pid}", lambda pid=pid: check_metadata(args.packages, pid)) for pid in EXPECTED]
    checks.append(("native shim in Tunebook.Torch", lambda: check_native(args.packages)))
    sample = root / "samples/train-from-csharp"
    checks.append(("sample train-from-csharp", lambda: (
        subprocess.run(["rm", "-rf", str(sample / "bin"), str(sample / "obj")], check=True),
        run_sample("train-from-csharp", ["dotnet", "run", "--project", str(sample), "-c", "Release", "--", SAMPLE_STEPS]))))
    checks.append(("file-based app samples/train.cs", lambda: run_sample(
        "train.cs", ["dotnet", "run", "--no-cache", "samples/train.cs", "--", SAMPLE_STEPS])))

    suite = ET.Element("testsuite", name="packages", tests=str(len(checks)))
    failures = 0
    for name, check in checks:
        started = time.time()
        case = ET.SubElement(suite, "testcase", classname="packages", name=name)
        try:
            check()
            print(f"PASS {name}")
        except Exception as e:  # one failing check must not hide the others
            failures += 1
            message = str(e) if isinstance(e, AssertionError) else traceback.format_exc()
            ET.SubElement(case, "failure", message=message.splitlines()[0] if message else type(e).__name__).text = message
            print(f"FAIL {name}: {message}")
        case.set("time", f"{time.time() - started:.1f}")
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", "0")
    out = args.results / "packages.xml"
    tree = ET.ElementTree(ET.Element("testsuites"))
    tree.getroot().append(suite)
    tmp = out.with_suffix(".xml.tmp")
    tree.write(tmp, encoding="utf-8", xml_declaration=True)
    os.replace(tmp, out)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
