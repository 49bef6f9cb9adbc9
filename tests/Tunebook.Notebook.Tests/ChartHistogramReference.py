# numpy.histogram as the reference for HistogramBins: reads JSON {"values": [...], "edges": [...], "bins": n}
# on stdin and prints {"counts": numpy's counts for our edges, "edges_n": numpy's edges for n equal bins}.
import json, sys
import numpy as np

spec = json.load(sys.stdin)
values = np.array([np.nan if v is None else v for v in spec["values"]], dtype=np.float64)
finite = values[np.isfinite(values)]
counts, _ = np.histogram(finite, bins=np.array(spec["edges"], dtype=np.float64))
_, edges_n = np.histogram(finite, bins=spec["bins"])
json.dump({"counts": counts.tolist(), "edges_n": edges_n.tolist()}, sys.stdout)
