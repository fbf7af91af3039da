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


def test_the_runner_writes_the_sections_into_its_generated_config_and_drops_debug(tmp_path: Path, data_dir) -> None:
    """``OpenCompassRunner(eval_workers=4)``: the config it generates loads with OpenCompass's reader and partitions
    with ``NumWorkerPartitioner``; the CLI call has no ``--debug`` (which would run the tasks in one process)."""
    from resources.opencompass import OpenCompassRunner, base_config_path, opencompass_command
    from selection_ops.evaluation.config import write_eval_config

    runner = OpenCompassRunner(eval_workers=4, datasets=["arc_c"])
    config_path = write_eval_config(tmp_path / "config", base_config=base_config_path(runner.base_config),
                                    model_path=str(tmp_path / "model"), model_name="candidate", benchmarks=["arc_c"],
                                    sample_limit=8, max_out_len=8, batch_size=2)
    single = opencompass_command(config_path, tmp_path / "outputs", OpenCompassRunner().scale())
    assert single[-1] == "--debug" and "NumWorkerPartitioner" not in config_path.read_text()
    cmd = opencompass_command(config_path, tmp_path / "outputs", runner.scale())
    assert "--debug" not in cmd and cmd[1] == str(config_path)
    config = load_config(config_path)
    assert config.infer.partitioner.type.__name__ == "NumWorkerPartitioner"
    assert config.infer.partitioner.num_worker == 4 and config.infer.runner.max_num_workers == 4
    assert [d["abbr"] for d in config.datasets] == ["ARC-c"] and config.models[0]["abbr"] == "candidate"
