"""Reference side of tests/bench/safetensors.sh: the same operations with python and torch.

Writing uses the reference layout (tests/Tunebook.Torch.Tests/reference/safetensors_reference.py);
loading does what safetensors.torch.load_file does on CPU: mmap the file, parse the header and copy
each tensor out with torch.frombuffer.
"""
import json
import mmap
import os
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tunebook.Torch.Tests", "reference"))
import safetensors_reference as ref  # noqa: E402

folder, tensors, elements = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
path = os.path.join(folder, "reference.safetensors")
repeats = 3
g = torch.Generator().manual_seed(1)
payloads = {"model.layers.%d.weight" % i: ("BF16", [elements // 1024, 1024], ref.tensor_bytes(torch.randint(0, 65536, (elements,), generator=g, dtype=torch.int32).to(torch.int16)))
            for i in range(tensors)}


def median(run):
    run()
    return sorted(run() for _ in range(repeats))[repeats // 2]


def write():
    start = time.perf_counter()
    data = ref.serialize(payloads, {"format": "pt"})
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return time.perf_counter() - start


def read_bytes():
    start = time.perf_counter()
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        (n,) = struct.unpack("<Q", m[:8])
        header = json.loads(m[8:8 + n])
        header.pop("__metadata__", None)
        checksum = 0
        for info in header.values():
            s, e = info["data_offsets"]
            view = memoryview(m)[8 + n + s:8 + n + e]
            checksum += sum(view[::4096])
            view.release()
    return time.perf_counter() - start


def load():
    start = time.perf_counter()
    out = {}
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
        (n,) = struct.unpack("<Q", m[:8])
        header = json.loads(m[8:8 + n])
        header.pop("__metadata__", None)
        buffer = bytearray(m)  # torch.frombuffer needs a writable buffer; safetensors also reads the file into memory
        for name, info in header.items():
            s, e = info["data_offsets"]
            out[name] = torch.frombuffer(buffer, dtype=ref.ST_TO_TORCH[info["dtype"]], count=(e - s) // 2, offset=8 + n + s).reshape(info["shape"]).clone()
    return time.perf_counter() - start


print(json.dumps({"write": median(write), "read_bytes": median(read_bytes), "load": median(load), "bytes": os.path.getsize(path)}))
