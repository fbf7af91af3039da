"""Where the code, the data and a study's state live: one setting each, read from the environment.

The UI, the scripts and the tests agree because they all ask here: ``INFOSIFT_HOME`` moves the state folder,
``INFOSIFT_DATA_DIR`` the data folder, ``MLFLOW_TRACKING_URI`` the tracking store.
"""

from __future__ import annotations

import os
from pathlib import Path

from selection_ops.foundation.environment import INFOSIFT_DATA_DIR, INFOSIFT_HOME, MLFLOW_TRACKING_URI

REPO_ROOT = Path(__file__).resolve().parents[2]
STATE_DIR_ENV = INFOSIFT_HOME  # the names, their meanings and defaults: selection_ops/foundation/environment.py
DATA_DIR_ENV = INFOSIFT_DATA_DIR
TRACKING_URI_ENV = MLFLOW_TRACKING_URI


def state_dir(create: bool = True) -> Path:
    """``$INFOSIFT_HOME`` or ``<repo>/.infosift``: Dagster instance, MLflow store, asset files, model outputs."""
    path = Path(os.environ.get(STATE_DIR_ENV) or REPO_ROOT / ".infosift").resolve()
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """``$INFOSIFT_DATA_DIR`` or ``<repo>/../shared/data``: the real pools and benchmarks (may be absent)."""
    return Path(os.environ.get(DATA_DIR_ENV) or REPO_ROOT.parent / "shared" / "data").expanduser().resolve()


def default_tracking_uri() -> str:
    """``$MLFLOW_TRACKING_URI`` or a real SQLite store under the state folder."""
    return os.environ.get(TRACKING_URI_ENV) or f"sqlite:///{state_dir() / 'mlflow.db'}"
