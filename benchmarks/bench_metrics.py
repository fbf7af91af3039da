"""Benchmark the heavy diversity metrics: our implementation against a straightforward reference on the same data.

Synthetic data: a pool of N embeddings in d dimensions drawn around 200 Gaussian centres (unit-variance noise,
centres with standard deviation 3), float32; the subset is n rows of it drawn without replacement (seed 0).

The reference column is the obvious implementation of the same definition: the official NovelSum code restated in
numpy (full n x n matrix, per-row ``argsort`` + ``np.average`` via ``np.apply_along_axis``), eigenvalues of the
n x n kernel for Vendi / log-det, the full pairwise matrix for DistSum and KNN distance, dense blocked products
(no FAISS) for facility location, scikit-learn ``KMeans`` for the clustering metrics. The density factor of the
NovelSum reference uses the same FAISS search as the official code, on the raw (unnormalised) vectors as it does.
A reference whose estimated cost exceeds ``--reference-max-n`` subset rows is skipped ("-").

    .venv/bin/python benchmarks/bench_metrics.py                              # RESULTS_metrics.md sizes
    .venv/bin/python benchmarks/bench_metrics.py --pool 20000 --subset 2000 --dim 64 --metrics novelsum,vendi
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
from collections.abc import Callable

import numpy as np

from selection_ops.data_model import PoolView
from selection_ops.metrics.novelsum import NovelSumParams, proximity_weighted_means, rank_weights
from selection_ops.neighbors import knn_density
from selection_ops.registry import measure

ALL = ["novelsum", "distsum_cosine", "distsum_l2", "knn_distance", "vendi", "logdet", "facility_location",
       "cluster_inertia", "partition_entropy", "radius", "ttr", "vocd_d"]


def synthetic_embeddings(n: int, dim: int, seed: int = 0, centres: int = 200) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centre = rng.normal(scale=3.0, size=(centres, dim)).astype(np.float32)
    return centre[rng.integers(0, centres, n)] + rng.normal(size=(n, dim)).astype(np.float32)


def synthetic_texts(n: int, seed: int = 0, vocabulary: int = 20_000) -> list[str]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 400, n)
    words = rng.zipf(1.3, size=int(lengths.sum())) % vocabulary
    ends = np.cumsum(lengths)
    return [" ".join(f"w{w}" for w in words[e - length:e]) for e, length in zip(ends, lengths)]


# ------------------------------------------------------------------------------------------ references


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def reference_novelsum(subset: np.ndarray, pool: np.ndarray) -> float:
    params = NovelSumParams()
    unit_subset = _unit(subset).astype(np.float32)
    density = knn_density(subset, pool, k=params.k, beta=params.beta)  # official: raw vectors, squared L2
    distance = 1.0 - unit_subset @ unit_subset.T
    weighted = distance * density[:, None]
    weights = 1.0 / np.power(np.arange(1, len(subset) + 1), params.p)

    def weighted_average(row: np.ndarray) -> float:
        return np.average(row[np.argsort(row)], weights=weights)

    return float(np.mean(np.apply_along_axis(weighted_average, 1, weighted)))


def reference_novelsum_rows(unit_subset: np.ndarray, density: np.ndarray, p: float = 1.0) -> float:
    """The official row step alone: full matrix, per-row argsort + np.average (apply_along_axis)."""
    weighted = (1.0 - unit_subset @ unit_subset.T) * density[:, None]
    weights = 1.0 / np.power(np.arange(1, len(unit_subset) + 1), p)
    return float(np.mean(np.apply_along_axis(lambda row: np.average(row[np.argsort(row)], weights=weights), 1,
                                             weighted)))


def novelsum_parts(subset: np.ndarray, pool: np.ndarray, run_reference: bool) -> list[str]:
    """Table rows for NovelSum's two steps: the density search (shared by both) and the row step."""
    unit_subset = _unit(subset).astype(np.float32)
    density, density_seconds = timed(lambda: knn_density(subset, pool, k=10, beta=0.5))  # raw vectors, as official
    rows = [(f"| novelsum: density (FAISS flat, K=10, raw vectors, both) | {density_seconds:.2f} | "
             f"{density_seconds:.2f} | 1.0x "
            f"| - | - | - |")]
    ours, ours_seconds = timed(lambda: float(
        (density * proximity_weighted_means(unit_subset, rank_weights(len(unit_subset), 1.0))).mean()))
    if not run_reference:
        return rows + [f"| novelsum: rows (sort + weights) | {ours_seconds:.2f} | - | - | {ours:.6g} | - | - |"]
    ref, ref_seconds = timed(lambda: reference_novelsum_rows(unit_subset, density))
    return rows + [(f"| novelsum: rows (sort + weights) | {ours_seconds:.2f} | {ref_seconds:.2f} | "
                   f"{ref_seconds / ours_seconds:.1f}x | {ours:.6g} | {ref:.6g} | {abs(ours - ref) / abs(ref):.1e} |")]


def reference_vendi(subset: np.ndarray, pool: np.ndarray) -> float:
    unit = _unit(subset).astype(np.float64)
    eig = np.clip(np.linalg.eigvalsh(unit @ unit.T / len(unit)), 0, None)
    return float(np.sum(np.sqrt(eig[eig > 0])) ** 2)


def reference_logdet(subset: np.ndarray, pool: np.ndarray) -> float:
    unit = _unit(subset).astype(np.float64)
    return float(np.linalg.slogdet(unit @ unit.T + 1e-6 * np.eye(len(unit)))[1] / len(unit))


def reference_distsum_cosine(subset: np.ndarray, pool: np.ndarray) -> float:
    unit = _unit(subset)
    distance = 1.0 - unit @ unit.T
    n = len(unit)
    return float((distance.sum() - np.trace(distance)) / (n * (n - 1)))


def reference_distsum_l2(subset: np.ndarray, pool: np.ndarray) -> float:
    x = subset.astype(np.float64)
    sq = (x * x).sum(1)
    distance = sq[:, None] + sq[None, :] - 2 * x @ x.T
    np.fill_diagonal(distance, 0.0)
    return float(distance.sum() / (len(x) * (len(x) - 1)))


def reference_knn_distance(subset: np.ndarray, pool: np.ndarray) -> float:
    unit = _unit(subset)
    distance = 1.0 - unit @ unit.T
    np.fill_diagonal(distance, np.inf)
    return float(distance.min(axis=1).mean())


def reference_facility_location(subset: np.ndarray, pool: np.ndarray) -> float:
    unit_subset, unit_pool = _unit(subset), _unit(pool)
    return float(sum((unit_pool[s:s + 4096] @ unit_subset.T).max(axis=1).astype(np.float64).sum()
                     for s in range(0, len(unit_pool), 4096)))


def reference_cluster_inertia(subset: np.ndarray, pool: np.ndarray) -> float:
    from sklearn.cluster import KMeans

    return float(KMeans(min(200, len(subset)), n_init=1, random_state=0).fit(subset).inertia_)


def reference_partition_entropy(subset: np.ndarray, pool: np.ndarray) -> float:
    from sklearn.cluster import KMeans

    model = KMeans(min(1000, len(pool)), n_init=1, random_state=0).fit(pool)
    share = np.bincount(model.predict(subset)) / len(subset)
    share = share[share > 0]
    return float(-(share * np.log(share)).sum())


REFERENCES: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "novelsum": reference_novelsum, "vendi": reference_vendi, "logdet": reference_logdet,
    "distsum_cosine": reference_distsum_cosine, "distsum_l2": reference_distsum_l2,
    "knn_distance": reference_knn_distance, "facility_location": reference_facility_location,
    "cluster_inertia": reference_cluster_inertia, "partition_entropy": reference_partition_entropy,
}


def timed(fn: Callable[[], float]) -> tuple[float, float]:
    started = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pool", type=int, default=100_000, help="pool rows N")
    parser.add_argument("--subset", type=int, default=10_000, help="subset rows n")
    parser.add_argument("--dim", type=int, default=384, help="embedding dimension d")
    parser.add_argument("--metrics", default=",".join(ALL), help="comma-separated metric names")
    parser.add_argument("--reference-max-n", type=int, default=10_000,
                        help="skip references on subsets larger than this (partition entropy: pools over 10x it)")
    parser.add_argument("--skip-reference", default="", help="comma-separated metrics whose reference to skip")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    pool = synthetic_embeddings(args.pool, args.dim)
    rows = np.random.default_rng(0).choice(args.pool, args.subset, replace=False)
    subset = pool[rows]
    texts = None
    names = [m.strip() for m in args.metrics.split(",") if m.strip()]
    if {"ttr", "vocd_d"} & set(names):
        texts = synthetic_texts(args.subset)
    pool_view = PoolView(ids=[str(i) for i in range(args.pool)], embeddings=pool)
    subset_view = PoolView(ids=[str(i) for i in range(args.subset)], embeddings=subset, texts=texts)
    skip = set(args.skip_reference.split(","))

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPU threads, numpy {np.__version__}; "
          f"pool N={args.pool}, subset n={args.subset}, d={args.dim}")
    print("| metric | ours (s) | reference (s) | speed-up | ours value | reference value | rel. diff |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        if name == "novelsum":
            for line in novelsum_parts(subset, pool, args.subset <= args.reference_max_n and name not in skip):
                print(line, flush=True)
        value, seconds = timed(lambda name=name: measure(subset_view, pool_view, [name])[name])
        reference = REFERENCES.get(name)
        too_big = args.subset > args.reference_max_n or (name == "partition_entropy"
                                                         and args.pool > 10 * args.reference_max_n)
        if reference is None or too_big or name in skip:
            print(f"| {name} | {seconds:.2f} | - | - | {value:.6g} | - | - |", flush=True)
            continue
        ref_value, ref_seconds = timed(lambda reference=reference: reference(subset, pool))
        rel = abs(value - ref_value) / max(abs(ref_value), 1e-12)
        print(f"| {name} | {seconds:.2f} | {ref_seconds:.2f} | {ref_seconds / seconds:.1f}x | {value:.6g} | "
              f"{ref_value:.6g} | {rel:.1e} |", flush=True)


if __name__ == "__main__":
    main()
