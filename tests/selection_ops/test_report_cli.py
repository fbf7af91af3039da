"""``infosift report`` on a CSV: A.4 columns, noise, paired verdicts (with per-question scores), correlations and
plots from one table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selection_ops.cli import main
from selection_ops.correlation import aggregate_performance

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
    # no per-question scores: no verdicts, and the report says what they need
    assert report["verdicts"]["available"] is False and report["verdicts"]["pairs"] == []
    assert "per-question scores" in report["verdicts"]["note"] and not (out / "pairs.csv").exists()
    assert "novelsum" in report["correlations"] and "novelsum.vs_zsum" in report["correlations"]
    assert (out / "scatter_novelsum.png").is_file() and (out / "scores.png").is_file()
    table = pd.read_csv(out / "table.csv")
    assert {"avg_obj", "avg_sub", "avg", "zsum", "bench.arc_c.stderr"} <= set(table.columns)
    assert table.loc[table.run == "MIG", "bench.arc_c.stderr"].item() == pytest.approx(100 * (0.8 * 0.2 / 1000) ** 0.5)
    printed = capsys.readouterr().out
    assert "| MIG | 67.64 | 42.99 ± " in printed and "mtbench 95%" in printed
    assert "verdicts need per-question scores" in printed
    assert report["correlations"]["novelsum"]["n"] == 4 and "pearson_low" in report["correlations"]["novelsum"]


def _questions(path: Path) -> Path:
    """Per-question scores of the four runs: ARC-c (0/1, MIG clearly ahead of Random), MT-Bench (two turns per
    dialogue: clusters) and the likelihood channel's bits per byte (a proxy; lower is better, MIG lowest)."""
    rng = np.random.default_rng(0)
    skill = {"Pool": 0.1, "Random": 0.0, "DEITA": 0.05, "MIG": 0.6}
    difficulty = rng.normal(0, 1, 400)
    frames = []
    for run, s in skill.items():
        frames.append(pd.DataFrame({"run": run, "benchmark": "arc_c", "question": [f"arc{i}" for i in range(400)],
                                    "score": (difficulty + s + rng.normal(0, 0.5, 400) > 0).astype(float)}))
        frames.append(pd.DataFrame({"run": run, "benchmark": "mtbench", "question": [f"mt{i}" for i in range(160)],
                                    "cluster": [f"dialogue{i // 2}" for i in range(160)],
                                    "score": np.clip(np.round(rng.normal(7 + s, 1.5, 160)), 1, 10)}))
        frames.append(pd.DataFrame({"run": run, "benchmark": "ref_bpb_alpaca",
                                    "question": [f"ae{i}" for i in range(200)],
                                    "score": 1.0 + 0.2 * difficulty[:200] - 0.1 * s + rng.normal(0, 0.02, 200)}))
    pd.concat(frames, ignore_index=True).to_csv(path, index=False)
    return path


def test_report_with_questions_writes_paired_verdicts(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    runs = pd.read_csv(_csv(tmp_path / "runs.csv"))
    runs["base_model"] = "llama"
    runs.to_csv(tmp_path / "runs.csv", index=False)
    out = tmp_path / "out"
    assert main(["report", "--runs", str(tmp_path / "runs.csv"), "--questions",
                 str(_questions(tmp_path / "questions.csv")), "--out", str(out)]) == 0
    header = (out / "pairs.csv").read_text().splitlines()[0].split(",")
    assert header[:10] == ["a", "b", "benchmark", "diff", "ci_low", "ci_high", "p_value", "p_holm", "verdict", "mde"]
    pairs = pd.read_csv(out / "pairs.csv")
    assert list(dict.fromkeys(pairs["benchmark"])) == ["avg", "avg_obj", "avg_sub", "arc_c", "mtbench",
                                                       "ref_bpb_alpaca"]
    assert (pairs.groupby("benchmark").size() == 6).all() and pairs["mde"].notna().all()
    rows = pairs.set_index(["benchmark", "a", "b"])
    assert rows.loc[("arc_c", "Random", "MIG"), "verdict"] == "b better"
    assert rows.loc[("arc_c", "Random", "MIG"), "test"] == "mcnemar-exact"
    assert rows.loc[("mtbench", "Random", "MIG"), "test"] == "paired-t-clustered"
    assert rows.loc[("mtbench", "Random", "MIG"), "clusters"] == 80
    assert rows.loc[("ref_bpb_alpaca", "Random", "MIG"), "verdict"] == "b better"  # lower bpb is better
    assert rows.loc[("avg", "Random", "MIG"), "verdict"] == "b better"
    report = json.loads((out / "report.json").read_text())
    assert report["verdicts"]["available"] and len(report["verdicts"]["pairs"]) == 5 * 6
    assert {r["benchmark"] for r in report["verdicts"]["pairs"]} == {"avg", "avg_obj", "avg_sub", "arc_c", "mtbench"}
    proxy = report["proxy"]
    assert proxy["benchmarks"] == ["ref_bpb_alpaca"] and proxy["higher_is_better"] == {"ref_bpb_alpaca": False}
    assert len(proxy["verdicts"]) == 6 and {"vs_performance"} <= set(proxy["correlations"]["ref_bpb_alpaca"])
    # the runs table lacked the proxy: filled from the questions (native-scale mean); zsum ignores it
    table = pd.read_csv(out / "table.csv")
    questions = pd.read_csv(tmp_path / "questions.csv")
    mig_bpb = questions[(questions.run == "MIG") & (questions.benchmark == "ref_bpb_alpaca")].score.mean()
    assert table.set_index("run").loc["MIG", "bench.ref_bpb_alpaca"] == pytest.approx(mig_bpb, rel=1e-12)
    a4 = {f"bench.{k}": table[f"bench.{k}"].to_numpy() for k in KEYS}
    np.testing.assert_allclose(table["zsum"], aggregate_performance(a4), rtol=1e-12)
    printed = capsys.readouterr().out
    assert "Paired verdicts" in printed and "MIG beats Random" in printed and "Proxy benchmarks" in printed


def test_report_errors_name_file_and_field(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("run,bench.arc_c\na,40\nb,forty\n")
    assert main(["report", "--runs", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "run 'b', field 'bench.arc_c' is not a number" in capsys.readouterr().err
    no_run = tmp_path / "norun.csv"
    no_run.write_text("name,bench.arc_c\na,40\n")
    assert main(["report", "--runs", str(no_run), "--out", str(tmp_path / "o")]) == 2
    assert "no 'run' column" in capsys.readouterr().err
    questions = tmp_path / "q.csv"
    questions.write_text("run,benchmark,question,score\nnobody,arc_c,q1,1\n")
    assert main(["report", "--runs", str(_csv(tmp_path / "runs.csv")), "--questions", str(questions), "--out",
                 str(tmp_path / "o")]) == 2
    assert "run(s) ['nobody'] are not rows of" in capsys.readouterr().err


def test_the_report_folder_reruns_to_the_same_verdicts(tmp_path: Path) -> None:
    out, again = tmp_path / "out", tmp_path / "again"
    assert main(["report", "--runs", str(_csv(tmp_path / "runs.csv")), "--questions",
                 str(_questions(tmp_path / "questions.csv")), "--out", str(out)]) == 0
    # the report keeps its evidence: the table and the questions it judged, enough to rerun it
    assert main(["report", "--runs", str(out / "table.csv"), "--questions", str(out / "questions.csv"),
                 "--out", str(again)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out / "pairs.csv"), pd.read_csv(again / "pairs.csv"))
