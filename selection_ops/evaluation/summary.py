"""OpenCompass's summary CSV: the only truth about an objective run (the CLI exits 0 even when every task failed).

A benchmark whose row is missing or ``-`` raises ``EvaluationError`` naming it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path

from selection_ops.evaluation.benchmarks import BENCHMARKS, EvaluationError, check_benchmarks


def find_summary(outputs_dir: Path) -> Path:
    """The newest ``<outputs_dir>/<timestamp>/summary/summary_*.csv``; EvaluationError when there is none."""
    found = sorted(Path(outputs_dir).glob("*/summary/summary_*.csv"), key=lambda p: p.stat().st_mtime)
    if not found:
        raise EvaluationError(f"OpenCompass wrote no summary CSV under {outputs_dir}")
    return found[-1]


def parse_summary(summary_path: Path, model_name: str, benchmarks: Sequence[str]) -> dict[str, float]:
    """``{benchmark: score}`` from an OpenCompass summary CSV (columns ``dataset,version,metric,mode,<model>...``).

    Raises EvaluationError naming the benchmark when its row is missing or holds ``-`` (a failed task) or a value
    outside [0, 100]; for a group (MMLU, BBH) the member datasets whose rows are ``-`` are named too.
    """
    summary_path = Path(summary_path)
    with open(summary_path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or model_name not in rows[0]:
        columns = list(rows[0]) if rows else []
        raise EvaluationError(f"{summary_path}: no column for model {model_name!r} (columns {columns})")
    scores: dict[str, float] = {}
    for key in check_benchmarks(benchmarks):
        bench = BENCHMARKS[key]
        row = next((r for r in rows if r["dataset"] == bench.summary_dataset and r["metric"] == bench.metric), None)
        if row is None:
            row = next((r for r in rows if r["dataset"] == bench.summary_dataset), None)
        value = None if row is None else row[model_name].strip()
        if row is None or value in ("", "-"):
            prefix = bench.member_prefix
            failed = [r["dataset"] for r in rows if prefix and r["dataset"].startswith(prefix)
                      and r[model_name].strip() in ("", "-")]
            detail = f"; failed member datasets: {failed[:10]}" if failed else ""
            state = "missing" if row is None else f"'{value or '-'}' (task failed)"
            raise EvaluationError(f"{summary_path}: benchmark {key!r} (dataset {bench.summary_dataset!r}, metric "
                                  f"{bench.metric!r}) is {state}{detail}")
        score = float(value)
        if not 0.0 <= score <= 100.0:
            raise EvaluationError(f"{summary_path}: benchmark {key!r} score {score} outside [0, 100]")
        scores[key] = score
    return scores


def sample_counts(run_dir: Path, model_name: str, benchmarks: Sequence[str]) -> dict[str, int]:
    """``{benchmark: n}``: how many items OpenCompass predicted per benchmark (for its standard error), counted in
    ``<run_dir>/predictions/<model>/<abbr>[_<part>].json`` (groups: over their member datasets)."""
    folder = Path(run_dir) / "predictions" / model_name
    counts: dict[str, int] = {}
    for key in check_benchmarks(benchmarks):
        bench = BENCHMARKS[key]
        total = 0
        for file in folder.glob("*.json"):
            abbr = file.stem
            stem = abbr.rsplit("_", 1)[0] if abbr.rsplit("_", 1)[-1].isdigit() else abbr
            if (bench.member_prefix and stem.startswith(bench.member_prefix)) or stem == bench.summary_dataset:
                total += len(json.loads(file.read_text(encoding="utf-8")))
        counts[key] = total
    return counts


def read_predictions(folder: Path, abbr: str) -> tuple[list[dict], list[Path]]:
    """OpenCompass's per-sample outputs of dataset ``abbr`` in ``folder`` (``predictions/<model>/``) in dataset
    order, and the files read: ``<abbr>.json`` (``{"0": {...}, "1": ...}``) or, when the partitioner split the
    dataset, ``<abbr>_0.json``, ``<abbr>_1.json``, ... concatenated. EvaluationError naming the folder when neither
    exists or a file is not a dense ``"0".."n-1"`` dict."""
    folder = Path(folder)
    files = [folder / f"{abbr}.json"]
    if not files[0].is_file():
        files = []
        while (folder / f"{abbr}_{len(files)}.json").is_file():
            files.append(folder / f"{abbr}_{len(files)}.json")
    if not files:
        raise EvaluationError(f"no predictions of dataset {abbr!r} in {folder} ({abbr}.json or {abbr}_0.json)")
    samples: list[dict] = []
    for file in files:
        content = json.loads(file.read_text(encoding="utf-8"))
        if not isinstance(content, dict) or set(content) != {str(i) for i in range(len(content))}:
            raise EvaluationError(f"{file}: expected OpenCompass's {{\"0\": ..., \"1\": ...}} predictions")
        samples += [content[str(i)] for i in range(len(content))]
    return samples, files


def avg_obj(scores: dict[str, float]) -> float:
    """MIG Avg_obj: the mean of the (percentage-scale) knowledge-based benchmark scores."""
    if not scores:
        raise ValueError("Avg_obj of no benchmark scores")
    return sum(scores.values()) / len(scores)
