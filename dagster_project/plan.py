"""A plan before the work: the study, its resolved resources, checks, every cell and whether it is up to date, and the
estimated device-hours per stage. Runs nothing, reaches no network.

    python -m dagster_project.plan [--grid GRID.yaml] [--device cpu-2core|h100]
    bash scripts/run_loop.sh --grid GRID.yaml --plan          (the same)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from dagster import MaterializeResult, MetadataValue, asset

from dagster_project.study import Study, load_study
from selection_ops.plan import Facts, estimate, load_throughput, model_params, render_costs
from selection_ops.study.grid import GridError, GridSpec

DEFAULT_POOL_SIZES = {"lima": 1029, "alpaca": 2000, "dolly": 2000}  # the embedded default's files


def pool_size(grid: GridSpec) -> int:
    """Records the pool will hold: each source's ``size`` (or its ``limit``), capped by ``limit_per_source``."""
    cap = grid.pool_limit_per_source
    if grid.pool_sources:
        sizes = [int(s.get("limit") or s.get("size") or 0) for s in grid.pool_sources]
    else:
        sizes = list(DEFAULT_POOL_SIZES.values())
    return sum(min(size, cap) if cap else size for size in sizes)


def _recipe(study: Study) -> dict[str, Any]:
    import yaml

    from resources.llamafactory import parse_overrides, recipe_path_for

    trainer = study.resources["trainer"]
    try:
        path = recipe_path_for(trainer.recipe)
    except FileNotFoundError:
        return {**parse_overrides(trainer.overrides), "_path": str(trainer.recipe), "_found": False}
    recipe = yaml.safe_load(path.read_text())
    return {**recipe, **parse_overrides(trainer.overrides), "_path": str(path), "_found": True}


def check_lines(study: Study) -> list[str]:
    """One line per thing the study needs from outside the repository: what the plan found, without the network."""
    from selection_ops.models.base_model import describe_model_reference

    lines = [f"base model {key}: {describe_model_reference(ref)}" for key, ref in study.grid.base_models.items()]
    recipe = _recipe(study)
    lines.append(f"training recipe: {recipe['_path']} " + ("found" if recipe["_found"] else "NOT FOUND"))
    judge = study.resources["judge"]
    if judge.kind == "openai":
        url = judge.resolved_url() or "(no url)"
        key = "set" if judge.resolved_key() else "not set ($INFOSIFT_JUDGE_API_KEY; a local server may need none)"
        lines.append(f"judge endpoint {url} (not contacted by the plan); key {key}")
    elif judge.kind == "hf":
        lines.append(f"judge model {judge.model_path}: {describe_model_reference(judge.model_path)}")
    for name in ("embedder", "tagger", "scorer"):
        model = getattr(study.resources[name], "model", "")
        if model:
            lines.append(f"annotation {name} model {model}: {describe_model_reference(model)}")
    return lines


def facts_of(study: Study, table: dict) -> Facts:
    grid, res = study.grid, study.resources
    models = {key: model_params(ref)[0] or 0.0 for key, ref in grid.base_models.items()}
    cells = []
    from selection_ops.study.cells import CellRef

    for key in grid.default_training_keys():
        ref = CellRef.parse(key)
        cells.append((key, ref.budget, models[ref.model]))
    recipe = _recipe(study)
    trainer = res["trainer"]
    world = trainer.nproc_per_node * trainer.nnodes if trainer.launch == "torchrun" else \
        (trainer.ray_num_workers if trainer.launch == "ray" else 1)
    batch = trainer.effective_batch_size or int(recipe.get("per_device_train_batch_size", 1)) * \
        int(recipe.get("gradient_accumulation_steps", 1)) * world
    evaluator, preference, judge = res["evaluator"], res["preference_evaluator"], res["judge"]
    objective = {b: evaluator.sample_limits.get(b, evaluator.sample_limit) for b in evaluator.datasets}
    prefs = {b: preference.sample_limits.get(b, preference.sample_limit) for b in preference.benchmarks}
    judge_model = judge.model_path or judge.model_name if judge.kind != "embedded" else None
    scorer = res["scorer"]
    annotation = {
        "embed": model_params(res["embedder"].model)[0] if res["embedder"].kind.startswith("causal-lm") else 0.0,
        "tag": model_params(res["tagger"].model)[0] if res["tagger"].kind.startswith("llm") else 0.0,
        "score": model_params(scorer.deita_quality_model or scorer.model)[0] if scorer.kind != "handcrafted" or
        scorer.extra_scorers else 0.0,
    }
    return Facts(pool_size=pool_size(grid), selections=len(grid.selection_keys()), cells=cells, models=models,
                 pool_row=grid.pool_row, epochs=float(recipe.get("num_train_epochs", 1.0)),
                 cutoff_len=int(recipe.get("cutoff_len", 1024)), max_steps=recipe.get("max_steps"),
                 effective_batch=batch, objective=objective, objective_max_out=evaluator.max_out_len,
                 preference=prefs, preference_max_out=preference.max_out_len,
                 pairwise_orders=2 if judge.resolved_pairwise_order == "double" else 1,
                 judge_params=model_params(judge_model)[0] or 0.0,
                 judge_max_out=judge.max_out_len, annotation={k: v or 0.0 for k, v in annotation.items()},
                 embed_tokens=res["embedder"].max_tokens, score_tokens=scorer.max_tokens,
                 scorers=2 if scorer.kind == "deita" else 1)


def resource_lines(study: Study) -> list[tuple[str, str]]:
    res = study.resources
    emb, tag, scorer, graph = res["embedder"], res["tagger"], res["scorer"], res["label_graph_settings"]
    trainer, evaluator, preference, judge = res["trainer"], res["evaluator"], res["preference_evaluator"], res["judge"]
    recipe = _recipe(study)
    launch = trainer.launch + (f" {trainer.nproc_per_node} x {trainer.nnodes} GPUs" if trainer.launch == "torchrun"
                               else f" {trainer.ray_num_workers} workers" if trainer.launch == "ray" else "")
    train = (f"recipe `{trainer.recipe}` ({recipe['_path']}): {trainer.finetuning_type}, "
             f"{recipe.get('num_train_epochs')} epochs, cutoff {recipe.get('cutoff_len')}, "
             f"lr {recipe.get('learning_rate')}; launch {launch}"
             + (f", DeepSpeed {trainer.deepspeed}" if trainer.deepspeed else "")
             + (f", effective batch {trainer.effective_batch_size}" if trainer.effective_batch_size else "")
             + (f"; overrides {trainer.overrides}" if trainer.overrides not in ("", "{}") else ""))

    def limits(names, runner) -> str:
        return ", ".join(f"{b} ({runner.sample_limits.get(b, runner.sample_limit) or 'all'})" for b in names)

    from selection_ops.evaluation.benchmarks import LIKELIHOOD_BENCHMARKS

    knowledge = [b for b in evaluator.datasets if b not in LIKELIHOOD_BENCHMARKS]
    likelihood = [b for b in evaluator.datasets if b in LIKELIHOOD_BENCHMARKS]
    count = len(knowledge) + len(preference.benchmarks)
    evaluation = (f"{count} benchmarks - knowledge ({evaluator.base_config}): {limits(knowledge, evaluator) or 'none'}"
                  f"; preference ({preference.base_config}): {limits(preference.benchmarks, preference) or 'none'}"
                  f"; likelihood channel: {limits(likelihood, evaluator) or 'none'}")
    if judge.kind == "openai":
        who = f"endpoint {judge.model_name or 'default'} at {judge.resolved_url()}"
    elif judge.kind == "hf":
        who = f"local model {judge.model_path}"
    else:
        who = "embedded SmolLM2-135M"
    judge_line = f"{judge.kind}: {who}, mode {judge.resolved_mode}, pairwise order {judge.resolved_pairwise_order}"
    annotation = (f"embedder {emb.kind} {emb.model or '(default)'}; tagger {tag.kind} {tag.model or '(default)'}; "
                  f"scorer {scorer.kind}" + (f" + {', '.join(scorer.extra_scorers)}" if scorer.extra_scorers else "")
                  + f"; label graph {graph.encoder or 'all-MiniLM-L6-v2'} at {graph.threshold}")
    ex = study.execution
    execution = ex.executor + (f" at {res['ray_cluster'].ray_address}" if ex.executor == "ray" else "") + \
        f", accelerator slots {ex.accelerator_slots or 'auto'}"
    return [("annotation", annotation), ("training", train), ("evaluation", evaluation), ("judge", judge_line),
            ("execution", execution)]


def cell_states(study: Study, instance=None, asset_graph=None) -> dict[str, str]:
    """Cell key -> ``up to date`` / ``stale`` / ``missing``, asked of the study's own Dagster instance as the main
    job asks (``not started`` for every cell when the study has no instance yet). ``instance`` / ``asset_graph``:
    those of a running Dagster process (the plan asset); else the study's are opened read-only."""
    from resources.study_layout import StudyLayout

    keys = study.grid.default_training_keys()
    if instance is None:
        home = StudyLayout(study=study.grid.study).root / "dagster"  # not .dagster_home(): that creates the folder
        if not (home / "history").is_dir():
            return {key: "not started" for key in keys}
        from dagster import DagsterInstance

        os.environ["DAGSTER_HOME"] = str(home)
        with DagsterInstance.get() as opened:
            return cell_states(study, opened, asset_graph)
    from assets.evaluation import benchmark_scores_key
    from assets.partitions import partition_for
    from dagster_project import staleness
    from selection_ops.study.cells import CellRef

    if asset_graph is None:
        from dagster_project.definitions import build_definitions

        asset_graph = build_definitions(study.grid).resolve_asset_graph()
    states = {}
    for key in keys:
        ref = CellRef.parse(key)
        status = staleness.status(instance, asset_graph, benchmark_scores_key(ref.model), partition_for(ref.selection))
        states[key] = {"FRESH": "up to date", "STALE": "stale", "MISSING": "missing"}[status.name]
    return states


def plan_tables(study: Study, states: dict[str, str] | None = None) -> dict[str, Any]:
    """The plan's estimate and cells as Dagster tables (shown inline on the asset's page, no toggle)."""
    from dagster import TableColumn, TableRecord, TableSchema

    table = load_throughput()
    facts = facts_of(study, table)
    device = default_device(facts)
    stages = estimate(facts, table, device)
    states = states or {key: "materialize to check" for key in study.grid.default_training_keys()}
    return {
        "estimate_device": device,
        "estimated_device_hours": round(sum(s.device_hours for s in stages), 3),
        "estimate": MetadataValue.table(
            records=[TableRecord({"stage": s.stage, "device_hours": round(s.device_hours, 4), "work": s.work})
                     for s in stages],
            schema=TableSchema(columns=[TableColumn("stage", "string"),
                                        TableColumn("device_hours", "float", description="an estimate"),
                                        TableColumn("work", "string")])),
        "resources": MetadataValue.table(
            records=[TableRecord({"section": name, "resolved": text}) for name, text in resource_lines(study)],
            schema=TableSchema(columns=[TableColumn("section", "string"), TableColumn("resolved", "string")])),
        "cells": MetadataValue.table(
            records=[TableRecord({"cell": key, "state": state}) for key, state in states.items()],
            schema=TableSchema(columns=[TableColumn("cell", "string"), TableColumn("state", "string")])),
    }


def build_plan_asset(study: Study):
    """``study_plan``: the plan as the asset's definition metadata (on its page as soon as the code loads) and, when
    materialized, with every cell's state read from this instance."""
    static = plan_markdown(study)

    @asset(name="study_plan", group_name="study", metadata={**plan_tables(study), "plan": MetadataValue.md(static)},
           description="What this study runs and costs before it runs: resolved resources, checks, cells and "
                       "estimated device-hours per stage (dagster_project/plan.py). Materialize to refresh the "
                       "cells' states; `bash scripts/run_loop.sh --plan` prints the same.")
    def study_plan(context) -> MaterializeResult:  # unannotated: this module has postponed annotations
        try:
            graph = context.repository_def.asset_graph
        except Exception:  # executed outside a repository (execute_in_process): cell_states builds the graph
            graph = None
        states = cell_states(study, context.instance, graph)
        counts = {state: list(states.values()).count(state) for state in set(states.values())}
        return MaterializeResult(metadata={**plan_tables(study, states),
                                           "plan": MetadataValue.md(plan_markdown(study, states=states)),
                                           **{f"cells_{k.replace(' ', '_')}": v for k, v in counts.items()}})

    return study_plan


def default_device(facts: Facts) -> str:
    """``h100`` for a study of 1B+ parameter models, else the measured CPU."""
    return "h100" if max([*facts.models.values(), facts.judge_params], default=0) >= 1e9 else "cpu-2core"


def plan_markdown(study: Study, device: str | None = None, states: dict[str, str] | None = None) -> str:
    grid = study.grid
    table = load_throughput()
    facts = facts_of(study, table)
    device = device or default_device(facts)
    overlay = f" (+ ${'INFOSIFT_ENV'} profile {study.overlay} laid over it)" if study.overlay else ""
    lines = [f"# Plan: study `{grid.study}` ({grid.source_path})", ""]
    if grid.description:
        lines += [grid.description, ""]
    lines += [f"Profile `{study.profile}`{overlay}. Nothing runs; nothing is downloaded.", "",
              "| section | resolved |", "|---|---|"]
    lines += [f"| {name} | {text} |" for name, text in resource_lines(study)]
    lines += ["", "Checks:", *[f"- {line}" for line in check_lines(study)], ""]
    states = states if states is not None else {key: "not checked" for key in grid.default_training_keys()}
    lines += [f"Cells: {len(grid.selection_keys())} selections ({len(grid.variants)} variants x "
              f"{len(grid.budgets)} budgets x {len(grid.repeat_seeds)} seeds), pool of {facts.pool_size:,}; "
              f"{len(states)} cells to train on {len(grid.base_models)} base model(s)"
              + (", plus the Pool row" if grid.pool_row else "") + ", and each base model untuned:", "",
              "| cell | state |", "|---|---|"]
    lines += [f"| {key} | {state} |" for key, state in states.items()]
    lines += ["", render_costs(estimate(facts, table, device), device, table)]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", type=Path, help="study grid YAML (default: $INFOSIFT_GRID or the embedded default)")
    parser.add_argument("--device", choices=sorted(load_throughput()["devices"]),
                        help="device whose throughput the estimate uses (default: h100 for 1B+ models, else CPU)")
    parser.add_argument("--json", action="store_true", help="print the estimate as JSON instead")
    args = parser.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        study = load_study(args.grid)
    except GridError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.json:
        table = load_throughput()
        facts = facts_of(study, table)
        device = args.device or default_device(facts)
        print(json.dumps({"device": device, "stages": [s.__dict__ for s in estimate(facts, table, device)]}))
        return 0
    print(plan_markdown(study, args.device, cell_states(study)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
