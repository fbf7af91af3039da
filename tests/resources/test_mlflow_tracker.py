"""The MLflow tracker against a real SQLite store: one run per partition, found again, contents read back."""

from __future__ import annotations

from pathlib import Path

import pytest

from resources.mlflow_tracker import KIND_TAG, PARTITION_TAG, MlflowTracker


@pytest.fixture()
def tracker(tmp_path: Path) -> MlflowTracker:
    return MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "art"))


def test_run_for_finds_the_same_run_again_and_separates_kinds(tracker: MlflowTracker) -> None:
    first = tracker.run_for(study="s", partition="mig__b8__m", kind="fine-tune", tags={"a": "1"})
    again = tracker.run_for(study="s", partition="mig__b8__m", kind="fine-tune", tags={"b": "2"})
    other_kind = tracker.run_for(study="s", partition="mig__b8__m", kind="report", tags={})
    other_partition = tracker.run_for(study="s", partition="random__b8__m", kind="fine-tune", tags={})
    assert first == again
    assert len({first, other_kind, other_partition}) == 3
    tags = tracker.client().get_run(first).data.tags
    assert tags[PARTITION_TAG] == "mig__b8__m" and tags[KIND_TAG] == "fine-tune"
    assert tags["a"] == "1" and tags["b"] == "2"


def test_log_writes_params_metrics_histories_and_artifacts(tracker: MlflowTracker, tmp_path: Path) -> None:
    run_id = tracker.run_for(study="s", partition="p", kind="fine-tune", tags={})
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("lr: 1e-5\n")
    tracker.log(run_id, params={"selector": "mig", "budget": 8, "phi": {"a": 1}},
                metrics={"avg_obj": 41.5, "nan_metric": float("nan")},
                step_metrics={"train_loss": [(1, 2.0), (2, 1.5)]},
                artifacts={"recipe": recipe}, texts={"note.txt": "hello"})
    client = tracker.client()
    run = client.get_run(run_id)
    assert run.data.params == {"selector": "mig", "budget": "8", "phi": '{"a": 1}'}
    assert run.data.metrics["avg_obj"] == 41.5 and "nan_metric" not in run.data.metrics
    assert [m.value for m in client.get_metric_history(run_id, "train_loss")] == [2.0, 1.5]
    paths = {a.path for a in client.list_artifacts(run_id)} | {a.path for a in client.list_artifacts(run_id, "recipe")}
    assert {"note.txt", "recipe/recipe.yaml"} <= paths


def test_a_changed_param_is_refused_not_silently_overwritten(tracker: MlflowTracker) -> None:
    run_id = tracker.run_for(study="s", partition="p", kind="fine-tune", tags={})
    tracker.log(run_id, params={"budget": 8})
    tracker.log(run_id, params={"budget": 8})  # same value: fine
    with pytest.raises(ValueError, match="param 'budget' is '8', not '9'"):
        tracker.log(run_id, params={"budget": 9})


def test_every_run_ends_finished_or_failed_with_an_end_time(tracker: MlflowTracker) -> None:
    ok = tracker.run_for(study="s", partition="p", kind="selection", tags={})
    assert tracker.client().get_run(ok).info.status == "FINISHED"  # never left "Running", even before a write
    with tracker.writing(ok):
        assert tracker.client().get_run(ok).info.status == "RUNNING"
        tracker.log(ok, metrics={"m": 1.0})
    bad = tracker.run_for(study="s", partition="q", kind="selection", tags={})
    with pytest.raises(RuntimeError), tracker.writing(bad):
        raise RuntimeError("training crashed")
    runs = {r.info.run_id: r.info for r in tracker.client().search_runs([tracker.experiment_id("s")])}
    assert runs[ok].status == "FINISHED" and runs[bad].status == "FAILED"
    assert all(info.end_time for info in runs.values())


def test_a_changed_definition_gets_a_new_run_and_the_old_one_is_kept_as_not_current(tracker: MlflowTracker) -> None:
    from resources.mlflow_tracker import CURRENT_TAG, PARENT_TAG

    parent = tracker.study_run("s")
    first = tracker.run_for(study="s", partition="mig__b8", kind="selection", tags={}, version="v1",
                            parent_run_id=parent)
    assert tracker.run_for(study="s", partition="mig__b8", kind="selection", tags={}, version="v1") == first
    second = tracker.run_for(study="s", partition="mig__b8", kind="selection", tags={}, version="v2",
                             parent_run_id=parent)
    assert second != first
    client = tracker.client()
    assert client.get_run(first).data.tags[CURRENT_TAG] == "false"
    assert client.get_run(second).data.tags[CURRENT_TAG] == "true"
    assert client.get_run(second).data.tags[PARENT_TAG] == parent
    current = tracker.find_runs(study="s", kind="selection", current_only=True)
    assert [r.info.run_id for r in current] == [second]


def test_selection_is_logged_as_a_dataset_input_with_the_ids_digest(tracker: MlflowTracker) -> None:
    import pandas as pd

    run_id = tracker.run_for(study="s", partition="mig__b2", kind="selection", tags={})
    tracker.log_selection_input(run_id, frame=pd.DataFrame({"id": ["a", "b"]}), name="mig__b2",
                                source="/state/pool.parquet", digest="0123abcd")
    (dataset_input,) = tracker.client().get_run(run_id).inputs.dataset_inputs
    assert dataset_input.dataset.digest == "0123abcd" and "pool.parquet" in dataset_input.dataset.source
    assert tracker.run_url("s", run_id).endswith(f"/runs/{run_id}?workflowType=machine_learning")
    assert tracker.run_url("s", run_id, "artifacts/plots/a.png").endswith(
        f"/runs/{run_id}/artifacts/plots/a.png?workflowType=machine_learning")


def test_questions_are_logged_as_mlflow_tables_and_read_back_per_run(tracker: MlflowTracker) -> None:
    from selection_ops.evaluation.questions import QuestionScore

    first = tracker.run_for(study="s", partition="mig__b8__m", kind="fine-tune", tags={})
    second = tracker.run_for(study="s", partition="random__b8__m", kind="fine-tune", tags={})
    tracker.log_questions(first, "objective", [QuestionScore("arc_c", "ARC-c/0", 1.0),
                                               QuestionScore("arc_c", "ARC-c/1", 0.0)])
    tracker.log_questions(first, "preference", [QuestionScore("mtbench", "mtbench_0.7/0", 7.0, cluster="81")])
    tracker.log_questions(second, "objective", [QuestionScore("arc_c", "ARC-c/0", 0.0)])
    empty = tracker.run_for(study="s", partition="old__b8__m", kind="fine-tune", tags={})
    table = tracker.questions_of({first: "mig__b8__m", second: "random__b8__m", empty: "old__b8__m"})
    assert list(table.columns[:4]) == ["run", "benchmark", "question", "score"]
    assert sorted(table.itertuples(index=False, name=None)) == [
        ("mig__b8__m", "arc_c", "ARC-c/0", 1.0, None), ("mig__b8__m", "arc_c", "ARC-c/1", 0.0, None),
        ("mig__b8__m", "mtbench", "mtbench_0.7/0", 7.0, "81"), ("random__b8__m", "arc_c", "ARC-c/0", 0.0, None)]
    artifacts = {a.path for a in tracker.client().list_artifacts(first, "questions")}
    assert artifacts == {"questions/objective.json", "questions/preference.json"}


def test_every_run_has_a_description_naming_its_cell_grid_and_dagster_links(tmp_path: Path) -> None:
    from resources.mlflow_tracker import DAGSTER_RUN_TAG, DESCRIPTION_TAG

    tracker = MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "art"),
                            dagster_url="http://dagster.lab:3333/")
    run_id = tracker.run_for(study="s", partition="mig__b32__smollm2-135m", kind="fine-tune",
                             tags={DAGSTER_RUN_TAG: "0123456789abcdef"}, grid_file="/grids/s.yaml",
                             asset="smollm2-135m/fine_tuned_model")
    note = tracker.client().get_run(run_id).data.tags[DESCRIPTION_TAG]
    assert "**fine-tune** run `mig__b32__smollm2-135m` of study `s`, grid file `/grids/s.yaml`" in note
    assert "(http://dagster.lab:3333/assets/smollm2-135m/fine_tuned_model)" in note
    assert "(http://dagster.lab:3333/runs/0123456789abcdef)" in note
    study = tracker.study_run("s", grid_file="/grids/s.yaml")
    assert "**study** run `s` of study `s`, grid file `/grids/s.yaml`." in (
        tracker.client().get_run(study).data.tags[DESCRIPTION_TAG])


def test_both_ui_urls_come_from_the_environment_never_a_fixed_port(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    """One setting per UI: the links into it (MLflow -> Dagster, Dagster -> MLflow) and the host and port the main
    job's printed command serves it on."""
    from selection_ops.foundation.paths import host_and_port

    monkeypatch.setenv("INFOSIFT_DAGSTER_URL", "http://head-node:3333/")
    monkeypatch.setenv("INFOSIFT_MLFLOW_URL", "http://head-node:8080")
    tracker = MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")
    assert tracker.dagster_url == "http://head-node:3333"
    assert tracker.run_url("s", "abc").startswith("http://head-node:8080/#/experiments/")
    assert host_and_port(tracker.ui_url) == ("head-node", 8080)
    monkeypatch.delenv("INFOSIFT_DAGSTER_URL")
    monkeypatch.delenv("INFOSIFT_MLFLOW_URL")
    tracker = MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'm.db'}")
    assert (tracker.dagster_url, tracker.ui_url) == ("http://127.0.0.1:3000", "http://127.0.0.1:5000")
    with pytest.raises(ValueError, match="names no host"):
        host_and_port("head-node:8080")


def test_the_study_experiment_opens_in_the_classic_ml_view(tracker: MlflowTracker) -> None:
    experiment = tracker.client().get_experiment(tracker.experiment_id("s"))
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"


def test_the_saved_comparison_view_filters_current_runs_grouped_by_kind(tracker: MlflowTracker) -> None:
    """The view the comparison URL opens is an experiment tag in the JSON the UI's Share button writes; its filter
    returns exactly the current runs (checked on the real store), and an older experiment gets the tag too."""
    import json

    study = tracker.study_run("s")
    old = tracker.run_for(study="s", partition="mig__b8", kind="selection", tags={}, version="v1")
    new = tracker.run_for(study="s", partition="mig__b8", kind="selection", tags={}, version="v2")
    experiment_id = tracker.experiment_id("s")
    url = tracker.comparison_url("s")
    assert url == (f"{tracker.ui_url}/#/experiments/{experiment_id}/runs?workflowType=machine_learning"
                   "&viewStateShareKey=infosift-comparison")
    client = tracker.client()
    view = json.loads(client.get_experiment(experiment_id).tags["mlflow.sharedViewState.infosift-comparison"])
    assert view["groupBy"]["groupByKeys"] == [{"mode": "tag", "groupByData": "infosift.kind"}]
    found = {r.info.run_id for r in client.search_runs([experiment_id], view["searchFilter"])}
    assert found == {study, new} and old not in found
    client.delete_experiment_tag(experiment_id, "mlflow.sharedViewState.infosift-comparison")
    tracker.experiment_id("s")
    assert "mlflow.sharedViewState.infosift-comparison" in client.get_experiment(experiment_id).tags


def test_a_reused_run_keeps_its_end_time_and_a_written_one_gets_a_new_one(tracker: MlflowTracker) -> None:
    import time

    client = tracker.client()
    run_id = tracker.study_run("s")
    ended = client.get_run(run_id).info.end_time
    time.sleep(0.05)
    assert tracker.study_run("s") == run_id  # found again by the next job: no work done in it
    tracker.finish(run_id)
    assert client.get_run(run_id).info.end_time == ended
    with tracker.writing(run_id):  # work done in it: it ends again, later
        time.sleep(0.05)
    assert client.get_run(run_id).info.end_time > ended
