"""Interrupts of `#!train` at random moments, through the real kernel (jupyter_client), counted.

Each trial loads the starter model and data, applies a LoRA adapter from a fixed seed, starts `#!train`, sends
interrupt_request at a random moment of the run and checks: the cell ends as KeyboardInterrupt, the live view
says "stopped at step N" with N where `trainer.GlobalStep` is (a step boundary), and `#!train continue` then
finishes the run with exactly the losses of an uninterrupted run of the same seed.
INTERRUPTS: 20 in FULL, 3 in REDUCED.
"""
import os
import pathlib
import sys
import random
import re
import shutil
import tempfile
import threading
import time
import unittest

from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reliability_common import ROOT, FULL, record  # noqa: E402

INTERRUPTS = int(os.environ.get("RELIABILITY_TRAIN_INTERRUPTS", 20 if FULL else 3))
STEPS = 16
TIMEOUT = 300
SETUP = [f"#!model load starter", f"#!data load {ROOT / 'datasets/puddle/train.jsonl'} --val 0.1 --max-length 64",
         "Tunebook.Torch.torch.manual_seed(7);", "#!lora --rank 4 --alpha 8"]
TRAIN = f"#!train --steps {STEPS} --batch 2 --lr 1e-3 --no-record"
LOSSES = 'string.Join(" ", trainer.Steps.Select(s => s.Step + ":" + s.Loss.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))'



class TrainInterruptCountTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cwd = tempfile.mkdtemp(prefix="tunebook-train-interrupts-")
        cls.km, cls.kc = start_new_kernel(kernel_name="tunebook", startup_timeout=180, cwd=cls.cwd)

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)
        shutil.rmtree(cls.cwd, ignore_errors=True)

    def run_cell(self, code, on_start=None):
        """Executes code; returns (reply content, texts of the cell's outputs). on_start runs once the cell is busy."""
        msg_id = self.kc.execute(code)
        texts, deadline = [], time.monotonic() + TIMEOUT
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            content = msg["content"]
            if msg["msg_type"] == "status" and content["execution_state"] == "busy" and on_start:
                on_start()
            if "text/plain" in content.get("data", {}):
                texts.append(content["data"]["text/plain"])
            if msg["msg_type"] == "stream":
                texts.append(content["text"])
            if msg["msg_type"] == "status" and content["execution_state"] == "idle":
                break
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_type") == "kernel_info_request":
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        return reply["content"], texts

    def prepare(self):
        for cell in SETUP:
            reply, texts = self.run_cell(cell)
            self.assertEqual(reply["status"], "ok", f"{cell}: {reply} {texts[-3:]}")

    def losses(self):
        reply, texts = self.run_cell(LOSSES)
        self.assertEqual(reply["status"], "ok", reply)
        return texts[-1].strip().strip('"')

    def test_interrupted_train_continues_with_the_losses_of_an_uninterrupted_run(self):
        rng = random.Random("train-interrupts")
        self.prepare()
        started = time.monotonic()
        reply, _ = self.run_cell(TRAIN)
        self.assertEqual(reply["status"], "ok", reply)
        span = time.monotonic() - started
        reference = self.losses()
        self.assertEqual(len(reference.split()), STEPS, reference)

        failures, problems, stops = 0, [], []
        for trial in range(INTERRUPTS):
            self.prepare()
            # Within the first 70% of an uninterrupted run's time, so nearly every trial stops a run in progress.
            delay = rng.uniform(0.05, 0.7) * span
            timer = []

            def interrupt_later():
                timer.append(threading.Timer(delay, self.km.interrupt_kernel))
                timer[0].start()

            reply, texts = self.run_cell(TRAIN, on_start=interrupt_later)
            timer[0].join()
            trouble = []
            if reply["status"] == "ok":
                stops.append(STEPS)  # the run finished before the interrupt came: nothing was stopped
            elif reply.get("ename") != "KeyboardInterrupt":
                trouble.append(f"the cell ended with {reply.get('ename')}: {reply.get('evalue')}")
            else:
                said = [int(m.group(1)) for t in texts if (m := re.search(r"stopped at step (\d+)", t))]
                _, step_texts = self.run_cell("trainer.GlobalStep")
                step = int(step_texts[-1])
                if not said:
                    trouble.append("the live view did not say where training stopped")
                elif said[-1] != step:
                    trouble.append(f"the view says stopped at step {said[-1]}, trainer.GlobalStep is {step}")
                stops.append(step)
                reply, texts = self.run_cell("#!train continue")
                if reply["status"] != "ok":
                    trouble.append(f"#!train continue failed: {reply.get('ename')}: {reply.get('evalue')}")
            if not trouble and self.losses() != reference:
                trouble.append(f"losses after the interrupt differ from the uninterrupted run: {self.losses()} vs {reference}")
            if trouble:
                failures += 1
                problems.append(f"trial {trial} (interrupt after {delay:.2f} s): " + "; ".join(trouble))
        record("interrupts of #!train (stopped at a step boundary, #!train continue ends with the uninterrupted losses)", INTERRUPTS, failures,
               f"stopped at steps {sorted(stops)}")
        self.assertEqual(failures, 0, "\n".join(problems))


if __name__ == "__main__":
    unittest.main()
