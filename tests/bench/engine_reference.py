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
# engine.sh runs this twice: as PyTorch ships (impl pytorch) and with GOMP_SPINCOUNT=10000, the
# threading setting Tunebook applies by default (impl pytorch_same_env).
IMPL = __import__("os").environ.get("BENCH_IMPL", "pytorch")
MLP_BATCH, MLP_IN, MLP_HIDDEN, MLP_OUT = 64, 512, 2048, 512


def emit(metric, value, unit):
    print(json.dumps({"impl": IMPL, "metric": metric, "value": round(value, 3), "unit": unit}), flush=True)
    time.sleep(0.5)  # let OpenBLAS's and OpenMP's threads go idle before the next measurement


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


def linear_one_row():
    """Median time of F.linear on one row: SmolLM2-135M's 576 -> 1536 gate projection, float32."""
    torch.manual_seed(0)
    weight = torch.randn(1536, 576)
    x = torch.randn(1, 1, 576)
    for _ in range(20):
        F.linear(x, weight)
    samples = []
    for _ in range(9):
        start = time.perf_counter()
        for _ in range(200):
            F.linear(x, weight)
        samples.append((time.perf_counter() - start) / 200 * 1e6)
    return statistics.median(samples)


def mlp_step():
    """Median step time and its phases (forward + loss, backward, zero_grad + AdamW step)."""
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(MLP_IN, MLP_HIDDEN), torch.nn.GELU(), torch.nn.Linear(MLP_HIDDEN, MLP_OUT))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    x = torch.randn(MLP_BATCH, MLP_IN)
    y = torch.randn(MLP_BATCH, MLP_OUT)

    def step():
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.mse_loss(model(x), y)
        t1 = time.perf_counter()
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        return (t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000

    for _ in range(5):
        step()
    samples = [step() for _ in range(30)]
    return (statistics.median(sum(s) for s in samples), statistics.median(s[0] for s in samples),
            statistics.median(s[1] for s in samples), statistics.median(s[2] for s in samples))


emit("threads", torch.get_num_threads(), "count")
emit("tiny_add_ns", tiny_op(lambda a, b: a + b), "ns/call")
emit("tiny_neg_dispatcher_ns", tiny_op(lambda a, b: a.neg()), "ns/call")
emit("matmul_1024_fp32_gflops", matmul(torch.float32), "GFLOP/s")
emit("matmul_1024_bf16_gflops", matmul(torch.bfloat16), "GFLOP/s")
emit("linear_one_row_576x1536_us", linear_one_row(), "us/call")
mlp = mlp_step()
emit("mlp_step_ms", mlp[0], "ms/step")
emit("mlp_forward_ms", mlp[1], "ms/step")
emit("mlp_backward_ms", mlp[2], "ms/step")
emit("mlp_optimizer_ms", mlp[3], "ms/step")
