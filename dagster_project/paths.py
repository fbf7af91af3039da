"""Where state and data live: one setting each, read from the environment so the UI and the scripts agree."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def state_dir() -> Path:
    """``$INFOSIFT_HOME`` or ``<repo>/.infosift``: Dagster instance, MLflow store, asset files, model outputs."""
    path = Path(os.environ.get("INFOSIFT_HOME", REPO_ROOT / ".infosift")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """``$INFOSIFT_DATA_DIR`` or ``<repo>/../shared/data``: the real pools and benchmarks (may be absent)."""
    return Path(os.environ.get("INFOSIFT_DATA_DIR", REPO_ROOT.parent / "shared" / "data")).resolve()


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` or a real SQLite store under the state folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{state_dir() / 'mlflow.db'}"
