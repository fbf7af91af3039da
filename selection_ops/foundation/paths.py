"""Where the code, the data and a study's state live: one setting each, read from the environment.

The UI, the scripts and the tests agree because they all ask here: ``INFOSIFT_HOME`` moves the state folder,
``INFOSIFT_DATA_DIR`` the data folder, ``MLFLOW_TRACKING_URI`` the tracking store, ``INFOSIFT_DAGSTER_URL`` and
``INFOSIFT_MLFLOW_URL`` where the two UIs are served (the links between them, and the commands that serve them).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

from selection_ops.foundation.environment import (
    INFOSIFT_DAGSTER_URL,
    INFOSIFT_DATA_DIR,
    INFOSIFT_HOME,
    INFOSIFT_MLFLOW_URL,
    MLFLOW_TRACKING_URI,
)

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


DEFAULT_DAGSTER_URL = "http://127.0.0.1:3000"  # dagster dev's own default
DEFAULT_MLFLOW_URL = "http://127.0.0.1:5000"  # mlflow ui's own default


def dagster_ui_url() -> str:
    """``$INFOSIFT_DAGSTER_URL`` or dagster dev's default: the base of every link into the Dagster UI."""
    return (os.environ.get(INFOSIFT_DAGSTER_URL) or DEFAULT_DAGSTER_URL).rstrip("/")


def mlflow_ui_url() -> str:
    """``$INFOSIFT_MLFLOW_URL`` or mlflow ui's default: the base of every link into the MLflow UI."""
    return (os.environ.get(INFOSIFT_MLFLOW_URL) or DEFAULT_MLFLOW_URL).rstrip("/")


def host_and_port(url: str) -> tuple[str, int]:
    """``http://head-node:8080`` -> ``("head-node", 8080)``: what a UI must be served on for ``url`` to reach it
    (the scheme's port when the URL names none)."""
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError(f"UI URL {url!r} names no host; give it as http://<host>:<port>")
    return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
