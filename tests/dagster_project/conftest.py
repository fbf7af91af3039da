"""A prepared study home (pool, annotations and label graph materialized once, real, on 5 samples per source),
copied for each test that needs one, and helpers to build a study's definitions with the fakes."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


fakes = _load("fakes")
studykit = _load("studykit")
Study = studykit.Study

@pytest.fixture(scope="session")
def prepared_home(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """A home where study "alpha" has pool, annotations and label graph materialized (real, 15 samples)."""
    import os

    os.environ.setdefault("TQDM_DISABLE", "1")
    home = tmp_path_factory.mktemp("prepared") / "home"
    home.mkdir()
    study = Study(home)
    from assets.constants import JOB_PREPARE

    with study.instance() as instance:
        result = study.definitions().resolve_job_def(JOB_PREPARE).execute_in_process(instance=instance)
    assert result.success
    return home


@pytest.fixture()
def home(prepared_home: Path, tmp_path: Path) -> Path:
    """A private copy of the prepared home (the instance and storage are plain files under it)."""
    target = tmp_path / "home"
    shutil.copytree(prepared_home, target, symlinks=True)
    return target


@pytest.fixture(autouse=True)
def _state_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing a test builds may fall back to the repository's own state folder."""
    monkeypatch.setenv("INFOSIFT_HOME", str(tmp_path / "fallback_home"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
