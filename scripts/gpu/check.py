#!/usr/bin/env python3
"""The Python half of scripts/gpu-check.sh: transformers and PEFT beside Tunebook's ParityProbe.

Each subcommand writes one JSON file (results go under the check's work folder; `summarize` gathers them).
Where transformers or PEFT cannot be imported (the --dry-run on a machine without them), the steps that
need them say "skipped" with the reason; the model-making and reference steps then fall back to
tests/Tunebook.Models.Tests/reference/hf_reference.py, an independent plain-PyTorch implementation,
and every result names which reference it used. Nothing is reported as parity with transformers unless
transformers computed it.

  env OUT                                   torch, CUDA, GPU, transformers/peft versions
  make-models DIR SIZE DEVICE               tiny random Llama, Mistral, Qwen2, Qwen3, GPT-2 (SIZE tiny|small)
  reference MODEL INPUT OUT DTYPE DEVICE [ADAPTER]   logits + greedy tokens from transformers (or stand-in)
  compare REFERENCE TUNEBOOK OUT TOL INPUTS max |Δlogits| and greedy equality
  peft-make MODEL ADAPTER DEVICE            a PEFT LoRA adapter with modules_to_save, saved by PEFT
  train SPEC OUT DEVICE                     transformers + PEFT training speed on SPEC (see ParityProbe train)
  summarize RESULTS_DIR OUT                 one JSON of every figure
"""
import importlib.util
import json
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "Tunebook.Models.Tests", "reference"))
import hf_reference  # noqa: E402  (the stand-in reference; also its safetensors reader/writer)


def have(module):
    return importlib.util.find_spec(module) is not None


HAVE_HF = have("transformers") and have("safetensors")
HAVE_PEFT = HAVE_HF and have("peft")


def write_json(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def read_json(path):
    with open(path) as f:
        return json.load(f)


# ---- models ---------------------------------------------------------------------------------

def configs(size):
    """HF config fields per architecture; tiny for the dry run and the parity check alike."""
    h, layers, heads, kv, inter, vocab = (64, 2, 4, 2, 96, 128) if size == "tiny" else (128, 2, 8, 4, 256, 512)
    common = dict(vocab_size=vocab, hidden_size=h, intermediate_size=inter, num_hidden_layers=layers,
                  num_attention_heads=heads, num_key_value_heads=kv, max_position_embeddings=256,
                  rms_norm_eps=1e-6, rope_theta=10000.0, tie_word_embeddings=False, initializer_range=0.2,
                  bos_token_id=None, eos_token_id=None, pad_token_id=None)
    archs = {
        "llama": dict(common, architectures=["LlamaForCausalLM"], model_type="llama"),
        "mistral": dict(common, architectures=["MistralForCausalLM"], model_type="mistral", sliding_window=None),
        "qwen2": dict(common, architectures=["Qwen2ForCausalLM"], model_type="qwen2", use_sliding_window=False),
        "qwen3": dict(common, architectures=["Qwen3ForCausalLM"], model_type="qwen3", head_dim=h // heads,
                      use_sliding_window=False),
        "gpt2": dict(architectures=["GPT2LMHeadModel"], model_type="gpt2", vocab_size=vocab, n_embd=h, n_layer=layers,
                     n_head=heads, n_positions=256, layer_norm_epsilon=1e-5, initializer_range=0.2,
                     bos_token_id=None, eos_token_id=None, activation_function="gelu_new"),
    }
    if HAVE_HF:
        # Newer families, made only by transformers itself (the stand-in below knows the five above).
        # Windows shorter than the 12-token inputs, so sliding-window layers are really exercised.
        archs["gemma3"] = dict(common, architectures=["Gemma3ForCausalLM"], model_type="gemma3_text", head_dim=h // heads,
                               query_pre_attn_scalar=h // heads, sliding_window=4, rope_local_base_freq=100.0,
                               layer_types=["sliding_attention", "full_attention"] * (layers // 2) + ["sliding_attention"] * (layers % 2),
                               hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True)
        archs["phi3"] = dict(common, architectures=["Phi3ForCausalLM"], model_type="phi3", sliding_window=None)
        archs["smollm3"] = dict(common, architectures=["SmolLM3ForCausalLM"], model_type="smollm3",
                                no_rope_layers=[1] * (layers - 1) + [0])
    return archs


def hf_model_class(cfg):
    import transformers
    return getattr(transformers, cfg["architectures"][0])


def hf_config(cfg):
    import transformers
    fields = {k: v for k, v in cfg.items() if k not in ("architectures", "model_type")}
    return transformers.AutoConfig.for_model(cfg["model_type"], architectures=cfg["architectures"], **fields)


def standin_weights(cfg, gen):
    """Random weights under Hugging Face's names, for the stand-in when transformers is missing."""
    def r(*shape, scale=0.2):
        return torch.randn(*shape, generator=gen) * scale
    W = {}
    if cfg["model_type"] == "gpt2":
        h, v = cfg["n_embd"], cfg["vocab_size"]
        W["transformer.wte.weight"] = r(v, h)
        W["transformer.wpe.weight"] = r(cfg["n_positions"], h)
        for i in range(cfg["n_layer"]):
            p = f"transformer.h.{i}."
            for ln in ("ln_1", "ln_2"):
                W[p + ln + ".weight"] = 1 + r(h, scale=0.1)
                W[p + ln + ".bias"] = r(h, scale=0.1)
            for name, (i_, o) in {"attn.c_attn": (h, 3 * h), "attn.c_proj": (h, h), "mlp.c_fc": (h, 4 * h), "mlp.c_proj": (4 * h, h)}.items():
                W[p + name + ".weight"] = r(i_, o)  # Conv1D: [in, out]
                W[p + name + ".bias"] = r(o, scale=0.05)
        W["transformer.ln_f.weight"] = 1 + r(h, scale=0.1)
        W["transformer.ln_f.bias"] = r(h, scale=0.1)
        W["lm_head.weight"] = W["transformer.wte.weight"]
        return W
    h, v, inter = cfg["hidden_size"], cfg["vocab_size"], cfg["intermediate_size"]
    heads, kv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = cfg.get("head_dim", h // heads)
    W["model.embed_tokens.weight"] = r(v, h)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = 1 + r(h, scale=0.1)
        W[p + "post_attention_layernorm.weight"] = 1 + r(h, scale=0.1)
        for name, shape in {"self_attn.q_proj": (heads * d, h), "self_attn.k_proj": (kv * d, h), "self_attn.v_proj": (kv * d, h),
                            "self_attn.o_proj": (h, heads * d), "mlp.gate_proj": (inter, h), "mlp.up_proj": (inter, h),
                            "mlp.down_proj": (h, inter)}.items():
            W[p + name + ".weight"] = r(*shape)
        if cfg["model_type"] == "qwen2":
            for name, n in (("q_proj", heads * d), ("k_proj", kv * d), ("v_proj", kv * d)):
                W[p + f"self_attn.{name}.bias"] = r(n, scale=0.1)
        if cfg["model_type"] == "qwen3":
            W[p + "self_attn.q_norm.weight"] = 1 + r(d, scale=0.1)
            W[p + "self_attn.k_norm.weight"] = 1 + r(d, scale=0.1)
    W["model.norm.weight"] = 1 + r(h, scale=0.1)
    W["lm_head.weight"] = r(v, h)
    return W


def make_models(folder, size, device):
    os.makedirs(folder, exist_ok=True)
    made = {}
    for i, (name, cfg) in enumerate(configs(size).items()):
        out = os.path.join(folder, name)
        os.makedirs(out, exist_ok=True)
        if HAVE_HF:
            torch.manual_seed(1000 + i)
            try:
                model = hf_model_class(cfg)(hf_config(cfg)).to(device)
            except Exception as e:  # a family this transformers lacks: record it, check the others
                made[name] = None
                print(f"make-models: {name}: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            with torch.no_grad():  # norms away from 1 and biases away from 0, so they matter
                for n, p in model.named_parameters():
                    if "norm" in n or "ln_" in n or n.endswith(".bias"):
                        p.add_(torch.randn_like(p) * 0.1)
            model.generation_config.eos_token_id = None
            model.save_pretrained(out, safe_serialization=True)
            made[name] = "transformers " + __import__("transformers").__version__
        else:
            gen = torch.Generator().manual_seed(1000 + i)
            W = standin_weights(cfg, gen)
            if cfg["model_type"] == "gpt2":
                W = {k: v for k, v in W.items() if k != "lm_head.weight"}
            hf_reference.write_safetensors(os.path.join(out, "model.safetensors"), W)
            write_json(os.path.join(out, "config.json"), dict(cfg, torch_dtype="float32"))
            made[name] = "stand-in (transformers not importable): random weights under HF names"
    vocab = configs(size)["llama"]["vocab_size"]
    g = torch.Generator().manual_seed(7)
    ids = torch.randint(3, vocab, (3, 12), generator=g).tolist()
    # Row 1 left-padded, row 2 right-padded: both paddings are checked.
    mask = [[1] * 12, [0] * 4 + [1] * 8, [1] * 9 + [0] * 3]
    ids = [[t if m else 0 for t, m in zip(r, mr)] for r, mr in zip(ids, mask)]
    write_json(os.path.join(folder, "inputs.json"), {"input_ids": ids, "attention_mask": mask, "max_new_tokens": 8})
    failed = sorted(k for k, v in made.items() if v is None)
    if failed:
        write_json(os.path.join(folder, "failed.json"), failed)
    write_json(os.path.join(folder, "made.json"), {k: v for k, v in made.items() if v is not None})


# ---- reference logits -----------------------------------------------------------------------

def load_reference(model_dir, dtype, device, adapter=None):
    """A function ids, mask -> logits (float32), and the name of what computes it."""
    dt = getattr(torch, dtype)
    if HAVE_HF:
        import transformers
        model = transformers.AutoModelForCausalLM.from_pretrained(model_dir, attn_implementation="sdpa").to(device=device, dtype=dt)
        name = f"transformers {transformers.__version__}"
        if adapter:
            if not HAVE_PEFT:
                raise SystemExit("peft is not importable")
            import peft
            model = peft.PeftModel.from_pretrained(model, adapter).to(device)
            name += f" + peft {peft.__version__}"
        model.eval()

        def run(ids, mask):
            # Positions count real tokens only, as generate() does for left padding (a plain forward
            # would number the padding too); Tunebook derives them from the mask the same way.
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            with torch.no_grad():
                return model(input_ids=ids.to(device), attention_mask=mask.to(device),
                             position_ids=positions.to(device)).logits.float().cpu()
        return run, name
    if adapter:
        raise SystemExit("the stand-in reference cannot load adapters (needs transformers + peft)")
    cfg = read_json(os.path.join(model_dir, "config.json"))
    W = {k: v.to(dt) if v.is_floating_point() else v for k, v in hf_reference.load_weights(model_dir).items()}
    fwd = hf_reference.gpt2_forward if cfg.get("model_type") == "gpt2" else hf_reference.llama_forward

    def run(ids, mask):
        with torch.no_grad():
            return fwd(cfg, W, ids, mask).float()
    return run, "stand-in: tests/Tunebook.Models.Tests/reference/hf_reference.py (transformers not importable)"


def reference(model_dir, input_path, out_path, dtype, device, adapter=None):
    inp = read_json(input_path)
    run, name = load_reference(model_dir, dtype, device, adapter)
    ids, mask = torch.tensor(inp["input_ids"]), torch.tensor(inp["attention_mask"])
    logits = run(ids, mask)
    greedy = []
    for row, m in zip(inp["input_ids"], inp["attention_mask"]):
        seq = [t for t, k in zip(row, m) if k]
        for _ in range(inp["max_new_tokens"]):  # full forward each step: independent of any KV cache
            x = torch.tensor([seq])
            seq.append(int(run(x, torch.ones_like(x))[0, -1].argmax()))
        greedy.append(seq[-inp["max_new_tokens"]:])
    write_json(out_path, {"reference": name, "dtype": dtype, "logits": logits.tolist(), "greedy": greedy})


def reference_all(models_dir, input_path, out_dir, device):
    """reference for every model made by make-models, float32 and bfloat16: ref-ARCH-DTYPE.json."""
    failed = 0
    for arch in read_json(os.path.join(models_dir, "made.json")):
        for dtype in ("float32", "bfloat16"):
            try:
                reference(os.path.join(models_dir, arch), input_path, os.path.join(out_dir, f"ref-{arch}-{dtype}.json"), dtype, device)
            except Exception as e:  # one model's failure must not hide the others' figures
                print(f"reference {arch} {dtype}: {type(e).__name__}: {e}", file=sys.stderr)
                failed += 1
    if failed:
        raise SystemExit(1)


def compare(ref_path, ours_path, out_path, tolerance, inputs_path):
    """tolerance "report": the figure is measured and stated, not judged (bfloat16)."""
    report_only = tolerance == "report"
    tolerance = math.inf if report_only else float(tolerance)
    ref, ours = read_json(ref_path), read_json(ours_path)
    a, b = torch.tensor(ref["logits"]), torch.tensor(ours["logits"])
    inp_mask = torch.tensor(read_json(inputs_path)["attention_mask"]).bool()
    if a.shape != b.shape:
        result = {"ok": False, "error": f"logits shapes differ: reference {list(a.shape)}, tunebook {list(b.shape)}"}
    else:
        diff = (a - b).abs()
        # Padded positions' logits are not defined by either side: compare real tokens only.
        real = diff[inp_mask] if inp_mask is not None and inp_mask.shape == diff.shape[:2] else diff
        max_abs = float(real.max())
        same_greedy = ref["greedy"] == ours["greedy"]
        result = {"ok": report_only or (max_abs <= tolerance and same_greedy), "max_abs_logits": max_abs,
                  "tolerance": "reported, not judged" if report_only else tolerance,
                  "greedy_identical": same_greedy, "reference": ref["reference"], "dtype": ref["dtype"],
                  "tunebook_sdpa": ours.get("sdpa")}
        if not same_greedy:
            result["greedy"] = {"reference": ref["greedy"], "tunebook": ours["greedy"]}
    write_json(out_path, result)
    print(json.dumps(result))
    return 0 if result["ok"] else 1


# ---- PEFT -----------------------------------------------------------------------------------

def peft_make(model_dir, adapter_dir, device):
    import peft
    import transformers
    torch.manual_seed(21)
    model = transformers.AutoModelForCausalLM.from_pretrained(model_dir).to(device=device, dtype=torch.float32)
    cfg = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "down_proj"], modules_to_save=["lm_head"],
                          lora_dropout=0.0, task_type="CAUSAL_LM")
    model = peft.get_peft_model(model, cfg)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "lora_B" in n:
                p.normal_(0, 0.05)
            if "modules_to_save" in n:
                p.add_(torch.randn_like(p) * 0.05)
    model.save_pretrained(adapter_dir)


# ---- training speed -------------------------------------------------------------------------

PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12, "L4": 121e12, "A10": 125e12, "RTX 4090": 165e12}


def peak_flops():
    if not torch.cuda.is_available():
        return None, "cpu: no peak figure"
    name = torch.cuda.get_device_name()
    for key, value in PEAK_BF16.items():
        if key in name:
            return value, f"{name}: dense bf16 peak {value / 1e12:.0f} TFLOP/s"
    return None, f"{name}: peak unknown"


def config_parameters(spec):
    """Parameters of the spec's Llama config (quantized or not: both sides are counted alike)."""
    m = spec["model"]
    h, inter, layers, v = m["hidden_size"], m["intermediate_size"], m["num_hidden_layers"], m["vocab_size"]
    d = h // m["num_attention_heads"]
    attention = h * m["num_attention_heads"] * d * 2 + h * m["num_key_value_heads"] * d * 2
    per_layer = attention + 3 * h * inter + 2 * h
    return v * h * (1 if m.get("tie_word_embeddings") else 2) + layers * per_layer + h


def model_flops_per_token(spec):
    """6·N + 12·L·d·T (the PaLM paper's count: weights forward and backward, plus attention scores), the
    same for LoRA, QLoRA and full fine-tuning and for both sides, so ratios compare like with like."""
    m = spec["model"]
    return 6 * config_parameters(spec) + 12 * m["num_hidden_layers"] * m["hidden_size"] * spec["seq_len"]


def train(spec_path, out_path, device):
    spec = read_json(spec_path)
    mode = spec["mode"]
    if not HAVE_PEFT:
        write_json(out_path, {"side": "transformers+peft", "mode": mode, "skipped": "transformers/peft not importable"})
        return
    if mode == "qlora" and not have("bitsandbytes"):
        write_json(out_path, {"side": "transformers+peft", "mode": mode, "skipped": "bitsandbytes not importable: no QLoRA on the transformers side"})
        return
    import peft
    import transformers
    torch.manual_seed(0)
    bf16 = spec["precision"] == "bf16"
    cfg = hf_config(dict(spec["model"], architectures=["LlamaForCausalLM"], model_type="llama"))
    weights = torch.bfloat16 if (bf16 and mode != "full") else torch.float32
    if mode == "qlora":  # bitsandbytes quantizes while loading: save the random model, load it in 4 bits
        folder = out_path + ".model"
        transformers.AutoModelForCausalLM.from_config(cfg).save_pretrained(folder)
        quant = transformers.BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16)
        model = transformers.AutoModelForCausalLM.from_pretrained(folder, quantization_config=quant, attn_implementation="sdpa", device_map={"": device})
        model = peft.prepare_model_for_kbit_training(model, use_gradient_checkpointing=False)
    else:
        model = transformers.AutoModelForCausalLM.from_config(cfg, attn_implementation="sdpa").to(device=device, dtype=weights)
    if mode in ("lora", "qlora"):
        model = peft.get_peft_model(model, peft.LoraConfig(r=spec["lora_rank"], lora_alpha=spec["lora_alpha"], lora_dropout=0.0,
                                                            target_modules="all-linear", task_type="CAUSAL_LM"))
    trainable = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(trainable, lr=spec["lr"], fused=device.startswith("cuda"))
    g = torch.Generator().manual_seed(1)
    B, T = spec["batch_size"], spec["seq_len"]
    steps = spec["warmup_steps"] + spec["timed_steps"]
    data = torch.randint(0, spec["model"]["vocab_size"], (steps, B, T), generator=g)
    cuda = device.startswith("cuda")

    def step(i):
        ids = data[i].to(device)
        with torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        return float(loss)

    model.train()
    for i in range(spec["warmup_steps"]):
        step(i)
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for i in range(spec["warmup_steps"], steps):
        loss = step(i)
    if cuda:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    parameters = sum(p.numel() for p in model.parameters())
    write_json(out_path, {"side": "transformers+peft" if mode != "full" else "transformers", "mode": mode, "device": device,
                          "precision": spec["precision"], "seconds": seconds, "ms_per_step": 1000 * seconds / spec["timed_steps"],
                          "tokens_per_s": spec["timed_steps"] * B * T / seconds, "parameters": parameters,
                          "trainable": sum(p.numel() for p in trainable),
                          "peak_memory_bytes": torch.cuda.max_memory_allocated() if cuda else None, "final_loss": loss,
                          "versions": {"transformers": transformers.__version__, "peft": peft.__version__}})


def train_specs(size, out_dir):
    """The training configs both sides run: spec-MODE.json (ParityProbe train and `train` read them)."""
    if size == "tiny":  # the dry run: same code paths, CPU-sized
        llama = dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                     num_key_value_heads=2)
        small = llama
        shape = dict(seq_len=64, batch_size=2, warmup_steps=1, timed_steps=3)
    else:
        # ~1.1B parameters (TinyLlama's shape) for LoRA/QLoRA; ~370M for full fine-tuning.
        llama = dict(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                     num_key_value_heads=4)
        small = dict(vocab_size=32000, hidden_size=1024, intermediate_size=2816, num_hidden_layers=24, num_attention_heads=16,
                     num_key_value_heads=16)
        shape = dict(seq_len=2048, batch_size=4, warmup_steps=3, timed_steps=20)
    common = dict(rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, max_position_embeddings=max(2048, shape["seq_len"]))
    for mode, model in (("lora", llama), ("qlora", llama), ("full", small)):
        spec = dict(shape, mode=mode, precision="bf16", lr=1e-4 if mode != "full" else 1e-5, lora_rank=16, lora_alpha=32,
                    model=dict(model, **common, architectures=["LlamaForCausalLM"], model_type="llama"))
        write_json(os.path.join(out_dir, f"spec-{mode}.json"), spec)


def junit_counts(xml_path, out_path, device):
    """Test counts of one suite's JUnit XML (xunit's console runner), for the summary."""
    import xml.etree.ElementTree as ET
    if not os.path.exists(xml_path):
        write_json(out_path, {"device": device, "error": f"no results: {xml_path} missing"})
        return
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    failed = []
    for suite in ET.parse(xml_path).getroot().iter("testsuite"):
        for k in counts:
            counts[k] += int(suite.get(k, 0))
        for case in suite.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed.append(f"{case.get('classname')}.{case.get('name')}")
    write_json(out_path, dict(counts, device=device, passed=counts["tests"] - counts["failures"] - counts["errors"] - counts["skipped"],
                              failed_tests=failed[:50]))


# ---- summary --------------------------------------------------------------------------------

def summarize(results_dir, out_path):
    summary = {"env": {}, "steps": [], "tests": {}, "parity": {}, "peft": {}, "training": {}}
    peak, peak_note = peak_flops()
    for name in sorted(os.listdir(results_dir)):
        path = os.path.join(results_dir, name)
        if not name.endswith(".json"):
            continue
        data = read_json(path)
        key = name[:-5]
        if key == "env":
            summary["env"] = data
        elif key == "steps":
            summary["steps"] = data
        elif key.startswith("tests-"):
            summary["tests"][key[6:]] = data
        elif key.startswith("parity-"):
            summary["parity"][key[7:]] = data
        elif key.startswith("peft-"):
            summary["peft"][key[5:]] = data
        elif key.startswith("train-"):
            summary["training"][key[6:]] = data
    # MFU on both sides with the same FLOP count, so the ratio compares like with like.
    specs = {k[5:-5]: read_json(os.path.join(results_dir, k)) for k in os.listdir(results_dir) if k.startswith("spec-")}
    compared = {}
    for key, row in summary["training"].items():
        mode = key.split("-", 1)[1] if "-" in key else key
        spec = specs.get(mode)
        if spec and "tokens_per_s" in row:
            flops = model_flops_per_token(spec)
            row["config_parameters"] = config_parameters(spec)
            row["model_flops_per_token"] = flops
            row["mfu"] = row["tokens_per_s"] * flops / peak if peak else None
    for mode in specs:
        ours, theirs = summary["training"].get(f"tunebook-{mode}", {}), summary["training"].get(f"hf-{mode}", {})
        if "tokens_per_s" in ours and "tokens_per_s" in theirs:
            compared[mode] = {"tokens_per_s_ratio": ours["tokens_per_s"] / theirs["tokens_per_s"],
                              "peak_memory_ratio": (ours["peak_memory_bytes"] / theirs["peak_memory_bytes"])
                              if ours.get("peak_memory_bytes") and theirs.get("peak_memory_bytes") else None}
    summary["training_compared"] = compared
    summary["mfu_peak"] = peak_note
    write_json(out_path, summary)
    failed = [s["name"] for s in summary["steps"] if s.get("status") == "failed"]
    print(f"gpu-check: {len(summary['steps'])} steps, failed: {', '.join(failed) if failed else 'none'}")


def env(out_path):
    info = {"torch": torch.__version__, "cuda_available": torch.cuda.is_available(), "torch_cuda": torch.version.cuda,
            "transformers": __import__("transformers").__version__ if HAVE_HF else None,
            "peft": __import__("peft").__version__ if HAVE_PEFT else None, "bitsandbytes": have("bitsandbytes"),
            "python": sys.version.split()[0], "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        info["gpu_memory_bytes"] = torch.cuda.get_device_properties(0).total_memory
    write_json(out_path, info)
    print(json.dumps(info))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "env":
        env(*args)
    elif cmd == "make-models":
        make_models(*args)
    elif cmd == "reference":
        reference(*args)
    elif cmd == "compare":
        sys.exit(compare(*args))
    elif cmd == "reference-all":
        reference_all(*args)
    elif cmd == "train-specs":
        train_specs(*args)
    elif cmd == "junit-counts":
        junit_counts(*args)
    elif cmd == "peft-make":
        if not HAVE_PEFT:
            print("skipped: transformers/peft not importable")
            sys.exit(3)
        peft_make(*args)
    elif cmd == "train":
        train(*args)
    elif cmd == "summarize":
        summarize(*args[:2])
    else:
        raise SystemExit(f"check.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
