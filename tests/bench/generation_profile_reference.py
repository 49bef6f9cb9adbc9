#!/usr/bin/env python3
"""Operator profile of greedy KV-cache decoding in plain PyTorch (tests/bench/generation_reference.py's
loop, the generation benchmark's model shape with random weights, one thread): which libtorch operators
a decoding step spends its time in. Tunebook runs the same operators on the same libtorch, so the table
says where a step's time goes on both sides (docs/models.md, Performance).

usage: /usr/bin/python3 tests/bench/generation_profile_reference.py [--rows N]
"""
import argparse
import os
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, os.path.dirname(__file__))
import generation_reference as loop  # noqa: E402

# tests/Tunebook.Bench/GenerationBenchmark.cs's model.
CONFIG = {"hidden_size": 256, "num_attention_heads": 8, "num_key_value_heads": 4, "intermediate_size": 688,
          "num_hidden_layers": 4, "vocab_size": 4096, "rms_norm_eps": 1e-6, "rope_theta": 10000.0}


def random_weights(cfg):
    torch.manual_seed(0)
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    kv = H // cfg["num_attention_heads"] * cfg["num_key_value_heads"]
    W = {"model.embed_tokens.weight": torch.randn(V, H) * 0.02, "model.norm.weight": torch.ones(H)}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = torch.ones(H)
        W[p + "post_attention_layernorm.weight"] = torch.ones(H)
        for name, shape in [("self_attn.q_proj", (H, H)), ("self_attn.k_proj", (kv, H)), ("self_attn.v_proj", (kv, H)),
                            ("self_attn.o_proj", (H, H)), ("mlp.gate_proj", (I, H)), ("mlp.up_proj", (I, H)),
                            ("mlp.down_proj", (H, I))]:
            W[p + name + ".weight"] = torch.randn(*shape) * 0.02
    return W


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    W = random_weights(CONFIG)
    prompt = [(i * 37 + 11) % 4096 for i in range(loop.PROMPT)]
    with torch.no_grad():
        loop.generate(CONFIG, W, prompt, True, 8)
        start = time.perf_counter()
        loop.generate(CONFIG, W, prompt, True, loop.NEW)
        print(f"ms per new token (prompt included): {(time.perf_counter() - start) / loop.NEW * 1000:.2f}")
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            loop.generate(CONFIG, W, prompt, True, loop.NEW)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=args.rows))


if __name__ == "__main__":
    main()
