"""MIG Appx. A.4's score arithmetic, with the noise the paper leaves out.

Normalisation to a percentage scale (A.4): AlpacaEval 2 as is (win rate, 0-100), MT-Bench x 10 (1-10),
WildBench (x + 100) / 2 (-100..100); knowledge benchmarks already are percentages. Avg_obj is the mean of the
normalised knowledge scores (ARC, BBH, GSM8K, HumanEval, MMLU, IFEval), Avg_sub of the preference scores
(AlpacaEval, MT-Bench, WildBench), Avg the mean of the two (Table 1).

Standard errors (not in the paper; what tells a real difference from noise on a few hundred questions):
accuracies and win rates are binomial, se = 100 sqrt(p (1 - p) / n) with p the score / 100; MT-Bench and WildBench
scores are means of per-sample grades, se = sd(grades, ddof=1) / sqrt(n). Normalisation scales se by the same
factor (x 10, / 2). An average of k independent benchmark scores has se = sqrt(sum se_i^2) / k, so Avg has
se = sqrt(se_obj^2 + se_sub^2) / 2. These describe one run's score; whether two runs differ is decided per
question, paired, by ``selection_ops.stats.verdicts`` (two runs' errors on the same questions are correlated, so
their unpaired standard errors do not say it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from selection_ops.evaluation.benchmarks import a4_keys, half_keys, score_spec

# MIG A.4's normalisation and which scores are binomial: each score key's entry in the registry
# (``selection_ops.evaluation.benchmarks.SCORES``), read when called so that a registered benchmark is averaged too.


def _a4(key: str) -> tuple[float, float]:
    spec = score_spec(key)
    if spec is None or spec.a4 is None:
        raise ValueError(f"no A.4 normalisation for benchmark {key!r}; known: {sorted(a4_keys())}")
    return spec.a4


def normalise(key: str, native: float) -> float:
    """A benchmark score on its native scale -> MIG A.4's percentage scale."""
    scale, offset = _a4(key)
    return (native + offset) * scale


def normalise_stderr(key: str, stderr: float) -> float:
    """A standard error on the native scale -> on the percentage scale (the offset does not move it)."""
    return stderr * _a4(key)[0]


def binomial_stderr(percent: float, n: int) -> float:
    """se of a proportion given in percent over ``n`` trials: 100 sqrt(p (1 - p) / n); NaN when n < 1."""
    if n < 1 or not math.isfinite(percent):
        return math.nan
    p = percent / 100.0
    return 100.0 * math.sqrt(max(p * (1.0 - p), 0.0) / n)


def mean_stderr(values: Sequence[float] | np.ndarray) -> float:
    """se of a mean of graded samples: sd(ddof=1) / sqrt(n); NaN for fewer than two samples."""
    array = np.asarray(values, dtype=np.float64)
    if array.size < 2:
        return math.nan
    return float(array.std(ddof=1) / math.sqrt(array.size))


def native_stderr(key: str, native: float, n: int | None) -> float:
    """se from the score and n alone: binomial benchmarks only (graded ones need their samples); else NaN."""
    spec = score_spec(key)
    if spec is not None and spec.binomial and n:
        return binomial_stderr(native, int(n))
    return math.nan


def _mean_with_stderr(values: Sequence[float], stderrs: Sequence[float]) -> tuple[float, float]:
    k = len(values)
    mean = sum(values) / k
    stderr = math.sqrt(sum(se * se for se in stderrs)) / k
    return mean, stderr


@dataclass(frozen=True)
class A4Scores:
    """One run's A.4 columns. ``normalised``: key -> percentage-scale score; NaN where a half has no benchmark.

    Avg needs both halves: with only one, Avg is NaN rather than a copy of the half that exists (a report that
    mixes both kinds of rows must not rank a knowledge-only run against full ones).
    """

    normalised: dict[str, float]
    normalised_stderr: dict[str, float]
    avg_obj: float
    avg_obj_stderr: float
    avg_sub: float
    avg_sub_stderr: float
    avg: float
    avg_stderr: float

    def columns(self) -> dict[str, float]:
        return {"avg_obj": self.avg_obj, "avg_obj.stderr": self.avg_obj_stderr, "avg_sub": self.avg_sub,
                "avg_sub.stderr": self.avg_sub_stderr, "avg": self.avg, "avg.stderr": self.avg_stderr}


def a4_part(values: Mapping[str, float]) -> dict[str, float]:
    """The entries of ``values`` that A.4 averages (its nine benchmarks); proxy scores (the likelihood channel) and
    anything else are left out, never averaged in."""
    keys = set(a4_keys())
    return {key: value for key, value in values.items() if key in keys}


def a4_scores(native: Mapping[str, float], stderr: Mapping[str, float] | None = None) -> A4Scores:
    """Normalise native scores (benchmark key -> score; unknown keys are an error, NaN scores are left out) and
    average them into Avg_obj, Avg_sub and Avg with propagated standard errors (NaN where a se is unknown)."""
    stderr = dict(stderr or {})
    normalised: dict[str, float] = {}
    normalised_se: dict[str, float] = {}
    for key, value in native.items():
        if value is None or not math.isfinite(float(value)):
            continue
        normalised[key] = normalise(key, float(value))
        normalised_se[key] = normalise_stderr(key, float(stderr.get(key, math.nan)))
    halves = {}
    for name, keys in (("obj", half_keys("knowledge")), ("sub", half_keys("preference"))):
        present = [k for k in keys if k in normalised]
        halves[name] = (_mean_with_stderr([normalised[k] for k in present], [normalised_se[k] for k in present])
                        if present else (math.nan, math.nan))
    (obj, obj_se), (sub, sub_se) = halves["obj"], halves["sub"]
    avg, avg_se = (_mean_with_stderr([obj, sub], [obj_se, sub_se]) if math.isfinite(obj) and math.isfinite(sub)
                   else (math.nan, math.nan))
    return A4Scores(normalised, normalised_se, obj, obj_se, sub, sub_se, avg, avg_se)
