"""``infosift power`` and ``infosift agreement`` round trips on small CSVs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import kendalltau, norm

from selection_ops.cli import main

Z = norm.ppf(0.975) + norm.ppf(0.80)


def test_power_prints_a_table_per_benchmark_and_writes_json(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                            question_table) -> None:
    rng = np.random.default_rng(0)
    a, b = (rng.random(500) < 0.6).astype(float), (rng.random(500) < 0.55).astype(float)
    seeds = {run: [rng.normal(7 + shift + o, 1, 80) for o in rng.normal(0, 0.2, 2)]
             for run, shift in (("A", 0.2), ("B", 0.0))}
    path = tmp_path / "questions.csv"
    pd.concat([question_table({"A": a, "B": b}, "mmlu"), question_table({}, "mtbench", seeds=seeds)]).to_csv(
        path, index=False)
    out = tmp_path / "power.json"
    assert main(["power", "--questions", str(path), "--pairs", "A,B", "--target-mde", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "mmlu (native scale)" in printed and "mtbench (native scale)" in printed
    assert "A vs B" in printed and "questions for 2" in printed
    saved = json.loads(out.read_text())
    rows = {r["benchmark"]: r for r in saved["rows"]}
    sd = 100 * np.std(a - b, ddof=1)
    assert rows["mmlu"]["mde"] == pytest.approx(Z * sd / math.sqrt(500), rel=1e-9)
    assert rows["mmlu"]["questions_needed"] == math.ceil(Z**2 * sd**2 / 4)
    assert rows["mmlu"]["seeds_needed"] is None  # one seed per run: the seed variance is unknown
    assert rows["mtbench"]["seeds_a"] == 2 and rows["mtbench"]["seed_sd_a"] > 0
    assert saved["target_mde"] == 2.0
    # one benchmark only
    assert main(["power", "--questions", str(path), "--pairs", "A,B", "--benchmark", "mtbench"]) == 0
    assert "mmlu" not in capsys.readouterr().out


def test_power_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture, question_table) -> None:
    path = tmp_path / "q.csv"
    question_table({"A": np.ones(5), "B": np.zeros(5)}, "mmlu").to_csv(path, index=False)
    assert main(["power", "--questions", str(path), "--pairs", "A"]) == 2
    assert "--pairs 'A' must name two different runs" in capsys.readouterr().err
    assert main(["power", "--questions", str(path), "--pairs", "A,C"]) == 2
    assert "no run(s) ['C']" in capsys.readouterr().err
    assert main(["power", "--questions", str(path), "--pairs", "A,B", "--target-mde", "-1"]) == 2
    assert "--target-mde must be a positive number" in capsys.readouterr().err


def test_agreement_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    a = pd.DataFrame({"run": ["r1", "r2", "r3", "r4", "r5"], "avg": [50.0, 52.0, 51.0, 55.0, 49.0]})
    b = pd.DataFrame({"run": ["r5", "r4", "r3", "r2", "r1"], "avg": [40.0, 47.0, 43.0, 42.0, 41.0]})
    a.to_csv(tmp_path / "a.csv", index=False)
    b.to_csv(tmp_path / "b.csv", index=False)
    out = tmp_path / "agreement"
    assert main(["agreement", "--a", str(tmp_path / "a.csv"), "--b", str(tmp_path / "b.csv"), "--column", "avg",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "agreement of avg over 5 runs, 10 pairs" in printed and "Kendall tau-b" in printed
    saved = json.loads((out / "agreement.json").read_text())
    matched_b = b.set_index("run").loc[a["run"], "avg"].to_numpy()
    assert saved["kendall_tau"] == pytest.approx(kendalltau(a["avg"], matched_b).statistic, rel=1e-12)
    # by hand: only r2-r3 flips (a: 52 > 51, b: 42 < 43); 9 of 10 pairs keep their order
    assert saved["decision_accuracy"] == pytest.approx(0.9) and saved["disagree"] == 1
    assert saved["runs"] == ["r1", "r2", "r3", "r4", "r5"]
    table = pd.read_csv(out / "agreement.csv")
    assert list(table.columns) == ["statistic", "value", "ci_low", "ci_high", "n"]
    assert list(table["statistic"]) == ["decision_accuracy", "kendall_tau", "spearman_rho"]
    assert main(["agreement", "--a", str(tmp_path / "a.csv"), "--b", str(tmp_path / "b.csv"), "--column",
                 "avg_obj"]) == 2
    assert "no column 'avg_obj'" in capsys.readouterr().err
