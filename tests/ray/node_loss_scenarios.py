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
import signal
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


def node_process_tree(node) -> list[int]:
    """The pids of a node's Ray processes and of everything they started (a Ray job's entrypoint included)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(stat.parent.name))
    stack = [info.process.pid for infos in node.all_processes.values() for info in infos]
    tree = []
    while stack:
        pid = stack.pop()
        tree.append(pid)
        stack.extend(children.get(pid, []))
    return tree


def remove_when(condition, cluster: Cluster, worker, state: dict, poll_s: float = 0.05) -> threading.Thread:
    """A thread that removes ``worker`` as a machine dies, once ``condition()`` returns a dict: Ray's
    ``remove_node`` kills the node's raylet and workers, and every process they started is killed too (on one
    machine, a Ray job's entrypoint would otherwise outlive its node). That dict, with the removal time and the
    pids killed, goes to ``state['removal']``."""

    def watch() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            seen = condition()
            if seen is not None:
                tree = node_process_tree(worker)
                cluster.remove_node(worker, allow_graceful=False)
                killed = []
                for pid in tree:
                    try:
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                    except ProcessLookupError:
                        pass
                state["removal"] = {**seen, "at": time.time(), "killed_after_remove_node": killed}
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


# --- (b) a grid cell's step as a Ray job ----------------------------------------------------------------------------

CELL_DIR = "NODE_LOSS_CELL_DIR"  # where the cell writes its selection and marks (forwarded to the step)
JOBS_ADDRESS = "NODE_LOSS_JOBS_ADDRESS"
CELL_PAUSE_S = 8.0  # a stand-in for a long fine-tune: the step is still running when its node goes away
CELL_BUDGET, CELL_SEED = 12, 0


def cell_selection() -> list[int]:
    """The cell's work: k-center greedy (the ``kcenter`` selector's core) on 300 seeded unit embeddings."""
    import numpy as np

    from selection_ops.selectors.kcenter import kcenter_greedy

    rng = np.random.default_rng(CELL_SEED)
    embeddings = rng.standard_normal((300, 16))
    unit = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True)
    first = int(rng.integers(len(unit)))
    return [int(i) for i in kcenter_greedy(unit, CELL_BUDGET, first)]


def cell_job():
    """A one-step Dagster job on our Ray executor (``dagster_project.ray_execution.ray_step_executor``): the step
    asks for 1 CPU through the ``dagster-ray/config`` op tag, as a grid cell does, and carries a RetryPolicy."""
    from dagster import RetryPolicy, job, op

    from dagster_project.ray_execution import ray_step_executor
    from resources.ray_cluster import RAY_CONFIG_TAG
    from selection_ops.foundation.atomic import write_text_atomic

    executor = ray_step_executor(os.environ[JOBS_ADDRESS],
                                 forward_env=["PATH", "PYTHONPATH", "DAGSTER_HOME", CELL_DIR, JOBS_ADDRESS])

    @op(retry_policy=RetryPolicy(max_retries=2), tags={RAY_CONFIG_TAG: json.dumps({"num_cpus": 1})})
    def selection_cell(context) -> None:
        out = Path(os.environ[CELL_DIR])
        stem = f"cell.{os.getpid()}.{context.retry_number}"
        (out / "marks" / f"{stem}.start").touch()
        time.sleep(CELL_PAUSE_S)
        write_text_atomic(out / "selection.json", json.dumps(cell_selection()))
        (out / "marks" / f"{stem}.end").touch()

    @job(executor_def=executor)
    def node_loss_cell() -> None:
        selection_cell()

    return node_loss_cell


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cell(out: Path, data_dir: Path) -> dict[str, Any]:
    from dagster import DagsterEventType, DagsterInstance, build_reconstructable_job, execute_job
    from ray.job_submission import JobSubmissionClient
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    (out / "marks").mkdir()
    (out / "dagster").mkdir()
    (out / "dagster" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    dashboard_port = free_port()
    cluster = Cluster(initialize_head=True, head_node_args={
        "num_cpus": 1, "num_gpus": 0, "object_store_memory": OBJECT_STORE_BYTES, "include_dashboard": True,
        "dashboard_host": "127.0.0.1", "dashboard_port": dashboard_port, "_system_config": FAST_FAILURE_DETECTION,
        # the head's agent (which the Jobs API submits through) on a free port, not Ray's default 52365 that another
        # Ray runtime on this machine (the test session's) may hold already
        "dashboard_agent_listen_port": free_port()})
    worker = cluster.add_node(num_cpus=1, num_gpus=0, object_store_memory=OBJECT_STORE_BYTES)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    worker_id, head_id = worker.node_id, cluster.head_node.node_id
    jobs_address = f"http://127.0.0.1:{dashboard_port}"
    os.environ.update({CELL_DIR: str(out), JOBS_ADDRESS: jobs_address, "DAGSTER_HOME": str(out / "dagster"),
                       "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
                       "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parent),
                                                      os.environ.get("PYTHONPATH", "")])})
    state: dict[str, Any] = {}

    # The head's only CPU is taken, so the step's first Ray job can only start on the worker node; the blocker goes
    # when the worker node does, so the retry has somewhere to run.
    @ray.remote(num_cpus=1)
    class Blocker:
        def node(self) -> str:
            return ray.get_runtime_context().get_node_id()

    blocker = Blocker.options(scheduling_strategy=NodeAffinitySchedulingStrategy(head_id, soft=False)).remote()
    assert ray.get(blocker.node.remote()) == head_id

    def first_attempt_started() -> dict | None:
        started = [p.name for p in (out / "marks").glob("cell.*.0.start")]
        if not started:
            return None
        ray.kill(blocker, no_restart=True)
        return {"started": started}

    try:
        client = None
        deadline = time.monotonic() + 90
        while client is None:  # the dashboard (the Jobs API) comes up some seconds after the head node
            try:
                client = JobSubmissionClient(jobs_address)
                client.list_jobs()
            except Exception:  # ConnectionError, or the API answering 5xx while it starts
                client = None
                if time.monotonic() > deadline:
                    raise
                time.sleep(1)
        watcher = remove_when(first_attempt_started, cluster, worker, state)
        job = build_reconstructable_job("node_loss_scenarios", "cell_job",
                                        reconstructor_working_directory=str(Path(__file__).resolve().parent))
        started = time.monotonic()
        with DagsterInstance.get() as instance:
            with execute_job(job, instance=instance) as result:
                success = result.success
                events = [(e.event_type_value, e.message or "") for e in result.all_events]
                failures = [str(e.event_specific_data) for e in result.all_events if e.is_failure]
        elapsed = time.monotonic() - started
        watcher.join(timeout=1)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(not j.status.is_terminal() for j in client.list_jobs()
                                                  if j.submission_id):
            time.sleep(0.5)  # the step has reported; its process is still exiting
        ray_jobs = sorted(({"submission_id": j.submission_id, "status": str(j.status.value),
                            "driver_node": j.driver_node_id, "message": j.message or ""}
                           for j in client.list_jobs() if j.submission_id), key=lambda j: j["submission_id"])
    finally:
        session_dir = ray._private.worker._global_node.get_session_dir_path() if ray.is_initialized() else ""
        ray.shutdown()
        cluster.shutdown()
    marks_found = sorted(p.name for p in (out / "marks").iterdir())
    selection = json.loads((out / "selection.json").read_text()) if (out / "selection.json").exists() else None
    return {"worker_node": worker_id, "head_node": head_id, "removal": state.get("removal"), "success": success,
            "retried": sum(kind == DagsterEventType.STEP_UP_FOR_RETRY.value for kind, _ in events),
            "events": [kind for kind, _ in events], "failures": failures, "ray_jobs": ray_jobs, "marks": marks_found,
            "selection": selection, "undisturbed_selection": cell_selection(), "elapsed_s": elapsed,
            "session_dir": session_dir}


SCENARIOS = {"annotation": annotation, "cell": cell}


def main(argv: list[str]) -> None:
    name, out, data_dir = argv[0], Path(argv[1]), Path(argv[2])
    logging.basicConfig(filename=out / "driver.log", level=logging.INFO,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    result = SCENARIOS[name](out, data_dir)
    (out / "result.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    main(sys.argv[1:])
