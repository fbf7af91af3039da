"""Credentials never reach MLflow params, against a real SQLite store."""

from __future__ import annotations

from pathlib import Path

from resources.mlflow_tracker import MlflowTracker


def test_secret_params_are_logged_redacted(tmp_path: Path) -> None:
    tracker = MlflowTracker(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_root=str(tmp_path / "art"))
    run_id = tracker.run_for(study="s", partition="p", kind="fine-tune", tags={})
    tracker.log(run_id, params={"hf_hub_token": "hf_SECRET123", "overrides": {"api_key": "sk-1", "max_steps": 2},
                                "max_new_tokens": 64})
    params = tracker.client().get_run(run_id).data.params
    assert params["hf_hub_token"] == "***" and params["max_new_tokens"] == "64"
    assert "sk-1" not in params["overrides"] and '"max_steps": 2' in params["overrides"]
