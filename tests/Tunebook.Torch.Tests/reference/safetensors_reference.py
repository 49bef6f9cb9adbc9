#!/usr/bin/env python3
"""Independent safetensors reference for Tunebook's parity tests.

The `safetensors` package is not installed here, so this file re-implements the format from the spec
and the reference implementation (huggingface/safetensors, tensor.rs), with tensor bytes coming from
torch (python3-torch), not from Tunebook:

  write <dir>          writes reference.safetensors, expected.json and a sharded checkpoint in <dir>/sharded
  read <file>          validates a file as the reference does, prints its tensors (bytes as hex via torch)
  read-sharded <index> the same for a sharded checkpoint (model.safetensors.index.json)

Serialization follows the reference exactly: tensors sorted by descending dtype alignment then name,
compact JSON with __metadata__ first, header padded with spaces to a multiple of 8 bytes.
"""
import json
import os
import struct
import sys

import torch

# Reference Dtype enum order (increasing alignment) and bits per element.
DTYPE_ORDER = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0",
               "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
DTYPE_BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
              "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
              "C64": 64, "F64": 64, "I64": 64, "U64": 64}
TORCH_TO_ST = {torch.bool: "BOOL", torch.uint8: "U8", torch.int8: "I8", torch.int16: "I16", torch.float16: "F16",
               torch.bfloat16: "BF16", torch.int32: "I32", torch.float32: "F32", torch.complex64: "C64",
               torch.float64: "F64", torch.int64: "I64"}
ST_TO_TORCH = {v: k for k, v in TORCH_TO_ST.items()}
MAX_HEADER_SIZE = 100_000_000


def tensor_bytes(t):
    """Little-endian row-major bytes of a CPU tensor, via a byte view (works for bfloat16 too)."""
    t = t.contiguous()
    if t.numel() == 0:
        return b""
    return bytes(t.reshape(-1).view(torch.uint8).numpy().tobytes())


def serialize(tensors, metadata=None):
    """tensors: {name: (dtype_name, shape, bytes)} -> file bytes, as the reference serializer lays them out."""
    items = sorted(tensors.items(), key=lambda kv: (-DTYPE_ORDER.index(kv[1][0]), kv[0].encode("utf-8")))
    header = {}
    if metadata is not None:
        header["__metadata__"] = dict(sorted(metadata.items()))
    offset = 0
    for name, (dtype, shape, data) in items:
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    raw += b" " * ((8 - len(raw) % 8) % 8)
    return struct.pack("<Q", len(raw)) + raw + b"".join(data for _, (_, _, data) in items)


def parse(buffer):
    """Validates like the reference; returns (metadata, {name: (dtype, shape, bytes)})."""
    if len(buffer) < 8:
        raise ValueError("HeaderTooSmall")
    (n,) = struct.unpack("<Q", buffer[:8])
    if n > MAX_HEADER_SIZE:
        raise ValueError("HeaderTooLarge")
    if 8 + n > len(buffer):
        raise ValueError("InvalidHeaderLength")
    header = json.loads(buffer[8:8 + n].decode("utf-8"))
    metadata = header.pop("__metadata__", None)
    infos = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    data = buffer[8 + n:]
    start = 0
    out = {}
    for name, info in infos:
        s, e = info["data_offsets"]
        if s != start or e < s:
            raise ValueError("InvalidOffset(%s)" % name)
        start = e
        numel = 1
        for d in info["shape"]:
            if not isinstance(d, int) or d < 0:
                raise ValueError("bad shape for %s" % name)
            numel *= d
        bits = numel * DTYPE_BITS[info["dtype"]]
        if bits % 8 != 0 or e - s != bits // 8:
            raise ValueError("TensorInvalidInfo(%s)" % name)
        out[name] = (info["dtype"], info["shape"], data[s:e])
    if start != len(data):
        raise ValueError("MetadataIncompleteBuffer")
    return metadata, out


def to_torch(dtype, shape, data):
    """Builds the tensor with torch (frombuffer + view) so the bytes are interpreted by torch, not by us."""
    torch_dtype = ST_TO_TORCH[dtype]
    if len(data) == 0:
        return torch.empty(shape, dtype=torch_dtype)
    flat = torch.frombuffer(bytearray(data), dtype=torch.uint8).view(torch_dtype)
    return flat.reshape(shape).clone()


def describe(tensors):
    result = {}
    for name, (dtype, shape, data) in tensors.items():
        entry = {"dtype": dtype, "shape": shape, "hex": data.hex()}
        if dtype in ST_TO_TORCH:
            t = to_torch(dtype, shape, data)
            entry["hex"] = tensor_bytes(t).hex()  # round trip through torch
            entry["values"] = [str(v) for v in t.reshape(-1).tolist()][:64]
        result[name] = entry
    return result


def reference_tensors():
    """One tensor per dtype torch has, plus a scalar, empty tensors and awkward names."""
    g = torch.Generator().manual_seed(1234)
    t = {
        "bool.mask": torch.rand(3, 5, generator=g) > 0.5,
        "u8.bytes": torch.randint(0, 256, (7,), generator=g, dtype=torch.uint8),
        "i8.small": torch.randint(-128, 128, (2, 3), generator=g, dtype=torch.int8),
        "i16.values": torch.randint(-30000, 30000, (5,), generator=g, dtype=torch.int16),
        "f16.weight": torch.randn(4, 3, generator=g).half(),
        "bf16.weight": torch.randn(3, 4, generator=g).bfloat16(),
        "i32.ids": torch.randint(-2**31, 2**31 - 1, (6,), generator=g, dtype=torch.int32),
        "f32.weight": torch.randn(2, 3, 4, generator=g),
        "c64.z": torch.randn(3, generator=g, dtype=torch.complex64),
        "f64.bias": torch.randn(5, generator=g, dtype=torch.float64),
        "i64.positions": torch.arange(-3, 6, dtype=torch.int64) * (2**40),
        "scalar.f32": torch.tensor(3.25),
        "scalar.i64": torch.tensor(-7, dtype=torch.int64),
        "empty.f32": torch.empty(0, 3),
        "empty.bf16": torch.empty(2, 0, dtype=torch.bfloat16),
        "model.layers.0.self_attn.q_proj.weight": torch.randn(4, 4, generator=g),
        "unicode.名前.\u00e9": torch.randn(2, generator=g),
        "quote\"back\\slash\ttab": torch.randn(1, generator=g),
    }
    return {name: (TORCH_TO_ST[v.dtype], list(v.shape), tensor_bytes(v)) for name, v in t.items()}


def write_sharded(folder, tensors, max_shard_size, metadata):
    """Hugging Face's greedy split (insertion order) and index format, written by hand."""
    shards, current, current_size = [], {}, 0
    for name, value in tensors.items():
        size = len(value[2])
        if size > max_shard_size:
            shards.append({name: value})
            continue
        if current_size + size > max_shard_size and current:
            shards.append(current)
            current, current_size = {}, 0
        current[name] = value
        current_size += size
    if current:
        shards.append(current)
    os.makedirs(folder, exist_ok=True)
    weight_map = {}
    for i, shard in enumerate(shards):
        file = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        with open(os.path.join(folder, file), "wb") as f:
            f.write(serialize(shard, metadata))
        for name in shard:
            weight_map[name] = file
    index = {"metadata": {"total_size": sum(len(v[2]) for v in tensors.values())}, "weight_map": weight_map}
    with open(os.path.join(folder, "model.safetensors.index.json"), "w") as f:
        f.write(json.dumps(index, indent=2, sort_keys=True) + "\n")
    return [len(s) for s in shards]


def main():
    command, target = sys.argv[1], sys.argv[2]
    if command == "write":
        os.makedirs(target, exist_ok=True)
        tensors = reference_tensors()
        metadata = {"format": "pt", "source": "torch %s" % torch.__version__.split("+")[0]}
        with open(os.path.join(target, "reference.safetensors"), "wb") as f:
            f.write(serialize(tensors, metadata))
        # A byte-per-element tensor of each size so several shards are needed at a 200-byte limit.
        g = torch.Generator().manual_seed(99)
        shard_tensors = {"layer.%d.weight" % i: ("F32", [10 + 7 * i], tensor_bytes(torch.randn(10 + 7 * i, generator=g)))
                         for i in range(6)}
        counts = write_sharded(os.path.join(target, "sharded"), shard_tensors, 200, {"format": "pt"})
        with open(os.path.join(target, "expected.json"), "w") as f:
            json.dump({"metadata": metadata, "tensors": describe(tensors),
                       "sharded": {"counts": counts, "tensors": describe(shard_tensors)}}, f, ensure_ascii=False)
    elif command == "read":
        with open(target, "rb") as f:
            buffer = f.read()
        metadata, tensors = parse(buffer)
        canonical = serialize(tensors, metadata) == buffer
        print(json.dumps({"metadata": metadata, "canonical": canonical, "tensors": describe(tensors)}, ensure_ascii=False))
    elif command == "read-sharded":
        folder = os.path.dirname(target)
        with open(target) as f:
            index = json.load(f)
        tensors, files = {}, sorted(set(index["weight_map"].values()))
        for file in files:
            with open(os.path.join(folder, file), "rb") as f:
                _, shard = parse(f.read())
            for name, value in shard.items():
                if index["weight_map"].get(name) != file:
                    raise ValueError("tensor %s found in %s but the index says %s" % (name, file, index["weight_map"].get(name)))
                tensors[name] = value
        missing = set(index["weight_map"]) - set(tensors)
        if missing:
            raise ValueError("missing tensors: %s" % sorted(missing))
        print(json.dumps({"files": files, "total_size": index["metadata"]["total_size"],
                          "tensors": describe(tensors)}, ensure_ascii=False))
    else:
        raise SystemExit("unknown command " + command)


if __name__ == "__main__":
    main()
