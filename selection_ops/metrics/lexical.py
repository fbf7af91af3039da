"""Lexical diversity: Type-Token Ratio and vocd-D (NovelSum Sec. 2.1, Appx. A.2, Eq. 12-13).

Tokens are lower-cased word runs and single punctuation marks (``\\w+|[^\\w\\s]``); the papers do not name a
tokenizer, and a model-free one keeps the metric cheap and reproducible.

Token sampling is seeded *per sample* from (seed, CRC-32 of the text), so a sample's value does not depend on its
position in the subset: the metrics are permutation invariant and a repeated sample repeats its value.
"""

from __future__ import annotations

import logging
import re
import zlib
from dataclasses import dataclass, field

import numpy as np

from selection_ops.data_model import MissingFieldError, PoolView
from selection_ops.metrics._inputs import require_rows
from selection_ops.registry import register_metric

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\w+|[^\w\s]")
VOCD_SAMPLE_SIZES = (10, 20, 30, 40, 50)


def tokenize(text: str) -> list[str]:
    """Lower-cased word and punctuation tokens."""
    return _TOKEN.findall(text.lower())


def _sample_rng(seed: int, text: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(text.encode("utf-8"))])


def _token_codes(view: PoolView, metric: str) -> list[tuple[str, np.ndarray]]:
    """(text, (t,) int token codes) per subset row; errors name a record with no tokens."""
    if view.texts is None:
        raise MissingFieldError(f"metric {metric} needs the sample texts; the subset has none")
    out = []
    for record_id, text in zip(view.ids, view.texts):
        tokens = tokenize(text or "")
        if not tokens:
            raise ValueError(f"metric {metric}: record {record_id!r} has no tokens in its text")
        out.append((text, np.unique(tokens, return_inverse=True)[1]))
    return out


def distinct_per_row(draws: np.ndarray) -> np.ndarray:
    """Number of distinct values in each row of an int matrix: (r, k) -> (r,)."""
    ordered = np.sort(draws, axis=1)
    return 1 + (np.diff(ordered, axis=1) != 0).sum(axis=1)


def distinct_prefix_counts(draws: np.ndarray) -> np.ndarray:
    """For each row, the number of distinct values among its first j + 1 entries: (r, m) int -> (r, m)."""
    rows, width = draws.shape
    keys = np.arange(rows)[:, None] * (int(draws.max()) + 1) + draws  # (row, value) pairs, unique across rows
    _, first = np.unique(keys.ravel(), return_index=True)
    is_first = np.zeros(rows * width, dtype=np.int64)
    is_first[first] = 1
    return is_first.reshape(rows, width).cumsum(axis=1)


@dataclass(frozen=True)
class TTRParams:
    tokens: int = field(default=30, metadata={"help": "tokens sampled per sample (all when it has fewer)"})
    seed: int = field(default=0, metadata={"help": "seed of the token sampling"})


@register_metric("ttr", TTRParams, needs=("texts",))
def type_token_ratio(subset: PoolView, pool: PoolView, params: TTRParams) -> float:
    """Type-Token Ratio (Eq. 12): mean over samples of distinct/total over ``tokens`` randomly sampled tokens."""
    require_rows(subset, "ttr", 1)
    ratios = np.empty(len(subset), dtype=np.float64)
    for row, (text, codes) in enumerate(_token_codes(subset, "ttr")):
        if len(codes) > params.tokens:
            codes = _sample_rng(params.seed, text).choice(codes, size=params.tokens, replace=False)
        ratios[row] = distinct_per_row(codes[None, :])[0] / len(codes)
    return float(ratios.mean())


@dataclass(frozen=True)
class VocdParams:
    trials: int = field(default=20, metadata={"help": "random token draws averaged per sample size k"})
    max_d: float = field(default=1000.0, metadata={"help": "upper bound of the fitted D (all-distinct draws)"})
    seed: int = field(default=0, metadata={"help": "seed of the token sampling"})


def vocd_curve(k: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Eq. 13, TTR(k; D) = D/k (sqrt(1 + 2k/D) - 1), written as 2 / (1 + sqrt(1 + 2k/D)) to avoid cancellation."""
    return 2.0 / (1.0 + np.sqrt(1.0 + 2.0 * k / d))


def fit_vocd_d(ttr: np.ndarray, mask: np.ndarray, sizes: np.ndarray, max_d: float) -> np.ndarray:
    """Least-squares D per row: argmin_D sum_k mask (TTR(k; D) - ttr_k)^2 over D in [0.1, max_d].

    ttr, mask: (r, s) observed TTR per sample size and which sizes the row has; sizes: (s,).
    A log-spaced grid finds the basin, a vectorised golden-section search refines it. Returns (r,) float64.
    """
    grid = np.geomspace(0.1, max_d, 241)
    sse = (((vocd_curve(sizes[None, None, :], grid[None, :, None]) - ttr[:, None, :]) ** 2) * mask[:, None, :]).sum(2)
    best = sse.argmin(axis=1)
    lo = np.log(grid[np.maximum(best - 1, 0)])
    hi = np.log(grid[np.minimum(best + 1, len(grid) - 1)])

    def loss(log_d: np.ndarray) -> np.ndarray:
        return (((vocd_curve(sizes[None, :], np.exp(log_d)[:, None]) - ttr) ** 2) * mask).sum(axis=1)

    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(60):
        left, right = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        go_left = loss(left) < loss(right)
        hi = np.where(go_left, right, hi)
        lo = np.where(go_left, lo, left)
    return np.exp((lo + hi) / 2.0)


@register_metric("vocd_d", VocdParams, needs=("texts",))
def vocd_d(subset: PoolView, pool: PoolView, params: VocdParams) -> float:
    """vocd-D (Eq. 13): per sample, fit D to its mean TTR at k = 10..50 sampled tokens; mean D over samples.

    Each of ``trials`` draws is a random ordering of the sample's tokens; its TTR at size k is read on the first k
    tokens (a uniform random k-subset), and the draws are averaged per k. Sizes longer than the sample are
    skipped, and samples with fewer than 10 tokens are left out (logged), as vocd needs a curve to fit.
    """
    require_rows(subset, "vocd_d", 1)
    sizes = np.asarray(VOCD_SAMPLE_SIZES, dtype=np.float64)
    longest = VOCD_SAMPLE_SIZES[-1]
    ttr = np.zeros((len(subset), len(sizes)))
    mask = np.zeros_like(ttr)
    for row, (text, codes) in enumerate(_token_codes(subset, "vocd_d")):
        usable_sizes = [col for col, k in enumerate(VOCD_SAMPLE_SIZES) if k <= len(codes)]
        if not usable_sizes:
            continue
        rng = _sample_rng(params.seed, text)
        prefix = codes[np.argsort(rng.random((params.trials, len(codes))), axis=1)[:, :longest]]  # (trials, <=50)
        distinct = distinct_prefix_counts(prefix)
        for col in usable_sizes:
            k = VOCD_SAMPLE_SIZES[col]
            ttr[row, col] = distinct[:, k - 1].mean() / k
            mask[row, col] = 1.0
    usable = mask[:, 0] > 0
    if not usable.any():
        raise ValueError(f"metric vocd_d: no sample has at least {VOCD_SAMPLE_SIZES[0]} tokens")
    if not usable.all():
        logger.info("vocd_d: %d of %d samples have fewer than %d tokens and are left out",
                    int((~usable).sum()), len(subset), VOCD_SAMPLE_SIZES[0])
    return float(fit_vocd_d(ttr[usable], mask[usable], sizes, params.max_d).mean())
