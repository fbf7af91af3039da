"""Benchmark the heavy selectors: our implementation against a straightforward reference on the same data.

Synthetic data: N embeddings in d dimensions drawn around 200 Gaussian centres (centres with standard deviation 3,
unit-variance noise), float32, L2-normalised; a uniform quality score (seed 0). The same generator as
``bench_metrics.py``.

References (each the obvious implementation of the same definition, giving the same picks):
* NovelSelect: ``novelselect_recompute``, the official algorithm in fp32: every step rebuilds the (N, |S|) matrix
  M against all selected points, sorts every row, weights by rank and takes the argmax (lean numpy: in-place sort and
  one matrix-vector product for the weights). ``official_style`` below restates the official script's operations
  step for step in torch fp32 on the CPU (10,000-row batches, ``torch.sort`` with indices, rank weights scattered
  back into an (N, |S|) matrix, multiplied and averaged), i.e. the official code, without fp16.
* QDIT: ``qdit_plain_greedy``, plain greedy with the dense (N, N) kernel held in memory, every gain recomputed per
  step.
* DEITA filter: ``threshold_filter_reference``, one candidate at a time against all accepted (official batch_size=1).
* K-Center-Greedy: ``kcenter_recompute``, each step recomputes every row's min distance to all selected points.

    .venv/bin/python benchmarks/bench_selectors.py                     # RESULTS_selectors.md sizes
    .venv/bin/python benchmarks/bench_selectors.py --only novelselect --novelselect 20000,1000
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from collections.abc import Callable

import numpy as np

from selection_ops.neighbors import knn_density
from selection_ops.selectors.kcenter import kcenter_greedy, kcenter_recompute
from selection_ops.selectors.novelselect import novelselect_order, novelselect_recompute
from selection_ops.selectors.qdit import DenseCoverage, lazy_greedy, normalized_quality, qdit_plain_greedy
from selection_ops.similarity import threshold_filter, threshold_filter_reference


def synthetic_unit(n: int, dim: int, seed: int = 0, centres: int = 200) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centre = rng.normal(scale=3.0, size=(centres, dim)).astype(np.float32)
    points = centre[rng.integers(0, centres, n)] + rng.normal(size=(n, dim)).astype(np.float32)
    return np.ascontiguousarray(points / np.linalg.norm(points, axis=1, keepdims=True))


def official_style(unit: np.ndarray, density: np.ndarray, budget: int, first: int, power: float = 1.0,
                   batch: int = 10_000) -> np.ndarray:
    """The official NovelSelect loop's operations in torch fp32 (CPU), plus the exclusion of selected points."""
    import torch

    unit_t, density_t = torch.from_numpy(unit), torch.from_numpy(density)
    centres = [first]
    for _ in range(1, budget):
        selected_unit, selected_density = unit_t[centres], density_t[centres]
        scores = []
        for start in range(0, len(unit_t), batch):
            distance = 1 - unit_t[start:start + batch] @ selected_unit.T
            weighted = distance * (density_t[start:start + batch].unsqueeze(1) + selected_density.unsqueeze(0))
            _, order = torch.sort(weighted, dim=1)
            steps = torch.arange(1, weighted.shape[1] + 1, dtype=weighted.dtype)
            rank_weights = torch.zeros_like(weighted)
            rank_weights.scatter_(1, order, (1 / steps.pow(power)).expand(weighted.shape[0], -1))
            scores.append((weighted * rank_weights).mean(dim=1))
        score = torch.cat(scores)
        score[centres] = -torch.inf
        centres.append(int(score.argmax()))
    return np.asarray(centres, dtype=np.int64)


def timed(fn: Callable[[], np.ndarray]) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    result = fn()
    return np.asarray(result), time.perf_counter() - start


def size_pair(text: str) -> tuple[int, int]:
    pool, budget = (int(x) for x in text.split(","))
    return pool, budget


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--novelselect", type=size_pair, default=(10_000, 500), help="pool,budget")
    parser.add_argument("--qdit", type=size_pair, default=(10_000, 300), help="pool,budget")
    parser.add_argument("--deita", type=size_pair, default=(20_000, 2_000), help="pool,budget")
    parser.add_argument("--deita-threshold", type=float, default=0.9)
    parser.add_argument("--kcenter", type=size_pair, default=(10_000, 500), help="pool,budget")
    parser.add_argument("--only", default="novelselect,qdit,deita,kcenter", help="comma-separated subset")
    parser.add_argument("--scale", type=int, default=0, metavar="N",
                        help="instead: time our selectors alone on a pool of N (no reference), budget N/50")
    args = parser.parse_args()
    if args.scale:
        scale_run(args.scale, args.dim)
        return
    logging.basicConfig(level=logging.WARNING)
    chosen = set(args.only.split(","))

    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
          f"load average at start {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")
    print(f"# synthetic clustered embeddings, d={args.dim}, float32, seed 0")
    print("| selector | pool | budget | ours (s) | reference (s) | speed-up | identical picks |")
    print("|---|---:|---:|---:|---:|---:|---|")

    def row(name: str, pool: int, budget: int, ours: tuple[np.ndarray, float],
            reference: tuple[np.ndarray, float]) -> None:
        same = "yes" if np.array_equal(ours[0], reference[0]) else "no"
        print(f"| {name} | {pool} | {budget} | {ours[1]:.2f} | {reference[1]:.2f} | "
              f"{reference[1] / ours[1]:.1f}x | {same} |", flush=True)

    if "novelselect" in chosen:
        n, budget = args.novelselect
        unit = synthetic_unit(n, args.dim)
        density = knn_density(unit).astype(np.float32)
        novelselect_order(unit[:64], density[:64], 4, 0, backend="numba")  # compile once, outside the timing
        ours = timed(lambda: novelselect_order(unit, density, budget, 0, backend="numba"))
        reference = timed(lambda: novelselect_recompute(unit, density, budget, 0))
        row("NovelSelect (numba merge vs lean numpy recompute)", n, budget, ours, reference)
        reference = timed(lambda: official_style(unit, density, budget, 0))
        row("NovelSelect (numba merge vs official-style torch recompute)", n, budget, ours, reference)

    if "qdit" in chosen:
        n, budget = args.qdit
        unit = synthetic_unit(n, args.dim, seed=1)
        quality = normalized_quality(np.random.default_rng(1).random(n))

        def lazy() -> np.ndarray:
            coverage = DenseCoverage(unit)
            return lazy_greedy(coverage.initial_gains(), coverage.gains, coverage.add, quality, 0.7, budget)

        ours = timed(lazy)
        reference = timed(lambda: qdit_plain_greedy(unit, quality, 0.7, budget))
        row("QDIT alpha=0.7 (lazy dense vs plain greedy)", n, budget, ours, reference)

    if "deita" in chosen:
        n, budget = args.deita
        unit = synthetic_unit(n, args.dim, seed=2)
        order = np.argsort(-np.random.default_rng(2).random(n), kind="stable")
        tau = args.deita_threshold
        ours = timed(lambda: threshold_filter(unit, order, budget, tau, reject_equal=False))
        reference = timed(lambda: threshold_filter_reference(unit, order, budget, tau, reject_equal=False))
        row(f"DEITA filter tau={tau} (blocked vs one at a time)", n, budget, ours, reference)

    if "kcenter" in chosen:
        n, budget = args.kcenter
        unit = synthetic_unit(n, args.dim, seed=3)
        ours = timed(lambda: kcenter_greedy(unit, budget, 0))
        reference = timed(lambda: kcenter_recompute(unit, budget, 0))
        row("K-Center-Greedy (running min vs recompute)", n, budget, ours, reference)
    print(f"# load average at end {os.getloadavg()[0]:.2f}")


def scale_run(n: int, dim: int) -> None:
    """Ours only, through the registry (density, kNN graph and all included), on one larger pool."""
    from selection_ops.data_model import PoolView
    from selection_ops.registry import run_selector

    budget = max(1, n // 50)
    unit = synthetic_unit(n, dim, seed=4)
    pool = PoolView(ids=[str(i) for i in range(n)], embeddings=unit, score=np.random.default_rng(4).random(n))
    print(f"# scale run: pool {n}, budget {budget}, d={dim}; load average {os.getloadavg()[0]:.2f}")
    print("| selector | params | seconds |")
    print("|---|---|---:|")
    for name, params in [("kcenter", {}), ("deita", {}), ("qdit", {"kernel": "knn"}), ("novelselect", {}),
                         ("kmeans", {}), ("farthest", {})]:
        start = time.perf_counter()
        result = run_selector(name, pool, budget, params=params)
        print(f"| {name} | {result.params} | {time.perf_counter() - start:.1f} |", flush=True)
    print(f"# load average at end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
