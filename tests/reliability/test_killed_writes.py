"""Killed writes: SIGKILL at random moments while Tunebook writes checkpoints, adapters, merged models and GGUF files.

A kill runs no cleanup, so what stands under the final name afterwards is exactly what the write protocol
guarantees. After every kill:
- `./tunebook train` (a checkpoint every step): the checkpoint is the one of the last step printed or the
  step before (never older, never half-written), and `--resume` continues from it and ends with the loss
  of an uninterrupted run;
- adapter, merged (sharded) model, GGUF (saved again and again by tests/Tunebook.LoadFuzz's save loop, each
  version marking its tensors with its number): the file or folder loads whole, as one version (the last
  one announced or the one being written when the kill came), with no temp file under a final name;
- the next save succeeds and removes the temp files and folders the killed one left.
KILLS (50 in FULL, 2 in REDUCED) trials per kind; RELIABILITY_KINDS (train, adapter, merged, gguf) limits a run.
"""
import json
import os
import pathlib
import sys
import random
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reliability_common import ROOT, FULL, CLI, record, write_train_config  # noqa: E402

KILLS = int(os.environ.get("RELIABILITY_KILLS", 50 if FULL else 2))
KINDS = set(filter(None, os.environ.get("RELIABILITY_KINDS", "").split(","))) or {"train", "adapter", "merged", "gguf"}
DRIVER = ROOT / "tests/Tunebook.LoadFuzz/bin/Release/net10.0/Tunebook.LoadFuzz.dll"
TRAIN_STEPS = 12
TEMP = re.compile(r"\.tmp-[0-9a-f]{12}$")



class Lines:
    """A child's stdout read on a thread, each line with the time it arrived."""

    def __init__(self, process):
        self.items, self.cond = [], threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self.thread.start()

    def _read(self, process):
        for line in process.stdout:
            with self.cond:
                self.items.append((time.monotonic(), line.rstrip("\n")))
                self.cond.notify_all()
        process.stdout.close()
        with self.cond:
            self.items.append((time.monotonic(), None))
            self.cond.notify_all()

    def wait_for(self, pattern, timeout=300):
        """The time and text of the first line matching pattern (None when the output ended first)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for at, text in self.items:
                    if text is None:
                        return None
                    if re.search(pattern, text):
                        return at, text
                if not self.cond.wait(max(0.0, deadline - time.monotonic())) and time.monotonic() >= deadline:
                    raise TimeoutError(pattern)

    def all(self):
        self.thread.join(timeout=60)
        return [text for _, text in self.items if text is not None]


def temps_under(folder):
    """Temp files or folders inside folder, at any depth (a half-written file under a final folder)."""
    return [p for p in pathlib.Path(folder).rglob("*") if TEMP.search(p.name)] if os.path.isdir(folder) else []


def stale_siblings(path):
    path = pathlib.Path(path)
    return [p for p in path.parent.iterdir() if p.name.startswith(path.name + ".tmp-")]


def gguf_version(path):
    """Parses a GGUF file written with f32 tensors; returns the one value all norm weights hold, or raises."""
    data = pathlib.Path(path).read_bytes()
    pos = 0

    def take(fmt):
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values[0] if len(values) == 1 else values

    def string():
        nonlocal pos
        n = take("Q")
        s = data[pos:pos + n].decode()
        pos += n
        return s

    scalar = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}

    def value(kind):
        if kind == 8:
            return string()
        if kind == 9:
            item, n = take("I"), take("Q")
            return [value(item) for _ in range(n)]
        return take(scalar[kind])

    if data[:4] != b"GGUF":
        raise ValueError("not a GGUF file")
    pos = 4
    _version, n_tensors, n_kv = take("I"), take("Q"), take("Q")
    meta = {}
    for _ in range(n_kv):
        key = string()
        meta[key] = value(take("I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("Q") for _ in range(take("I"))]
        infos.append((name, dims, take("I"), take("Q")))
    align = meta.get("general.alignment", 32)
    start = (pos + align - 1) // align * align
    values = set()
    for name, dims, kind, offset in infos:
        count = 1
        for d in dims:
            count *= d
        size = count * {0: 4, 1: 2, 30: 2}.get(kind, 0)
        if kind in (0, 1, 30) and start + offset + size > len(data):
            raise ValueError(f"{name}: data past the end of the file ({len(data)} bytes)")
        if name.endswith("norm.weight"):
            if kind != 0:
                raise ValueError(f"{name}: expected f32, got type {kind}")
            values.update(struct.unpack_from(f"<{count}f", data, start + offset))
    if len(values) != 1:
        raise ValueError(f"norm weights hold {len(values)} different values: versions are mixed")
    return int(values.pop())


class KilledWriteTests(unittest.TestCase):
    def setUp(self):
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="tunebook-killed-writes-"))

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- saves of adapters, merged models and GGUF files ---------------------------------------------

    def check(self, kind, out):
        if kind == "gguf":
            try:
                return gguf_version(out), None
            except (ValueError, struct.error, UnicodeDecodeError, OSError) as e:
                return None, f"{type(e).__name__}: {e}"
        result = subprocess.run(["dotnet", str(DRIVER), "check", kind, str(out)], capture_output=True, text=True, timeout=300)
        answer = json.loads(result.stdout.strip().splitlines()[-1])
        return answer["version"], answer["error"]

    def kill_saves(self, kind, name):
        if kind not in KINDS:
            self.skipTest(f"RELIABILITY_KINDS leaves out {kind}")
        rng = random.Random(f"killed-{kind}")
        failures, problems, worst_gap = 0, [], 0
        for trial in range(KILLS):
            out = self.tmp / f"{kind}-{trial}" / name
            child = subprocess.Popen(["dotnet", str(DRIVER), "save", kind, str(out), "1"], stdout=subprocess.PIPE, text=True, cwd=ROOT)
            lines = Lines(child)
            try:
                # Two finished saves give the time one takes; the kill lands anywhere in the next two.
                first, second = lines.wait_for(r"^saved 1$"), lines.wait_for(r"^saved 2$")
                if first is None or second is None:
                    raise AssertionError(f"{kind}: the save loop ended: {lines.all()[-5:]}")
                time.sleep(rng.uniform(0, 2 * (second[0] - first[0])))
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait()
            announced = max(int(t.split()[1]) for t in lines.all() if t.startswith("saved "))
            version, error = self.check(kind, out)
            trouble = []
            if error is not None or version not in (announced, announced + 1):
                trouble.append(f"after 'saved {announced}' the {kind} holds version {version} ({error})")
            if temps_under(out):
                trouble.append(f"temp files under the final name: {temps_under(out)}")
            # The next save must work and sweep up what the killed one left behind.
            after = subprocess.run(["dotnet", str(DRIVER), "save", kind, str(out), "1000", "1"], capture_output=True, text=True, cwd=ROOT, timeout=300)
            if after.returncode != 0:
                trouble.append(f"the next save failed: {after.stderr[-500:]}")
            elif self.check(kind, out)[0] != 1000:
                trouble.append(f"the next save did not take effect: {self.check(kind, out)}")
            if stale_siblings(out):
                trouble.append(f"temp files left after the next save: {[p.name for p in stale_siblings(out)]}")
            if trouble:
                failures += 1
                problems.append(f"trial {trial}: " + "; ".join(trouble))
            worst_gap = max(worst_gap, (version or 0) - announced)
            shutil.rmtree(out.parent, ignore_errors=True)
        record(f"killed {kind} saves (previous or new version whole, next save cleans up)", KILLS, failures, None)
        self.assertEqual(failures, 0, "\n".join(problems))

    def test_killed_adapter_saves(self):
        self.kill_saves("adapter", "adapter")

    def test_killed_merged_saves(self):
        self.kill_saves("merged", "merged")

    def test_killed_gguf_saves(self):
        self.kill_saves("gguf", "model.gguf")

    # --- ./tunebook train with a checkpoint every step -----------------------------------------------

    def train(self, config, *extra):
        return subprocess.Popen(["dotnet", str(CLI), "train", str(config), *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, cwd=ROOT)

    @staticmethod
    def final_loss(lines):
        last = [t for t in lines if re.match(rf"step +{TRAIN_STEPS}/{TRAIN_STEPS} ", t)]
        return float(re.search(r"loss (\S+)", last[-1]).group(1)) if last else None

    def write_config(self, folder):
        folder.mkdir(parents=True)
        return write_train_config(folder / "train.yaml", TRAIN_STEPS, "1e-3", warmup=0, log_every=1, checkpoint_every=1)

    def test_killed_training_checkpoints(self):
        if "train" not in KINDS:
            self.skipTest("RELIABILITY_KINDS leaves out train")
        rng = random.Random("killed-train")
        # An uninterrupted run: the loss every resumed run must end with, and how long the steps take.
        config = self.write_config(self.tmp / "reference")
        child = self.train(config)
        lines = Lines(child)
        first = lines.wait_for(r"^step +1/")
        child.wait(timeout=600)
        done = lines.wait_for(rf"^step +{TRAIN_STEPS}/")
        self.assertIsNotNone(first, lines.all()[-10:])
        self.assertIsNotNone(done, lines.all()[-10:])
        reference, span = self.final_loss(lines.all()), done[0] - first[0]

        failures, problems, resumed_at = 0, [], []
        for trial in range(KILLS):
            config = self.write_config(self.tmp / f"train-{trial}")
            checkpoint = config.parent / "out" / "checkpoint"
            child = self.train(config)
            lines = Lines(child)
            try:
                started = lines.wait_for(r"^step +1/")
                if started is None:
                    raise AssertionError(f"training did not start: {lines.all()[-10:]}")
                time.sleep(rng.uniform(0, span))
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait()
            printed = [int(m.group(1)) for t in lines.all() if (m := re.match(r"step +(\d+)/", t))]
            last = max(printed)
            trouble = []
            state_file = checkpoint / "trainer_state.json"
            step = None
            if state_file.exists():
                try:
                    step = json.loads(state_file.read_text())["global_step"]
                except (ValueError, KeyError) as e:
                    trouble.append(f"trainer_state.json does not load: {e}")
            if temps_under(checkpoint):
                trouble.append(f"temp files under the final name: {temps_under(checkpoint)}")
            # Step N is printed before its checkpoint is written: the checkpoint is N's or N-1's, never older.
            if step is None and last > 1 and not trouble:
                trouble.append(f"no checkpoint after step {last} was printed")
            if step is not None and step not in (last - 1, last) and not (last >= TRAIN_STEPS and step == TRAIN_STEPS - 1):
                trouble.append(f"checkpoint at step {step} after step {last} was printed")
            if step is not None and not trouble:
                resumed = subprocess.run(["dotnet", str(CLI), "train", str(config), "--resume"], capture_output=True, text=True, cwd=ROOT, timeout=600)
                out = resumed.stdout.splitlines()
                steps = [int(m.group(1)) for t in out if (m := re.match(r"step +(\d+)/", t))]
                loss = self.final_loss(out)
                if resumed.returncode != 0:
                    trouble.append(f"--resume failed: {(resumed.stdout + resumed.stderr)[-500:]}")
                elif not steps or steps[0] != step + 1:
                    trouble.append(f"--resume from step {step} went on with steps {steps[:3]}")
                elif loss is None or abs(loss - reference) > 1e-4:
                    trouble.append(f"--resume from step {step} ended with loss {loss}, the uninterrupted run with {reference}")
                if stale_siblings(checkpoint):
                    trouble.append(f"temp folders left after --resume saved again: {[p.name for p in stale_siblings(checkpoint)]}")
                resumed_at.append(step)
            if trouble:
                failures += 1
                problems.append(f"trial {trial}: " + "; ".join(trouble))
            shutil.rmtree(config.parent, ignore_errors=True)
        record("killed ./tunebook train runs (checkpoint every step; --resume ends with the uninterrupted loss)", KILLS, failures,
               None if not resumed_at else f"resumed from steps {sorted(set(resumed_at))}")
        self.assertEqual(failures, 0, "\n".join(problems))


if __name__ == "__main__":
    unittest.main()
