"""The kernel under abuse, against the real `tunebook` kernel: forged, malformed, unknown and huge
messages on every channel it reads; interrupts of plain C# loops that never check a token; an exception
on a cell's own thread. After each, the kernel must still answer kernel_info and execute, with the state
of earlier cells intact.

Counts come from RELIABILITY_MODE (REDUCED, the default, for `make test`; FULL for `make reliability`).
Each test appends its figures (trials, failures, worst case) to $RELIABILITY_FIGURES (JSON lines).
"""
import hashlib
import hmac
import json
import pathlib
import sys
import random
import time
import unittest
import uuid

import zmq
from jupyter_client.manager import start_new_kernel

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reliability_common import ROOT, FULL, record  # noqa: E402

ABUSE_MESSAGES = 200 if FULL else 40
LOOP_INTERRUPTS = 20 if FULL else 6
TIMEOUT = 120

# Plain user code: none of these looks at Cancellation; the session's rewriting makes them stop.
LOOPS = [
    "long n = 0; while (true) { n++; }",
    "long n = 0; while (true) { n++; await Task.Delay(10); }",
    "long n = 0; for (;;) { n++; }",
    "long n = 0; foreach (var one in Enumerable.Range(0, int.MaxValue).SelectMany(_ => Enumerable.Repeat(1L, int.MaxValue))) { n += one; }",
    "long n = 0; for (int i = 0; ; i++) { for (int j = 0; j < 1000; j++) { n++; } }",
]



class KernelAbuseTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.km, cls.kc = start_new_kernel(kernel_name="tunebook", startup_timeout=180, cwd=str(ROOT))
        cls.info = cls.km.get_connection_info()
        cls.context = zmq.Context()

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel(now=True)
        cls.context.destroy(linger=0)

    def run_cell(self, code, timeout=TIMEOUT):
        """Executes code; returns (reply content, iopub messages of this cell)."""
        msg_id = self.kc.execute(code)
        return self.wait_cell(msg_id, timeout)

    def wait_cell(self, msg_id, timeout=TIMEOUT):
        messages = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        while True:
            reply = self.kc.get_shell_msg(timeout=max(1, deadline - time.monotonic()))
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"], messages

    def assert_alive(self, expect="42"):
        """kernel_info answers, and a cell sees what an earlier cell defined."""
        info = self.kc.kernel_info(reply=True, timeout=TIMEOUT)
        self.assertEqual(info["content"]["status"], "ok")
        reply, messages = self.run_cell("kept + 1")
        self.assertEqual(reply["status"], "ok", reply)
        results = [m["content"]["data"]["text/plain"] for m in messages if m["msg_type"] == "execute_result"]
        self.assertEqual(results, [expect])

    # --- forged and malformed messages -------------------------------------------------------------

    def socket(self, channel):
        kind = {"shell": zmq.DEALER, "control": zmq.DEALER, "stdin": zmq.DEALER, "hb": zmq.REQ}[channel]
        s = self.context.socket(kind)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.IDENTITY, uuid.uuid4().hex.encode())
        s.connect(f"{self.info['transport']}://{self.info['ip']}:{self.info[channel + '_port']}")
        return s

    def sign(self, parts, key=None):
        key = self.info["key"] if key is None else key
        if isinstance(key, str):
            key = key.encode()
        h = hmac.new(key, digestmod=hashlib.sha256)
        for p in parts:
            h.update(p)
        return h.hexdigest().encode()

    def frames(self, msg_type, content, signature="good", huge=0):
        header = json.dumps({"msg_id": uuid.uuid4().hex, "session": "abuse", "username": "abuse", "date": "2026-01-01T00:00:00Z",
                             "msg_type": msg_type, "version": "5.3"}).encode()
        body = json.dumps(content).encode() if not huge else b'{"code": "' + b"x" * huge + b'"}'
        parts = [header, b"{}", b"{}", body]
        sig = {"good": self.sign(parts), "bad": b"0" * 64, "wrong-key": self.sign(parts, b"not the key"), "empty": b""}[signature]
        return [b"<IDS|MSG>", sig] + parts

    def abuse_messages(self, rng):
        """One abusive multipart message at a time: (description, frames)."""
        kinds = ["bad-signature", "wrong-key", "no-signature", "no-delimiter", "too-few-frames", "invalid-json",
                 "json-array-header", "unknown-type", "huge-payload", "binary-garbage", "deep-json"]
        for i in range(ABUSE_MESSAGES):
            kind = kinds[i % len(kinds)]
            if kind == "bad-signature":
                yield kind, self.frames("execute_request", {"code": "kept = 0;"}, "bad")
            elif kind == "wrong-key":
                yield kind, self.frames("execute_request", {"code": "kept = 0;"}, "wrong-key")
            elif kind == "no-signature":
                yield kind, self.frames("execute_request", {"code": "kept = 0;"}, "empty")
            elif kind == "no-delimiter":
                yield kind, self.frames("kernel_info_request", {})[1:]
            elif kind == "too-few-frames":
                yield kind, self.frames("kernel_info_request", {})[: rng.randint(1, 4)]
            elif kind == "invalid-json":
                parts = [b"{not json", b"{}", b"{}", b"{]"]
                yield kind, [b"<IDS|MSG>", self.sign(parts)] + parts
            elif kind == "json-array-header":
                parts = [b"[1, 2]", b"null", b"7", b'"text"']
                yield kind, [b"<IDS|MSG>", self.sign(parts)] + parts
            elif kind == "unknown-type":
                yield kind, self.frames(f"no_such_request_{i}", {"x": i})
            elif kind == "huge-payload":
                yield kind, self.frames("complete_request", {}, huge=rng.choice([1 << 20, 16 << 20]))
            elif kind == "binary-garbage":
                yield kind, [rng.randbytes(rng.randint(1, 4096)) for _ in range(rng.randint(1, 8))]
            else:
                depth = rng.choice([1000, 100_000])
                parts = [b"[" * depth + b"]" * depth, b"{}", b"{}", b"{}"]
                yield kind, [b"<IDS|MSG>", self.sign(parts)] + parts

    def test_forged_malformed_unknown_and_huge_messages_on_every_channel(self):
        self.run_cell("var kept = 41;")
        rng = random.Random(15)
        channels = ["shell", "control", "stdin", "hb"]
        sockets = {c: self.socket(c) for c in channels}
        sent = failures = 0
        worst = 0.0
        for i, (kind, frames) in enumerate(self.abuse_messages(rng)):
            channel = channels[i % len(channels)]
            s = sockets[channel]
            if channel == "hb":
                # The heartbeat echoes whatever it gets; a REQ socket must read the echo before sending again.
                s.send_multipart(frames)
                if s.poll(TIMEOUT * 1000):
                    s.recv_multipart()
            else:
                s.send_multipart(frames)
            sent += 1
            if i % 10 == 9:
                started = time.monotonic()
                try:
                    self.assert_alive()
                except Exception:  # counted, then reported by the assertion below
                    failures += 1
                worst = max(worst, time.monotonic() - started)
        for s in sockets.values():
            s.close(0)
        self.assert_alive()
        record("kernel abuse messages (shell, control, stdin, heartbeat)", sent, failures, round(worst, 2), "s for kernel_info + execute after a batch")
        self.assertEqual(failures, 0)

    # --- interrupts of plain loops --------------------------------------------------------------------

    def test_interrupts_stop_plain_loops_within_a_second(self):
        self.run_cell("var kept = 41;")
        rng = random.Random(20)
        failures = 0
        worst = 0.0
        for i in range(LOOP_INTERRUPTS):
            loop = LOOPS[i % len(LOOPS)]
            msg_id = self.kc.execute('Console.WriteLine("started");\n' + loop)
            deadline = time.monotonic() + TIMEOUT
            while True:  # the loop is running once its first output arrives
                msg = self.kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
                if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "stream":
                    break
            time.sleep(rng.uniform(0.05, 1.0))
            started = time.monotonic()
            self.km.interrupt_kernel()
            reply, _ = self.wait_cell(msg_id, timeout=30)
            took = time.monotonic() - started
            worst = max(worst, took)
            if reply.get("ename") != "KeyboardInterrupt" or took > 1.0:
                failures += 1
            self.assert_alive()
        record("interrupts of plain C# loops (stopped as KeyboardInterrupt within 1 s)", LOOP_INTERRUPTS, failures, round(worst, 3), "s from interrupt to reply")
        self.assertEqual(failures, 0)

    # --- a cell's own thread throws -------------------------------------------------------------------

    def test_an_exception_on_a_cells_thread_leaves_the_kernel_running(self):
        self.run_cell("var kept = 41;")
        trials = 5 if FULL else 2
        failures = 0
        for i in range(trials):
            reply, _ = self.run_cell(f'new Thread(() => throw new InvalidOperationException("escaped {i}")).Start(); Thread.Sleep(300);')
            try:
                self.assertEqual(reply["status"], "ok")
                self.assertTrue(self.km.is_alive())
                self.assert_alive()
            except AssertionError:
                failures += 1
        record("exceptions escaping a cell's own Thread", trials, failures, None)
        self.assertEqual(failures, 0)
