"""OpenCompass evaluation: the local data cache read by OpenCompass's own loaders, the generated config, summary
parsing (a ``-`` row must fail), and a real ``opencompass`` run on the embedded base model."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from resources.opencompass import OpenCompassRunner, avg_obj, base_config_path
from selection_ops.evaluation.benchmarks import EvaluationError
from selection_ops.evaluation.compass_data import prepare_compass_data
from selection_ops.evaluation.config import resolve_model, write_eval_config
from selection_ops.evaluation.summary import parse_summary

SMALL = base_config_path("objective_small")

HEADER = ["dataset", "version", "metric", "mode", "smol"]


def _write_summary(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="") as f:
        csv.writer(f).writerows([HEADER, *rows])
    return path


# --- summary parsing ---------------------------------------------------------------------------------------------

def test_summary_scores_and_avg_obj(tmp_path: Path) -> None:
    summary = _write_summary(tmp_path / "summary.csv", [
        ["ARC-c", "d6790d", "accuracy", "gen", "40.00"],
        ["lukaemon_mmlu_anatomy", "a1", "accuracy", "gen", "20.00"],
        ["mmlu", "-", "naive_average", "gen", "30.00"],
        ["gsm8k", "1c483a", "accuracy", "gen", "5.00"],
        ["IFEval", "3321a3", "Prompt-level-strict-accuracy", "gen", "25.00"],
        ["IFEval", "3321a3", "Inst-level-strict-accuracy", "gen", "35.00"],
    ])
    scores = parse_summary(summary, "smol", ["arc_c", "mmlu", "gsm8k", "ifeval"])
    assert scores == {"arc_c": 40.0, "mmlu": 30.0, "gsm8k": 5.0, "ifeval": 25.0}  # strict prompt-level for IFEval
    assert avg_obj(scores) == pytest.approx((40 + 30 + 5 + 25) / 4)


def test_a_dash_row_is_a_failure_naming_the_benchmark(tmp_path: Path) -> None:
    summary = _write_summary(tmp_path / "summary.csv", [
        ["ARC-c", "d6790d", "accuracy", "gen", "40.00"],
        ["gsm8k", "-", "-", "-", "-"],
    ])
    with pytest.raises(EvaluationError, match=r"benchmark 'gsm8k' .*'-' \(task failed\)"):
        parse_summary(summary, "smol", ["arc_c", "gsm8k"])


def test_a_failed_group_names_its_failed_members(tmp_path: Path) -> None:
    summary = _write_summary(tmp_path / "summary.csv", [
        ["lukaemon_mmlu_anatomy", "a1", "accuracy", "gen", "20.00"],
        ["lukaemon_mmlu_virology", "-", "-", "-", "-"],
        ["mmlu", "-", "-", "-", "-"],
    ])
    with pytest.raises(EvaluationError, match="lukaemon_mmlu_virology"):
        parse_summary(summary, "smol", ["mmlu"])


def test_a_missing_benchmark_row_or_model_column_fails(tmp_path: Path) -> None:
    summary = _write_summary(tmp_path / "summary.csv", [["ARC-c", "d6790d", "accuracy", "gen", "40.00"]])
    with pytest.raises(EvaluationError, match="benchmark 'gsm8k' .* missing"):
        parse_summary(summary, "smol", ["arc_c", "gsm8k"])
    with pytest.raises(EvaluationError, match="no column for model 'other'"):
        parse_summary(summary, "other", ["arc_c"])


def test_a_score_outside_the_percentage_scale_fails(tmp_path: Path) -> None:
    summary = _write_summary(tmp_path / "summary.csv", [["ARC-c", "d6790d", "accuracy", "gen", "140.0"]])
    with pytest.raises(EvaluationError, match="outside"):
        parse_summary(summary, "smol", ["arc_c"])


def test_unknown_benchmark_is_rejected() -> None:
    with pytest.raises(ValueError, match="unknown or no benchmarks"):
        OpenCompassRunner(datasets=["arc_e"]).evaluate(model_path="m", model_name="m", work_dir=Path("/nonexistent"))


# --- local data for OpenCompass's loaders --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compass_cache(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return prepare_compass_data(data_dir, tmp_path_factory.mktemp("compass"),
                                ["arc_c", "mmlu", "gsm8k", "ifeval", "bbh", "humaneval"])


def test_arc_cache_reads_with_opencompass_loader(compass_cache: Path, data_dir: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from opencompass.datasets import ARCDataset

    monkeypatch.setenv("COMPASS_DATA_CACHE", str(compass_cache))
    monkeypatch.delenv("DATASET_SOURCE", raising=False)
    dataset = ARCDataset.load(path="opencompass/ai2_arc-test", name="ARC-Challenge")
    source = [json.loads(line) for line in (data_dir / "arc_challenge" / "ARC-Challenge-test.jsonl").open()]
    four_choice = [r for r in source if len(r["choices"]["text"]) == 4]
    assert len(dataset) == len(four_choice)  # the loader keeps 4-choice questions only
    first = dataset[0]
    assert first["question"] == four_choice[0]["question"]
    assert first["textA"] == four_choice[0]["choices"]["text"][0]
    assert first["answerKey"] == "ABCD"[four_choice[0]["choices"]["label"].index(four_choice[0]["answerKey"])]


def test_mmlu_cache_reads_with_opencompass_loader(compass_cache: Path, data_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from opencompass.datasets import MMLUDataset

    monkeypatch.setenv("COMPASS_DATA_CACHE", str(compass_cache))
    dataset = MMLUDataset.load(path="opencompass/mmlu", name="abstract_algebra")
    with open(data_dir / "mmlu" / "test" / "abstract_algebra_test.csv", newline="") as f:
        source = list(csv.DictReader(f))
    assert len(dataset["dev"]) == 5 and len(dataset["test"]) == len(source)
    assert dataset["test"][0]["input"] == source[0]["question"]
    assert dataset["test"][0]["target"] == "ABCD"[int(source[0]["answer"])]
    assert set(dataset["test"]["target"]) <= set("ABCD")
    assert len(list((compass_cache / "data" / "mmlu" / "test").glob("*_test.csv"))) == 57


def test_other_benchmarks_read_with_opencompass_loaders(compass_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from opencompass.datasets import BBHDataset, GSM8KDataset, IFEvalDataset

    monkeypatch.setenv("COMPASS_DATA_CACHE", str(compass_cache))
    gsm8k = GSM8KDataset.load(path="opencompass/gsm8k")
    assert len(gsm8k["test"]) == 1319 and "####" in gsm8k["test"][0]["answer"]
    assert len(IFEvalDataset.load(path="opencompass/IFEval")) == 541
    assert len(BBHDataset.load(path="opencompass/bbh", name="navigate")) == 250
    humaneval = (compass_cache / "data" / "humaneval" / "human-eval-v2-20210705.jsonl").read_text().splitlines()
    assert len(humaneval) == 164 and json.loads(humaneval[0])["task_id"] == "HumanEval/0"


def test_missing_data_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="arc_challenge"):
        prepare_compass_data(tmp_path / "empty", tmp_path / "cache", ["arc_c"])


# --- generated config ---------------------------------------------------------------------------------------------

def test_generated_config_limits_samples_and_output_length(tmp_path: Path) -> None:
    from mmengine.config import Config

    path = write_eval_config(tmp_path, base_config=SMALL, model_path="/models/m", model_name="m",
                             benchmarks=["arc_c", "mmlu"], sample_limit=3, max_out_len=32, batch_size=4)
    config = Config.fromfile(str(path))
    abbrs = [d["abbr"] for d in config.datasets]
    assert abbrs[0] == "ARC-c" and len(abbrs) == 1 + 57 and all(a.startswith("lukaemon_mmlu_") for a in abbrs[1:])
    assert {d["reader_cfg"]["test_range"] for d in config.datasets} == {"[0:3]"}
    assert config.datasets[0]["path"] == "opencompass/ai2_arc-test"  # the split MIG reports
    # the runner caps every answer at 32 tokens; objective_small's own ARC cap (one letter, 8 tokens) is lower
    assert config.datasets[0]["infer_cfg"]["inferencer"]["max_out_len"] == 8
    assert {d["infer_cfg"]["inferencer"]["max_out_len"] for d in config.datasets[1:]} == {32}
    (model,) = config.models
    assert model["path"] == "/models/m" and model["peft_path"] is None and model["batch_size"] == 4
    assert model["generation_kwargs"] == {"do_sample": False}  # greedy, as MIG Appx. A.4
    # OpenCompass trusts remote code by default; the generated config turns it off unless asked
    assert model["model_kwargs"]["trust_remote_code"] is False
    assert model["tokenizer_kwargs"]["trust_remote_code"] is False
    trusting = write_eval_config(tmp_path / "t", base_config=SMALL, model_path="/m", model_name="m",
                                 benchmarks=["arc_c"], sample_limit=1, max_out_len=8, batch_size=1,
                                 trust_remote_code=True)
    assert Config.fromfile(str(trusting)).models[0]["model_kwargs"]["trust_remote_code"] is True


def test_a_per_benchmark_limit_replaces_the_common_one_for_that_benchmark_only(tmp_path: Path) -> None:
    from mmengine.config import Config

    path = write_eval_config(tmp_path, base_config=SMALL, model_path="/models/m", model_name="m",
                             benchmarks=["arc_c", "gsm8k"], sample_limit=3, max_out_len=32, batch_size=4,
                             sample_limits={"arc_c": 60})
    ranges = {d["abbr"]: d["reader_cfg"]["test_range"] for d in Config.fromfile(str(path)).datasets}
    assert ranges == {"ARC-c": "[0:60]", "gsm8k": "[0:3]"}
    with pytest.raises(ValueError, match="unknown"):
        write_eval_config(tmp_path, base_config=SMALL, model_path="/m", model_name="m", benchmarks=["arc_c"],
                          sample_limit=3, max_out_len=32, batch_size=4, sample_limits={"arcc": 5})


def test_likelihood_keys_join_the_knowledge_benchmarks_in_one_config(tmp_path: Path) -> None:
    from mmengine.config import Config

    path = write_eval_config(tmp_path, base_config=SMALL, model_path="/models/m", model_name="m",
                             benchmarks=["arc_c", "arc_c_cloze", "ref_bpb_mtbench", "ref_bpb_alpaca", "mmlu_cloze"],
                             sample_limit=3, max_out_len=32, batch_size=4,
                             sample_limits={"arc_c": 60, "arc_c_cloze": 200, "ref_bpb_alpaca": 100})
    config = Config.fromfile(str(path))
    datasets = {d["abbr"]: d for d in config.datasets}
    assert list(datasets) == ["ARC-c", "arc_c_cloze", "ref_bpb_mtbench_turn1", "ref_bpb_mtbench_turn2",
                              "ref_bpb_alpaca", "mmlu_cloze"]
    assert datasets["ARC-c"]["reader_cfg"]["test_range"] == "[0:60]"
    for abbr in list(datasets)[1:]:  # rows are limited when written; OpenCompass reads them all
        assert "test_range" not in datasets[abbr]["reader_cfg"]
        assert datasets[abbr]["path"] == f"data/infosift_likelihood/{abbr}.jsonl"
        assert datasets[abbr]["infer_cfg"]["inferencer"]["type"].__name__ == "InferencePPLOnlyInferencer"
        assert "max_out_len" not in datasets[abbr]["infer_cfg"]["inferencer"]
    (model,) = config.models
    assert model["type"].__name__ == "ChatLikelihoodModel" and model["batch_size"] == 4
    knowledge_only = write_eval_config(tmp_path / "k", base_config=SMALL, model_path="/m", model_name="m",
                                       benchmarks=["arc_c"], sample_limit=1, max_out_len=8, batch_size=1)
    assert Config.fromfile(str(knowledge_only)).models[0]["type"].__name__ == "HuggingFacewithChatTemplate"
    with pytest.raises(ValueError, match="'arc_c_acc' is a score of dataset key 'arc_c_cloze'"):
        write_eval_config(tmp_path / "x", base_config=SMALL, model_path="/m", model_name="m", benchmarks=["arc_c"],
                          sample_limit=1, max_out_len=8, batch_size=1, sample_limits={"arc_c_acc": 5})


def test_a_lora_folder_is_evaluated_as_base_plus_adapter(tmp_path: Path) -> None:
    (tmp_path / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "/models/base"}))
    assert resolve_model(tmp_path) == ("/models/base", str(tmp_path.resolve()))
    assert resolve_model("org/full-model") == ("org/full-model", None)


# --- real runs ----------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_real_opencompass_run_on_the_base_model(smollm2_hf: Path, data_dir: Path, tmp_path: Path) -> None:
    runner = OpenCompassRunner(datasets=["arc_c", "gsm8k"], sample_limit=2, data_dir=str(data_dir), max_out_len=32,
                               batch_size=2)
    result = runner.evaluate(model_path=smollm2_hf, model_name="smollm2-base", work_dir=tmp_path)
    assert set(result.scores) == {"arc_c", "gsm8k"}
    # two items per benchmark: every score is 0, 50 or 100
    assert all(score in (0.0, 50.0, 100.0) for score in result.scores.values())
    # one 0/1 verdict per question, as OpenCompass scored it; their mean is the summary's score
    assert sorted(q.question for q in result.questions) == ["ARC-c/0", "ARC-c/1", "gsm8k/0", "gsm8k/1"]
    for key in ("arc_c", "gsm8k"):
        verdicts = [q.score for q in result.questions if q.benchmark == key]
        assert set(verdicts) <= {0.0, 1.0} and 100 * sum(verdicts) / 2 == result.scores[key]
    assert result.proxy_scores == {}
    assert result.avg_obj == pytest.approx(sum(result.scores.values()) / 2)
    assert result.summary_path.is_file() and result.summary_path.suffix == ".csv"
    predictions = list((result.summary_path.parents[1] / "predictions" / "smollm2-base").glob("*.json"))
    assert {p.stem for p in predictions} == {"ARC-c", "gsm8k"}
    assert all(len(json.loads(p.read_text())) == 2 for p in predictions)


@pytest.mark.slow
def test_real_opencompass_run_on_a_lora_adapter(lora_training, data_dir: Path, tmp_path: Path) -> None:
    runner = OpenCompassRunner(datasets=["arc_c"], sample_limit=1, data_dir=str(data_dir), max_out_len=16)
    result = runner.evaluate(model_path=lora_training.output_dir, model_name="lora", work_dir=tmp_path)
    assert result.scores["arc_c"] in (0.0, 100.0)
    config = (tmp_path / "config" / "eval_config.py").read_text()
    assert f"'peft_path': '{lora_training.output_dir}'" in config


@pytest.mark.slow
def test_a_model_that_cannot_load_fails_loudly(tmp_path: Path, data_dir: Path) -> None:
    broken = tmp_path / "broken_model"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    runner = OpenCompassRunner(datasets=["arc_c"], sample_limit=1, data_dir=str(data_dir))
    with pytest.raises(EvaluationError, match="opencompass"):
        runner.evaluate(model_path=broken, model_name="broken", work_dir=tmp_path / "work")


@pytest.mark.slow
def test_ifeval_end_to_end_with_the_rebuilt_tables(smollm2_hf: Path, data_dir: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOSIFT_HOME", str(tmp_path / "home"))
    runner = OpenCompassRunner(datasets=["ifeval"], sample_limit=3, data_dir=str(data_dir), max_out_len=32,
                               batch_size=3)
    result = runner.evaluate(model_path=smollm2_hf, model_name="smol", work_dir=tmp_path / "work")
    assert round(result.scores["ifeval"], 2) in (0.0, 33.33, 66.67, 100.0)  # three prompts
    assert result.n == {"ifeval": 3}
    from resources.opencompass import nltk_data_dir

    assert (nltk_data_dir() / "tokenizers" / "punkt_tab" / "english" / "verified.json").is_file()
    assert "LookupError" not in result.log_path.read_text()  # NLTK found its tables


def test_the_paper_config_uses_the_shots_of_mig_appendix_a4(tmp_path: Path) -> None:
    """MIG Appx. A.4: BBH three-shot (CoT), MMLU five-shot, ARC and GSM8K zero-shot; HumanEval pass@1, IFEval
    strict accuracy (the summary rows ``parse_summary`` reads)."""
    from mmengine.config import Config

    path = write_eval_config(tmp_path, base_config=base_config_path("objective_paper"), model_path="/m",
                             model_name="m", benchmarks=["arc_c", "bbh", "gsm8k", "humaneval", "mmlu", "ifeval"],
                             sample_limit=1, max_out_len=None, batch_size=1)
    datasets = Config.fromfile(str(path)).datasets
    by_prefix = {prefix: [d for d in datasets if d["abbr"].startswith(prefix)]
                 for prefix in ("ARC-c", "bbh-", "gsm8k", "openai_humaneval", "lukaemon_mmlu_", "IFEval")}
    assert len(by_prefix["bbh-"]) == 27 and len(by_prefix["lukaemon_mmlu_"]) == 57
    assert all(d["infer_cfg"]["retriever"]["fix_id_list"] == [0, 1, 2, 3, 4] for d in by_prefix["lukaemon_mmlu_"])
    for bbh in by_prefix["bbh-"]:
        prompt = bbh["infer_cfg"]["prompt_template"]["template"]["round"][0]["prompt"]
        assert prompt.count("\nQ: ") == 4  # three worked examples, then the question
    for zero_shot in ("ARC-c", "gsm8k"):
        assert all("ZeroRetriever" in str(d["infer_cfg"]["retriever"]["type"]) for d in by_prefix[zero_shot])
