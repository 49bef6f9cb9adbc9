"""Long runs: resident memory must stay flat over many training steps and many `#!generate` calls.

- `./tunebook train` on the starter model (LoRA, batch 2) for TRAIN_STEPS steps, resident memory (VmRSS)
  sampled every 100 steps (20 in REDUCED);
- one kernel answering GENERATE_CALLS `#!generate` cells, its resident memory sampled every 100 calls
  (10 in REDUCED).
After warm-up (the first WARMUP of the samples) the resident memory may not grow by more than GROWTH (5%) of
its value at the end of warm-up; the growth per step or call is recorded as the figure.
FULL: 10,000 steps and 2,000 calls; REDUCED: 200 steps and 200 calls (the 0.9 MiB per call once measured fails it).
"""
import os
import pathlib
import sys
import re
import shutil
import subprocess
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reliability_common import ROOT, FULL, CLI, record, write_train_config  # noqa: E402

TRAIN_STEPS = int(os.environ.get("RELIABILITY_TRAIN_STEPS", 10000 if FULL else 200))
SAMPLE_STEPS = 100 if FULL else 20
GENERATE_CALLS = int(os.environ.get("RELIABILITY_GENERATE_CALLS", 2000 if FULL else 200))
WARMUP = 0.25
GROWTH = 0.05
TIMEOUT = 300



def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


def judge(samples, per):
    """(growth after warm-up in MiB, its bound, MiB per unit of `per`) for (count, rss) samples."""
    start = max(1, int(len(samples) * WARMUP))
    warm_count, warm = samples[start - 1]
    end_count, end = samples[-1]
    peak = max(rss for _, rss in samples[start - 1:])
    return peak - warm, warm * GROWTH, (end - warm) / max(1, end_count - warm_count)


class LongRunTests(unittest.TestCase):
    def test_resident_memory_is_flat_over_a_long_training_run(self):
        tmp = pathlib.Path(tempfile.mkdtemp(prefix="tunebook-long-train-"))
        try:
            config = write_train_config(tmp / "train.yaml", TRAIN_STEPS, "1e-4", log_every=SAMPLE_STEPS)
            child = subprocess.Popen(["dotnet", str(CLI), "train", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            samples, tail = [], []
            for line in child.stdout:
                tail = (tail + [line])[-10:]
                if m := re.match(r"step +(\d+)/", line):
                    samples.append((int(m.group(1)), rss_mib(child.pid)))
            child.wait()
            self.assertEqual(child.returncode, 0, "".join(tail))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        growth, bound, per_step = judge(samples, "step")
        failed = growth > bound
        record(f"long training run ({TRAIN_STEPS} steps, RSS every {SAMPLE_STEPS})", 1, int(failed),
               f"{samples[0][1]:.0f}→{samples[-1][1]:.0f} MiB, +{growth:.1f} MiB after warm-up (bound {bound:.1f}), {per_step * 1024:.2f} KiB/step", "")
        self.assertFalse(failed, f"resident memory grew {growth:.1f} MiB after warm-up (bound {bound:.1f}): {samples}")

    def test_resident_memory_is_flat_over_many_generate_calls(self):
        from jupyter_client.manager import start_new_kernel
        cwd = tempfile.mkdtemp(prefix="tunebook-long-generate-")
        km, kc = start_new_kernel(kernel_name="tunebook", startup_timeout=180, cwd=cwd)
        try:
            def run(code):
                reply = kc.execute_interactive(code, timeout=TIMEOUT, output_hook=lambda msg: None)
                self.assertEqual(reply["content"]["status"], "ok", f"{code}: {reply['content']}")

            pid = km.provisioner.process.pid
            run("#!model load starter")
            every = 100 if GENERATE_CALLS >= 1000 else 10
            samples = []
            for call in range(1, GENERATE_CALLS + 1):
                run(f'#!generate "How do I list my zones? ({call})" --max-tokens 8')
                if call % every == 0:
                    samples.append((call, rss_mib(pid)))
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            shutil.rmtree(cwd, ignore_errors=True)
        growth, bound, per_call = judge(samples, "call")
        failed = growth > bound
        record(f"#!generate calls in one kernel ({GENERATE_CALLS}, RSS every {every})", 1, int(failed),
               f"{samples[0][1]:.0f}→{samples[-1][1]:.0f} MiB, +{growth:.1f} MiB after warm-up (bound {bound:.1f}), {per_call * 1024:.1f} KiB/call", "")
        self.assertFalse(failed, f"resident memory grew {growth:.1f} MiB after warm-up (bound {bound:.1f}): {samples}")


if __name__ == "__main__":
    unittest.main()
