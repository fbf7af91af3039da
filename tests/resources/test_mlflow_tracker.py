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
