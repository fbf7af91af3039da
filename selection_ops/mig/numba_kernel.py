"""The lazy greedy of ``lazy_greedy`` compiled with numba: one binary heap of stale bounds, rows re-evaluated one at
a time in bound order (the fewest evaluations lazy evaluation allows), gains summed over a row's non-zeros in
their stored order. Same pick rule (TIE_RTOL, BOUND_SLACK) as the numpy and torch paths.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

PHI_POW, PHI_EXP = 0, 1


@njit(cache=True, inline="always")
def _derivative(x: float, kind: int, a: float, b: float, alpha: float) -> float:
    if kind == PHI_POW:
        return b * (x + a) ** (b - 1.0)
    return alpha * math.exp(-alpha * x)


@njit(cache=True, inline="always")
def _marginal(x: float, v: float, kind: int, a: float, b: float, alpha: float) -> float:
    if kind == PHI_POW:
        base = x + a
        return base**b * math.expm1(b * math.log1p(v / base))
    return math.exp(-alpha * x) * -math.expm1(-alpha * v)


@njit(cache=True)
def _gain(row, indptr, indices, data, selected, weights, exact, kind, a, b, alpha):
    total = 0.0
    for k in range(indptr[row], indptr[row + 1]):
        if exact:
            total += _marginal(selected[indices[k]], data[k], kind, a, b, alpha)
        else:
            total += data[k] * weights[indices[k]]
    return total


@njit(cache=True, inline="always")
def _less(key_a, row_a, key_b, row_b):
    return key_a < key_b or (key_a == key_b and row_a < row_b)


@njit(cache=True)
def _sift_down(keys, rows, size, position):
    while True:
        child = 2 * position + 1
        if child >= size:
            return
        if child + 1 < size and _less(keys[child + 1], rows[child + 1], keys[child], rows[child]):
            child += 1
        if not _less(keys[child], rows[child], keys[position], rows[position]):
            return
        keys[child], keys[position] = keys[position], keys[child]
        rows[child], rows[position] = rows[position], rows[child]
        position = child


@njit(cache=True)
def _sift_up(keys, rows, position):
    while position > 0:
        parent = (position - 1) // 2
        if not _less(keys[position], rows[position], keys[parent], rows[parent]):
            return
        keys[parent], keys[position] = keys[position], keys[parent]
        rows[parent], rows[position] = rows[position], rows[parent]
        position = parent


@njit(cache=True)
def lazy_greedy_kernel(indptr, indices, data, n_labels, budget, exact, kind, a, b, alpha, tie_rtol, slack):
    """Picks (budget,) int64 with their gains; stops early (returning fewer) once every remaining gain is 0.

    Heap keys are -bound, ties by row, so rows come out in decreasing stale bound.
    """
    n = len(indptr) - 1
    selected = np.zeros(n_labels)
    weights = np.empty(n_labels)
    for j in range(n_labels):
        weights[j] = _derivative(0.0, kind, a, b, alpha)
    keys = np.empty(n)
    rows = np.empty(n, dtype=np.int64)
    size = 0
    for i in range(n):
        if indptr[i + 1] > indptr[i]:
            keys[size] = -_gain(i, indptr, indices, data, selected, weights, exact, kind, a, b, alpha)
            rows[size] = i
            size += 1
    for position in range(size // 2 - 1, -1, -1):
        _sift_down(keys, rows, size, position)
    picks = np.empty(budget, dtype=np.int64)
    gains = np.empty(budget)
    fresh_rows = np.empty(n, dtype=np.int64)
    fresh_gains = np.empty(n)
    n_picked = 0
    evaluations = 0
    while n_picked < budget and size > 0 and -keys[0] > 0.0:
        best = -np.inf
        n_fresh = 0
        while size > 0 and -keys[0] * (1.0 + slack) >= best * (1.0 - tie_rtol):
            row = rows[0]
            size -= 1
            keys[0], rows[0] = keys[size], rows[size]
            _sift_down(keys, rows, size, 0)
            gain = _gain(row, indptr, indices, data, selected, weights, exact, kind, a, b, alpha)
            fresh_rows[n_fresh] = row
            fresh_gains[n_fresh] = gain
            n_fresh += 1
            best = max(best, gain)
        evaluations += n_fresh
        winner = -1
        if best > 0.0:
            for k in range(n_fresh):
                if fresh_gains[k] >= best * (1.0 - tie_rtol) and (winner < 0 or fresh_rows[k] < fresh_rows[winner]):
                    winner = k
        for k in range(n_fresh):
            if k != winner:
                keys[size] = -fresh_gains[k]
                rows[size] = fresh_rows[k]
                _sift_up(keys, rows, size)
                size += 1
        if winner < 0:
            break  # every remaining gain is 0
        pick = fresh_rows[winner]
        for k in range(indptr[pick], indptr[pick + 1]):
            j = indices[k]
            selected[j] += data[k]
            weights[j] = _derivative(selected[j], kind, a, b, alpha)
        picks[n_picked] = pick
        gains[n_picked] = fresh_gains[winner]
        n_picked += 1
    return picks[:n_picked], gains[:n_picked], evaluations
