"""``infosift report`` on a CSV: A.4 columns, noise, significance, correlations and plots from one table."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from selection_ops.cli import main

ROWS = [  # MIG Table 1, Llama3.1-8B, plus made-up diversity values and sample counts
    ("Pool", 69.15, 63.88, 83.40, 63.41, 65.77, 67.10, 8.94, 6.86, -24.66, 0.30),
    ("Random", 74.24, 64.80, 70.36, 51.22, 63.86, 61.00, 8.57, 7.06, -22.15, 0.41),
    ("DEITA", 78.98, 66.11, 74.07, 49.39, 64.00, 64.33, 10.19, 6.83, -19.95, 0.52),
    ("MIG", 80.00, 66.39, 72.02, 57.93, 64.44, 65.06, 14.66, 7.32, -17.77, 0.66),
]
KEYS = ("arc_c", "bbh", "gsm8k", "humaneval", "mmlu", "ifeval", "alpacaeval_v2", "mtbench", "wildbench")


def _csv(path: Path) -> Path:
    table = pd.DataFrame([dict(run=r[0], **{f"bench.{k}": v for k, v in zip(KEYS, r[1:10])},
                               **{"diversity.novelsum": r[10]}) for r in ROWS])
    for key in ("arc_c", "gsm8k", "humaneval", "ifeval", "alpacaeval_v2"):
        table[f"bench.{key}.n"] = 1000  # binomial benchmarks: the se follows from n
    table["bench.mtbench.stderr"] = 0.05
    table["bench.wildbench.stderr"] = 1.0
    table["parse_rate.mtbench"] = 0.95
    table.to_csv(path, index=False)
    return path


def test_report_on_a_csv(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main(["report", "--runs", str(_csv(tmp_path / "runs.csv")), "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["performance"] == "avg"
    scores = {row["run"]: row for row in report["scores"]}
    assert scores["MIG"]["avg"] == pytest.approx(55.32, abs=0.006)
    assert scores["Pool"]["avg_sub"] == pytest.approx(38.40, abs=0.006)
    # bbh and mmlu carry no n: their se is unknown, and so is every average's
    assert scores["MIG"]["avg_obj.stderr"] is None and scores["MIG"]["avg_sub.stderr"] > 0
    assert report["significance"]["column"] == "avg" and len(report["significance"]["pairs"]) == 6
    assert "novelsum" in report["correlations"] and "novelsum.vs_zsum" in report["correlations"]
    assert (out / "scatter_novelsum.png").is_file() and (out / "scores.png").is_file()
    table = pd.read_csv(out / "table.csv")
    assert {"avg_obj", "avg_sub", "avg", "zsum", "bench.arc_c.stderr"} <= set(table.columns)
    assert table.loc[table.run == "MIG", "bench.arc_c.stderr"].item() == pytest.approx(100 * (0.8 * 0.2 / 1000) ** 0.5)
    printed = capsys.readouterr().out
    assert "| MIG | 67.64 | 42.99 ± " in printed and "mtbench 95%" in printed


def test_report_with_a_known_noise_states_which_pairs_differ(tmp_path: Path) -> None:
    path = _csv(tmp_path / "runs.csv")
    table = pd.read_csv(path)
    for key in ("bbh", "mmlu"):
        table[f"bench.{key}.n"] = 1000
    table.to_csv(path, index=False)
    assert main(["report", "--runs", str(path), "--out", str(tmp_path / "o"), "--performance", "zsum"]) == 0
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["performance"] == "zsum" and "novelsum.vs_zsum" not in report["correlations"]
    pairs = {(p["run_a"], p["run_b"]): p for p in report["significance"]["pairs"]}
    # MIG's Avg is 3.5 above Random's; with n = 1000 everywhere the combined se is about 0.7
    assert pairs[("Random", "MIG")]["significant"] is True
    assert pairs[("Pool", "DEITA")]["difference"] == pytest.approx(53.59 - 52.83, abs=0.02)


def test_report_errors_name_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("run,bench.arc_c\na,40\nb,forty\n")
    assert main(["report", "--runs", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "run 'b', field 'bench.arc_c' is not a number" in capsys.readouterr().err
    no_run = tmp_path / "norun.csv"
    no_run.write_text("name,bench.arc_c\na,40\n")
    assert main(["report", "--runs", str(no_run), "--out", str(tmp_path / "o")]) == 2
    assert "no 'run' column" in capsys.readouterr().err
