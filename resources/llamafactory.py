"""Fine-tuning through LLaMA-Factory's real CLI: ``llamafactory-cli train <recipe.yaml>`` in a subprocess.

One training run lays out its output directory as

    <output_dir>/                 the trained model (LLaMA-Factory's ``output_dir``): full weights or a LoRA adapter,
                                  tokenizer with chat template, ``trainer_state.json``, ``trainer_log.jsonl``
    <output_dir>/infosift/        what went in: ``data/<name>.json`` + ``data/dataset_info.json``, ``recipe.yaml``
                                  (the resolved recipe actually run) and ``train.log`` (the CLI's stdout + stderr);
                                  ``complete.json`` last, once the run has finished and its loss was read: a folder
                                  without it is half-written (a killed run) and is never used (``is_complete``)

Recipes live in ``training_configs/<name>.yaml``; ``build_recipe`` fills the model, dataset and output paths in and
applies overrides. The dataset is registered through a generated ``dataset_info.json`` in the OpenAI-messages flavour
of LLaMA-Factory's ShareGPT format (``formatting: sharegpt`` with role/content tags).

What is refused or kept out: a conversation LLaMA-Factory would skip with a log line or train on an empty response
(``selection_ops.pool.conversation.messages_for_training``); ``trust_remote_code`` is false unless a recipe or an
override sets it; overrides whose names look like credentials (``hf_hub_token``, ``*_key``, ``*secret*``) never reach
a file: the recipe on disk and ``TrainingResult.recipe`` hold ``***`` and the value goes to the CLI as a
``key=value`` argument (LLaMA-Factory merges those over the YAML). Every file is written atomically.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from dagster import ConfigurableResource
from pydantic import Field

from resources.cli_process import FollowProgress, log_tail, run_logged
from resources.llamafactory_launch import LaunchPlan, launch_environment, launch_overrides
from resources.named_configs import named_config
from selection_ops.foundation.atomic import write_text_atomic
from selection_ops.foundation.paths import REPO_ROOT
from selection_ops.foundation.secrets import is_secret_key, redact
from selection_ops.pool.conversation import messages_for_training
from selection_ops.training_progress import (
    PROGRESS_INTERVAL_S,
    TRAINER_LOG,
    ProgressCallback,
    ProgressReporter,
    StepCallback,
)

logger = logging.getLogger(__name__)

RECIPES_DIR = REPO_ROOT / "training_configs"
DEFAULT_RECIPE = "full_cpu_small"
DEFAULT_DATASET_NAME = "infosift_selection"
FINETUNING_TYPES = ("full", "lora")
# Keys build_recipe always sets from its arguments; overrides may still replace them explicitly.
PATH_KEYS = ("model_name_or_path", "dataset_dir", "dataset", "output_dir", "finetuning_type")
# A grid cell's training seed sets both: ``seed`` (LoRA init, dropout) and ``data_seed`` (the order examples are
# seen: Hugging Face's seedable sampler uses it when set, and the shipped recipes set it, so ``seed`` alone would
# leave the order as it was).
SEED_KEYS = ("seed", "data_seed")


COMPLETE_MARKER = "infosift/complete.json"


class TrainingError(RuntimeError):
    """``llamafactory-cli train`` failed, or finished without the outputs a finished run has."""


@dataclass(frozen=True)
class TrainingResult:
    """One finished training run.

    ``output_dir`` is the trained model folder (loadable with ``from_pretrained``; for LoRA it holds the adapter
    and ``adapter_config.json`` names the base model). ``loss_history`` is ``[(global_step, loss), ...]`` as logged
    every ``logging_steps``; ``final_loss`` its last value.
    """

    output_dir: Path
    final_loss: float
    loss_history: list[tuple[int, float]]
    recipe: dict[str, Any]
    recipe_path: Path
    wall_s: float
    log_path: Path | None = None


def recipe_path_for(recipe: str | Path) -> Path:
    """``training_configs/<recipe>.yaml`` for a bare name, else the given path; FileNotFoundError lists the names."""
    return named_config(recipe, RECIPES_DIR, (".yaml", ".yml"), "training recipe")


def write_dataset(records: Sequence[Sequence[Mapping[str, Any]]], dataset_dir: Path, name: str,
                  record_ids: Sequence[str] | None = None) -> None:
    """Write ``<dataset_dir>/<name>.json`` (``[{"messages": [{"role", "content"}, ...]}, ...]``) and register it.

    ``dataset_info.json`` in the same folder gets (or replaces) the entry ``name`` with ``formatting: sharegpt``,
    ``columns.messages = "messages"`` and the OpenAI-style tags (``role``/``content``; ``user``/``assistant``/
    ``system``); other entries already there are kept. Every record is checked first (``messages_for_training``:
    a leading system turn at most, user/assistant alternating from the user's, ending on the assistant's, no empty
    turn); an error names the record (its id from ``record_ids``, else its index), the turn and the rule. Both files
    are written atomically, the data before its registration.
    """
    if not records:
        raise ValueError(f"dataset {name!r}: no records to train on")
    if record_ids is not None and len(record_ids) != len(records):
        raise ValueError(f"dataset {name!r}: {len(record_ids)} record ids for {len(records)} records")
    rows = [{"messages": messages_for_training(
        conversation, f"record {record_ids[index]!r}" if record_ids is not None else f"record {index}")}
        for index, conversation in enumerate(records)]
    dataset_dir = Path(dataset_dir)
    file_name = f"{name}.json"
    write_text_atomic(dataset_dir / file_name, json.dumps(rows, ensure_ascii=False, indent=1))
    info_path = dataset_dir / "dataset_info.json"
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    info[name] = {
        "file_name": file_name,
        "formatting": "sharegpt",
        "columns": {"messages": "messages"},
        "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                 "assistant_tag": "assistant", "system_tag": "system"},
    }
    write_text_atomic(info_path, json.dumps(info, indent=2))
    logger.info("dataset %r: %d conversations written to %s", name, len(rows), dataset_dir / file_name)


def build_recipe(recipe_path: Path, *, model_path: str | Path, dataset_dir: Path, dataset_name: str,
                 output_dir: Path, finetuning_type: Literal["full", "lora"],
                 overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The recipe YAML as a dict with the run's paths filled in, then ``overrides`` applied (they win).

    Always set: ``model_name_or_path``, ``dataset_dir``, ``dataset``, ``output_dir``, ``finetuning_type`` and
    ``report_to: none`` (no experiment tracker inside the subprocess; MLflow logging is the caller's job).
    ``trust_remote_code`` is false unless the recipe or an override sets it (running a Hub model's own code is a
    choice the user makes explicitly).
    """
    if finetuning_type not in FINETUNING_TYPES:
        raise ValueError(f"finetuning_type is {finetuning_type!r}, expected one of {FINETUNING_TYPES}")
    recipe_path = Path(recipe_path)
    loaded = yaml.safe_load(recipe_path.read_text())
    if not isinstance(loaded, dict):
        raise ValueError(f"{recipe_path}: a recipe must be a YAML mapping, got {type(loaded).__name__}")
    recipe = dict(loaded)
    recipe.update(model_name_or_path=str(model_path), dataset_dir=str(dataset_dir), dataset=dataset_name,
                  output_dir=str(output_dir), finetuning_type=finetuning_type, report_to="none")
    recipe.setdefault("trust_remote_code", False)
    recipe.update(dict(overrides or {}))
    if not isinstance(recipe["trust_remote_code"], bool):
        raise ValueError(f"{recipe_path}: trust_remote_code must be true or false, got "
                         f"{recipe['trust_remote_code']!r}")
    if recipe.get("stage", "sft") != "sft":
        raise ValueError(f"{recipe_path}: stage is {recipe['stage']!r}; infosift fine-tunes with stage 'sft'")
    return recipe


def split_secrets(recipe: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """``(recipe with each credential replaced by ***, {key: value} of the credentials})``; see
    ``selection_ops.foundation.secrets.is_secret_key`` for what counts."""
    secrets = {key: str(value) for key, value in recipe.items()
               if isinstance(key, str) and is_secret_key(key) and value not in (None, "")}
    return redact(dict(recipe)), secrets


def write_recipe(recipe: Mapping[str, Any], path: Path, source: Path) -> tuple[dict[str, Any], list[str]]:
    """Write ``recipe`` to ``path`` atomically with its credentials redacted; returns the redacted recipe and the
    ``key=value`` arguments that carry the credentials to ``llamafactory-cli train`` instead."""
    public, secrets = split_secrets(recipe)
    header = f"# resolved from {source}\n"
    if secrets:
        header += f"# {', '.join(sorted(secrets))}: passed on the command line, not written here\n"
    write_text_atomic(path, header + yaml.safe_dump({k: v for k, v in public.items() if k not in secrets},
                                                    sort_keys=False))
    return public, [f"{key}={value}" for key, value in secrets.items()]


def read_loss_history(output_dir: Path) -> list[tuple[int, float]]:
    """``[(step, loss), ...]`` from ``trainer_state.json``'s ``log_history``, else from ``trainer_log.jsonl``.

    The final summary entry (``train_loss``, the mean over the run) is not a step loss and is left out.
    """
    output_dir = Path(output_dir)
    state_path = output_dir / "trainer_state.json"
    if state_path.is_file():
        state = json.loads(state_path.read_text())
        history = [(int(e["step"]), float(e["loss"])) for e in state.get("log_history", []) if "loss" in e]
        if history:
            return history
    log_path = output_dir / "trainer_log.jsonl"
    if log_path.is_file():
        history = []
        for line_no, line in enumerate(log_path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            entry = json.loads(line)
            if "loss" in entry:
                if "current_steps" not in entry:
                    raise ValueError(f"{log_path}:{line_no}: entry with 'loss' but no field 'current_steps'")
                history.append((int(entry["current_steps"]), float(entry["loss"])))
        return history
    return []


def is_complete(output_dir: str | Path) -> bool:
    """True when ``output_dir`` holds a training run that finished (its completion marker, written last)."""
    return (Path(output_dir) / COMPLETE_MARKER).is_file()


def is_half_written(model_path: str | Path) -> bool:
    """True for a folder ``run_training`` started and did not finish (a killed or failed run's leftovers)."""
    folder = Path(model_path)
    return (folder / "infosift" / "recipe.yaml").is_file() and not is_complete(folder)


def check_finished_model(model_path: str | Path) -> None:
    """Refuse a half-written training folder (``is_half_written``) before anything loads it."""
    if is_half_written(model_path):
        raise TrainingError(f"{model_path}: a training run that did not finish (no {COMPLETE_MARKER}); "
                            "re-materialize its fine-tune")


def training_env() -> dict[str, str]:
    """The subprocess environment: Hub offline unless the caller's env says otherwise, no version check, no W&B."""
    env = dict(os.environ)
    # Idle OpenMP threads sleep instead of spinning: on a shared 2-core machine spinning threads were measured to
    # burn ~15x the CPU time of the work itself (greedy decoding, 2 threads, load ~8).
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Offline by default (no Hub here); a user with Hub access sets HF_HUB_OFFLINE=0 etc. to train a Hub model id.
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        env.setdefault(name, "1")
    env.update(DISABLE_VERSION_CHECK="1", WANDB_DISABLED="true", WANDB_MODE="disabled",
               TOKENIZERS_PARALLELISM="false", PYTHONUNBUFFERED="1")
    return env


def llamafactory_cli() -> Path:
    """``llamafactory-cli`` from the running interpreter's environment (the project venv), not whatever is on PATH."""
    cli = Path(sys.executable).parent / "llamafactory-cli"
    if not cli.is_file():
        raise FileNotFoundError(f"llamafactory-cli not found next to {sys.executable}; run scripts/setup.sh")
    return cli


def run_training(*, model_path: str | Path, records: Sequence[Sequence[Mapping[str, Any]]], output_dir: Path,
                 recipe: str | Path = DEFAULT_RECIPE, finetuning_type: Literal["full", "lora"] = "full",
                 overrides: Mapping[str, Any] | None = None, dataset_name: str = DEFAULT_DATASET_NAME,
                 timeout_s: float | None = None, record_ids: Sequence[str] | None = None,
                 launch: LaunchPlan | None = None, on_progress: ProgressCallback | None = None,
                 progress_interval_s: float = PROGRESS_INTERVAL_S, on_step: StepCallback | None = None
                 ) -> TrainingResult:
    """Fine-tune ``model_path`` on ``records`` with the real ``llamafactory-cli train`` and return the run's result.

    ``records``: conversations, each a list of ``{"role", "content"}`` turns (``record_ids`` name them in errors).
    ``TrainingResult.recipe`` has credentials redacted (it goes to metadata). The CLI's output is streamed to
    ``<output_dir>/infosift/train.log``; a non-zero exit, a timeout or a run without any logged loss raises
    TrainingError with the log's tail. ``on_progress(line, record)`` gets the newest step of LLaMA-Factory's
    ``trainer_log.jsonl`` while the CLI runs, at most every ``progress_interval_s`` seconds and once at the end
    (``selection_ops.training_progress``); ``on_step(record)`` gets every step that logged a loss as it is read
    (every ~5 s: a live loss curve); a callback that raises is logged and neither is called again, the training goes
    on.
    """
    output_dir = Path(output_dir).resolve()
    run_dir = output_dir / "infosift"
    (output_dir / COMPLETE_MARKER).unlink(missing_ok=True)  # from here on the folder is half-written
    dataset_dir = run_dir / "data"
    write_dataset(records, dataset_dir, dataset_name, record_ids)
    source_recipe = recipe_path_for(recipe)
    resolved = build_recipe(source_recipe, model_path=model_path, dataset_dir=dataset_dir,
                            dataset_name=dataset_name, output_dir=output_dir, finetuning_type=finetuning_type,
                            overrides=overrides)
    launch = launch or LaunchPlan()
    resolved.update(launch_overrides(launch, resolved))  # multi-GPU keys: resources/llamafactory_launch.py
    recipe_path = run_dir / "recipe.yaml"
    public_recipe, secret_args = write_recipe(resolved, recipe_path, source_recipe)
    for stale in ("trainer_state.json", "trainer_log.jsonl"):  # never read a previous run's loss
        (output_dir / stale).unlink(missing_ok=True)
    log_path = run_dir / "train.log"
    cmd = [str(llamafactory_cli()), "train", str(recipe_path), *secret_args]
    logger.info("training %s on %d conversations (%s, recipe %s) -> %s; log %s", model_path, len(records),
                finetuning_type, source_recipe.name, output_dir, log_path)
    reporter = (ProgressReporter(output_dir / TRAINER_LOG, on_progress or (lambda line, record: None),
                                 progress_interval_s, on_step=on_step) if on_progress or on_step else None)

    follow = FollowProgress(reporter, f"training {output_dir}")
    wall_s = run_logged(cmd, cwd=run_dir, env=launch_environment(launch, training_env()), log_path=log_path,
                        timeout_s=timeout_s, error=TrainingError, on_tick=follow.tick if reporter else None,
                        tick_s=min(5.0, progress_interval_s))
    follow.final()
    history = read_loss_history(output_dir)
    if not history:
        raise TrainingError(f"llamafactory-cli train exited 0 but logged no loss in {output_dir} "
                            f"(trainer_state.json / trainer_log.jsonl); tail:\n{log_tail(log_path)}")
    final_loss = history[-1][1]
    if not math.isfinite(final_loss):
        logger.warning("training of %s ended with a non-finite loss %s", output_dir, final_loss)
    write_text_atomic(output_dir / COMPLETE_MARKER, json.dumps({"final_loss": final_loss, "steps": len(history),
                                                               "wall_s": round(wall_s, 1)}))
    logger.info("training done in %.1f s: %d logged steps, final loss %.4f", wall_s, len(history), final_loss)
    return TrainingResult(output_dir=output_dir, final_loss=final_loss, loss_history=history, recipe=public_recipe,
                          recipe_path=recipe_path, wall_s=wall_s, log_path=log_path)


def parse_overrides(text: str) -> dict[str, Any]:
    """A JSON object string (``'{"max_steps": 2}'``) as a dict; ValueError when it is not an object."""
    value = json.loads(text) if text and text.strip() else {}
    if not isinstance(value, dict):
        raise ValueError(f"recipe overrides must be a JSON object, got {text!r}")
    return value


class LlamaFactoryTrainer(ConfigurableResource):
    """Fine-tunes a base model on a selected subset with LLaMA-Factory (``run_training``).

    The smallest end-to-end settings cap the steps through ``overrides`` (the "small" resource set of
    ``dagster_project.definitions``).
    """

    recipe: str = Field(default=DEFAULT_RECIPE,
                        description="name of a YAML in training_configs/ (e.g. full_cpu_small, lora_paper) or a path")
    finetuning_type: Literal["full", "lora"] = Field(default="full", description="full fine-tuning or LoRA")
    overrides: str = Field(default="{}", description='JSON object of recipe keys to override, e.g. {"max_steps": 4}; '
                           "credentials (hf_hub_token, ...) are redacted from files and metadata, but Dagster keeps "
                           "run config as given: prefer HF_TOKEN in the environment")
    timeout_s: float | None = Field(default=None, description="kill the training subprocess after this many seconds")
    launch: Literal["single", "torchrun", "ray"] = Field(default="single", description=(
        "LLaMA-Factory's launch: one process, FORCE_TORCHRUN over nproc_per_node x nnodes GPUs, or USE_RAY with "
        "ray_num_workers workers (resources/llamafactory_launch.py)"))
    nproc_per_node: int = Field(default=1, description="GPUs per node for launch 'torchrun'")
    nnodes: int = Field(default=1, description="nodes for launch 'torchrun' (run the same command on each)")
    node_rank: int = Field(default=0, description="this node's rank for launch 'torchrun'")
    master_addr: str = Field(default="", description="rendezvous host for multi-node torchrun / Ray mode")
    master_port: int | None = Field(default=None, description="rendezvous port (None = a free one)")
    ray_num_workers: int = Field(default=1, description="training workers (1 GPU each) for launch 'ray'")
    ray_address: str = Field(default="", description="cluster for launch 'ray' (ray_init_kwargs.address)")
    deepspeed: str = Field(default="", description="'z2', 'z3' (training_configs/deepspeed) or a DeepSpeed JSON path")
    effective_batch_size: int | None = Field(default=None, description=(
        "keep this global batch (MIG A.3: 128) by setting gradient_accumulation_steps for the world size"))

    def launch_plan(self) -> LaunchPlan:
        return LaunchPlan(mode=self.launch, nproc_per_node=self.nproc_per_node, nnodes=self.nnodes,
                          node_rank=self.node_rank, master_addr=self.master_addr, master_port=self.master_port,
                          ray_num_workers=self.ray_num_workers, ray_address=self.ray_address,
                          deepspeed=self.deepspeed, effective_batch_size=self.effective_batch_size)

    def resolved_overrides(self) -> dict[str, Any]:
        return parse_overrides(self.overrides)

    def recipe_overrides(self, seed: int | None = None) -> dict[str, Any]:
        """The overrides one run applies: the resource's, then ``seed`` as every key of ``SEED_KEYS`` when given.
        ``seed=None`` keeps the recipe's own seeds (what a grid cell at the grid's own seed trains with)."""
        overrides = self.resolved_overrides()
        if seed is not None:
            overrides.update(dict.fromkeys(SEED_KEYS, seed))
        return overrides

    def training_seed(self, seed: int | None = None) -> int | None:
        """The ``seed`` LLaMA-Factory runs with: ``seed`` when given, else the recipe's after the resource's
        overrides (None when neither sets one: Hugging Face's default then applies)."""
        if seed is not None:
            return seed
        path = recipe_path_for(self.recipe)
        recipe = yaml.safe_load(path.read_text())
        if not isinstance(recipe, dict):
            raise ValueError(f"{path}: a recipe must be a YAML mapping, got {type(recipe).__name__}")
        value = {**recipe, **self.resolved_overrides()}.get("seed")
        return None if value is None else int(value)

    def train(self, *, model_path: str | Path, records: Sequence[Sequence[Mapping[str, Any]]],
              output_dir: Path, record_ids: Sequence[str] | None = None, seed: int | None = None,
              on_progress: ProgressCallback | None = None, on_step: StepCallback | None = None) -> TrainingResult:
        """``seed``: the training seed (``recipe_overrides``); None keeps the recipe's. ``on_progress``,
        ``on_step``: see ``run_training``."""
        return run_training(model_path=model_path, records=records, output_dir=output_dir, recipe=self.recipe,
                            finetuning_type=self.finetuning_type, overrides=self.recipe_overrides(seed),
                            timeout_s=self.timeout_s, record_ids=record_ids, launch=self.launch_plan(),
                            on_progress=on_progress, on_step=on_step)
