"""One local Ray runtime for every Ray test of the session: loopback only, 2 CPUs, a 100 MiB object store.

The dashboard is on: it carries the Ray Jobs API that dagster-ray's executor submits grid cells to. Workers
inherit this process's environment (PYTHONPATH, offline Hugging Face flags), as nodes of a real cluster would
have the project installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from selection_ops.pool.load import load_pool
from selection_ops.pool.spec import default_pool_spec


@pytest.fixture(scope="session")
def ray_runtime() -> Iterator[dict]:
    ray = pytest.importorskip("ray")
    from selection_ops.ray_session import RaySessionSettings

    settings = RaySessionSettings(ray_address="local", num_cpus=2, num_gpus=0, object_store_mb=100,
                                  include_dashboard=True)
    context = ray.init(**settings.init_kwargs())
    try:
        yield {"dashboard_url": f"http://{context.dashboard_url}", "gcs_address": context.address_info["gcs_address"]}
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def real_pool_40(data_dir: Path) -> pd.DataFrame:
    """40 real samples: a seeded 14 of each of LIMA, Alpaca-2k and Dolly-2k, first 40 rows."""
    return load_pool(default_pool_spec(data_dir, limit_per_source=14)).head(40).reset_index(drop=True)
