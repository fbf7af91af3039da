"""foundation.paths: one answer for where the code, the data and the state live, moved by environment variables."""

from __future__ import annotations

from pathlib import Path

import pytest

from selection_ops.foundation import paths


def test_repo_root_is_the_checkout_holding_pyproject() -> None:
    assert (paths.REPO_ROOT / "pyproject.toml").is_file()
    assert (paths.REPO_ROOT / "selection_ops" / "foundation" / "paths.py").is_file()
    assert paths.REPO_ROOT == Path(__file__).resolve().parents[3]


def test_data_dir_default_and_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(paths.DATA_DIR_ENV, raising=False)
    assert paths.data_dir() == (paths.REPO_ROOT.parent / "shared" / "data").resolve()
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "elsewhere"))
    assert paths.data_dir() == (tmp_path / "elsewhere").resolve()
    monkeypatch.setenv(paths.DATA_DIR_ENV, "")  # empty = unset, not the current folder
    assert paths.data_dir() == (paths.REPO_ROOT.parent / "shared" / "data").resolve()


def test_every_layer_asks_the_same_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from resources.opencompass import default_data_dir
    from selection_ops.pool.spec import resolve_data_dir

    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path))
    assert resolve_data_dir() == default_data_dir() == paths.data_dir() == tmp_path.resolve()
    assert resolve_data_dir(tmp_path / "given") == (tmp_path / "given").resolve()


def test_state_dir_is_created_only_when_asked(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    home = tmp_path / "state"
    monkeypatch.setenv(paths.STATE_DIR_ENV, str(home))
    assert paths.state_dir(create=False) == home.resolve() and not home.exists()
    assert paths.state_dir() == home.resolve() and home.is_dir()
    monkeypatch.delenv(paths.STATE_DIR_ENV)
    assert paths.state_dir(create=False) == (paths.REPO_ROOT / ".infosift").resolve()


def test_tracking_uri_defaults_to_sqlite_under_the_state_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(paths.STATE_DIR_ENV, str(tmp_path))
    monkeypatch.delenv(paths.TRACKING_URI_ENV, raising=False)
    assert paths.default_tracking_uri() == f"sqlite:///{tmp_path.resolve() / 'mlflow.db'}"
    monkeypatch.setenv(paths.TRACKING_URI_ENV, "http://127.0.0.1:5000")
    assert paths.default_tracking_uri() == "http://127.0.0.1:5000"
