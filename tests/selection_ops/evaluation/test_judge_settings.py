"""Judge configuration: which class OpenCompass builds, the identity recorded with scores, and the key kept out of
every file, name and repr."""

from __future__ import annotations

from pathlib import Path

import pytest

from selection_ops.evaluation.config import hf_model_entry, write_preference_config
from selection_ops.evaluation.judge import JudgeSettings
from selection_ops.foundation.paths import REPO_ROOT

SECRET = "sk-test-0123456789"


def test_embedded_judge_reads_probabilities_by_default() -> None:
    judge = JudgeSettings(model_path="/models/smol")
    cls, entry = judge.model_entry(cache_dir=Path("/c"), use_gpu=False)
    assert judge.resolved_mode == "probability" and cls == "ProbabilityJudge"
    assert judge.identity() == "embedded:SmolLM2-135M-Instruct/probability"
    assert entry["model_kwargs"]["trust_remote_code"] is False and entry["judge_id"] == judge.identity()
    assert JudgeSettings(kind="hf", model_path="/m/cj").model_entry(cache_dir=None, use_gpu=True)[0] == "CachedHFJudge"


def test_pairwise_order_is_both_orders_for_the_embedded_judge_and_official_otherwise(tmp_path: Path) -> None:
    from mmengine.config import Config

    assert JudgeSettings(model_path="/models/smol").resolved_pairwise_order == "double"
    assert JudgeSettings(kind="hf", model_path="/m/cj").resolved_pairwise_order == "random"
    assert JudgeSettings(model_path="/s", pairwise_order="random").resolved_pairwise_order == "random"
    with pytest.raises(ValueError, match="pairwise_order"):
        JudgeSettings(model_path="/s", pairwise_order="twice")
    judge = JudgeSettings(model_path="/models/smol")
    cls, entry = judge.model_entry(cache_dir=tmp_path / "cache", use_gpu=False)
    model = hf_model_entry(model_name="m", model_path="/m", max_out_len=16, batch_size=1, use_gpu=False)
    orders = {}
    for order in ("double", None):
        path = write_preference_config(tmp_path / f"cfg_{order}", model=model, judge_class=cls, judge=entry,
                                       base_config=REPO_ROOT / "eval_configs" / "subjective_small.py",
                                       datasets={"alpacaeval_v2": ["alpaca_eval"], "mtbench": ["mtbench_0.7"]},
                                       max_out_len=16, pairwise_order=order)
        orders[order] = {d["abbr"]: d.get("infer_order") for d in Config.fromfile(str(path)).datasets}
    assert orders["double"]["alpaca_eval"] == "double" and orders[None]["alpaca_eval"] == "random"  # the official
    assert orders["double"]["mtbench_0.7"] == orders[None]["mtbench_0.7"]  # single-answer grading: untouched


def test_openai_key_reaches_only_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOSIFT_JUDGE_URL", "http://127.0.0.1:9/v1")
    judge = JudgeSettings(kind="openai", model_name="CompassJudger-1-32B-Instruct", api_key=SECRET)
    cls, entry = judge.model_entry(cache_dir=tmp_path, use_gpu=False)
    assert cls == "CachedOpenAIJudge" and entry["key"] == "ENV" and entry["openai_api_base"] == "http://127.0.0.1:9/v1"
    assert judge.environment() == {"OPENAI_API_KEY": SECRET}
    assert SECRET not in repr(judge) and SECRET not in judge.identity() and SECRET not in str(entry)
    model = hf_model_entry(model_name="m", model_path="/m", max_out_len=8, batch_size=1, use_gpu=False)
    config = write_preference_config(tmp_path / "cfg", base_config=REPO_ROOT / "eval_configs" / "subjective_small.py",
                                     model=model, judge_class=cls, judge=entry,
                                     datasets={"alpacaeval_v2": ["alpaca_eval"]}, max_out_len=8)
    assert SECRET not in config.read_text() and "CachedOpenAIJudge" in config.read_text()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="needs the model's weights"):
        JudgeSettings(kind="openai", mode="probability")
    with pytest.raises(ValueError, match="needs model_path"):
        JudgeSettings(kind="hf")
    with pytest.raises(ValueError, match="needs an API key"):
        JudgeSettings(kind="openai", url="http://127.0.0.1:9/v1").environment()


def test_preference_config_keeps_the_laid_out_datasets(tmp_path: Path) -> None:
    from mmengine.config import Config

    judge = JudgeSettings(model_path="/models/smol")
    cls, entry = judge.model_entry(cache_dir=tmp_path / "cache", use_gpu=False)
    model = hf_model_entry(model_name="m", model_path="/m", max_out_len=16, batch_size=1, use_gpu=False)
    path = write_preference_config(tmp_path / "cfg", base_config=REPO_ROOT / "eval_configs" / "subjective_small.py",
                                   model=model, judge_class=cls, judge=entry, max_out_len=16,
                                   datasets={"alpacaeval_v2": ["alpaca_eval"], "mtbench": ["mtbench_0.7"]})
    config = Config.fromfile(str(path))
    assert [d["abbr"] for d in config.datasets] == ["alpaca_eval", "mtbench_0.7"]
    assert all(d["infer_cfg"]["inferencer"]["max_out_len"] == 16 for d in config.datasets)
    assert config.datasets[1]["infer_cfg"]["inferencer"]["do_sample"] is False  # greedy (MIG A.4)
    assert config.judge_models[0]["judge_id"] == judge.identity()
    assert config["eval"]["partitioner"]["type"].__name__ == "SubjectiveNaivePartitioner"
