"""The same training loop as training_bench.cs, written in plain PyTorch (Debian's python3-torch).

Usage: /usr/bin/python3 training_reference.py SPEC.json MODE [DTYPE]
       MODE: lora | qlora | full; DTYPE: float32 | bfloat16 (default: the spec's compute_dtype, else float32)

A Llama-style model as Hugging Face's LlamaForCausalLM computes it (RMSNorm, rotary positions,
grouped-query attention, SwiGLU), LoRA on the spec's targets (PEFT's formulation), QLoRA with the base
linear weights stored as NF4 with double-quantized scales and dequantized in forward (bitsandbytes'
layout, computed with torch ops on CPU), AdamW, cross-entropy with the shift, random token ids; one JSON
line with the same fields as the C# side.

bfloat16 is mixed precision as the Tunebook trainer does it: every frozen weight (embeddings, norms, base
linears, lm_head) is cast to bfloat16, the LoRA adapters stay float32 (the optimizer's master weights) and
are cast to bfloat16 in forward, so activations and products are bfloat16; the loss is taken in float32.
(Not torch.autocast: autocast keeps the weights float32 and casts them again at every product.)
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

# libtorch defaults to half the cores on x86; the C# side uses all of them, so match it.
torch.set_num_threads(__import__("os").cpu_count())


class RMSNorm(torch.nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        v = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(v + self.eps))


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class Attention(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        h, self.heads, self.kv = c["hidden_size"], c["num_attention_heads"], c["num_key_value_heads"]
        self.dim = h // self.heads
        self.q_proj = torch.nn.Linear(h, self.heads * self.dim, bias=False)
        self.k_proj = torch.nn.Linear(h, self.kv * self.dim, bias=False)
        self.v_proj = torch.nn.Linear(h, self.kv * self.dim, bias=False)
        self.o_proj = torch.nn.Linear(self.heads * self.dim, h, bias=False)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.heads, self.dim).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv, self.dim).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv, self.dim).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        groups = self.heads // self.kv
        k, v = k.repeat_interleave(groups, 1), v.repeat_interleave(groups, 1)
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.dim) + mask
        out = scores.softmax(-1) @ v
        return self.o_proj(out.transpose(1, 2).reshape(b, t, -1))


class MLP(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = torch.nn.Linear(h, i, bias=False)
        self.up_proj = torch.nn.Linear(h, i, bias=False)
        self.down_proj = torch.nn.Linear(i, h, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, mask):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, mask)
        return x + self.mlp(self.post_attention_layernorm(x))


class Llama(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = torch.nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = torch.nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.lm_head = torch.nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        for name, p in self.named_parameters():
            if "norm" not in name:
                torch.nn.init.normal_(p, 0, 0.02)
        if c.get("tie_word_embeddings"):
            self.lm_head.weight = self.embed_tokens.weight

    def forward(self, ids):
        t = ids.shape[1]
        dim = self.c["hidden_size"] // self.c["num_attention_heads"]
        inv = 1.0 / (self.c["rope_theta"] ** (torch.arange(0, dim, 2).float() / dim))
        freqs = torch.outer(torch.arange(t).float(), inv)
        emb = torch.cat((freqs, freqs), -1)
        cos, sin = emb.cos(), emb.sin()
        mask = torch.full((t, t), float("-inf")).triu(1)
        x = self.embed_tokens(ids)
        cos, sin, mask = cos.to(x.dtype), sin.to(x.dtype), mask.to(x.dtype)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        return self.lm_head(self.norm(x))


# ---- NF4 (bitsandbytes layout: blocks of 64, absmax double-quantized in blocks of 256) ----------------

NF4 = torch.tensor([-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635,
                    -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725,
                    0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941,
                    0.7229568362236023, 1.0])


def dynamic_map():
    data = []
    for i in range(7):
        b = torch.linspace(0.1, 1, 2 ** i + 1)
        means = ((b[:-1] + b[1:]) / 2.0) * 10 ** (i - 6)
        data += means.tolist() + (-means).tolist()
    return torch.tensor(sorted(data + [0.0, 1.0]))


DYNAMIC = dynamic_map()


def nearest(x, table):
    return torch.cat([(c[:, None] - table[None, :]).abs().argmin(1) for c in x.split(1 << 18)]).to(torch.uint8)


class Nf4Linear(torch.nn.Module):
    def __init__(self, linear):
        super().__init__()
        w = linear.weight.detach().float()
        self.shape = w.shape
        flat = w.reshape(-1)
        n = flat.numel()
        self.n = n
        pad = (-n) % 64
        blocks = F.pad(flat, (0, pad)).view(-1, 64)
        absmax = blocks.abs().amax(1)
        codes = nearest((blocks / absmax.clamp_min(1e-12)[:, None]).reshape(-1), NF4).view(-1, 64)
        self.packed = (codes[:, 0::2] << 4) | codes[:, 1::2]
        self.offset = absmax.mean()
        centered = absmax - self.offset
        pad2 = (-centered.numel()) % 256
        groups = F.pad(centered, (0, pad2)).view(-1, 256)
        self.scale2 = groups.abs().amax(1)
        self.codes2 = nearest((groups / self.scale2.clamp_min(1e-12)[:, None]).reshape(-1), DYNAMIC)[:absmax.numel()]
        self.blocks = absmax.numel()

    def forward(self, x):
        with torch.no_grad():
            absmax = DYNAMIC[self.codes2.long()] * self.scale2.repeat_interleave(256)[: self.blocks] + self.offset
            codes = torch.stack([self.packed >> 4, self.packed & 15], -1).reshape(-1).long()
            w = (NF4[codes].view(-1, 64) * absmax[:, None]).reshape(-1)[: self.n].view(self.shape).to(x.dtype)
        return F.linear(x, w)


class LoraLinear(torch.nn.Module):
    def __init__(self, base, r, alpha, dropout):
        super().__init__()
        self.base_layer = base
        for p in base.parameters():
            p.requires_grad_(False)
        in_f, out_f = (base.shape[1], base.shape[0]) if isinstance(base, Nf4Linear) else (base.in_features, base.out_features)
        self.lora_A = torch.nn.Linear(in_f, r, bias=False)
        self.lora_B = torch.nn.Linear(r, out_f, bias=False)
        torch.nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        torch.nn.init.zeros_(self.lora_B.weight)
        self.scaling = alpha / r
        self.dropout = torch.nn.Dropout(dropout) if dropout > 0 else torch.nn.Identity()

    def forward(self, x):
        # Float32 adapters cast to the activations' dtype (a no-op in float32); the cast's backward hands
        # float32 gradients to the optimizer.
        a, b = self.lora_A.weight.to(x.dtype), self.lora_B.weight.to(x.dtype)
        return self.base_layer(x) + F.linear(F.linear(self.dropout(x), a), b) * self.scaling


def main():
    spec = json.load(open(sys.argv[1]))
    mode = sys.argv[2]
    c, t, l = spec["model"], spec["train"], spec["lora"]
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}[
        sys.argv[3] if len(sys.argv) > 3 else t.get("compute_dtype", "float32")]
    targets = l["targets"]  # a list of module names, or "all-linear" (every linear layer but lm_head)
    torch.manual_seed(0)
    model = Llama(c)
    if mode in ("lora", "qlora"):
        model.requires_grad_(False)
        for name, module in list(model.named_modules()):
            for child_name, child in list(module.named_children()):
                if not isinstance(child, torch.nn.Linear) or child_name == "lm_head":
                    continue
                base = Nf4Linear(child) if mode == "qlora" else child
                if targets == "all-linear" or child_name in targets:
                    base = LoraLinear(base, l["rank"], l["alpha"], l["dropout"])
                setattr(module, child_name, base)
    if dtype != torch.float32:
        for p in model.parameters():
            if not p.requires_grad:
                p.data = p.data.to(dtype)
        if mode == "full":
            raise SystemExit("training_reference.py: bfloat16 is mixed precision for lora and qlora only")
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=t["lr"], weight_decay=0.0)
    b, s = t["batch_size"], t["seq_len"]
    gen = torch.Generator().manual_seed(1)
    steps = t["warmup_steps_untimed"] + t["timed_steps"]
    batches = [torch.randint(0, c["vocab_size"], (b, s), generator=gen) for _ in range(steps)]

    def step(ids):
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.item()

    for ids in batches[: t["warmup_steps_untimed"]]:
        step(ids)
    start = time.perf_counter()
    for ids in batches[t["warmup_steps_untimed"]:]:
        loss = step(ids)
    seconds = time.perf_counter() - start
    timed = t["timed_steps"]
    print(json.dumps({
        "mode": mode, "dtype": str(dtype).replace("torch.", ""), "seconds": seconds, "ms_per_step": 1000 * seconds / timed, "tokens_per_s": timed * b * s / seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, "final_loss": loss,
        "trainable": sum(p.numel() for p in params), "threads": torch.get_num_threads(),
    }))


if __name__ == "__main__":
    main()
