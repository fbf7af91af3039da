"""The verdict table of a report: every pair of runs on every benchmark and A.4 average, Holm-adjusted.

Pairs: every unordered pair of runs on the same base model (the runs table's ``base_model`` column when it has
one, runs without a value forming a group of their own; else all runs are one group), a before b in the runs
table's order. Rows: ``PAIR_COLUMNS`` exactly, then ``EXTRA_COLUMNS``.

* ``diff`` = a - b on the benchmark's native scale (A.4 averages: percentage scale), ``ci_low`` / ``ci_high`` its
  95 % paired-bootstrap interval, ``p_value`` and ``test`` as in ``paired`` (averages: the bootstrap test of
  ``aggregates``), ``mde`` the minimum detectable effect at 80 % power (every row, not only the undecided).
* ``p_holm``: Holm's adjustment (``holm``) within a family = all pairs of one benchmark key or one average, over
  all base models: a family is one question ("which runs differ on MMLU?"), asked once per report. Families are
  not pooled: each benchmark's row of the report keeps its own 5 % family-wise error rate.
* ``verdict``: ``a better`` / ``b better`` when p_holm < alpha, by the sign of diff and the benchmark's direction
  (``higher_is_better``; averages: higher is better); ``indistinguishable`` otherwise (its ``mde`` says how large a
  difference the data could have shown).
* ``se`` the standard error behind ``mde`` (averages: the bootstrap replicates' sd); ``se_question`` its question
  part alone and ``seed_sd_a`` / ``seed_sd_b`` each run's sd across seeds of its benchmark mean (``seeds``), so the
  two sources of noise stand side by side; ``sd_paired`` the sd of the per-question differences.
* ``proxy``: True for benchmark keys outside MIG Appx. A.4 (the likelihood channel): their own verdicts, never in
  an average.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from selection_ops.evaluation.benchmarks import a4_keys
from selection_ops.evaluation.questions import higher_is_better
from selection_ops.stats.aggregates import AGGREGATES, aggregate_comparisons
from selection_ops.stats.holm import holm
from selection_ops.stats.paired import PairedComparison, compare_benchmark, draw_seeds
from selection_ops.stats.power import ALPHA, POWER
from selection_ops.stats.resample import DEFAULT_RESAMPLES, LEVEL
from selection_ops.stats.score_arrays import benchmark_arrays, seed_order

logger = logging.getLogger(__name__)

PAIR_COLUMNS = ("a", "b", "benchmark", "diff", "ci_low", "ci_high", "p_value", "p_holm", "verdict", "mde")
EXTRA_COLUMNS = ("n", "clusters", "test", "se", "se_question", "sd_paired", "seeds_a", "seeds_b", "seed_sd_a",
                 "seed_sd_b", "base_model", "proxy")
VERDICTS = ("a better", "b better", "indistinguishable")
NO_GROUP = "(no base_model)"


def run_pairs(runs: pd.DataFrame | Sequence[str], group_column: str = "base_model") -> list[tuple[str, str, str]]:
    """(a, b, group) for every pair of runs in one group, in table order. ``runs``: a table with a ``run`` column
    (and optionally ``group_column``) or the run names (one group)."""
    if isinstance(runs, pd.DataFrame):
        names = runs["run"].astype(str).tolist()
        groups = (runs[group_column].map(lambda g: NO_GROUP if pd.isna(g) else str(g)).tolist()
                  if group_column in runs else [""] * len(names))
    else:
        names, groups = [str(r) for r in runs], [""] * len(runs)
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise ValueError(f"runs repeat {repeated[:5]}: a run name must be unique")
    return [(names[i], names[j], groups[i]) for i in range(len(names)) for j in range(i + 1, len(names))
            if groups[i] == groups[j]]


def verdict(diff: float, p_holm: float, key: str, alpha: float = ALPHA) -> str:
    """``a better`` / ``b better`` / ``indistinguishable`` (the module doc)."""
    if not (math.isfinite(p_holm) and p_holm < alpha and math.isfinite(diff) and diff != 0):
        return "indistinguishable"
    higher = True if key in AGGREGATES else higher_is_better(key)
    return "a better" if (diff > 0) == higher else "b better"


def paired_verdicts(questions: pd.DataFrame, runs: pd.DataFrame | Sequence[str] | None = None, *,
                    resamples: int = DEFAULT_RESAMPLES, seed: int = 0, alpha: float = ALPHA, power: float = POWER,
                    level: float = LEVEL, source: str = "questions") -> pd.DataFrame:
    """The verdict table (module doc) of the per-question table ``questions``.

    ``runs``: the runs table (``run``, optional ``base_model``; its order is the pairs' order) or run names; None =
    the runs of ``questions`` in order of appearance, one group. Runs without per-question scores are left out (a
    log line names them). ``seed`` seeds the one ``numpy`` Generator all draws come from: the same inputs and seed
    give the same table."""
    arrays = benchmark_arrays(questions, source)
    scored = list(dict.fromkeys(run for scores in arrays.values() for run in scores.per_seed))
    if runs is None:
        runs = scored
    if isinstance(runs, pd.DataFrame):
        known = runs["run"].astype(str).isin(scored)
        if (~known).any():
            logger.info("verdicts: %d run(s) have no per-question scores and are left out: %s", int((~known).sum()),
                        runs.loc[~known, "run"].tolist()[:5])
        runs = runs[known]
    else:
        runs = [r for r in runs if r in scored]
    pairs = run_pairs(runs)
    group_of = {(a, b): g for a, b, g in pairs}
    plain_pairs = [(a, b) for a, b, _ in pairs]
    rng = np.random.default_rng(seed)
    seeds_of_run: dict[str, set[str]] = {}
    for scores in arrays.values():
        for run, labels in scores.seeds.items():
            seeds_of_run.setdefault(run, set()).update(labels)
    seed_draws = draw_seeds({run: sorted(seeds_of_run[run], key=seed_order) for run in sorted(seeds_of_run)},
                            resamples, rng)
    known = a4_keys()
    ordered_keys = [k for k in known if k in arrays] + [k for k in arrays if k not in known]
    by_benchmark: dict[str, list[PairedComparison]] = {
        key: compare_benchmark(arrays[key], plain_pairs, rng=rng, resamples=resamples, seed_draws=seed_draws,
                               alpha=alpha, power=power, level=level) for key in ordered_keys}
    rows = []
    for c in aggregate_comparisons(by_benchmark, plain_pairs, alpha, power, level):
        rows.append({"a": c.a, "b": c.b, "benchmark": c.key, "diff": c.diff, "ci_low": c.ci_low,
                     "ci_high": c.ci_high, "p_value": c.p_value, "mde": c.mde, "n": c.n, "clusters": math.nan,
                     "test": "bootstrap", "se": c.se, "se_question": math.nan, "sd_paired": math.nan,
                     "seeds_a": math.nan, "seeds_b": math.nan, "seed_sd_a": math.nan, "seed_sd_b": math.nan,
                     "proxy": False})
    for key in ordered_keys:
        for c in by_benchmark[key]:
            m = c.moments
            rows.append({"a": m.a, "b": m.b, "benchmark": key, "diff": m.diff, "ci_low": c.ci_low,
                         "ci_high": c.ci_high, "p_value": c.p_value, "mde": c.mde, "n": m.n, "clusters": m.clusters,
                         "test": c.test, "se": m.se, "se_question": math.sqrt(m.var_question),
                         "sd_paired": m.sd_paired, "seeds_a": m.seeds_a,
                         "seeds_b": m.seeds_b, "seed_sd_a": m.seed_sd_a, "seed_sd_b": m.seed_sd_b,
                         "proxy": key not in known})
    table = pd.DataFrame(rows, columns=[c for c in (*PAIR_COLUMNS, *EXTRA_COLUMNS)
                                        if c not in ("p_holm", "verdict", "base_model")])
    table = _sorted(table, ordered_keys, plain_pairs)
    table["base_model"] = [group_of[(a, b)] for a, b in zip(table["a"], table["b"])]
    table["p_holm"] = np.nan
    for _, family in table.groupby("benchmark", sort=False):
        table.loc[family.index, "p_holm"] = holm(family["p_value"].to_numpy(dtype=float))
    table["verdict"] = [verdict(d, p, k, alpha) for d, p, k in zip(table["diff"], table["p_holm"],
                                                                     table["benchmark"])]
    return table[list(PAIR_COLUMNS) + list(EXTRA_COLUMNS)].reset_index(drop=True)


def _sorted(table: pd.DataFrame, keys: Sequence[str], pairs: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """Rows by family (the averages, then A.4 benchmarks in Table 1's order, then proxies), then pair order."""
    family = {k: i for i, k in enumerate([*AGGREGATES, *keys])}
    pair = {p: i for i, p in enumerate(pairs)}
    order = sorted(range(len(table)), key=lambda i: (family[table["benchmark"].iat[i]],
                                                     pair[(table["a"].iat[i], table["b"].iat[i])]))
    return table.iloc[order].reset_index(drop=True)
