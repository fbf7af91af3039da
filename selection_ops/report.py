"""The report: MIG Appx. A.4's columns with their noise, paired verdicts between runs, and each diversity metric
against the performance.

Rows are runs (trained selections, the untuned base model, the full pool), named by ``run``; columns
``bench.<key>`` on native scales (keys of ``selection_ops.evaluation.benchmarks``; optional ``bench.<key>.stderr``
and ``bench.<key>.n``), ``diversity.<metric>``. With a per-question table (``selection_ops.evaluation.questions``)
a ``bench.<key>`` the runs table lacks is filled from it (the native-scale mean) and every pair of runs on one base
model gets a paired verdict per benchmark and per A.4 average (``selection_ops.stats.verdicts``: difference,
95 % paired-bootstrap interval, p-value, Holm-adjusted p, verdict, minimum detectable effect), written to
``pairs.csv``; without one the report says that verdicts need per-question scores.

The report adds Avg_obj / Avg_sub / Avg and their standard errors (``selection_ops.evaluation.a4``), ``zsum``
(NovelSum Eq. 5) over the A.4 benchmarks that can rank runs (``selection_ops.stats.informative``: a benchmark that
scores every run the same is left out with its reason), and correlates every diversity metric with the
performance (Pearson, Spearman, their mean: NovelSum Eq. 6) with n and bootstrap intervals over the points, once
with all points and once without control selectors (``selection_ops.stats.correlation_ci``), with a scatter plot
each. Benchmarks outside A.4 (the likelihood channel: ``ref_bpb_*``, ``arc_c_prob``, ...) are proxies: their
scores, verdicts and correlations form a block of their own and never enter an average or ``zsum``. With fewer
than three points no correlation is meaningful: the report says so instead of failing. The Dagster report asset
and ``infosift report`` both call ``correlation_report``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from selection_ops.evaluation.a4 import a4_scores, native_stderr
from selection_ops.evaluation.benchmarks import a4_keys
from selection_ops.evaluation.questions import higher_is_better
from selection_ops.evaluation.records import score_key
from selection_ops.foundation.atomic import write_text_atomic
from selection_ops.stats.correlation_ci import CORRELATION_RESAMPLES, DEFAULT_CONTROLS
from selection_ops.stats.power import ALPHA, POWER
from selection_ops.stats.resample import DEFAULT_RESAMPLES, LEVEL
from selection_ops.study.cells import variant_of

MIN_POINTS = 3
A4_COLUMNS = ("avg_obj", "avg_obj.stderr", "avg_sub", "avg_sub.stderr", "avg", "avg.stderr")
NO_VERDICTS = ("verdicts need per-question scores: pass the questions table (infosift report --questions "
               "QUESTIONS.csv; columns run, benchmark, question, score)")
FAMILIES = ("one Holm family per benchmark key or A.4 average: all pairs of the report on it")


def runs_table(runs: Iterable) -> pd.DataFrame:
    """MLflow runs (``mlflow.entities.Run``) -> one row per run with its tags, params and metrics. ``seed`` is the
    selection's seed, ``train_seed`` the fine-tune's, ``cell`` the same for every seed of one trained cell (None for
    runs without one: selections, reference rows)."""
    rows = []
    for run in runs:
        partition = run.data.tags.get("infosift.partition")
        params = run.data.params
        row = {"run": partition or run.info.run_name or run.info.run_id, "run_id": run.info.run_id,
               "partition": partition, "selector": params.get("selector"), "budget": params.get("budget"),
               "base_model": params.get("base_model"), "seed": params.get("seed"),
               "train_seed": params.get("train_seed"), "cell": params.get("cell")}
        row.update(run.data.metrics)
        rows.append(row)
    return pd.DataFrame(rows)


def pool_seed_runs(table: pd.DataFrame, questions: pd.DataFrame | None) -> tuple[pd.DataFrame,
                                                                                   pd.DataFrame | None]:
    """One report row per trained cell over its seeds (``runs_table`` rows sharing a ``cell``): ``run`` becomes the
    cell, numeric columns its mean over seeds (standard errors dropped: the verdicts carry the seed variance),
    ``seeds`` the count; each seed's per-question rows are renamed to the cell with their ``seed`` (its
    ``train_seed``), so the verdicts average a question over seeds before pairing. Rows without a cell (the
    reference rows) and one-seed cells keep their run name."""
    if "cell" not in table or not table["cell"].notna().any():
        return table, questions
    cells = table["cell"].where(table["cell"].notna(), table["run"])
    repeated = cells.map(cells.value_counts()) > 1
    if not repeated.any():
        return table, questions
    seed_of_run = dict(zip(table["run"], pd.to_numeric(table.get("train_seed", table.get("seed")),
                                                       errors="coerce")))
    renamed = dict(zip(table["run"], cells.where(repeated, table["run"])))
    numeric = [c for c in table.columns if pd.api.types.is_numeric_dtype(table[c]) and not c.endswith(".stderr")]
    pooled = table.assign(run=cells.where(repeated, table["run"]))
    first = pooled.groupby("run", sort=False).first()
    first[numeric] = pooled.groupby("run", sort=False)[numeric].mean()
    first["seeds"] = pooled.groupby("run", sort=False).size()
    for column in [c for c in table.columns if c.endswith(".stderr")]:
        first.loc[first["seeds"] > 1, column] = math.nan
    if questions is not None and len(questions):
        questions = questions.assign(seed=questions["run"].map(seed_of_run), run=questions["run"].map(renamed))
    return first.reset_index(), questions


def _bench_keys(table: pd.DataFrame) -> list[str]:
    """Score columns ``bench.<key>`` (not their ``.stderr`` / ``.n`` companions), in the table's order: the names
    ``selection_ops.evaluation.records`` gives scores in MLflow, read with its ``score_key``."""
    return [c for c in table.columns if score_key(c) is not None]


def proxy_keys(table: pd.DataFrame) -> list[str]:
    """The benchmark keys of ``table`` outside MIG Appx. A.4 (their own verdicts, never in an average)."""
    return [c.removeprefix("bench.") for c in _bench_keys(table) if c.removeprefix("bench.") not in a4_keys()]


def zsum_keys(table: pd.DataFrame, uninformative: dict[str, str] | None = None) -> list[str]:
    """The ``bench.<key>`` columns NovelSum Eq. 5 sums: A.4 benchmarks that can rank the runs."""
    uninformative = uninformative or {}
    return [c for c in _bench_keys(table)
            if c.removeprefix("bench.") in a4_keys() and c.removeprefix("bench.") not in uninformative]


def add_a4_columns(table: pd.DataFrame, uninformative: dict[str, str] | None = None) -> pd.DataFrame:
    """A copy of ``table`` with ``bench.<key>.stderr`` filled where only n is known (binomial benchmarks), the A.4
    columns computed from the known benchmarks (values the table already has are kept: a run's own record wins) and
    ``zsum`` over ``zsum_keys`` when there are at least two runs."""
    table = table.copy()
    for column in _bench_keys(table):
        key = column.removeprefix("bench.")
        if key not in a4_keys():
            continue
        derived = [native_stderr(key, float(v), int(n)) if np.isfinite(n) else math.nan
                   for v, n in zip(table[column], table.get(f"{column}.n", pd.Series(math.nan, index=table.index)))]
        given = table.get(f"{column}.stderr", pd.Series(math.nan, index=table.index)).astype(float)
        table[f"{column}.stderr"] = given.where(given.notna(), derived)
    computed = []
    for _, row in table.iterrows():
        native = {k: float(row[f"bench.{k}"]) for k in a4_keys()
                  if f"bench.{k}" in row and pd.notna(row[f"bench.{k}"])}
        stderr = {k: float(row.get(f"bench.{k}.stderr", math.nan)) for k in native}
        computed.append(a4_scores(native, stderr).columns())
    computed = pd.DataFrame(computed, index=table.index, columns=list(A4_COLUMNS))
    for column in A4_COLUMNS:
        table[column] = (table[column].where(table[column].notna(), computed[column]) if column in table
                         else computed[column])
    benches = zsum_keys(table, uninformative)
    if benches and len(table) >= 2:
        from selection_ops.correlation import aggregate_performance

        table["zsum"] = aggregate_performance({b: table[b].to_numpy(dtype=float) for b in benches})
    return table


def fill_from_questions(table: pd.DataFrame, native: pd.DataFrame) -> pd.DataFrame:
    """``table`` with every ``bench.<key>`` (and ``.n``, ``.stderr``) of ``native`` (``score_arrays.native_scores``,
    indexed by run) that it lacks, or has NaN, filled for its runs; a value the table has is kept."""
    table = table.copy()
    by_run = native.reindex(table["run"].astype(str))
    for column in native.columns:
        values = by_run[column].to_numpy()
        table[column] = (table[column].where(table[column].notna(), values) if column in table else values)
    return table


def default_performance(table: pd.DataFrame) -> str:
    """``avg`` when some run has both halves, else ``avg_obj``."""
    return "avg" if "avg" in table and table["avg"].notna().any() else "avg_obj"


@dataclass
class CorrelationReport:
    points: int
    message: str
    # metric -> n, pearson, spearman, mean and their <kind>_low / <kind>_high bootstrap interval
    correlations: dict[str, dict[str, float]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)  # metric -> why its correlation is undefined (NaN)
    plots: dict[str, Path] = field(default_factory=dict)
    left_out: dict[str, str] = field(default_factory=dict)  # metric -> why it is not in the table (constant_metrics)
    performance: str = "avg_obj"
    scores: list[dict[str, object]] = field(default_factory=list)  # per run: A.4 columns and stderrs
    pairs: list[dict[str, object]] = field(default_factory=list)  # the verdict table's rows (pairs.csv)
    correlations_without_controls: dict[str, dict[str, float]] = field(default_factory=dict)
    controls: list[str] = field(default_factory=list)  # control runs among the points
    uninformative: dict[str, str] = field(default_factory=dict)  # benchmark key -> why it cannot rank runs
    proxy: dict[str, object] = field(default_factory=dict)  # the non-A.4 benchmarks' block
    verdict_note: str = NO_VERDICTS  # why there are no verdicts ("" when there are)

    def flat_metrics(self) -> dict[str, float]:
        """``<metric>.<kind>`` and ``without_controls.<metric>.<kind>`` -> value, finite numbers only."""
        flat = {}
        for prefix, table in (("", self.correlations), ("without_controls.", self.correlations_without_controls)):
            for metric, values in table.items():
                for kind, value in values.items():
                    if isinstance(value, (int, float)) and math.isfinite(value):
                        flat[f"{prefix}{metric}.{kind}"] = float(value)
        return flat

    def scores_markdown(self) -> str:
        """Runs with Avg_obj / Avg_sub / Avg +- standard error, then the paired verdicts (which pairs differ, and
        the MDE of those that do not), or why there are none."""
        if not self.scores:
            return ""
        from selection_ops.stats.summary import verdicts_markdown

        def cell(row: dict, name: str) -> str:
            value, se = row.get(name), row.get(f"{name}.stderr")
            if value is None or not math.isfinite(value):
                return "-"
            return f"{value:.2f}" + (f" ± {se:.2f}" if se is not None and math.isfinite(se) else "")

        def parse_rates(row: dict) -> str:
            rates = [f"{k.removeprefix('parse_rate.')} {v:.0%}" for k, v in row.items()
                     if k.startswith("parse_rate.") and v is not None and math.isfinite(v)]
            return ", ".join(rates) or "-"

        lines = ["| run | Avg_obj | Avg_sub | Avg | judge parse rate |", "|---|---|---|---|---|"]
        lines += [f"| {r['run']} | {cell(r, 'avg_obj')} | {cell(r, 'avg_sub')} | {cell(r, 'avg')} | "
                  f"{parse_rates(r)} |" for r in self.scores]
        lines.append("")
        if self.verdict_note:
            lines.append(self.verdict_note)
        else:
            a4_rows = [row for row in self.pairs if not row["proxy"]]
            lines.append(f"Paired verdicts ({len(self.pairs)} rows in pairs.csv, proxies below; {FAMILIES}):")
            lines.append("")
            lines.append(verdicts_markdown(a4_rows) or "no pair of runs shares a question")
        return "\n".join(lines)

    def markdown(self) -> str:
        notes = "".join(f"\n- left out: {metric} ({reason})" for metric, reason in sorted(self.left_out.items()))
        notes += "".join(f"\n- benchmark {key} left out of zsum and the correlations ({reason})"
                         for key, reason in self.uninformative.items())
        scores = self.scores_markdown()
        parts = [self.message + notes]
        if scores:
            parts.append(scores)
        if self.correlations:
            parts.append(_correlation_markdown(self.correlations, self.reasons, "all points"))
            if self.controls:
                parts.append(_correlation_markdown(self.correlations_without_controls, {},
                                                   f"without the control runs {', '.join(self.controls)}"))
        if self.proxy.get("benchmarks"):
            parts.append(_proxy_markdown(self.proxy))
        return "\n\n".join(parts)


def _interval(values: dict, kind: str) -> str:
    low, high = values.get(f"{kind}_low"), values.get(f"{kind}_high")
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return f"{values[kind]:.3f}"
    return f"{values[kind]:.3f} [{low:.2f}, {high:.2f}]"


def _correlation_markdown(correlations: dict[str, dict], reasons: dict[str, str], title: str) -> str:
    lines = [f"Correlations ({title}; 95 % bootstrap intervals over points):", "",
             "| metric | n | Pearson | Spearman | mean |", "|---|---|---|---|---|"]
    for metric, v in sorted(correlations.items(), key=lambda kv: -_nan_last(kv[1]["mean"])):
        reason = reasons.get(metric) or v.get("reason")
        if reason or not math.isfinite(v["mean"]):
            lines.append(f"| {metric} | {v.get('n', '-')} | - | - | - ({reason or 'undefined'}) |")
        else:
            lines.append(f"| {metric} | {v['n']} | {_interval(v, 'pearson')} | {_interval(v, 'spearman')} | "
                         f"{_interval(v, 'mean')} |")
    return "\n".join(lines)


def _proxy_markdown(proxy: dict) -> str:
    from selection_ops.stats.summary import verdicts_markdown

    lines = ["Proxy benchmarks (outside MIG Appx. A.4; never in an average or zsum): "
             + ", ".join(f"{k} ({'higher' if proxy['higher_is_better'][k] else 'lower'} is better)"
                         for k in proxy["benchmarks"])]
    for key, block in proxy["correlations"].items():
        if "left_out" in block:
            lines.append(f"- {key}: no correlation ({block['left_out']})")
            continue
        vs = block.get("vs_performance")
        if vs and vs.get("mean") is not None and math.isfinite(vs["mean"]):
            lines.append(f"- {key} vs {proxy['performance']}: n {vs['n']}, Pearson {_interval(vs, 'pearson')}, "
                         f"Spearman {_interval(vs, 'spearman')}")
        elif vs:
            lines.append(f"- {key} vs {proxy['performance']}: undefined ({vs.get('reason')})")
    if proxy.get("verdicts"):
        lines += ["", verdicts_markdown(proxy["verdicts"])]
    return "\n".join(lines)


def _nan_last(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def correlation_report(table: pd.DataFrame, out_dir: Path, performance: str | None = None,
                       questions: pd.DataFrame | None = None, controls: Sequence[str] = DEFAULT_CONTROLS, *,
                       resamples: int = DEFAULT_RESAMPLES, correlation_resamples: int = CORRELATION_RESAMPLES,
                       seed: int = 0) -> CorrelationReport:
    """The whole report of ``table`` (see the module doc) into ``out_dir``: ``table.csv`` (with the A.4 columns and
    ``zsum``), ``report.json``, ``pairs.csv`` (with ``questions``), ``scores.png``, ``comparison.png``
    (``selection_ops.comparison_plot``) and one ``scatter_<metric>.png`` per diversity metric.

    ``performance``: ``avg``, ``avg_obj``, ``avg_sub``, ``zsum`` or any column; default ``default_performance``.
    With several A.4 bench columns each metric is also correlated with ``zsum``, reported as ``<metric>.vs_zsum``.
    ``questions``: the per-question table (``read_questions``), same run names as ``table``. ``controls``: selector
    names whose runs the correlations are also computed without. ``resamples`` (verdicts),
    ``correlation_resamples`` and ``seed``: the bootstraps' sizes and seed.
    """
    from selection_ops.comparison_plot import comparison_figure
    from selection_ops.correlation import constant_metrics
    from selection_ops.stats.correlation_ci import control_runs
    from selection_ops.stats.informative import uninformative_benchmarks

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    table = table.copy()
    if "run" not in table:
        table["run"] = table["partition"] if "partition" in table else [f"run{i}" for i in range(len(table))]
    table["run"] = table["run"].astype(str)
    if questions is not None:
        from selection_ops.stats.score_arrays import benchmark_arrays, native_scores

        table = fill_from_questions(table, native_scores(benchmark_arrays(questions)))
    uninformative = uninformative_benchmarks(table)
    table = add_a4_columns(table, uninformative)
    performance = performance or default_performance(table)
    if performance not in table:
        raise ValueError(f"performance column {performance!r} is not in the table (columns: {list(table.columns)})")
    metrics = sorted(c for c in table.columns if c.startswith("diversity."))
    # correlation points: evaluated runs with a diversity value (the untuned baseline has none; it is a score row)
    evaluated = table.dropna(subset=[performance])
    evaluated = evaluated[evaluated[metrics].notna().any(axis=1)] if metrics else evaluated.iloc[0:0]
    write_text_atomic(out_dir / "table.csv", table.to_csv(index=False))
    left_out = constant_metrics({c.removeprefix("diversity."): evaluated[c].to_numpy() for c in metrics})
    metrics = [c for c in metrics if c.removeprefix("diversity.") not in left_out]
    is_control = control_runs(evaluated, controls)
    n = len(evaluated)
    if n < MIN_POINTS:
        report = CorrelationReport(n, f"{n} evaluated run(s): at least {MIN_POINTS} are needed for a "
                                      "correlation; none computed.", performance=performance)
    else:
        report = CorrelationReport(n, f"correlations of {len(metrics)} diversity metrics with {performance} over "
                                      f"{n} evaluated runs", performance=performance)
        with_zsum = len(zsum_keys(evaluated, uninformative)) > 1 and performance != "zsum" and "zsum" in evaluated
        report.correlations = _correlations(evaluated, metrics, performance, with_zsum, report.reasons,
                                            correlation_resamples, seed)
        report.correlations_without_controls = _correlations(evaluated[~is_control], metrics, performance,
                                                             with_zsum, None, correlation_resamples, seed)
        for column in metrics:
            name = column.removeprefix("diversity.")
            values = evaluated[[column, performance]].dropna()
            report.plots[name] = _scatter(values[column], values[performance], evaluated.loc[values.index, "run"],
                                          name, performance, report.correlations[name]["mean"],
                                          out_dir / f"scatter_{name}.png")
    report.controls = evaluated.loc[is_control, "run"].tolist()
    report.uninformative = uninformative
    report.left_out = left_out
    score_columns = ["run", *[c for c in table.columns if c.startswith("bench.") or c.startswith("parse_rate.")],
                     *A4_COLUMNS, *(["zsum"] if "zsum" in table else [])]
    report.scores = _jsonable(table[score_columns].to_dict("records"))
    verdict_rows: list[dict] = []
    if questions is not None:
        from selection_ops.stats.verdicts import paired_verdicts

        runs = table[["run", *(["base_model"] if "base_model" in table else [])]]
        pairs = paired_verdicts(questions, runs, resamples=resamples, seed=seed)
        # the evidence beside the verdicts: `infosift report --runs table.csv --questions questions.csv` and
        # `infosift power --questions questions.csv` rerun from these two files
        write_text_atomic(out_dir / "questions.csv", questions.to_csv(index=False))
        write_text_atomic(out_dir / "pairs.csv", pairs.to_csv(index=False))
        verdict_rows = _jsonable(pairs.to_dict("records"))
        report.pairs = verdict_rows
        report.verdict_note = ""
    report.proxy = _proxy_block(table, evaluated, metrics, performance, verdict_rows, uninformative,
                                correlation_resamples, seed)
    compared = "avg" if table["avg"].notna().any() else "avg_obj"
    if table[compared].notna().any():
        report.plots["scores"] = _scores_plot(table, compared, out_dir / "scores.png")
    comparison = comparison_figure(evaluated, metrics, [performance, *(f"bench.{k}" for k in proxy_keys(table))],
                                   out_dir / "comparison.png")
    if comparison is not None:
        report.plots["comparison"] = comparison
    write_text_atomic(out_dir / "report.json", json.dumps(_jsonable(
        {"points": report.points, "message": report.message, "performance": performance,
         "correlations": report.correlations, "undefined": report.reasons, "left_out": left_out,
         "correlations_without_controls": report.correlations_without_controls,
         "controls": {"selectors": list(controls), "runs": report.controls},
         "uninformative": uninformative, "scores": report.scores,
         "verdicts": {"available": questions is not None, "note": report.verdict_note or None, "alpha": ALPHA,
                      "power": POWER, "level": LEVEL, "resamples": resamples, "seed": seed, "families": FAMILIES,
                      "pairs": [r for r in verdict_rows if not r["proxy"]]},
         "proxy": report.proxy}), indent=2))
    return report


def _correlations(points: pd.DataFrame, metrics: Sequence[str], performance: str, with_zsum: bool,
                  reasons: dict[str, str] | None, resamples: int, seed: int) -> dict[str, dict[str, float]]:
    """metric (and ``<metric>.vs_zsum``) -> ``correlation_interval`` over ``points``; reasons collected."""
    from selection_ops.stats.correlation_ci import correlation_interval

    out = {}
    targets = [(performance, "")] + ([("zsum", ".vs_zsum")] if with_zsum else [])
    for target, suffix in targets:
        for column in metrics:
            name = column.removeprefix("diversity.") + suffix
            values = correlation_interval(points[column].to_numpy(dtype=float),
                                          points[target].to_numpy(dtype=float), resamples=resamples, seed=seed,
                                          metric=name)
            reason = values.pop("reason", None)
            if reason and reasons is not None:
                reasons[name] = reason
            out[name] = values
    return out


def _proxy_block(table: pd.DataFrame, evaluated: pd.DataFrame, metrics: Sequence[str], performance: str,
                 verdict_rows: list[dict], uninformative: dict[str, str], resamples: int,
                 seed: int) -> dict[str, object]:
    """The non-A.4 benchmarks: their scores, verdicts, and correlations (the proxy against the performance over
    every run with both; each diversity metric against the proxy over the points)."""
    from selection_ops.stats.correlation_ci import correlation_interval

    keys = proxy_keys(table)
    block: dict[str, object] = {"benchmarks": keys, "performance": performance,
                                "higher_is_better": {k: higher_is_better(k) for k in keys},
                                "uninformative": {k: r for k, r in uninformative.items() if k in keys},
                                "scores": _jsonable(table[["run", *[f"bench.{k}" for k in keys]]].to_dict("records"))
                                if keys else [],
                                "verdicts": [r for r in verdict_rows if r["proxy"]], "correlations": {}}
    for key in keys:
        if key in uninformative:
            block["correlations"][key] = {"left_out": uninformative[key]}
            continue
        column = f"bench.{key}"
        correlations = {"vs_performance": correlation_interval(table[column].to_numpy(dtype=float),
                                                               table[performance].to_numpy(dtype=float),
                                                               resamples=resamples, seed=seed, metric=key)}
        if len(evaluated) >= MIN_POINTS:
            correlations["metrics"] = {
                c.removeprefix("diversity."): correlation_interval(evaluated[c].to_numpy(dtype=float),
                                                                   evaluated[column].to_numpy(dtype=float),
                                                                   resamples=resamples, seed=seed, metric=c)
                for c in metrics}
        block["correlations"][key] = correlations
    return block


def report_from_csv(runs_csv: Path, out_dir: Path, performance: str | None = None,
                    questions_csv: Path | None = None, controls: Sequence[str] = DEFAULT_CONTROLS,
                    seed: int = 0) -> CorrelationReport:
    """``infosift report``: read the table (a ``run`` column, unique names) and the optional per-question table
    (``read_questions``), then ``correlation_report``."""
    if not Path(runs_csv).is_file():
        raise FileNotFoundError(f"--runs {runs_csv}: no such file")
    table = pd.read_csv(runs_csv, dtype={"run": str})
    if "run" not in table:
        raise ValueError(f"{runs_csv}: no 'run' column (columns: {list(table.columns)})")
    duplicated = table["run"][table["run"].duplicated()].tolist()
    if duplicated:
        raise ValueError(f"{runs_csv}: column 'run' repeats {duplicated[:5]}")
    for column in table.columns:
        if (column.startswith("bench.") or column.startswith("diversity.")) and table[column].dtype == object:
            bad = table.loc[pd.to_numeric(table[column], errors="coerce").isna() & table[column].notna(), "run"]
            raise ValueError(f"{runs_csv}: run {bad.iloc[0]!r}, field {column!r} is not a number")
    questions = None
    if questions_csv is not None:
        from selection_ops.evaluation.questions import read_questions

        questions = read_questions(questions_csv)
        unknown = sorted(set(questions["run"]) - set(table["run"]))
        if unknown:
            raise ValueError(f"{questions_csv}: run(s) {unknown[:5]} are not rows of {runs_csv}")
    return correlation_report(table, out_dir, performance, questions, controls, seed=seed)


def _jsonable(value: object) -> object:
    """Plain JSON values: numpy scalars unboxed, NaN and infinities as None, containers walked."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _scores_plot(table: pd.DataFrame, column: str, path: Path) -> Path:
    """Bars of ``column`` per run with 95 % error bars (1.96 standard errors of each run's own score; whether two
    runs differ is the paired verdicts' question, not the bars')."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = table.dropna(subset=[column])
    stderr = rows.get(f"{column}.stderr", pd.Series(math.nan, index=rows.index)).fillna(0.0)
    fig, ax = plt.subplots(figsize=(max(4, 0.8 * len(rows) + 2), 4))
    ax.bar(rows["run"].astype(str), rows[column], yerr=1.96 * stderr, capsize=4)
    ax.set_ylabel(f"{column} (error bars: 95 %, 1.96 standard errors)")
    ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    with atomic_png(path) as temporary:
        fig.savefig(temporary, dpi=100, format="png")
    plt.close(fig)
    return path


def atomic_png(path: Path):
    """``atomic_path`` for a figure: saved under a temporary name, renamed when complete."""
    from selection_ops.foundation.atomic import atomic_path

    return atomic_path(path)


def _scatter(x: pd.Series, y: pd.Series, labels: pd.Series, metric: str, performance: str, mean_corr: float,
             path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.scatter(x, y)
    for xi, yi, label in zip(x, y, labels):
        ax.annotate(variant_of(str(label)), (xi, yi), fontsize=7)
    ax.set_xlabel(metric)
    ax.set_ylabel(performance)
    ax.set_title(f"{metric} vs {performance} (mean corr {mean_corr:.2f})")
    fig.tight_layout()
    with atomic_png(path) as temporary:
        fig.savefig(temporary, dpi=100, format="png")
    plt.close(fig)
    return path
