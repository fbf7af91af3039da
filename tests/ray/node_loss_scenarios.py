"""Node-loss scenarios on a two-node local Ray cluster, each run in its own process by ``test_node_loss.py``.

``python tests/ray/node_loss_scenarios.py annotation OUT_DIR DATA_DIR`` starts ``ray.cluster_utils.Cluster``: a
head node and one worker node (two raylets on this machine, 1 CPU each, an 80 MiB object store),
runs the scenario, removes the worker node while it holds work, and writes ``OUT_DIR/result.json`` (what ran where,
what the store held when the node went away) for the test to judge. A scenario gets its own process because the
test session already holds a Ray runtime (``tests/ray/conftest.py``) and one process can join only one; running as
``__main__`` also lets Ray ship this module's classes to the workers by value.

Every piece of work leaves marker files ``MARKS/<shard>.<node id>.<attempt time>.start`` / ``.end``, so which node
computed what, and how often, is read from the disk, not from the code under test.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ray
from ray.cluster_utils import Cluster

OBJECT_STORE_BYTES = 80 * 1024 * 1024
# A lost node is declared dead after ~1.5 s instead of Ray's default ~30 s (health checks every 0.5 s, 3 misses).
FAST_FAILURE_DETECTION = {"health_check_period_ms": 500, "health_check_failure_threshold": 3,
                          "health_check_initial_delay_ms": 0}


def shard_key(ids: Sequence[str]) -> str:
    """The shard's name in the store (``ShardStore.write``: sha1 of its ids, one a line, 16 hex digits)."""
    return hashlib.sha1("\n".join(ids).encode("utf-8")).hexdigest()[:16]


def marks(folder: Path) -> list[dict[str, Any]]:
    """Every marker file as {shard, node, attempt, kind}."""
    found = []
    for path in folder.iterdir():
        shard, node, attempt, kind = path.name.split(".")
        found.append({"shard": shard, "node": node, "attempt": attempt, "kind": kind})
    return found


def start_cluster() -> tuple[Cluster, Any]:
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "num_gpus": 0, "object_store_memory": OBJECT_STORE_BYTES,
        "include_dashboard": False, "_system_config": FAST_FAILURE_DETECTION})
    worker = cluster.add_node(num_cpus=1, num_gpus=0, object_store_memory=OBJECT_STORE_BYTES)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    return cluster, worker


def remove_when(condition, cluster: Cluster, worker, state: dict, poll_s: float = 0.05) -> threading.Thread:
    """A thread that removes ``worker`` (as a crash: its processes killed) once ``condition()`` returns a dict;
    that dict, with the removal time, goes to ``state['removal']``."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            seen = condition()
            if seen is not None:
                cluster.remove_node(worker, allow_graceful=False)
                state["removal"] = {**seen, "at": time.time()}
                return
            time.sleep(poll_s)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


# --- (a) annotation ------------------------------------------------------------------------------------------------


class MarkedAnnotator:
    """Wraps a real annotator: same name and fingerprint (so the same store folder as an undisturbed run), marker
    files around each shard, and a pause per shard: ``slow_s`` on the node ``slow_node`` (so the shard it holds is
    still running, far from its end, when the node goes away), ``fast_s`` elsewhere."""

    def __init__(self, inner, marks_dir: Path, slow_node: str, slow_s: float, fast_s: float) -> None:
        self.inner, self.name, self.marks_dir = inner, inner.name, Path(marks_dir)
        self.slow_node, self.slow_s, self.fast_s = slow_node, slow_s, fast_s

    def fingerprint(self) -> dict[str, Any]:
        return self.inner.fingerprint()

    def annotate(self, batch):
        node = ray.get_runtime_context().get_node_id()
        stem = f"{shard_key([s.id for s in batch])}.{node}.{time.time_ns()}"
        (self.marks_dir / f"{stem}.start").touch()
        time.sleep(self.slow_s if node == self.slow_node else self.fast_s)
        outputs = self.inner.annotate(batch)
        (self.marks_dir / f"{stem}.end").touch()
        return outputs


def annotation(out: Path, data_dir: Path) -> dict[str, Any]:
    from selection_ops.annotation.config import AnnotationConfig
    from selection_ops.annotation.factory import build_annotator
    from selection_ops.annotation.pipeline import samples_from_pool
    from selection_ops.annotation.ray_runner import ActorResources, RayAnnotationSettings, run_annotator_on_ray
    from selection_ops.annotation.store import ShardStore, run_annotator
    from selection_ops.pool.load import load_pool
    from selection_ops.pool.spec import default_pool_spec

    pool = load_pool(default_pool_spec(data_dir, limit_per_source=14)).head(40).reset_index(drop=True)
    samples = samples_from_pool(pool)
    config = AnnotationConfig(shard_size=4, show_progress=False)
    inner = build_annotator(config, "handcrafted")
    # The undisturbed run: in-process, the same annotator and shards.
    expected = run_annotator(inner, samples, out / "undisturbed", shard_size=4, show_progress=False)

    marks_dir = out / "marks"
    marks_dir.mkdir()
    store_dir = ShardStore(out / "ray", inner.name, inner.fingerprint()).directory
    state: dict[str, Any] = {}
    cluster, worker = start_cluster()
    worker_id, head_id = worker.node_id, cluster.head_node.node_id

    def worker_finished_one_and_holds_another() -> dict | None:
        # Remove the node once a shard it computed is in the store and it is in the middle of the next one.
        seen = marks(marks_dir)
        on_worker = [m for m in seen if m["node"] == worker_id]
        ended = {(m["shard"], m["attempt"]) for m in on_worker if m["kind"] == "end"}
        stored = {p.stem.removeprefix("shard-") for p in store_dir.glob("shard-*.parquet")}
        finished = {shard for shard, _ in ended if shard in stored}
        running = [m["shard"] for m in on_worker if m["kind"] == "start" and (m["shard"], m["attempt"]) not in ended]
        if finished and running:
            return {"stored": sorted(stored), "running_on_worker": running, "finished_on_worker": sorted(finished)}
        return None

    try:
        settings = RayAnnotationSettings(default=ActorResources(actors=2, num_cpus=1), max_restarts=2,
                                         max_task_retries=2)

        def count_written(shards_done: int, actors: list) -> None:
            state["shards_written"] = shards_done

        watcher = remove_when(worker_finished_one_and_holds_another, cluster, worker, state)
        started = time.monotonic()
        marked = MarkedAnnotator(inner, marks_dir, worker_id, slow_s=2.5, fast_s=0.5)
        actual = run_annotator_on_ray(marked, samples, out / "ray", 4, False, settings=settings,
                                      on_shard_written=count_written)
        elapsed = time.monotonic() - started
        watcher.join(timeout=1)
    finally:
        session_dir = ray._private.worker._global_node.get_session_dir_path() if ray.is_initialized() else ""
        ray.shutdown()
        cluster.shutdown()
    expected.to_parquet(out / "expected.parquet")
    actual.to_parquet(out / "actual.parquet")
    return {"worker_node": worker_id, "head_node": head_id, "removal": state.get("removal"),
            "shards_written": state.get("shards_written"), "n_shards": len(range(0, len(samples), 4)),
            "marks": marks(marks_dir), "store_files": sorted(p.name for p in store_dir.glob("shard-*.parquet")),
            "undisturbed_files": sorted(p.name for p in (out / "undisturbed").rglob("shard-*.parquet")),
            "elapsed_s": elapsed, "session_dir": session_dir}


SCENARIOS = {"annotation": annotation}


def main(argv: list[str]) -> None:
    name, out, data_dir = argv[0], Path(argv[1]), Path(argv[2])
    logging.basicConfig(filename=out / "driver.log", level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    result = SCENARIOS[name](out, data_dir)
    (out / "result.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    main(sys.argv[1:])
