"""A study's state through the main job's rule (``run_loop.bring_up_to_date``) on a real Dagster instance: small
real inputs (pool, annotations, label graph, selections), the trainer and evaluator faked at the resource seam."""

from __future__ import annotations

from pathlib import Path

from studykit import Study, ran

from selection_ops.study.cells import CellRef, SelectionRef


def _stale(study: Study) -> dict[str, str]:
    """Every asset partition that Dagster does not call FRESH -> its status."""
    from dagster_project import staleness

    defs = study.definitions()
    graph = defs.resolve_asset_graph()
    found = {}
    with study.instance() as instance:
        for key in graph.materializable_asset_keys:
            partitions_def = graph.get(key).partitions_def
            for partition in partitions_def.get_partition_keys() if partitions_def else [None]:
                status = staleness.status(instance, graph, key, partition)
                if key.path[-1] == "study_plan":  # informational, materialized on demand: never part of a run
                    continue
                if status != staleness.StaleStatus.FRESH and (key.path[-1] != "fine_tuned_model" or partition):
                    found[f"{key.to_user_string()} {partition or ''}".strip()] = status.value
    return found


def test_identical_rerun_materializes_nothing_and_leaves_nothing_stale(home: Path) -> None:
    study = Study(home)
    first = study.run()
    assert {"selection dup__b3", "selection random__b4", "tiny/fine_tuned_model dup__b3__tiny",
            "tiny/benchmark_scores random__b4__tiny", "diversity_correlation report"} <= ran(first)
    second = study.run()
    assert ran(second) == set(), "\n".join(second)
    stale = _stale(study)
    # only the cells nobody trained (kcenter is not in `train`) are missing; nothing is STALE
    assert stale and all(v == "MISSING" and "kcenter" in k for k, v in stale.items()), stale


def test_a_changed_parameter_reruns_exactly_that_selection_and_its_downstream(home: Path) -> None:
    Study(home, unique=2).run()
    changed = Study(home, unique=3)  # the same study, the `dup` variant's parameter edited in its grid file
    from dagster_project import staleness

    defs = changed.definitions()
    with changed.instance() as instance:
        from dagster import AssetKey

        staleness.observe([defs.resolve_assets_def(AssetKey("selection_spec"))], instance=instance)
        graph = defs.resolve_asset_graph()
        assert staleness.status(instance, graph, AssetKey("selection"), "b3|dup") == staleness.StaleStatus.STALE
        assert staleness.status(instance, graph, AssetKey("selection"), "b3|random") == staleness.StaleStatus.FRESH
        why = staleness.why_stale(instance, graph, AssetKey("selection"), "b3|dup")
        assert any("selection_spec" in line and "data version" in line for line in why), why
    lines = changed.run()
    assert ran(lines) == {"selection dup__b3", "selection dup__b4", "tiny/fine_tuned_model dup__b3__tiny",
                          "tiny/fine_tuned_model dup__b4__tiny", "tiny/benchmark_scores dup__b3__tiny",
                          "tiny/benchmark_scores dup__b4__tiny", "tiny/preference_scores dup__b3__tiny",
                          "tiny/preference_scores dup__b4__tiny", "diversity_correlation report"}, "\n".join(lines)


def test_two_studies_in_one_home_share_nothing(home: Path) -> None:
    alpha = Study(home, study="alpha")
    alpha.run()
    alpha_files = {p: p.stat().st_mtime_ns for p in alpha.layout.root.rglob("*") if p.is_file()
                   and "dagster" not in p.parts and "logs" not in p.parts}
    beta = Study(home, study="beta")  # same grid content, another study
    lines = beta.run()
    assert not any("up to date" in line for line in lines), "\n".join(lines)
    assert beta.layout.root != alpha.layout.root and not beta.layout.root.is_relative_to(alpha.layout.root)
    after = {p: p.stat().st_mtime_ns for p in alpha.layout.root.rglob("*") if p.is_file()
             and "dagster" not in p.parts and "logs" not in p.parts}
    assert after == alpha_files  # beta neither reused nor touched alpha's files
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    experiments = {name: client.get_experiment_by_name(name).experiment_id for name in ("alpha", "beta")}
    beta_runs = client.search_runs([experiments["beta"]])
    assert beta_runs and all(r.data.tags["infosift.study"] == "beta" for r in beta_runs)


def test_mlflow_holds_the_study_tree_every_run_ended(home: Path) -> None:
    from mlflow.tracking import MlflowClient

    study = Study(home)
    study.run()
    client = MlflowClient(f"sqlite:///{home / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("alpha")
    runs = client.search_runs([experiment.experiment_id])
    assert {r.info.status for r in runs} == {"FINISHED"} and all(r.info.end_time for r in runs)
    by_kind: dict[str, list] = {}
    for run in runs:
        by_kind.setdefault(run.data.tags["infosift.kind"], []).append(run)
    (study_run,) = by_kind["study"]
    selections = {r.data.tags["infosift.partition"]: r for r in by_kind["selection"]}
    assert set(selections) == set(study.grid.selection_keys())  # every selection, trained or not
    for key, run in selections.items():
        assert run.data.tags["mlflow.parentRunId"] == study_run.info.run_id
        assert run.data.params["variant"] == SelectionRef.parse(key).variant and run.data.tags["dagster.run_id"]
        assert any(m.startswith("diversity.") for m in run.data.metrics)
        (dataset_input,) = run.inputs.dataset_inputs
        assert dataset_input.dataset.name == key and "pool.parquet" in dataset_input.dataset.source
    for run in by_kind["fine-tune"]:
        parent = run.data.tags["mlflow.parentRunId"]
        assert selections[CellRef.parse(run.data.tags["infosift.partition"]).selection].info.run_id == parent
        assert {"avg_obj", "train.loss", "bench.arc_c"} <= set(run.data.metrics)
        curve = [m.step for m in client.get_metric_history(run.info.run_id, "train.loss")]
        assert curve and len(curve) == len(set(curve))  # logged live and completed at the end: each step once
    (report,) = by_kind["correlation-report"]
    assert report.data.tags["mlflow.parentRunId"] == study_run.info.run_id
    plots = {a.path for a in client.list_artifacts(report.info.run_id, "plots")}
    assert "plots/overview.png" in plots
