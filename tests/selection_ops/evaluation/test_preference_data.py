"""The subjective data layout built from shared/data, read back by OpenCompass's own loaders; WildBench from a local
copy (the fixture) or a clear error; the prompt OpenCompass fills is the official WildBench v2 template."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selection_ops.evaluation.benchmarks import EvaluationError
from selection_ops.evaluation.preference_data import prepare_preference_data, spread_sample

READER = {"input_columns": ["question"], "output_column": "judge"}
FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "wildbench"


def test_spread_sample_takes_categories_in_turn() -> None:
    items = [{"c": c} for c in "aaabbc"]
    assert spread_sample(items, lambda i: i["c"], 3) == [0, 3, 5]
    assert spread_sample(items, lambda i: i["c"], 4) == [0, 1, 3, 5]
    assert spread_sample(items, lambda i: i["c"], None) == list(range(6))


def test_layout_reads_with_opencompass_loaders(data_dir: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from opencompass.datasets import AlpacaEvalDataset, MTBenchDataset, WildBenchDataset

    written = prepare_preference_data(data_dir, tmp_path, ["alpacaeval_v2", "mtbench", "wildbench"],
                                      {"alpacaeval_v2": 3, "mtbench": 8, "wildbench": None},
                                      wildbench_source=FIXTURE, allow_hub=False)
    assert written == {"alpacaeval_v2": ["alpaca_eval"], "mtbench": ["mtbench_0.0", "mtbench_0.1", "mtbench_0.7"],
                       "wildbench": ["wildbench"]}
    monkeypatch.setenv("COMPASS_DATA_CACHE", str(tmp_path))
    alpaca = AlpacaEvalDataset(READER, path="./data/subjective/alpaca_eval", name="alpaca_eval").dataset
    source = json.loads((data_dir / "alpaca_eval" / "alpaca_eval.json").read_text())
    assert len(alpaca) == 3 and alpaca[0]["question"] == source[0]["instruction"]
    assert len({row["capability"] for row in alpaca}) == 3  # spread over AlpacaEval's sources
    reference = json.loads((tmp_path / "data/subjective/alpaca_eval/gpt4-turbo/alpaca_eval.json").read_text())
    official = json.loads((data_dir / "alpaca_eval_v2" / "gpt4_1106_preview_model_outputs.json").read_text())
    assert reference["0"]["prediction"] == official[0]["output"]
    # 8 questions, one per MT-Bench category; math/reasoning/coding carry GPT-4's reference answers
    mtbench = [row for name in ("mtbench_0.0", "mtbench_0.1", "mtbench_0.7")
               for row in MTBenchDataset(READER, path="data/subjective/mtbench", name=name).dataset]
    assert len(mtbench) == 8 and len({row["capability"] for row in mtbench}) == 8
    math_row = next(row for row in mtbench if row["capability"] == "math")
    assert "Start of Reference Answer" in math_row["prompt_template"] and len(math_row["dialogue"]) == 4
    wildbench = WildBenchDataset(READER, path="./data/subjective/WildBench/wildbench.jsonl").dataset
    assert len(wildbench) == 3 and wildbench[2]["history"].startswith("USER: Suggest a name for a cat.")


def test_opencompass_fills_the_official_wildbench_v2_template(data_dir: Path) -> None:
    from opencompass.datasets.subjective.wildbench import pair_prompt

    official = (data_dir / "wildbench" / "eval_template.pairwise.v2.md").read_text()
    marks = {"{$history}": "{history}", "{$user_query}": "{user_query}", "{$candidate_A}": "{prediction}",
             "{$candidate_B}": "{prediction2}", "{$checklist}": "{checklist}"}
    for theirs, ours in marks.items():
        official = official.replace(theirs, ours)
    assert " ".join(pair_prompt.split()) == " ".join(official.split())


def test_missing_wildbench_names_files_and_where_to_get_them(data_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(EvaluationError, match=r"allenai/WildBench .*Missing local files: .*wildbench\.jsonl"):
        prepare_preference_data(data_dir, tmp_path, ["wildbench"], {}, wildbench_source=tmp_path / "none",
                                allow_hub=False)
    broken = tmp_path / "broken"
    for path in FIXTURE.rglob("*.*"):
        target = broken / path.relative_to(FIXTURE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    (broken / "wildbench.jsonl").write_text('{"turn": [], "checklist": []}\n')
    with pytest.raises(ValueError, match=r"wildbench.jsonl line 1: missing field 'primary_tag'"):
        prepare_preference_data(data_dir, tmp_path / "c", ["wildbench"], {}, wildbench_source=broken)
