#!/usr/bin/env python3
"""Reference forward passes of Hugging Face Llama-family and GPT-2 models in plain PyTorch.

transformers is not available here, so this file re-implements the parts of
modeling_llama.py / modeling_mistral.py / modeling_qwen2.py / modeling_qwen3.py / modeling_gpt2.py /
modeling_gemma3.py / modeling_phi3.py / modeling_smollm3.py
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
    n_layers = cfg["num_hidden_layers"]
    uses_rope = [True] * n_layers
    windowed = [True] * n_layers
    if model_type == "smollm3":
        # SmolLM3Config: no_rope_layers[i] == 0 means no RoPE on layer i; sliding only with use_sliding_window
        interval = cfg.get("no_rope_layer_interval", 4)
        nope = cfg.get("no_rope_layers") or [int((i + 1) % interval != 0) for i in range(n_layers)]
        uses_rope = [bool(x) for x in nope]
        if cfg.get("use_sliding_window") and cfg.get("sliding_window") is not None:
            window = cfg["sliding_window"]
            types = cfg.get("layer_types") or ["sliding_attention" if not r else "full_attention" for r in uses_rope]
            windowed = [t == "sliding_attention" for t in types]
    full_mask = causal_mask(mask, T, dtype)
    win_mask = causal_mask(mask, T, dtype, window) if window else full_mask
    for i in range(n_layers):
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
        if uses_rope[i]:
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        scores = q @ k.transpose(2, 3) * hd ** -0.5 + (win_mask if windowed[i] else full_mask)
        attn = torch.softmax(scores, dim=-1, dtype=torch.float32).to(dtype) @ v
        attn = attn.transpose(1, 2).reshape(B, T, nh * hd)
        x = x + proj("self_attn.o_proj", attn)
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        gate = torch.nn.functional.silu(proj("mlp.gate_proj", h))
        x = x + proj("mlp.down_proj", gate * proj("mlp.up_proj", h))
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W.get("lm_head.weight", W["model.embed_tokens.weight"]) if not cfg.get("tie_word_embeddings", False) else W["model.embed_tokens.weight"]
    return x @ head.T


# ---- rotary helpers shared by Gemma 3 and Phi-3 -----------------------------------------------

def cos_sin(inv, pos, dtype, scaling=1.0):
    freqs = pos[:, :, None].float() * inv[None, None, :].float()
    emb = torch.cat((freqs, freqs), dim=-1)
    return (emb.cos() * scaling).to(dtype)[:, None], (emb.sin() * scaling).to(dtype)[:, None]


def apply_rope(x, cos, sin):
    """Rotates the first cos.shape[-1] channels (partial rotary), passes the rest."""
    rd = cos.shape[-1]
    xr, xp = x[..., :rd], x[..., rd:]
    return torch.cat((xr * cos + rotate_half(xr) * sin, xp), dim=-1)


def attend(q, k, v, m, scale, nh, nkv, softcap=None):
    k = k.repeat_interleave(nh // nkv, dim=1)
    v = v.repeat_interleave(nh // nkv, dim=1)
    scores = q @ k.transpose(2, 3) * scale
    if softcap is not None:
        scores = torch.tanh(scores / softcap) * softcap
    scores = scores + m
    return torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype) @ v


# ---- Gemma 3 (text) ----------------------------------------------------------------------------

def gemma_norm(x, w, eps):
    xf = x.float()
    out = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    return (out * (1.0 + w.float())).type_as(x)


def gemma3_forward(cfg, W, ids, mask):
    H = cfg.get("hidden_size", 2304)
    nh = cfg.get("num_attention_heads", 8)
    nkv = cfg.get("num_key_value_heads", 4)
    hd = cfg.get("head_dim", 256)
    eps = cfg.get("rms_norm_eps", 1e-6)
    n_layers = cfg.get("num_hidden_layers", 26)
    B, T = ids.shape
    emb_w = W["model.embed_tokens.weight"]
    dtype = emb_w.dtype
    x = emb_w[ids] * torch.tensor(H ** 0.5).to(dtype)
    pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
    gcfg = dict(cfg, rope_theta=cfg.get("rope_theta", 1000000.0))
    g_cos, g_sin = cos_sin(rope_inv_freq(gcfg, hd, int(pos.max()) + 1), pos, dtype)
    lcfg = {"rope_theta": cfg.get("rope_local_base_freq", 10000.0)}
    l_cos, l_sin = cos_sin(rope_inv_freq(lcfg, hd), pos, dtype)
    pattern = cfg.get("sliding_window_pattern", 6)
    types = cfg.get("layer_types") or ["sliding_attention" if (i + 1) % pattern else "full_attention" for i in range(n_layers)]
    full_mask = causal_mask(mask, T, dtype)
    win_mask = causal_mask(mask, T, dtype, cfg.get("sliding_window", 4096))
    scale = cfg.get("query_pre_attn_scalar", 256) ** -0.5
    for i in range(n_layers):
        p = f"model.layers.{i}."
        sliding = types[i] == "sliding_attention"
        cos, sin = (l_cos, l_sin) if sliding else (g_cos, g_sin)

        def proj(name, inp):
            y = inp @ W[p + name + ".weight"].T
            b = W.get(p + name + ".bias")
            return y + b if b is not None else y

        h = gemma_norm(x, W[p + "input_layernorm.weight"], eps)
        q = gemma_norm(proj("self_attn.q_proj", h).view(B, T, nh, hd), W[p + "self_attn.q_norm.weight"], eps).transpose(1, 2)
        k = gemma_norm(proj("self_attn.k_proj", h).view(B, T, nkv, hd), W[p + "self_attn.k_norm.weight"], eps).transpose(1, 2)
        v = proj("self_attn.v_proj", h).view(B, T, nkv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        a = attend(q, k, v, win_mask if sliding else full_mask, scale, nh, nkv, cfg.get("attn_logit_softcapping"))
        a = proj("self_attn.o_proj", a.transpose(1, 2).reshape(B, T, nh * hd))
        x = x + gemma_norm(a, W[p + "post_attention_layernorm.weight"], eps)
        h = gemma_norm(x, W[p + "pre_feedforward_layernorm.weight"], eps)
        act = cfg.get("hidden_activation", "gelu_pytorch_tanh")
        gate = torch.nn.functional.gelu(proj("mlp.gate_proj", h), approximate="none" if act == "gelu" else "tanh")
        m = proj("mlp.down_proj", gate * proj("mlp.up_proj", h))
        x = x + gemma_norm(m, W[p + "post_feedforward_layernorm.weight"], eps)
    x = gemma_norm(x, W["model.norm.weight"], eps)
    head = emb_w if cfg.get("tie_word_embeddings", True) else W["lm_head.weight"]
    logits = x @ head.T
    cap = cfg.get("final_logit_softcapping")
    if cap is not None:
        logits = torch.tanh(logits / cap) * cap
    return logits


# ---- Phi-3 / Phi-4-mini ------------------------------------------------------------------------

def phi3_rope(cfg, head_dim, seq_len):
    """transformers' default / longrope parameters: (inv_freq, attention_scaling)."""
    base = cfg.get("rope_theta", 10000.0)
    dim = int(head_dim * cfg.get("partial_rotary_factor", 1.0))
    scaling = cfg.get("rope_scaling") or {}
    kind = scaling.get("rope_type", scaling.get("type", "default"))
    shape = torch.arange(0, dim, 2, dtype=torch.int64).float() / dim
    if kind == "default":
        return 1.0 / (base ** shape), 1.0
    assert kind == "longrope", kind
    max_pos = cfg["max_position_embeddings"]
    if "original_max_position_embeddings" in cfg:
        orig = cfg["original_max_position_embeddings"]
        factor = max_pos / orig
    else:
        orig = max_pos
        factor = scaling.get("factor")
    attn = scaling.get("attention_factor")
    if attn is None:
        attn = 1.0 if factor <= 1.0 else math.sqrt(1 + math.log(factor) / math.log(orig))
    ext = torch.tensor(scaling["long_factor"] if seq_len > orig else scaling["short_factor"], dtype=torch.float32)
    return 1.0 / (ext * base ** shape), attn


def phi3_forward(cfg, W, ids, mask):
    H = cfg["hidden_size"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    hd = cfg.get("head_dim") or H // nh
    ff = cfg["intermediate_size"]
    eps = cfg.get("rms_norm_eps", 1e-5)
    B, T = ids.shape
    x = W["model.embed_tokens.weight"][ids]
    dtype = x.dtype
    pos = (mask.long().cumsum(-1) - 1).masked_fill(mask == 0, 1)
    inv, attn_scale = phi3_rope(cfg, hd, int(pos.max()) + 1)
    cos, sin = cos_sin(inv, pos, dtype, attn_scale)
    m = causal_mask(mask, T, dtype, cfg.get("sliding_window"))
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = rms_norm(x, W[p + "input_layernorm.weight"], eps)
        qkv = h @ W[p + "self_attn.qkv_proj.weight"].T
        q = qkv[..., : nh * hd].view(B, T, nh, hd).transpose(1, 2)
        k = qkv[..., nh * hd: nh * hd + nkv * hd].view(B, T, nkv, hd).transpose(1, 2)
        v = qkv[..., nh * hd + nkv * hd:].view(B, T, nkv, hd).transpose(1, 2)
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        a = attend(q, k, v, m, hd ** -0.5, nh, nkv)
        x = x + a.transpose(1, 2).reshape(B, T, nh * hd) @ W[p + "self_attn.o_proj.weight"].T
        h = rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        gate, up = (h @ W[p + "mlp.gate_up_proj.weight"].T).chunk(2, dim=-1)
        x = x + (up * torch.nn.functional.silu(gate)) @ W[p + "mlp.down_proj.weight"].T
    x = rms_norm(x, W["model.norm.weight"], eps)
    head = W["model.embed_tokens.weight"] if cfg.get("tie_word_embeddings", False) else W["lm_head.weight"]
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
        elif cfg.get("model_type") == "gemma3_text":
            logits = gemma3_forward(cfg, W, ids, mask)
        elif cfg.get("model_type") == "phi3":
            logits = phi3_forward(cfg, W, ids, mask)
        else:
            logits = llama_forward(cfg, W, ids, mask)
    write_safetensors(output_path, {"logits": logits.float()})


if __name__ == "__main__":
    main()
