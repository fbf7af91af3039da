"""Seeds as a grid axis: each trained cell repeated per seed, as more columns of the Dagster matrix (``b3-s1``).

A partition's seed is the selection's seed (random selectors pick differently, deterministic ones the same ids) and
the training seed (LLaMA-Factory's ``seed`` and ``data_seed`` in the recipe); every seed's fine-tune run carries the
same MLflow ``cell``. On a real Dagster instance, the trainer and evaluators faked at the resource seam (the fake
trainer writes the recipe the real one would run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from studykit import Study, ran

ONE_SEED = """
study: alpha
seed: 0
pool: {limit_per_source: 5}
selectors: [random, farthest]
train: [random, farthest]
budgets: [3]
base_models: {tiny: /fake/base-model}
"""
TWO_SEEDS = ONE_SEED + "seeds: [0, 1]\n"


def _picks(study: Study, selection: str) -> list[str]:
    (path,) = (study.layout.root / "selections" / selection).glob("*.jsonl")
    return [json.loads(line)["id"] for line in path.read_text().splitlines()]


def _recipe(study: Study, cell: str) -> dict:
    (path,) = (study.layout.root / "models" / "fine_tuned" / cell).glob("*/recipe.yaml")
    return yaml.safe_load(path.read_text())


def test_two_seeds_of_a_cell_select_and_train_apart_and_share_one_mlflow_cell(home: Path) -> None:
    from mlflow.tracking import MlflowClient

    from selection_ops.report import runs_table

    study = Study(home, body=TWO_SEEDS)
    lines = study.run()
    assert {"selection random__b3", "selection random__b3-s1", "tiny/fine_tuned_model random__b3-s1__tiny",
            "tiny/preference_scores farthest__b3-s1__tiny"} <= ran(lines), "\n".join(lines)
    # the selection seed: a random draw differs per seed, a deterministic selector picks the same ids
    assert _picks(study, "random__b3") != _picks(study, "random__b3-s1")
    assert _picks(study, "farthest__b3") == _picks(study, "farthest__b3-s1")
    # the training seed: the grid's own seed keeps the recipe's (42 in full_cpu_small), seed 1 trains with 1
    for variant in ("random", "farthest"):
        base, other = _recipe(study, f"{variant}__b3__tiny"), _recipe(study, f"{variant}__b3-s1__tiny")
        assert (base["seed"], base["data_seed"]) == (42, 42) and (other["seed"], other["data_seed"]) == (1, 1)

    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("alpha").experiment_id
    runs = {r.data.tags["infosift.partition"]: r for r in client.search_runs(
        [experiment], "tags.`infosift.kind` = 'fine-tune' and tags.`infosift.current` = 'true'")}
    assert set(runs) == set(study.grid.default_training_keys())
    for variant in ("random", "farthest"):
        base, other = runs[f"{variant}__b3__tiny"], runs[f"{variant}__b3-s1__tiny"]
        assert (base.data.params["seed"], other.data.params["seed"]) == ("0", "1")
        assert (base.data.params["train_seed"], other.data.params["train_seed"]) == ("42", "1")
        assert base.data.tags["train_seed"] == "42" and other.data.tags["train_seed"] == "1"
        cells = {r.data.params["cell"] for r in (base, other)} | {r.data.tags["cell"] for r in (base, other)}
        assert cells == {f"{variant}__b3__tiny"}
    table = runs_table(runs.values()).set_index("run")
    assert table.loc["random__b3-s1__tiny", ["seed", "train_seed", "cell"]].tolist() == ["1", "1", "random__b3__tiny"]

    table_lines = "\n".join(lines).splitlines()  # the main job's table: one row per cell and seed
    rows = [line.split() for line in table_lines if line.startswith(("random ", "farthest "))]
    assert sorted(row[:4] for row in rows) == [["farthest", "3", "0", "tiny"], ["farthest", "3", "1", "tiny"],
                                                ["random", "3", "0", "tiny"], ["random", "3", "1", "tiny"]]
    assert ran(study.run()) == set()  # up to date by the same rule as every cell


def test_adding_seeds_to_a_study_runs_only_the_new_seeds(home: Path) -> None:
    Study(home, body=ONE_SEED).run()
    lines = Study(home, body=TWO_SEEDS).run()
    cells = {f"{stage} {variant}__b3-s1__tiny" for variant in ("random", "farthest")
             for stage in ("tiny/fine_tuned_model", "tiny/benchmark_scores", "tiny/preference_scores")}
    assert ran(lines) == {"selection random__b3-s1", "selection farthest__b3-s1", *cells,
                          "diversity_correlation report"}, "\n".join(lines)


def test_a_cells_seed_sets_the_recipes_seeds_and_the_grids_own_seed_keeps_the_recipes(tmp_path: Path) -> None:
    from assets.training import training_seed_override
    from resources.llamafactory import LlamaFactoryTrainer, build_recipe, recipe_path_for
    from selection_ops.study.grid import load_grid

    trainer = LlamaFactoryTrainer()
    assert trainer.training_seed() == 42 and trainer.recipe_overrides() == {}
    assert trainer.recipe_overrides(3) == {"seed": 3, "data_seed": 3} and trainer.training_seed(3) == 3
    assert LlamaFactoryTrainer(overrides='{"seed": 5}').training_seed() == 5
    recipe = build_recipe(recipe_path_for(trainer.recipe), model_path="/m", dataset_dir=tmp_path, dataset_name="d",
                          output_dir=tmp_path / "out", finetuning_type="full", overrides=trainer.recipe_overrides(3))
    assert (recipe["seed"], recipe["data_seed"]) == (3, 3)

    grid_path = tmp_path / "grid.yaml"
    grid_path.write_text("study: s\nselectors: [random]\nbudgets: [3]\nseeds: [0, 1, 42]\n")
    grid = load_grid(grid_path)
    assert training_seed_override(grid, trainer, 0) is None and training_seed_override(grid, trainer, 1) == 1
    # seed 42 would train exactly as the grid's own seed does (the recipe's seed): refused, naming the grid
    with pytest.raises(ValueError, match="grid.yaml: seeds: seed 42"):
        training_seed_override(grid, trainer, 42)
