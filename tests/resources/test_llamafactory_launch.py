"""LLaMA-Factory beyond one GPU: the composed environment, recipe keys and DeepSpeed configs, checked against
LLaMA-Factory's own argument parser; the torchrun launch run for real on CPU (one process)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

from resources.llamafactory import RECIPES_DIR, LlamaFactoryTrainer, build_recipe
from resources.llamafactory_launch import (
    DEEPSPEED_DIR,
    LaunchPlan,
    deepspeed_config_path,
    launch_environment,
    launch_overrides,
)

MIG_A3 = {"tulu3": (5e-6, 0.03, 4096), "xsota": (2e-5, 0.1, 2048), "openhermes": (7e-6, 0.01, 4096)}


def test_torchrun_environment_replaces_any_inherited_launch_variables() -> None:
    plan = LaunchPlan(mode="torchrun", nproc_per_node=8, nnodes=2, node_rank=1, master_addr="10.0.0.1",
                      master_port=29500)
    env = launch_environment(plan, {"USE_RAY": "1", "NPROC_PER_NODE": "3", "PATH": "/bin"})
    assert env == {"PATH": f"{Path(sys.executable).parent}:/bin", "FORCE_TORCHRUN": "1", "NNODES": "2",
                   "NODE_RANK": "1", "NPROC_PER_NODE": "8", "MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500"}
    assert launch_environment(LaunchPlan(), {"FORCE_TORCHRUN": "1", "PATH": "/bin"}) == {"PATH": "/bin"}
    assert launch_environment(LaunchPlan(mode="ray", ray_num_workers=16), {})["USE_RAY"] == "1"


def test_ray_mode_sets_llamafactory_ray_arguments() -> None:
    plan = LaunchPlan(mode="ray", ray_num_workers=16, ray_address="auto", deepspeed="z3", effective_batch_size=128)
    overrides = launch_overrides(plan, {"per_device_train_batch_size": 2})
    assert overrides == {"deepspeed": str(DEEPSPEED_DIR / "ds_z3_config.json"), "ray_num_workers": 16,
                         "ray_init_kwargs": {"address": "auto"}, "gradient_accumulation_steps": 4}


@pytest.mark.parametrize("gpus, accumulation", [(8, 8), (4, 16), (1, 64)])
def test_effective_batch_stays_128_across_gpu_counts(gpus: int, accumulation: int) -> None:
    plan = LaunchPlan(mode="torchrun", nproc_per_node=gpus, effective_batch_size=128)
    recipe = {"per_device_train_batch_size": 2, "deepspeed": "training_configs/deepspeed/ds_z3_config.json"}
    overrides = launch_overrides(plan, recipe)
    assert overrides["gradient_accumulation_steps"] == accumulation
    assert 2 * gpus * overrides["gradient_accumulation_steps"] == 128
    assert Path(overrides["deepspeed"]).is_absolute() and Path(overrides["deepspeed"]).is_file()


def test_bad_launches_are_refused() -> None:
    with pytest.raises(ValueError, match="not a multiple"):
        launch_overrides(LaunchPlan(mode="torchrun", nproc_per_node=3, effective_batch_size=128),
                         {"per_device_train_batch_size": 2})
    with pytest.raises(ValueError, match="deepspeed needs mode"):
        LaunchPlan(deepspeed="z2")
    with pytest.raises(ValueError, match="recipe sets deepspeed"):
        launch_overrides(LaunchPlan(), {"deepspeed": "training_configs/deepspeed/ds_z3_config.json"})
    with pytest.raises(FileNotFoundError, match="ds_z2_config"):
        deepspeed_config_path("z4")


@pytest.mark.parametrize("stage", [2, 3])
def test_deepspeed_configs_leave_batch_and_precision_to_the_recipe(stage: int) -> None:
    config = json.loads(deepspeed_config_path(f"z{stage}").read_text())
    assert config["zero_optimization"]["stage"] == stage
    for key in ("train_batch_size", "train_micro_batch_size_per_gpu", "gradient_accumulation_steps"):
        assert config[key] == "auto"
    assert config["bf16"]["enabled"] == "auto"


@pytest.mark.parametrize("pool", sorted(MIG_A3))
def test_mig_a3_recipes_parse_with_llamafactory_and_match_the_paper(pool: str, tmp_path: Path) -> None:
    from llamafactory.hparams.parser import _TRAIN_ARGS
    from transformers import HfArgumentParser

    learning_rate, warmup, cutoff = MIG_A3[pool]
    recipe = build_recipe(RECIPES_DIR / f"mig_a3_{pool}.yaml", model_path="meta-llama/Llama-3.1-8B",
                          dataset_dir=tmp_path, dataset_name="subset", output_dir=tmp_path / "out",
                          finetuning_type="full")
    recipe.update(launch_overrides(LaunchPlan(mode="torchrun", nproc_per_node=8, effective_batch_size=128), recipe))
    assert (recipe["learning_rate"], recipe["warmup_ratio"], recipe["cutoff_len"]) == (learning_rate, warmup, cutoff)
    assert recipe["per_device_train_batch_size"] * recipe["gradient_accumulation_steps"] * 8 == 128
    assert json.loads(Path(recipe["deepspeed"]).read_text())["zero_optimization"]["stage"] == 3
    checked = {k: v for k, v in recipe.items() if k not in ("deepspeed", "bf16")}  # no DeepSpeed / bf16 on CPU
    parser = HfArgumentParser(_TRAIN_ARGS)
    _, data_args, training_args, finetuning_args, _ = parser.parse_dict(checked, allow_extra_keys=False)
    assert data_args.cutoff_len == cutoff and training_args.learning_rate == learning_rate
    assert finetuning_args.finetuning_type == "full"


@pytest.mark.slow
def test_torchrun_launch_trains_for_real_on_cpu(smollm2_hf: Path, alpaca_conversations: list,
                                                tmp_path: Path) -> None:
    """FORCE_TORCHRUN with one process: LLaMA-Factory re-launches itself under torchrun (gloo on CPU)."""
    trainer = LlamaFactoryTrainer(recipe="lora_cpu_small", finetuning_type="lora", overrides='{"max_steps": 1}',
                                  launch="torchrun", nproc_per_node=1, master_port=29631)
    result = trainer.train(model_path=smollm2_hf, records=alpaca_conversations[:8], output_dir=tmp_path / "adapter")
    log = result.log_path.read_text()
    assert "distributed tasks at: 127.0.0.1:29631" in log
    assert result.loss_history and (tmp_path / "adapter" / "adapter_config.json").is_file()
    assert yaml.safe_load(result.recipe_path.read_text().split("\n", 1)[1])["max_steps"] == 1
