"""PyTorch side of the engine benchmark (tests/bench/engine.sh): the same measurements as
tests/Tunebook.Bench/EngineBenchmark.cs, printed as JSON lines. Run with /usr/bin/python3."""
import json
import os
import statistics
import time

import torch
import torch.nn.functional as F

# Same thread policy as Tunebook.Torch: all cores unless OMP_NUM_THREADS/TUNEBOOK_NUM_THREADS say otherwise.
threads = int(os.environ.get("TUNEBOOK_NUM_THREADS") or os.environ.get("OMP_NUM_THREADS") or os.cpu_count())
torch.set_num_threads(threads)
MLP_BATCH, MLP_IN, MLP_HIDDEN, MLP_OUT = 64, 512, 2048, 512


def emit(metric, value, unit):
    print(json.dumps({"impl": "pytorch", "metric": metric, "value": round(value, 3), "unit": unit}), flush=True)


def tiny_op(op):
    a, b = torch.ones(1), torch.ones(1)
    calls = 100_000
    samples = []
    for _ in range(7):
        start = time.perf_counter_ns()
        for _ in range(calls):
            r = op(a, b)
            del r
        samples.append((time.perf_counter_ns() - start) / calls)
    return statistics.median(samples[2:])


def matmul(dtype):
    torch.manual_seed(0)
    a = torch.randn(1024, 1024, dtype=dtype)
    b = torch.randn(1024, 1024, dtype=dtype)
    for _ in range(3):
        a @ b
    samples = []
    for _ in range(15):
        start = time.perf_counter()
        a @ b
        samples.append(time.perf_counter() - start)
    return 2.0 * 1024 ** 3 / statistics.median(samples) / 1e9


def mlp_step():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(MLP_IN, MLP_HIDDEN), torch.nn.GELU(), torch.nn.Linear(MLP_HIDDEN, MLP_OUT))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(MLP_BATCH, MLP_IN)
    y = torch.randn(MLP_BATCH, MLP_OUT)

    def step():
        opt.zero_grad()
        F.mse_loss(model(x), y).backward()
        opt.step()

    for _ in range(5):
        step()
    samples = []
    for _ in range(30):
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


emit("threads", torch.get_num_threads(), "count")
emit("tiny_add_ns", tiny_op(lambda a, b: a + b), "ns/call")
emit("tiny_neg_dispatcher_ns", tiny_op(lambda a, b: a.neg()), "ns/call")
emit("matmul_1024_fp32_gflops", matmul(torch.float32), "GFLOP/s")
emit("matmul_1024_bf16_gflops", matmul(torch.bfloat16), "GFLOP/s")
emit("mlp_step_ms", mlp_step(), "ms/step")
