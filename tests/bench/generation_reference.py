#!/usr/bin/env python3
"""Greedy generation in plain PyTorch for the model tests/Tunebook.Bench wrote (the same loop as
Tunebook's Generator): with a KV cache and with full recomputation each step. Prints JSON lines.

usage: generation_reference.py MODEL_DIR [--prefix METRIC_PREFIX] [--new TOKENS] [--cache-only]
"""
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tunebook.Models.Tests", "reference"))
import hf_reference as ref  # noqa: E402

PROMPT, NEW = 32, 64


def cached_forward(cfg, W, ids, cache, past):
    """Llama forward over new tokens ids [1, T] at positions past..past+T-1, extending cache."""
    H, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads", nh)
    hd = H // nh
    eps = cfg["rms_norm_eps"]
    T = ids.shape[1]
    x = W["model.embed_tokens.weight"][ids]
    pos = torch.arange(past, past + T)[None]
    inv = ref.rope_inv_freq(cfg, hd)
    freqs = pos[..., None].float() * inv
    emb = torch.cat((freqs, freqs), -1)
    cos, sin = emb.cos()[:, None], emb.sin()[:, None]
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        h = ref.rms_norm(x, W[p + "input_layernorm.weight"], eps)
        q = (h @ W[p + "self_attn.q_proj.weight"].T).view(1, T, nh, hd).transpose(1, 2)
        k = (h @ W[p + "self_attn.k_proj.weight"].T).view(1, T, nkv, hd).transpose(1, 2)
        v = (h @ W[p + "self_attn.v_proj.weight"].T).view(1, T, nkv, hd).transpose(1, 2)
        q = q * cos + ref.rotate_half(q) * sin
        k = k * cos + ref.rotate_half(k) * sin
        if i in cache:
            k = torch.cat([cache[i][0], k], 2)
            v = torch.cat([cache[i][1], v], 2)
        cache[i] = (k, v)
        k = k.repeat_interleave(nh // nkv, 1)
        v = v.repeat_interleave(nh // nkv, 1)
        scores = q @ k.transpose(2, 3) * hd ** -0.5
        if T > 1:
            S = k.shape[2]
            blocked = torch.ones(T, S, dtype=torch.bool).triu(S - T + 1)
            scores = scores.masked_fill(blocked, float("-inf"))
        a = scores.softmax(-1) @ v
        x = x + a.transpose(1, 2).reshape(1, T, H) @ W[p + "self_attn.o_proj.weight"].T
        h = ref.rms_norm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = torch.nn.functional.silu(h @ W[p + "mlp.gate_proj.weight"].T) * (h @ W[p + "mlp.up_proj.weight"].T)
        x = x + g @ W[p + "mlp.down_proj.weight"].T
    x = ref.rms_norm(x, W["model.norm.weight"], eps)
    return x @ W["model.embed_tokens.weight"].T


def generate(cfg, W, prompt, use_cache, new=NEW):
    ids = torch.tensor([prompt])
    out, cache, past = [], {}, 0
    for _ in range(new):
        if use_cache:
            step = ids if past == 0 else ids[:, -1:]
            logits = cached_forward(cfg, W, step, cache, past)
            past += step.shape[1]
        else:
            logits = ref.llama_forward(cfg, W, ids, torch.ones_like(ids))
        token = int(logits[0, -1].argmax())
        out.append(token)
        ids = torch.cat([ids, torch.tensor([[token]])], 1)
    return out


def main():
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--prefix", default="")
    parser.add_argument("--new", type=int, default=NEW)
    parser.add_argument("--cache-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    with open(os.path.join(args.folder, "config.json")) as f:
        cfg = json.load(f)
    W = ref.load_weights(args.folder)
    prompt = [(i * 37 + 11) % 4096 for i in range(PROMPT)]
    with torch.no_grad():
        for use_cache in ((True,) if args.cache_only else (True, False)):
            generate(cfg, W, prompt[:8], use_cache, 4)  # warm-up
            runs, tokens = [], None
            for _ in range(3):
                t0 = time.perf_counter()
                tokens = generate(cfg, W, prompt, use_cache, args.new)
                runs.append(args.new / (time.perf_counter() - t0))
            runs.sort()
            metric = args.prefix + ("greedy_tokens_per_s_kv_cache" if use_cache else "greedy_tokens_per_s_no_cache")
            print(json.dumps({"impl": "pytorch", "metric": metric, "value": round(runs[1], 2), "unit": "tok/s",
                              "threads": torch.get_num_threads(), "tokens_head": tokens[:8]}))


if __name__ == "__main__":
    main()
