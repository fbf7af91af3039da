"""Benchmark MIG: the fast lazy sparse sampler against the dense full-rescan reference on synthetic pools.

Synthetic pool of N samples over L labels: label frequencies Zipf-like (p_k ~ 1 / (k + 1)^zipf_s), 1-12 labels per
sample (uniform), DEITA-like scores (quality x complexity, each uniform on [1, 6]), and a sparse label graph (each
label joined to ~``degree`` random others with similarity uniform on [threshold, 1)).

Times are wall-clock, end to end from label lists + scores + graph to the ordered picks (vectorising, propagation,
greedy). The dense reference runs only where its (N, L) float64 matrix fits ``--dense-max-gb`` and its estimated
time fits ``--dense-max-seconds``; otherwise the table says "-". Run:

    .venv/bin/python benchmarks/bench_mig.py                # the default sizes of RESULTS_mig.md
    .venv/bin/python benchmarks/bench_mig.py --sizes 100000x4531x5000 --device torch-cpu
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from selection_ops.mig.label_graph import LabelGraph
from selection_ops.mig.lazy_greedy import TIE_RTOL
from selection_ops.mig.params import MigParams
from selection_ops.mig.reference import dense_reference_run
from selection_ops.mig.sampler import mig_run

DEFAULT_SIZES = ["10000x1000x1000", "100000x1000x1000", "100000x4531x300", "100000x4531x5000", "939000x4531x50000"]


@dataclass(frozen=True)
class SyntheticPool:
    labels_per_sample: list[list[str]]
    scores: np.ndarray  # (N,)
    graph: LabelGraph


def synthetic_pool(n_samples: int, n_labels: int, seed: int = 0, zipf_s: float = 1.1, degree: float = 4.0,
                   threshold: float = 0.9) -> SyntheticPool:
    """A pool shaped like an #InsTag-annotated one (see the module docstring)."""
    rng = np.random.default_rng(seed)
    names = np.array([f"label_{k:05d}" for k in range(n_labels)], dtype=object)
    frequency = 1.0 / np.arange(1, n_labels + 1) ** zipf_s
    counts = rng.integers(1, 13, size=n_samples)
    flat = names[rng.choice(n_labels, size=int(counts.sum()), p=frequency / frequency.sum())].tolist()
    ends = np.cumsum(counts).tolist()
    starts = [0] + ends[:-1]
    labels_per_sample = [flat[a:b] for a, b in zip(starts, ends)]
    scores = rng.uniform(1, 6, n_samples) * rng.uniform(1, 6, n_samples)
    n_edges = int(degree * n_labels / 2)
    rows, cols = rng.integers(0, n_labels, n_edges), rng.integers(0, n_labels, n_edges)
    keep = rows != cols
    rows, cols = np.minimum(rows, cols)[keep], np.maximum(rows, cols)[keep]
    pairs = np.unique(rows * n_labels + cols)
    rows, cols = pairs // n_labels, pairs % n_labels
    similarity = rng.uniform(threshold, 1.0, len(pairs))
    diagonal = np.arange(n_labels)
    matrix = sp.csr_matrix((np.concatenate([similarity, similarity, np.ones(n_labels)]),
                            (np.concatenate([rows, cols, diagonal]), np.concatenate([cols, rows, diagonal]))),
                           shape=(n_labels, n_labels))
    # every label is a node (the pool's vocabulary is the sorted set of labels that occur)
    occurring = sorted(set(flat))
    keep_nodes = np.array([int(name[6:]) for name in occurring])
    matrix = matrix[keep_nodes][:, keep_nodes].tocsr()
    matrix.sort_indices()
    return SyntheticPool(labels_per_sample, scores, LabelGraph(occurring, matrix, threshold))


def _parse_size(text: str) -> tuple[int, int, int]:
    n, labels, budget = (int(part) for part in text.lower().split("x"))
    return n, labels, budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="+", default=DEFAULT_SIZES, help="NxLxBUDGET, e.g. 100000x4531x5000")
    parser.add_argument("--device", default="numba", choices=["numba", "numpy", "torch-cpu", "torch-cuda"],
                        help="backend of the fast path")
    parser.add_argument("--also", default=None, choices=["numba", "numpy", "torch-cpu", "torch-cuda"],
                        help="a second fast backend to time and compare picks with (at every size)")
    parser.add_argument("--gain", default="linear", choices=["linear", "exact"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dense-max-gb", type=float, default=4.0, help="largest dense (N, L) float64 matrix to run")
    parser.add_argument("--dense-max-seconds", type=float, default=900.0,
                        help="skip the dense reference when its estimated time is above this")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(f"# host: {platform.node()} cpus={os.cpu_count()} load(1/5/15 min)={os.getloadavg()} "
          f"fast={args.device} gain={args.gain} tie_rtol={TIE_RTOL}")
    also = f" {args.also} (s) | same picks as {args.also} |" if args.also else ""
    print(f"| N | L | budget | fast (s) | dense reference (s) | ratio | identical picks |{also}")
    print("|---:|---:|---:|---:|---:|---:|:---:|" + ("---:|:---:|" if args.also else ""))
    params = MigParams(gain=args.gain, device="cpu")
    warm = synthetic_pool(200, 50, seed=1)  # compile (or load the cached) numba kernel outside the timings
    started = time.perf_counter()
    mig_run(warm.labels_per_sample, warm.scores, warm.graph, 10, params, backend=args.device)
    print(f"# warm-up (numba compile or cache load, torch import): {time.perf_counter() - started:.1f} s")
    for size in args.sizes:
        n, n_labels, budget = _parse_size(size)
        pool = synthetic_pool(n, n_labels, seed=args.seed)
        started = time.perf_counter()
        fast = mig_run(pool.labels_per_sample, pool.scores, pool.graph, budget, params, backend=args.device)
        fast_seconds = time.perf_counter() - started
        dense_gb = n * len(pool.graph.labels) * 8 / 1e9
        # one dense rescan streams the (N, L) matrix: ~0.2 s per GB per pick on the 2-core machine (linear gain)
        estimated = budget * dense_gb * (0.25 if args.gain == "linear" else 6.0)
        dense_cell, ratio_cell, same_cell = "-", "-", "-"
        if dense_gb <= args.dense_max_gb and estimated <= args.dense_max_seconds:
            started = time.perf_counter()
            dense = dense_reference_run(pool.labels_per_sample, pool.scores, pool.graph, budget, params)
            dense_seconds = time.perf_counter() - started
            dense_cell, ratio_cell = f"{dense_seconds:.1f}", f"{dense_seconds / fast_seconds:.0f}x"
            same_cell = "yes" if np.array_equal(fast.indices, dense.indices) else "NO"
        else:
            dense_cell = f"- (needs {dense_gb:.1f} GB, est. {estimated:.0f} s)"
        also_cells = ""
        if args.also:
            started = time.perf_counter()
            other = mig_run(pool.labels_per_sample, pool.scores, pool.graph, budget, params, backend=args.also)
            also_cells = (f" {time.perf_counter() - started:.2f} | "
                          f"{'yes' if np.array_equal(fast.indices, other.indices) else 'NO'} |")
        print(f"| {n:,} | {len(pool.graph.labels):,} | {budget:,} | {fast_seconds:.2f} | {dense_cell} | "
              f"{ratio_cell} | {same_cell} |{also_cells}", flush=True)
    print(f"# load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
