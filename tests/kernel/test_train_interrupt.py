"""Interrupting `#!train` in a real kernel, as a front end's Interrupt button does.

The kernel turns interrupt_request into the cell's cancellation token; the trainer stops at the next step
boundary, the live view's last update says where, the cell ends with KeyboardInterrupt, and the same
trainer continues from there in the next cell.
"""
import json
import pathlib
import re
import time
import unittest

from jupyter_client.manager import start_new_kernel

ROOT = pathlib.Path(__file__).resolve().parents[2]
TIMEOUT = 300


class TrainInterruptTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name="tunebook", startup_timeout=180, cwd=str(ROOT))

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)

    def run_cell(self, code, on_output=None):
        """Executes code; returns (reply content, iopub messages of this cell)."""
        msg_id = self.kc.execute(code)
        messages = []
        deadline = time.monotonic() + TIMEOUT
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if on_output:
                on_output(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        # wait_for_ready sends a kernel_info_request every second until one is answered, so a kernel that
        # starts slowly leaves the replies to the others on shell: skip them, as jupyter_kernel_test does.
        reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        while reply["parent_header"].get("msg_type") == "kernel_info_request":
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        return reply["content"], messages

    @staticmethod
    def plain_texts(messages):
        for m in messages:
            data = m["content"].get("data", {})
            if "text/plain" in data:
                yield data["text/plain"]
            if m["msg_type"] == "stream":
                yield m["content"]["text"]

    def test_interrupt_stops_training_at_a_step_boundary_and_continue_resumes(self):
        for cell in ["#!model load starter", "#!data load datasets/puddle/train.jsonl --val 0.1 --max-length 64",
                     "#!lora --rank 4 --alpha 8"]:
            reply, _ = self.run_cell(cell)
            self.assertEqual(reply["status"], "ok", f"{cell}: {reply}")

        interrupted = []

        def interrupt_after_a_few_steps(msg):
            # The live view redraws through update_display_data; interrupt once it reports step 3 or later.
            if interrupted or msg["msg_type"] not in ("display_data", "update_display_data"):
                return
            m = re.search(r"step (\d+)/", msg["content"].get("data", {}).get("text/plain", ""))
            if m and int(m.group(1)) >= 3:
                interrupted.append(int(m.group(1)))
                self.km.interrupt_kernel()

        reply, messages = self.run_cell("#!train --steps 100000 --batch 2 --lr 1e-3", interrupt_after_a_few_steps)
        self.assertTrue(interrupted, "the live view never reported progress")
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "KeyboardInterrupt")
        finals = [t for t in self.plain_texts(messages) if "stopped at step" in t]
        self.assertTrue(finals, "the live view's last update does not say where training stopped")
        stopped = int(re.search(r"stopped at step (\d+)", finals[-1]).group(1))
        self.assertGreaterEqual(stopped, interrupted[0])
        self.assertLess(stopped, 100000)

        reply, messages = self.run_cell("trainer.GlobalStep")
        self.assertEqual(reply["status"], "ok")
        self.assertEqual(int(list(self.plain_texts(messages))[-1]), stopped)

        reply, _ = self.run_cell("#!train step 2")
        self.assertEqual(reply["status"], "ok", reply)
        reply, messages = self.run_cell("trainer.GlobalStep")
        self.assertEqual(int(list(self.plain_texts(messages))[-1]), stopped + 2)


if __name__ == "__main__":
    unittest.main()
