#!/usr/bin/env python3
"""Reference forward passes of Hugging Face Llama-family and GPT-2 models in plain PyTorch.

transformers is not available here, so this file re-implements the parts of
modeling_llama.py / modeling_mistral.py / modeling_qwen2.py / modeling_qwen3.py / modeling_gpt2.py
that matter for logits (eager attention), reading weights with a minimal safetensors reader.

usage: hf_reference.py MODEL_DIR INPUT_JSON OUTPUT_SAFETENSORS
INPUT_JSON: {"input_ids": [[...], ...], "attention_mask": [[...], ...] (optional)}
Writes the logits [B, T, V] as float32 under the name "logits".
"""
import json
import math
import os
import struct
import sys

import torch

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64,
          "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        raw = bytearray(data[base + begin:base + end])
        t = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]) if raw else torch.empty(0, dtype=DTYPES[info["dtype"]])
        out[name] = t.reshape(info["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.contiguous().numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_weights(folder):
    single = os.path.join(folder, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(folder, "model.safetensors.index.json")) as f:
        index = json.load(f)
    out = {}
    for shard in sorted(set(index["weight_map"].values())):
        out.update(read_safetensors(os.path.join(folder, shard)))
    return out


# ---- Llama family ---------------------------------------------------------------------------

def rope_inv_freq(cfg, head_dim, seq_len=0):
    base = cfg.get("rope_theta", 10000.0)
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    max_pos = cfg.get("max_position_embeddings", 2048)
    if kind == "dynamic" and seq_len > max_pos:
        # transformers' _compute_dynamic_ntk_parameters
        factor = scaling["factor"]
        base = base * ((factor * seq_len / max_pos) - (factor - 1)) ** (head_dim / (head_dim - 2))
    inv_freq = 1.0 / (base ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    if kind == "linear":
        inv_freq = inv_freq / scaling["factor"]
    elif kind == "llama3":
        factor = scaling["factor"]
        low, high = scaling["low_freq_factor"], scaling["high_freq_factor"]
        old = scaling["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / inv_freq
        inv_llama = torch.where(wavelen > low_wavelen, inv_freq / factor, inv_freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama
        medium = ~(wavelen < high_wavelen) * ~(wavelen > low_wavelen)
        inv_freq = torch.where(medium, smoothed, inv_llama)
    elif kind not in ("default", "dynamic"):
        raise SystemExit(f"reference: rope type {kind} not implemented")
    return inv_freq


def rms_norm(x, w, eps):
    dtype = x.dtype
    x = x.to(torch.float32)
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return w * x.to(dtype)


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def causal_mask(mask, T, dtype, window=None):
    """Additive [B, 1, T, T] mask like transformers' eager path (finfo.min for blocked)."""
    B = mask.shape[0]
    i = torch.arange(T).view(T, 1)
    j = torch.arange(T).view(1, T)
    allowed = j <= i
    if window is not None:
        allowed = allowed & (j > i - window)
    allowed = allowed.view(1, 1, T, T) & mask.bool().view(B, 1, 1, T)
    out = torch.zeros(B, 1, T, T, dtype=dtype)
    return out.masked_fill(~allowed, torch.finfo(dtype).min)


def llama_forward(cfg, W, ids, mask):
    model_type = cfg.get("model_type", "llama")
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads", nh)
    hd = cfg.get("head_dim") or H // nh
    eps = cfg.get("rms_norm_eps", 1e-6)
    B, T = ids.shape
    x = W["model.embed_tokens.weight"][ids]
    dtype = x.dtype
    pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
    inv = rope_inv_freq(cfg, hd, int(pos.max()) + 1)
    freqs = (inv[None, :, None].float().expand(B, -1, 1) @ pos[:, None, :].float()).transpose(1, 2)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos().to(dtype)[:, None], emb.sin().to(dtype)[:, None]
    window = None
    if model_type == "mistral":
        window = cfg.get("sliding_window")
    full_mask = causal_mask(mask, T, dtype)
    win_mask = causal_mask(mask, T, dtype, window) if window else full_mask
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)

        def proj(name, inp):
            y = inp @ W[p + name + ".weight"].T
            b = W.get(p + name + ".bias")
            return y + b if b is not None else y

        q = proj("self_attn.q_proj", h).view(B, T, nh, hd)
        k = proj("self_attn.k_proj", h).view(B, T, nkv, hd)
        v = proj("self_attn.v_proj", h).view(B, T, nkv, hd).transpose(1, 2)
        if model_type == "qwen3":
            q = rms_norm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rms_norm(k, W[p + "self_attn.k_norm.weight"], eps)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        scores = q @ k.transpose(2, 3) * hd ** -0.5 + win_mask
        attn = torch.softmax(scores, dim=-1, dtype=torch.float32).to(dtype) @ v
        attn = attn.transpose(1, 2).reshape(B, T, nh * hd)
        x = x + proj("self_attn.o_proj", attn)
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        gate = torch.nn.functional.silu(proj("mlp.gate_proj", h))
        x = x + proj("mlp.down_proj", gate * proj("mlp.up_proj", h))
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"]) if not cfg.get("tie_word_embeddings", False) else W["model.embed_tokens.weight"]
    return x @ head.T


# ---- GPT-2 -----------------------------------------------------------------------------------

def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


def gpt2_forward(cfg, W, ids, mask):
    W = {(k if k.startswith("transformer.") or k.startswith("lm_head") else "transformer." + k): v for k, v in W.items()}
    H, nh = cfg["n_embd"], cfg["n_head"]
    hd = H // nh
    eps = cfg.get("layer_norm_epsilon", 1e-5)
    B, T = ids.shape
    pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
    x = W["transformer.wte.weight"][ids] + W["transformer.wpe.weight"][pos]
    m = causal_mask(mask, T, x.dtype)

    def ln(t, name):
        return torch.nn.functional.layer_norm(t, (H,), W[name + ".weight"], W[name + ".bias"], eps)

    def conv1d(t, name):
        return torch.addmm(W[name + ".bias"], t.reshape(-1, t.shape[-1]), W[name + ".weight"]).view(*t.shape[:-1], -1)

    for i in range(cfg["n_layer"]):
        p = f"transformer.h.{i}."
        qkv = conv1d(ln(x, p + "ln_1"), p + "attn.c_attn")
        q, k, v = (t.view(B, T, nh, hd).transpose(1, 2) for t in qkv.split(H, dim=2))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + m
        attn = torch.softmax(scores, dim=-1) @ v
        x = x + conv1d(attn.transpose(1, 2).reshape(B, T, H), p + "attn.c_proj")
        h = gelu_new(conv1d(ln(x, p + "ln_2"), p + "mlp.c_fc"))
        x = x + conv1d(h, p + "mlp.c_proj")
    x = ln(x, "transformer.ln_f")
    return x @ W.get("lm_head.weight", W["transformer.wte.weight"]).T


def main():
    folder, input_path, output_path = sys.argv[1:4]
    with open(os.path.join(folder, "config.json")) as f:
        cfg = json.load(f)
    with open(input_path) as f:
        inp = json.load(f)
    ids = torch.tensor(inp["input_ids"], dtype=torch.long)
    mask = torch.tensor(inp["attention_mask"], dtype=torch.long) if inp.get("attention_mask") else torch.ones_like(ids)
    W = load_weights(folder)
    dtype = inp.get("dtype")
    if dtype:
        W = {k: v.to(getattr(torch, dtype)) if v.is_floating_point() else v for k, v in W.items()}
    with torch.no_grad():
        if cfg.get("model_type") == "gpt2":
            logits = gpt2_forward(cfg, W, ids, mask)
        else:
            logits = llama_forward(cfg, W, ids, mask)
    write_safetensors(output_path, {"logits": logits.float()})


if __name__ == "__main__":
    main()
