# Reference for tests/bench/charts.sh: the same loss-curve data serialised with Python's json module, the floor
# that any Python notebook plotting library pays to send a Plotly figure to the front end (before drawing anything).
import json, math, random, statistics, sys, time

for n in map(int, sys.argv[1:]):
    rng = random.Random(1)
    steps = list(range(1, n + 1))
    loss = [2.4 * math.exp(-s * 4.0 / n) + 0.6 + 0.05 * rng.random() for s in steps]
    eval_steps = [s for s in steps if s % 100 == 0]
    val = [loss[s - 1] + 0.1 for s in eval_steps]
    fig = {
        "data": [
            {"type": "scatter", "mode": "lines", "name": "train loss", "x": steps, "y": loss},
            {"type": "scatter", "mode": "lines+markers", "name": "val loss", "x": eval_steps, "y": val},
            {"type": "scatter", "mode": "lines", "name": "val perplexity", "x": eval_steps, "y": [math.exp(v) for v in val], "yaxis": "y2"},
        ],
        "layout": {"title": {"text": "Fine-tuning loss"}, "yaxis2": {"type": "log", "overlaying": "y", "side": "right"}},
    }
    repeats = 5 if n >= 50_000 else 15
    json.dumps(fig)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        json.dumps(fig)
        times.append(time.perf_counter() - t)
    print(json.dumps({"points": n, "json_s": statistics.median(times)}))
