"""Reference results for Tunebook.Torch parity tests, computed by PyTorch on the same libtorch.

Usage: torch_ops_reference.py <folder>
Reads <folder>/inputs.json (name -> dtype, shape) with raw little-endian <name>.bin files, runs every
case below whose inputs exist, and writes <name>.bin files plus <folder>/outputs.json.
Each case is written independently of the C# implementation (plain PyTorch, or the formula itself).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

folder = sys.argv[1]
torch.set_num_threads(1)
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16, "bfloat16": torch.bfloat16,
          "int64": torch.int64, "int32": torch.int32, "uint8": torch.uint8, "bool": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}

with open(os.path.join(folder, "inputs.json")) as f:
    manifest = json.load(f)

def load(name):
    spec = manifest[name]
    with open(os.path.join(folder, name + ".bin"), "rb") as f:
        data = bytearray(f.read())
    dtype = DTYPES[spec["dtype"]]
    if len(data) == 0:
        return torch.empty(spec["shape"], dtype=dtype)
    return torch.frombuffer(data, dtype=dtype).reshape(spec["shape"]).clone()

I = {name: load(name) for name in manifest}
outputs = {}

def out(name, t):
    t = t.detach().contiguous()
    with open(os.path.join(folder, name + ".bin"), "wb") as f:
        f.write(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes())
    outputs[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape)}

def causal_attention(q, k, v):
    L, S = q.shape[-2], k.shape[-2]
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    mask = torch.ones(L, S, dtype=torch.bool).tril()
    scores = scores.masked_fill(~mask, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v

# ---- ops -----------------------------------------------------------------------------------------
out("matmul", I["a"] @ I["b"])
out("matmul_bf16", I["a"].bfloat16() @ I["b"].bfloat16())
out("bmm", torch.bmm(I["ba"], I["bb"]))
out("linear", F.linear(I["x"], I["w"], I["bias"]))
out("softmax", torch.softmax(I["logits"], dim=-1))
out("log_softmax", torch.log_softmax(I["logits"], dim=-1))
out("logsumexp", torch.logsumexp(I["logits"], dim=-1))
out("cross_entropy", F.cross_entropy(I["logits"], I["targets"], ignore_index=-100))
out("cross_entropy_sum", F.cross_entropy(I["logits"], I["targets"], ignore_index=-100, reduction="sum"))
out("cross_entropy_smooth", F.cross_entropy(I["logits"], I["targets"], ignore_index=-100, label_smoothing=0.1))
out("layer_norm", F.layer_norm(I["x"], [I["x"].shape[-1]], I["ln_w"], I["ln_b"], 1e-5))
xf = I["x"].float()
out("rms_norm", I["ln_w"] * (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + 1e-6)))
out("silu", F.silu(I["x"]))
out("gelu", F.gelu(I["x"]))
out("gelu_tanh", F.gelu(I["x"], approximate="tanh"))
out("embedding", F.embedding(I["ids"], I["table"]))
out("norm", torch.norm(I["x"]))
out("sdpa_causal", causal_attention(I["q"], I["k"], I["v"]))
out("triu_masked", I["logits"].masked_fill(torch.ones_like(I["logits"], dtype=torch.bool).triu(1), -1e9))
out("where", torch.where(I["x"] > 0, I["x"], I["x"] * 0.1))
out("max_dim_values", I["logits"].max(dim=-1).values)
out("argmax", I["logits"].argmax(dim=-1))
out("gather", I["logits"].gather(1, I["gather_idx"]))
out("cumsum", I["x"].cumsum(0))

# ---- optimizers: three steps with fixed gradients ----------------------------------------------
def run_optimizer(make):
    p = torch.nn.Parameter(I["opt_param"].clone())
    opt = make([p])
    for g in (I["opt_grad0"], I["opt_grad1"], I["opt_grad2"]):
        p.grad = g.clone()
        opt.step()
    return p.detach()

out("adamw", run_optimizer(lambda ps: torch.optim.AdamW(ps, lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)))
out("adamw_amsgrad", run_optimizer(lambda ps: torch.optim.AdamW(ps, lr=1e-2, weight_decay=0.01, amsgrad=True)))
out("sgd_momentum", run_optimizer(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01)))
out("sgd_nesterov", run_optimizer(lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True)))

ps = [torch.nn.Parameter(torch.zeros_like(I["clip_g0"])), torch.nn.Parameter(torch.zeros_like(I["clip_g1"]))]
ps[0].grad = I["clip_g0"].clone()
ps[1].grad = I["clip_g1"].clone()
total = torch.nn.utils.clip_grad_norm_(ps, 1.0)
out("clip_total", total.reshape(1))
out("clip_g0", ps[0].grad)
out("clip_g1", ps[1].grad)

with open(os.path.join(folder, "outputs.json"), "w") as f:
    json.dump(outputs, f)
