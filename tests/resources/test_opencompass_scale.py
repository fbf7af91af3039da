"""Evaluation beyond one GPU is OpenCompass configuration: the written sections load with OpenCompass's own config
reader, build its own partitioner and runner, and the partitioner cuts a dataset into one task per worker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from resources.opencompass_scale import EvalScaleSettings, infer_config_text

EVAL_CONFIGS = Path(__file__).resolve().parents[2] / "eval_configs"


def load_config(path: Path):
    from mmengine.config import Config

    return Config.fromfile(str(path))


def test_local_workers_split_a_dataset_into_one_task_per_worker(tmp_path: Path) -> None:
    from opencompass.registry import PARTITIONERS, RUNNERS

    (tmp_path / "scale.py").write_text(infer_config_text(EvalScaleSettings(workers=4)))
    config = load_config(tmp_path / "scale.py")
    sizes = tmp_path / "dataset_size.json"
    sizes.write_text(json.dumps({"arc-c": 1172}))
    partitioner = PARTITIONERS.build({**config.infer.partitioner, "out_dir": str(tmp_path / "predictions"),
                                      "dataset_size_path": str(sizes)})
    dataset = {"abbr": "arc-c", "type": "ARCDataset", "reader_cfg": {"input_columns": ["q"], "output_column": "a"}}
    model = {"abbr": "candidate", "type": "HuggingFacewithChatTemplate", "path": "m", "run_cfg": {"num_gpus": 1}}
    from mmengine.config import ConfigDict

    tasks = partitioner.partition([{"models": [ConfigDict(model)], "datasets": [ConfigDict(dataset)]}],
                                  work_dir=str(tmp_path), out_dir=str(tmp_path / "predictions"))
    ranges = [t["datasets"][0][0]["reader_cfg"]["test_range"] for t in tasks]
    assert ranges == ["[0:293]", "[293:586]", "[586:879]", "[879:1172]"]
    runner = RUNNERS.build({**config.infer.runner})
    assert type(runner).__name__ == "LocalRunner" and runner.max_num_workers == 4 and runner.max_workers_per_gpu == 1


def test_slurm_sections_name_the_partition() -> None:
    settings = EvalScaleSettings(workers=32, runner="slurm", slurm_partition="a100", slurm_quotatype="auto")
    text = infer_config_text(settings)
    assert "SlurmRunner, partition='a100', quotatype='auto', retry=2, max_num_workers=32" in text
    assert EvalScaleSettings(workers=1).parallel is False and EvalScaleSettings(workers=2).parallel is True
    with pytest.raises(ValueError, match="slurm_partition"):
        EvalScaleSettings(runner="slurm")


@pytest.mark.parametrize("name, runner", [("infer_multiworker", "LocalRunner"), ("infer_slurm", "SlurmRunner")])
def test_shipped_configs_load_with_opencompass(name: str, runner: str) -> None:
    config = load_config(EVAL_CONFIGS / f"{name}.py")
    assert config.infer.partitioner.type.__name__ == "NumWorkerPartitioner"
    assert config.infer.runner.type.__name__ == runner and config.eval.runner.type.__name__ == runner


def test_served_judge_config_points_at_the_endpoint(monkeypatch) -> None:
    monkeypatch.setenv("INFOSIFT_JUDGE_URL", "http://judge-node:23333/v1")
    judge = load_config(EVAL_CONFIGS / "judge_served.py").judge_models[0]
    assert judge.type.__name__ == "OpenAISDK" and judge.openai_api_base == "http://judge-node:23333/v1"
