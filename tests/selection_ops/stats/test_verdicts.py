"""The verdict table: pairs within a base model, the exact columns, Holm per family, A.4 aggregates, proxies."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from selection_ops.evaluation.a4 import normalise
from selection_ops.stats.holm import holm
from selection_ops.stats.verdicts import PAIR_COLUMNS, paired_verdicts, run_pairs

KEYS = ("arc_c", "gsm8k", "alpacaeval_v2", "mtbench")  # Table 1's order


def _study(question_table, runs: dict[str, float], n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Each run's per-question scores on two knowledge and two preference benchmarks and one proxy; ``runs``:
    run -> its skill shift."""
    rng = np.random.default_rng(seed)
    difficulty = {key: rng.normal(0, 1, n) for key in (*KEYS, "ref_bpb_alpaca")}
    frames = []
    for run, skill in runs.items():
        scores = {
            "arc_c": (difficulty["arc_c"] + skill + rng.normal(0, 0.7, n) > 0).astype(float),
            "gsm8k": (difficulty["gsm8k"] + skill + rng.normal(0, 0.7, n) > 0.5).astype(float),
            "mtbench": np.clip(np.round(6 + difficulty["mtbench"] + 2 * skill + rng.normal(0, 1, n)), 1, 10),
            "alpacaeval_v2": rng.choice([0.0, 0.5, 1.0], n, p=[0.7 - 0.2 * skill, 0.1, 0.2 + 0.2 * skill]),
            "ref_bpb_alpaca": 1.0 + 0.2 * difficulty["ref_bpb_alpaca"] - 0.1 * skill + rng.normal(0, 0.05, n),
        }
        frames += [question_table({run: values}, key) for key, values in scores.items()]
    return pd.concat(frames, ignore_index=True)


def test_pairs_are_within_a_base_model_in_table_order() -> None:
    runs = pd.DataFrame({"run": ["m1", "r1", "m2", "r2", "x"],
                         "base_model": ["llama", "llama", "mistral", "mistral", None]})
    assert run_pairs(runs) == [("m1", "r1", "llama"), ("m2", "r2", "mistral")]
    assert run_pairs(["a", "b", "c"]) == [("a", "b", ""), ("a", "c", ""), ("b", "c", "")]
    with pytest.raises(ValueError, match="repeat"):
        run_pairs(["a", "a"])


def test_the_table_has_the_exact_columns_holm_per_family_and_verdicts(question_table) -> None:
    questions = _study(question_table, {"strong": 0.8, "weak": 0.0, "weak2": 0.02})
    table = paired_verdicts(questions, resamples=2000)
    assert tuple(table.columns[:10]) == PAIR_COLUMNS
    families = list(dict.fromkeys(table["benchmark"]))
    assert families == ["avg", "avg_obj", "avg_sub", *KEYS, "ref_bpb_alpaca"]
    for key, family in table.groupby("benchmark"):
        assert len(family) == 3  # every pair of three runs
        np.testing.assert_allclose(family["p_holm"], holm(family["p_value"].to_numpy()), rtol=1e-12)
    rows = table.set_index(["benchmark", "a", "b"])
    assert rows.loc[("avg", "strong", "weak"), "verdict"] == "a better"
    assert rows.loc[("avg", "weak", "weak2"), "verdict"] == "indistinguishable"
    assert rows.loc[("mtbench", "strong", "weak"), "verdict"] == "a better"
    # bits per byte: the strong run has the lower (better) value
    assert rows.loc[("ref_bpb_alpaca", "strong", "weak"), "diff"] < 0
    assert rows.loc[("ref_bpb_alpaca", "strong", "weak"), "verdict"] == "a better"
    assert rows.loc[("ref_bpb_alpaca", "strong", "weak"), "proxy"]
    assert table["mde"].notna().all() and (table["mde"] > 0).all()
    for _, row in table.iterrows():
        assert row.ci_low <= row["diff"] <= row.ci_high


def test_aggregates_average_the_normalised_differences_and_leave_proxies_out(question_table) -> None:
    questions = _study(question_table, {"a": 0.3, "b": 0.0})
    table = paired_verdicts(questions, resamples=500).set_index("benchmark")
    diff = table["diff"]
    slope = {k: normalise(k, 1.0) - normalise(k, 0.0) for k in KEYS}
    avg_obj = (diff["arc_c"] + diff["gsm8k"]) / 2
    avg_sub = (slope["mtbench"] * diff["mtbench"] + diff["alpacaeval_v2"]) / 2
    assert slope["mtbench"] == 10
    assert diff["avg_obj"] == pytest.approx(avg_obj, rel=1e-12)
    assert diff["avg_sub"] == pytest.approx(avg_sub, rel=1e-12)
    assert diff["avg"] == pytest.approx((avg_obj + avg_sub) / 2, rel=1e-12)
    assert table.loc["avg", "n"] == 4 * 300 and table.loc["avg", "test"] == "bootstrap"
    # the proxy does not move any average
    without_proxy = paired_verdicts(questions[questions.benchmark != "ref_bpb_alpaca"], resamples=500)
    assert without_proxy.set_index("benchmark").loc["avg", "diff"] == pytest.approx(diff["avg"], rel=1e-12)


def test_the_same_seed_gives_the_same_table(question_table) -> None:
    questions = _study(question_table, {"a": 0.1, "b": 0.0})
    first = paired_verdicts(questions, resamples=300, seed=4)
    pd.testing.assert_frame_equal(first, paired_verdicts(questions, resamples=300, seed=4))
    assert not first["ci_low"].equals(paired_verdicts(questions, resamples=300, seed=5)["ci_low"])


def test_ten_runs_of_1200_questions_on_six_benchmarks_take_seconds() -> None:
    rng = np.random.default_rng(0)
    keys = ("arc_c", "bbh", "gsm8k", "mmlu", "alpacaeval_v2", "mtbench")
    frames = []
    for run in range(10):
        for key in keys:
            score = (np.clip(np.round(rng.normal(6.5, 2, 1200)), 1, 10) if key == "mtbench"
                     else (rng.random(1200) < 0.5 + 0.01 * run).astype(float))
            frames.append(pd.DataFrame({"run": f"r{run}", "benchmark": key,
                                        "question": [f"q{i}" for i in range(1200)], "score": score}))
    questions = pd.concat(frames, ignore_index=True)
    started = time.perf_counter()
    table = paired_verdicts(questions)
    elapsed = time.perf_counter() - started
    assert len(table) == 45 * (6 + 3)
    assert elapsed < 60, f"{elapsed:.1f} s"  # about 4 s on the shared 2-core machine


def test_an_average_over_a_benchmark_of_one_question_has_no_test() -> None:
    # MT-Bench on one dialogue: its bootstrap replicates are all equal, which must not make Avg_sub look certain
    rng = np.random.default_rng(5)
    rows = []
    for run, grade, skill in (("a", 6.0, 0.6), ("b", 4.0, 0.4)):
        rows.append({"run": run, "benchmark": "mtbench", "question": "mt/0", "score": grade})
        rows += [{"run": run, "benchmark": "alpacaeval_v2", "question": f"ae/{i}", "score": 0.5} for i in range(4)]
        rows += [{"run": run, "benchmark": "arc_c", "question": f"arc/{i}", "score": float(rng.random() < skill)}
                 for i in range(40)]
    table = paired_verdicts(pd.DataFrame(rows), resamples=500).set_index("benchmark")
    for name in ("avg_sub", "avg"):
        row = table.loc[name]
        assert row["diff"] != 0 and np.isnan(row["p_value"]) and np.isnan(row["mde"])
        assert row["verdict"] == "indistinguishable"
    assert np.isfinite(table.loc["avg_obj", "p_value"])  # ARC alone: 40 questions, a real test
    assert table.loc["mtbench", "verdict"] == "indistinguishable"
