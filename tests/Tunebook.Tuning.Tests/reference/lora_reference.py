"""PyTorch reference for the LoRA layer: reads inputs from a safetensors file, writes the outputs.

Usage: /usr/bin/python3 lora_reference.py IN.safetensors OUT.safetensors SCALING FAN_IN_FAN_OUT

IN holds x [n, in], weight (Linear [out, in], or Conv1D [in, out] when FAN_IN_FAN_OUT is 1), bias [out],
lora_A [r, in], lora_B [out, r] and upstream [n, out]. The layer is written out the way PEFT's
lora.Linear computes it (result = base(x) + lora_B(lora_A(x)) * scaling, no dropout); OUT gets y, the
gradients of (y * upstream).sum() with respect to x, lora_A and lora_B, and the merged weight
W + scaling * B @ A (transposed for fan_in_fan_out) as PEFT's merge computes it.
Safetensors is parsed by hand (the format is an 8-byte length, a JSON header, raw little-endian data),
so only Debian's python3-torch is needed.
"""
import json
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F64": torch.float64}
NAMES = {torch.float32: "F32", torch.float64: "F64"}


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    result = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(body[start:end]), dtype=DTYPES[info["dtype"]])
        result[name] = t.reshape(info["shape"]).clone()
    return result


def save(path, tensors):
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        raw = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(chunks))


def main():
    inputs = load(sys.argv[1])
    scaling = float(sys.argv[3])
    fan_in_fan_out = sys.argv[4] == "1"
    x = inputs["x"].requires_grad_(True)
    a = inputs["lora_A"].requires_grad_(True)
    b = inputs["lora_B"].requires_grad_(True)
    w, bias = inputs["weight"], inputs["bias"]
    base = torch.nn.functional.linear(x, w.T if fan_in_fan_out else w, bias)
    y = base + torch.nn.functional.linear(torch.nn.functional.linear(x, a), b) * scaling
    (y * inputs["upstream"]).sum().backward()
    delta = (b @ a) * scaling
    merged = w + (delta.T if fan_in_fan_out else delta)
    save(sys.argv[2], {"y": y, "grad_x": x.grad, "grad_A": a.grad, "grad_B": b.grad, "merged": merged.detach()})


if __name__ == "__main__":
    main()
