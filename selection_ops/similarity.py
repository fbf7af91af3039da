"""Cosine-similarity building blocks shared by the embedding selectors, computed in blocks (never an n x n matrix).

* ``unit_embeddings``: a pool's embeddings as unit-norm float32 rows (cosine = dot product).
* ``threshold_filter``: the greedy "accept unless too similar to an accepted sample" walk of DEITA's score-first
  filter and NovelSum's Repr Filter. Candidates are tested a block at a time against the accepted set with one
  matrix product; survivors of a block are then checked against each other in walk order, so the result is
  exactly that of testing one candidate at a time (the official DEITA loop with ``batch_size=1``). Similarities are
  float32 products, whose rounding depends on the product's shape; a maximum within ``_BORDER`` of the threshold is
  recomputed in float64, so the blocked and one-at-a-time walks decide every borderline case the same way.
* ``max_similarity``: for each query row, its largest cosine similarity to a key set, in blocks.
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from selection_ops.data_model import PoolView, normalize_rows

logger = logging.getLogger(__name__)

_BLOCK = 1024  # candidates tested per matrix product in threshold_filter
_BORDER = 1e-5  # float32 maxima this close to the threshold are decided in float64
_QUERY_BLOCK = 4096  # query rows per product in max_similarity
_KEY_BLOCK = 4096  # key rows per product in max_similarity: the (query_block, key_block) buffer is 64 MiB


def unit_embeddings(pool: PoolView) -> np.ndarray:
    """The pool's embeddings scaled to unit L2 norm: (n, d) float32, C-contiguous."""
    return np.ascontiguousarray(normalize_rows(pool.embeddings))


def max_similarity(queries: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """max_j <queries_i, keys_j> per query row: (m, d), (t, d) -> (m,) float32; -inf where ``keys`` is empty."""
    best = np.full(len(queries), -np.inf, dtype=np.float32)
    for row in range(0, len(queries), _QUERY_BLOCK):
        block = queries[row:row + _QUERY_BLOCK]
        for start in range(0, len(keys), _KEY_BLOCK):
            np.maximum(best[row:row + _QUERY_BLOCK], (block @ keys[start:start + _KEY_BLOCK].T).max(axis=1),
                       out=best[row:row + _QUERY_BLOCK])
    return best


def _exact_max_similarity(vector: np.ndarray, keys: np.ndarray) -> float:
    """max_j <vector, keys_j> in float64, over the keys whose float32 similarity is near the top: (d,), (t, d)."""
    approximate = keys @ vector
    near = approximate >= approximate.max() - 4 * _BORDER
    return float((keys[near].astype(np.float64) @ vector.astype(np.float64)).max())


def _settled_max(approximate: float, vector: np.ndarray, keys: np.ndarray, threshold: float) -> float:
    """The float32 maximum, or its float64 recomputation when it lies within ``_BORDER`` of the threshold."""
    return _exact_max_similarity(vector, keys) if abs(approximate - threshold) <= _BORDER else approximate


def _too_similar(similarity: np.ndarray | np.floating, threshold: float, reject_equal: bool) -> np.ndarray:
    return similarity >= threshold if reject_equal else similarity > threshold


def threshold_filter(unit: np.ndarray, order: np.ndarray, budget: int, threshold: float, *,
                     reject_equal: bool, block: int = _BLOCK, desc: str = "threshold filter") -> np.ndarray:
    """Walk ``order``; accept a row unless its cosine similarity to an already accepted row is too high.

    unit:      (n, d) unit-norm float32 rows.
    order:     (m,) row indices in walk order (m <= n).
    threshold: the similarity bound tau. ``reject_equal=False`` rejects when sim > tau (DEITA),
               ``reject_equal=True`` rejects when sim >= tau (Repr Filter: accept only below the threshold).

    Returns the accepted rows in acceptance order, (k,) int64 with k <= budget; k < budget when the walk ran out.
    """
    accepted = np.empty(budget, dtype=np.int64)
    accepted_unit = np.empty((budget, unit.shape[1]), dtype=np.float32)
    count = walked = 0
    progress = tqdm(total=budget, desc=desc, unit="sample", disable=budget < 5_000)
    for start in range(0, len(order), block):
        candidates = order[start:start + block]
        walked = start + len(candidates)
        vectors = unit[candidates]
        if count:
            best = max_similarity(vectors, accepted_unit[:count]).astype(np.float64)
            for k in np.flatnonzero(np.abs(best - threshold) <= _BORDER):
                best[k] = _exact_max_similarity(vectors[k], accepted_unit[:count])
            keep = ~_too_similar(best, threshold, reject_equal)
            candidates, vectors = candidates[keep], vectors[keep]
        if not len(candidates):
            continue
        within = vectors @ vectors.T  # survivors against each other, tested in walk order
        taken: list[int] = []
        for position in range(len(candidates)):
            if taken:
                best_within = _settled_max(float(within[position, taken].max()), vectors[position], vectors[taken],
                                           threshold)
                if _too_similar(best_within, threshold, reject_equal):
                    continue
            taken.append(position)
            accepted[count] = candidates[position]
            accepted_unit[count] = vectors[position]
            count += 1
            progress.update(1)
            if count == budget:
                break
        if count == budget:
            break
    progress.close()
    logger.info("%s: accepted %d of the %d samples walked", desc, count, walked)
    return accepted[:count]


def threshold_filter_reference(unit: np.ndarray, order: np.ndarray, budget: int, threshold: float, *,
                               reject_equal: bool) -> np.ndarray:
    """The straightforward walk (official DEITA with ``batch_size=1``): one candidate at a time against all accepted.

    Same arguments and result as ``threshold_filter``; kept as the reference for tests and the benchmark.
    """
    accepted: list[int] = []
    accepted_unit = np.empty((budget, unit.shape[1]), dtype=np.float32)
    for row in order.tolist():
        if accepted:
            keys = accepted_unit[:len(accepted)]
            if _too_similar(_settled_max(float((keys @ unit[row]).max()), unit[row], keys, threshold), threshold,
                            reject_equal):
                continue
        accepted_unit[len(accepted)] = unit[row]
        accepted.append(row)
        if len(accepted) == budget:
            break
    return np.asarray(accepted, dtype=np.int64)
