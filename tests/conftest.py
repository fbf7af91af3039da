"""Shared fixtures: where the real data lives, and a skip (or, in CI, a failure) when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from selection_ops.foundation.devices import cuda_available
from selection_ops.foundation.paths import data_dir as shared_data_dir


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real data; skipped with the reason when absent, except in CI where it must be present."""
    path = shared_data_dir()
    if not (path / "README.md").exists():
        message = f"shared data folder not found at {path} (set INFOSIFT_DATA_DIR)"
        if os.environ.get("CI"):
            pytest.fail(message + "; CI must have it")
        pytest.skip(message)
    return path


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """GPU-marked tests are skipped where CUDA is absent, so the CPU suite never fails for lack of a device."""
    if cuda_available():
        return
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device; none is present")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)
