"""Fuzzed inputs: mutations of every file a user downloads or writes for Tunebook, loaded by Tunebook.

Each kind (model.safetensors, model.safetensors.index.json, config.json, tokenizer.json,
tokenizer_config.json with its chat template, a training JSONL) gets bit flips, truncations, huge or
negative length fields, out-of-range or overlapping offsets, wrong dtypes, and deep or huge JSON. Every
load must either succeed (the mutation left a valid file) or end in a Tunebook exception whose message
names the file; the process must not die (the loads run in a child process, tests/Tunebook.LoadFuzz, so a
native crash is counted rather than fatal); no load may take more than LOAD_SECONDS or allocate more
than LOAD_BYTES. RELIABILITY_KINDS (comma-separated kinds, e.g. safetensors,index) limits a run to some files.
"""
import collections
import json
import queue
import os
import pathlib
import sys
import random
import shutil
import struct
import subprocess
import tempfile
import threading
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from reliability_common import ROOT, FULL, record  # noqa: E402

MUTATIONS = 1000 if FULL else 20
LOAD_SECONDS = 5.0
LOAD_BYTES = 512 << 20
DRIVER = ROOT / "tests/Tunebook.LoadFuzz/bin/Release/net10.0/Tunebook.LoadFuzz.dll"

CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}<|system|>\n{{ message['content'] }}"
    "{% elif message['role'] == 'user' %}<|user|>\n{{ message['content'] }}{% else %}<|assistant|>\n{{ message['content'] }}{{ eos_token }}"
    "{% endif %}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>\n{% endif %}")



def small_safetensors(offsets=None, dtype="F32"):
    """A valid three-tensor file (the starter model is 21 MB: too big to copy a thousand times)."""
    tensors = [("a.weight", dtype, [4, 4], 64), ("b.bias", "BF16", [8], 16), ("c.index", "I64", [3], 24)]
    header, start = {"__metadata__": {"format": "pt"}}, 0
    for name, dt, shape, size in tensors:
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [start, start + size]}
        start += size
    return header, bytes(range(256))[:start] if start <= 256 else bytes(start)


def encode_safetensors(header, data):
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


# --- mutations ------------------------------------------------------------------------------------

def flip_bits(rng, raw, region=None):
    raw = bytearray(raw)
    lo, hi = region or (0, len(raw))
    for _ in range(rng.randint(1, 8)):
        i = rng.randrange(lo, max(lo + 1, hi))
        if i < len(raw):
            raw[i] ^= 1 << rng.randrange(8)
    return bytes(raw)


def truncate(rng, raw):
    return raw[: rng.randrange(0, len(raw))]


HOSTILE_VALUES = [-1, 0, 2**31, 2**63 - 1, -(2**63), 2**64, 1e308, -1e308, "", "x" * 1000, None, True, [], {}, [1, -2], {"a": 1},
                  "F33", "BF16", "U8", "../../etc/passwd", "/dev/zero", "\u0000", "{{ x", "{% for i in range(100000000) %}x{% endfor %}"]


def deep(depth):
    return "[" * depth + "]" * depth


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node[:50]):
            yield from paths(v, prefix + (i,))


def set_path(node, path, value):
    if not path:
        return value
    parent = node
    for p in path[:-1]:
        parent = parent[p]
    parent[path[-1]] = value
    return node


def mutate_json(rng, text):
    """A structurally hostile version of a JSON document (or of each line of a JSONL file)."""
    choice = rng.randrange(7)
    if choice == 0:
        return flip_bits(rng, text.encode())
    if choice == 1:
        return truncate(rng, text.encode())
    if choice == 2:
        return deep(rng.choice([200, 5000, 200_000])).encode()
    if choice == 3:
        return (' {"a": "' + "x" * rng.choice([1 << 20, 8 << 20]) + '"}').encode()
    doc = json.loads(text)
    candidates = list(paths(doc))[1:] or [()]
    path = rng.choice(candidates)
    if choice == 4:  # remove a member
        if path and isinstance(doc, (dict, list)):
            parent = doc
            for p in path[:-1]:
                parent = parent[p]
            del parent[path[-1]]
        return json.dumps(doc).encode()
    if choice == 5:
        return json.dumps(set_path(doc, path, rng.choice(HOSTILE_VALUES))).encode()
    # Deep nesting in place of one value (spliced in as text: Python's own parser would recurse too deep).
    text = json.dumps(set_path(doc, path, "@DEEP@"))
    return text.replace('"@DEEP@"', deep(rng.choice([100, 3000, 100_000])), 1).encode()


def mutate_jsonl(rng, text):
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    lines[i] = mutate_json(rng, lines[i]).decode("utf-8", "replace")
    return "\n".join(lines).encode()


def mutate_safetensors(rng, _):
    header, data = small_safetensors()
    raw = encode_safetensors(header, data)
    n = len(json.dumps(header).encode())
    choice = rng.randrange(9)
    if choice == 0:  # bit flips in the length field or the header
        return flip_bits(rng, raw, (0, 8 + n))
    if choice == 1:
        return truncate(rng, raw)
    if choice == 2:  # length field huge, negative (as i64), zero, or past the end
        length = rng.choice([2**64 - 1, 2**63, 2**63 - 1, 0, 1, n + 1, len(raw), 2**40])
        return struct.pack("<Q", length) + raw[8:]
    name = rng.choice(["a.weight", "b.bias", "c.index"])
    entry = header[name]
    if choice == 3:  # offsets out of range, reversed, overlapping, negative, not integers
        entry["data_offsets"] = rng.choice([[0, 10**6], [-8, 8], [16, 8], [0, 2**63], [2**64, 2**64 + 4], [0, 32], [8, 72], [0], "0-64", [0.5, 64]])
    elif choice == 4:  # wrong dtypes
        entry["dtype"] = rng.choice(["F33", "", None, 7, "F64", "F16", "BOOL", "I8", "f32"])
    elif choice == 5:  # shapes that do not match the bytes, negative, or overflow
        entry["shape"] = rng.choice([[-1], [2**31, 2**31], [2**62, 4], [], [0], ["4"], None, [4, 4, 4]])
    elif choice == 6:  # the header as hostile JSON
        text = mutate_json(rng, json.dumps(header)).decode("utf-8", "replace")
        raw_header = text.encode()
        return struct.pack("<Q", len(raw_header)) + raw_header + data
    elif choice == 7:  # a duplicate or overlapping tensor
        header["d.copy"] = dict(entry)
    else:
        header["__metadata__"] = rng.choice([{"format": 5}, [], "x", {"k": {"deep": [1]}}])
    return encode_safetensors(header, data)


# --- the kinds --------------------------------------------------------------------------------------

class Kind:
    def __init__(self, kind, filename, seed, mutate, extra=None):
        self.kind, self.filename, self.seed, self.mutate, self.extra = kind, filename, seed, mutate, extra or {}


def kinds():
    starter = ROOT / "datasets/starter"
    _, shard_data = small_safetensors()
    shard = encode_safetensors(*small_safetensors())
    index = json.dumps({"metadata": {"total_size": len(shard_data)}, "weight_map": {"a.weight": "model-00001-of-00001.safetensors",
                        "b.bias": "model-00001-of-00001.safetensors", "c.index": "model-00001-of-00001.safetensors"}})
    tokenizer_config = json.dumps({"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": True, "model_max_length": 2048,
                                   "chat_template": CHAT_TEMPLATE})
    return [
        Kind("safetensors", "model.safetensors", None, mutate_safetensors),
        Kind("index", "model.safetensors.index.json", index, mutate_json, {"model-00001-of-00001.safetensors": shard}),
        Kind("config", "config.json", (starter / "config.json").read_text(), mutate_json),
        Kind("tokenizer", "tokenizer.json", (starter / "tokenizer.json").read_text(), mutate_json),
        Kind("tokenizer_config", "tokenizer_config.json", tokenizer_config, mutate_json),
        Kind("jsonl", "train.jsonl", (ROOT / "datasets/samples/chat.jsonl").read_text(), mutate_jsonl),
    ]


class Loader:
    """The child process that loads; restarted when a load kills it or hangs."""

    def __init__(self):
        self.proc = None

    def start(self):
        env = dict(os.environ, DOTNET_gcServer="0")
        self.proc = subprocess.Popen(["dotnet", str(DRIVER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, bufsize=1, env=env)
        self.lines = queue.Queue()
        # A reader thread, so a load that hangs is noticed by a timeout on the queue (select() on a buffered pipe is not).
        threading.Thread(target=lambda out, q: [q.put(line) for line in out] + [q.put(None)], args=(self.proc.stdout, self.lines), daemon=True).start()

    def load(self, kind, path):
        """The driver's result, or {"outcome": "crash" | "hang"}."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(f"{kind}\t{path}\n")
        self.proc.stdin.flush()
        limit = LOAD_SECONDS * 4 + 60  # generous: the first load also starts the runtime, on a loaded machine
        while True:
            try:
                line = self.lines.get(timeout=limit)
            except queue.Empty:
                self.proc.kill()
                self.proc.wait()
                self.proc = None
                return {"outcome": "hang", "ms": limit * 1000}
            if line is None:
                code = self.proc.wait()
                self.proc = None
                return {"outcome": "crash", "type": f"exit code {code}", "ms": 0}
            if line.startswith("begin "):
                continue
            return json.loads(line)

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=30)


class FuzzLoaderTests(unittest.TestCase):
    def test_every_mutated_file_loads_or_fails_with_a_tunebook_error_naming_it(self):
        self.assertTrue(DRIVER.exists(), f"build {DRIVER.parent.parent.parent.parent} first")
        rng = random.Random(int(os.environ.get("RELIABILITY_SEED", "15")))
        loader = Loader()
        problems = []
        work = pathlib.Path(tempfile.mkdtemp(prefix="tunebook-fuzz-"))
        try:
            only = [k for k in os.environ.get("RELIABILITY_KINDS", "").split(",") if k]  # e.g. safetensors,config
            for k in kinds():
                if only and k.kind not in only:
                    continue
                counts, worst_ms, worst_bytes = collections.Counter(), 0.0, 0
                for i in range(MUTATIONS):
                    folder = work / f"{k.kind}-{i}"
                    folder.mkdir()
                    for name, content in k.extra.items():
                        (folder / name).write_bytes(content)
                    mutant = k.mutate(rng, k.seed)
                    path = folder / k.filename
                    path.write_bytes(mutant)
                    r = loader.load(k.kind, str(path))
                    ms, allocated = r.get("ms", 0), r.get("allocated", 0)
                    worst_ms, worst_bytes = max(worst_ms, ms), max(worst_bytes, allocated)
                    bad = None
                    if r["outcome"] in ("crash", "hang"):
                        bad = r["outcome"] + " " + r.get("type", "")
                    elif r["outcome"] == "other":
                        bad = f"{r['type']}: {r['message'][:160]}"
                    elif r["outcome"] == "tunebook" and not r["names_file"]:
                        bad = f"does not name the file: {r['type']}: {r['message'][:160]}"
                    elif ms > LOAD_SECONDS * 1000:
                        bad = f"took {ms / 1000:.1f} s"
                    elif allocated > LOAD_BYTES:
                        bad = f"allocated {allocated >> 20} MiB"
                    counts[r["outcome"]] += 1
                    if bad:
                        counts["failed"] += 1
                        keep = work.parent / f"tunebook-fuzz-failures/{k.kind}-{i}"
                        shutil.rmtree(keep, ignore_errors=True)
                        shutil.copytree(folder, keep)
                        problems.append(f"{k.filename} #{i}: {bad} (kept in {keep})")
                    shutil.rmtree(folder)
                record(f"fuzzed {k.filename} ({counts['ok']} still valid, {counts['tunebook']} Tunebook errors)", MUTATIONS, counts["failed"],
                       f"{worst_ms / 1000:.2f} s, {worst_bytes >> 20} MiB allocated", "per load")
        finally:
            loader.close()
            shutil.rmtree(work, ignore_errors=True)
        self.assertEqual(problems, [], "\n".join(problems[:40]))
