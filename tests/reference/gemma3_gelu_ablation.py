#!/usr/bin/env python3
"""Where Gemma 3 differs from llama.cpp: a diagnostic, not a test.

Writes random tiny Gemma 3 models as GGUF with llama.cpp's own gguf-py, runs them through
llamacpp_eval.mjs (the same settings as the tests: float32 KV cache, no flash attention), and compares
llama.cpp's next-token probabilities with a plain-PyTorch forward pass in transformers' order of
operations, optionally computing GELU as llama.cpp's CPU GeGLU does (its float16 table).
Then, for the worst prompt, it looks for table inputs near a float16 rounding midpoint whose other
rounding explains the remaining difference.

usage (Debian's python3 with python3-torch and numpy; gguf-py from the llama.cpp that node-llama-cpp ships):
  git clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle /tmp/llamasrc
  /usr/bin/python3 gemma3_gelu_ablation.py /tmp/llamasrc/gguf-py '{"layers": 6, "seed": 5}'
config keys (defaults): vocab 4096, hidden 64, inter 96, layers 6, heads 4, kv 2, hd 32, window 8 (0: none),
seed 11, norm_noise 0.2 (as GgufNewArchitectureParityTests: initializer_range 0.2, norms 0.2·N(0,1)).
"""
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def make_model(cfg):
    g = torch.Generator().manual_seed(cfg["seed"])
    H, I, V = cfg["hidden"], cfg["inter"], cfg["vocab"]
    nh, nkv, hd = cfg["heads"], cfg["kv"], cfg["hd"]
    rn = lambda *s: torch.randn(*s, generator=g) * 0.2
    nz = lambda n: torch.randn(n, generator=g) * cfg["norm_noise"]
    W = {"embed": rn(V, H), "norm": nz(H)}
    for i in range(cfg["layers"]):
        W[i] = dict(q=rn(nh * hd, H), k=rn(nkv * hd, H), v=rn(nkv * hd, H), o=rn(H, nh * hd),
                    gate=rn(I, H), up=rn(I, H), down=rn(H, I),
                    n_in=nz(H), n_pa=nz(H), n_pf=nz(H), n_pff=nz(H), qn=nz(hd), kn=nz(hd))
    return W


def write_gguf(gguf, path, W, cfg):
    w = gguf.GGUFWriter(path, "gemma3")
    w.add_context_length(1024); w.add_embedding_length(cfg["hidden"]); w.add_block_count(cfg["layers"])
    w.add_feed_forward_length(cfg["inter"]); w.add_head_count(cfg["heads"]); w.add_head_count_kv(cfg["kv"])
    w.add_layer_norm_rms_eps(1e-5); w.add_key_length(cfg["hd"]); w.add_value_length(cfg["hd"])
    w.add_rope_freq_base(1e6); w.add_rope_dimension_count(cfg["hd"])
    if cfg["window"]:
        w.add_sliding_window(cfg["window"])
    V = cfg["vocab"]
    toks = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    toks += [f"\u2581t{i}" for i in range(V - len(toks))]
    w.add_tokenizer_model("llama"); w.add_token_list(toks); w.add_token_scores([0.0] * V)
    w.add_token_types([2, 3, 3] + [6] * 256 + [1] * (V - 259))
    w.add_bos_token_id(1); w.add_eos_token_id(2); w.add_unk_token_id(0)
    f = lambda t: t.contiguous().numpy().astype(np.float32)
    w.add_tensor("token_embd.weight", f(W["embed"]))
    w.add_tensor("output_norm.weight", f(W["norm"] + 1))  # llama.cpp multiplies by the stored weight
    for i in range(cfg["layers"]):
        l, p = W[i], f"blk.{i}."
        for n, k in [("attn_q", "q"), ("attn_k", "k"), ("attn_v", "v"), ("attn_output", "o"),
                     ("ffn_gate", "gate"), ("ffn_up", "up"), ("ffn_down", "down")]:
            w.add_tensor(p + n + ".weight", f(l[k]))
        for n, k in [("attn_norm", "n_in"), ("post_attention_norm", "n_pa"), ("ffn_norm", "n_pf"),
                     ("post_ffw_norm", "n_pff"), ("attn_q_norm", "qn"), ("attn_k_norm", "kn")]:
            w.add_tensor(p + n + ".weight", f(l[k] + 1))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()


def llama(path, V, prompts):
    req = {"model": path, "vocabulary": V, "contextSize": 256, "probabilities": prompts}
    r = subprocess.run(["node", "llamacpp_eval.mjs"], input=json.dumps(req).encode(), capture_output=True, cwd=HERE)
    if r.returncode:
        sys.exit(r.stderr.decode()[-2000:])
    return [np.array(p) for p in json.loads(r.stdout)["probabilities"]]


def f16_other(x):
    """x rounded to float16, the float16 neighbour on x's other side, and x's relative distance to their midpoint."""
    h = x.half().float()
    _, e = torch.frexp(h.abs().clamp_min(2.0 ** -14))
    ulp = torch.pow(2.0, (e - 11).float())
    other = torch.where(x.abs() > h.abs(), h + ulp * torch.sign(x), h - ulp * torch.sign(x))
    return h, other, ((x - (h + other) / 2).abs() / x.abs().clamp_min(1e-30))


def ggml_gelu(x):
    # as the prebuilt binary evaluates ggml_gelu_f32 (one fused multiply-add; here in float64, then rounded,
    # which equals the fused result except in rare double-rounding cases)
    inner = (x.double() * (x * 0.044715).double() + 1.0).float()
    return (0.5 * x) * (1.0 + torch.tanh((0.7978845608028654 * x) * inner))


class Gelu:
    """GELU per layer: exact (transformers) or llama.cpp's table; records inputs; can round chosen inputs the other way."""

    def __init__(self, table):
        self.table, self.flips, self.seen, self.layer = table, set(), [], 0

    def __call__(self, x):
        li, self.layer = self.layer, self.layer + 1
        self.seen.append(x.clone())
        if not self.table:
            return torch.nn.functional.gelu(x, approximate="tanh")
        h, other, _ = f16_other(x)
        for (l, t, j) in self.flips:
            if l == li:
                h[t, j] = other[t, j]
        r = ggml_gelu(h).half().float()
        return torch.where(x >= 10, x, torch.where(x <= -10, torch.zeros_like(x), r))


def norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * (1.0 + w)


def rope(base, hd, T):
    inv = 1.0 / (base ** (torch.arange(0, hd, 2, dtype=torch.int64).float() / hd))
    ang = torch.arange(T).float()[:, None] * inv[None, :]
    emb = torch.cat((ang, ang), -1)
    return emb.cos(), emb.sin()


def rot_half(x):
    a, b = x.chunk(2, -1)
    return torch.cat((-b, a), -1)


def forward(W, cfg, ids, gelu):
    H, nh, nkv, hd, win = cfg["hidden"], cfg["heads"], cfg["kv"], cfg["hd"], cfg["window"]
    T = len(ids)
    gelu.layer, gelu.seen = 0, []
    x = W["embed"][torch.tensor(ids)] * math.sqrt(H)
    gc, gs = rope(1e6, hd, T)
    lc, ls = rope(1e4, hd, T)
    i = torch.arange(T)
    causal = i[None, :] <= i[:, None]
    window = causal & (i[:, None] - i[None, :] < (win or 10 ** 9))
    for li in range(cfg["layers"]):
        l = W[li]
        sliding = bool(win) and li % 6 < 5  # llama.cpp's gemma3: five local layers, then a global one
        c, s = (lc, ls) if sliding else (gc, gs)
        h = norm(x, l["n_in"])
        q = norm((h @ l["q"].T).view(T, nh, hd), l["qn"]).transpose(0, 1)
        k = norm((h @ l["k"].T).view(T, nkv, hd), l["kn"]).transpose(0, 1)
        v = (h @ l["v"].T).view(T, nkv, hd).transpose(0, 1)
        q, k = q * c + rot_half(q) * s, k * c + rot_half(k) * s
        k, v = k.repeat_interleave(nh // nkv, 0), v.repeat_interleave(nh // nkv, 0)
        scores = (q @ k.transpose(1, 2) * hd ** -0.5).masked_fill(~(window if sliding else causal), float("-inf"))
        a = (torch.softmax(scores, -1) @ v).transpose(0, 1).reshape(T, nh * hd) @ l["o"].T
        x = x + norm(a, l["n_pa"])
        h = norm(x, l["n_pf"])
        x = x + norm((gelu(h @ l["gate"].T) * (h @ l["up"].T)) @ l["down"].T, l["n_pff"])
    return torch.softmax((norm(x, W["norm"]) @ W["embed"].T).double(), -1).numpy()


def main():
    sys.path.insert(0, sys.argv[1])
    import gguf
    cfg = dict(vocab=4096, hidden=64, inter=96, layers=6, heads=4, kv=2, hd=32, window=8, seed=11, norm_noise=0.2)
    cfg.update(json.loads(sys.argv[2]) if len(sys.argv) > 2 else {})
    W = make_model(cfg)
    rng = np.random.default_rng(3)
    prompts = [rng.integers(259, cfg["vocab"], n).tolist() for n in (24, 31, 40)]
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "gemma3.gguf")
        write_gguf(gguf, path, W, cfg)
        theirs = llama(path, cfg["vocab"], prompts)
    maxdiff = lambda P, j: np.abs(P - theirs[j]).max(-1)
    torch.set_grad_enabled(False)
    print(json.dumps(cfg))
    for name, table in (("exact GELU", False), ("llama.cpp's float16 table", True)):
        g = Gelu(table)
        per = [maxdiff(forward(W, cfg, p, g), j) for j, p in enumerate(prompts)]
        print(f"  {name}: max |dp| {max(d.max() for d in per):.2e}")
    # The worst prompt with the table: which single inputs near a float16 rounding midpoint explain the rest?
    g = Gelu(True)
    per = [maxdiff(forward(W, cfg, p, g), j).max() for j, p in enumerate(prompts)]
    j = int(np.argmax(per))
    forward(W, cfg, prompts[j], g)
    cands = [(l, t, u) for l, x in enumerate(g.seen) for t, u in zip(*torch.nonzero((f16_other(x)[2] < 2 ** -18) & (x.abs() < 10), as_tuple=True))]
    cands = [(l, int(t), int(u)) for l, t, u in cands]
    current = per[j]
    print(f"  worst prompt {j}: {current:.2e}; {len(cands)} table inputs within 2^-18 of a float16 rounding midpoint")
    for _ in range(4):
        best = None
        for c in cands:
            if c in g.flips:
                continue
            g.flips.add(c)
            d = maxdiff(forward(W, cfg, prompts[j], g), j).max()
            g.flips.discard(c)
            if best is None or d < best[0]:
                best = (d, c)
        if best is None or best[0] > current / 2:
            break
        g.flips.add(best[1])
        current = best[0]
        print(f"  input (layer {best[1][0]}, position {best[1][1]}, unit {best[1][2]}) rounded the other way: {current:.2e}")


if __name__ == "__main__":
    main()
