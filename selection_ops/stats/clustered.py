"""The standard error of a mean when questions come in clusters (Miller 2024, Adding Error Bars to Evals,
Sec. 2.2, clustered standard errors).

Questions that share a prompt (MT-Bench's two turns of one dialogue, BBH's sub-tasks) are not independent: the
variance of their mean is the cluster-robust (sandwich) one,

    Var(mean) = G / (G - 1) * sum_g (sum_{i in g} (x_i - mean))^2 / n^2

over G clusters and n questions. The factor G / (G - 1) is the usual small-sample correction (Cameron & Miller
2015, A Practitioner's Guide to Cluster-Robust Inference, Sec. VI.A); with one question per cluster it makes the
formula exactly sd(x, ddof=1)^2 / n, the unclustered standard error, so both cases share one function.
"""

from __future__ import annotations

import math

import numpy as np


def cluster_sums(values: np.ndarray, cluster_codes: np.ndarray, clusters: int) -> np.ndarray:
    """Per-cluster sums: values (n,) or (n, p), cluster_codes (n,) in [0, clusters) -> (clusters,) or
    (clusters, p)."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 1:
        return np.bincount(cluster_codes, weights=values, minlength=clusters)
    out = np.zeros((clusters, values.shape[1]))
    np.add.at(out, cluster_codes, values)
    return out


def clustered_variance_of_mean(values: np.ndarray, cluster_codes: np.ndarray | None = None) -> float:
    """Var(mean of ``values`` (n,)) with the cluster-robust formula above; ``cluster_codes`` None = one question
    per cluster. NaN with fewer than two clusters."""
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    if cluster_codes is None:
        return float(values.var(ddof=1) / n) if n >= 2 else math.nan
    _, codes = np.unique(cluster_codes, return_inverse=True)
    groups = int(codes.max()) + 1 if n else 0
    if groups < 2:
        return math.nan
    residual_sums = cluster_sums(values - values.mean(), codes, groups)
    return float(groups / (groups - 1) * np.sum(residual_sums**2) / n**2)


def clustered_se(values: np.ndarray, cluster_codes: np.ndarray | None = None) -> float:
    """sqrt of ``clustered_variance_of_mean``."""
    return math.sqrt(clustered_variance_of_mean(values, cluster_codes))
