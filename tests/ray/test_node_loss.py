"""Node loss on a two-node Ray cluster: the worker node is removed (its raylet and workers killed) while it holds
work, and the job still finishes with outputs identical to an undisturbed run, computing nothing twice that was
already written.

Each scenario runs in its own process (``node_loss_scenarios.py``: the session's Ray runtime of ``conftest.py``
already holds this one) and reports from marker files what ran on which node; these tests judge that report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from selection_ops.foundation.paths import REPO_ROOT

pytestmark = pytest.mark.ray

SCENARIOS = Path(__file__).with_name("node_loss_scenarios.py")


def run_scenario(name: str, out: Path, data_dir: Path, timeout_s: int = 240) -> dict:
    pytest.importorskip("ray")
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "INFOSIFT_RAY_ADDRESS")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(SCENARIOS), name, str(out), str(data_dir)], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout_s)
    log = (out / "driver.log").read_text() if (out / "driver.log").exists() else ""
    assert proc.returncode == 0, f"{proc.stderr[-4000:]}\n--- driver log ---\n{log[-3000:]}"
    result = json.loads((out / "result.json").read_text())
    result["wall_s"], result["driver_log"] = time.monotonic() - started, log
    session = Path(result["session_dir"]).name
    assert session, "the scenario reported no Ray session"
    survivors = [p.name for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline_has(p, session)]
    assert not survivors, f"Ray processes of {session} outlived the scenario: pids {survivors}"
    return result


def _cmdline_has(proc_dir: Path, text: str) -> bool:
    try:
        return text in (proc_dir / "cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return False


def test_annotation_survives_losing_the_worker_node(data_dir: Path, tmp_path: Path) -> None:
    result = run_scenario("annotation", tmp_path, data_dir)
    worker, head, removal = result["worker_node"], result["head_node"], result["removal"]
    assert removal is not None, "the worker node was never removed: it finished no shard while holding another"
    starts, ends = Counter(), Counter()
    ends_on = {}
    for mark in result["marks"]:
        (starts if mark["kind"] == "start" else ends)[mark["shard"]] += 1
        if mark["kind"] == "end":
            ends_on[mark["shard"]] = mark["node"]

    # The worker node held work when it went away: a shard it had written, and one it was computing.
    assert removal["finished_on_worker"] and removal["running_on_worker"]
    for shard in removal["running_on_worker"]:
        assert starts[shard] == 2 and ends[shard] == 1 and ends_on[shard] == head, (shard, result["marks"])
    # Nothing already in the store was computed again; no shard was computed to its end twice.
    for shard in removal["stored"]:
        assert starts[shard] == 1, f"shard {shard} was in the store at the node's loss and was computed again"
    assert set(ends.values()) == {1} and len(ends) == result["n_shards"]
    assert result["shards_written"] == result["n_shards"] == 10
    assert "lost (" in result["driver_log"] and "resubmitted" in result["driver_log"]
    assert all(m["node"] in (worker, head) for m in result["marks"])

    # The outputs of the disturbed run equal an undisturbed one: the same shard files and the same rows.
    assert result["store_files"] == result["undisturbed_files"]
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "expected.parquet"),
                                  pd.read_parquet(tmp_path / "actual.parquet"))
    assert result["wall_s"] < 180


@pytest.mark.slow
def test_a_cell_step_on_a_lost_node_is_retried_as_a_new_ray_job(data_dir: Path, tmp_path: Path) -> None:
    """What a grid cell relies on, exercised with a one-step job (not the grid's own assets): our Ray executor
    submits the step as a Ray job asking for 1 CPU, the job starts on the worker node, the node dies, Ray marks the
    job FAILED, Dagster's health check sees it and its RetryPolicy submits the step again, on the head node."""
    result = run_scenario("cell", tmp_path, data_dir)
    worker, head, removal = result["worker_node"], result["head_node"], result["removal"]
    assert removal is not None and removal["killed_after_remove_node"], "the worker node was never removed"
    assert result["success"], result["failures"]
    assert result["retried"] == 1 and "STEP_UP_FOR_RETRY" in result["events"]
    first, retry = result["ray_jobs"]
    assert first["driver_node"] == worker and first["status"] == "FAILED" and "node has died" in first["message"]
    assert retry["submission_id"] == first["submission_id"] + "-1"
    assert retry["driver_node"] == head and retry["status"] == "SUCCEEDED"
    # The first attempt never finished; the retry ran once, to its end, and wrote the undisturbed run's selection.
    attempts = Counter(name.split(".")[2] + "." + name.split(".")[3] for name in result["marks"])
    assert attempts == {"0.start": 1, "1.start": 1, "1.end": 1}, result["marks"]
    assert result["selection"] == result["undisturbed_selection"]
    assert len(set(result["selection"])) == 12
    assert result["wall_s"] < 180
