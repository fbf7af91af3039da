"""What a main job does about runs that died: find them, fail them, free their pool slots, wait for live ones.

A run of the study's instance is dead when it is not finished and the process that ran it is gone: the main job's
runs carry its identity (tag ``infosift/main_job``: host, pid, kernel start time), a run launched from the UI is
judged by the pid Dagster records on its RUN_START event (its run worker's: gone, or reused by a process that
started later). A dead run is reported failed (``DagsterInstance.report_run_failed``: the UI and every status
filter then say FAILED) and its pool slots are freed (``event_log_storage.free_concurrency_slots_for_run``: marking a
run failed from outside does not free them, and without the daemon nothing else would). Queued runs and runs of
another host are left alone.

``wait_for_pool`` keeps a step that needs a full pool out of Dagster's executor until a slot is free (Dagster's
in-process executor polls a blocked claim in a loop that does not sleep: one core at 100 %); it sleeps, tells who
holds the slots and since when once a minute, and fails holders that died meanwhile.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from dagster import DagsterEventType, DagsterInstance, DagsterRun, DagsterRunStatus, RunsFilter

from selection_ops.foundation.processes import ProcessIdentity, process_start_time

MAIN_JOB_TAG = "infosift/main_job"  # the identity of the main job that ran a run (ProcessIdentity.to_tag)
UNFINISHED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING, DagsterRunStatus.STARTED]
POLL_S = 5.0
REPORT_EVERY_S = 60.0


def _worker(instance: DagsterInstance, run: DagsterRun) -> tuple[ProcessIdentity | None, float | None]:
    """The identity recorded for ``run`` (main job tag), else the pid of its run worker (the process that logged
    its RUN_START; step processes come and go) and that event's time."""
    tag = run.tags.get(MAIN_JOB_TAG)
    if tag:
        return ProcessIdentity.from_tag(tag), None
    for record in instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_START):
        pid = getattr(record.dagster_event, "pid", None) if record.dagster_event else None
        if pid:
            return ProcessIdentity(host=ProcessIdentity.current().host, pid=pid, start=0.0), record.timestamp
    return None, None


def why_dead(instance: DagsterInstance, run: DagsterRun) -> str | None:
    """Why ``run`` (unfinished) has no live process: ``"process 123 on host is gone"``; None when it may be alive
    or cannot be judged from here."""
    identity, seen = _worker(instance, run)
    if identity is None:
        return None
    if seen is None:
        alive = identity.is_alive()
    else:  # a pid from the event log: alive unless gone or reused by a process that started after the event
        started = process_start_time(identity.pid)
        alive = started is not None and started <= seen + 1.0
    if alive is False:
        return f"its process {identity.pid} on {identity.host} is gone"
    return None


def fail_run(instance: DagsterInstance, run: DagsterRun, reason: str) -> None:
    """Mark ``run`` failed with ``reason`` and free every pool slot it holds or waits for."""
    instance.report_run_failed(run, f"Marked failed by infosift's main job: {reason}.")
    instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)


def fail_dead_runs(instance: DagsterInstance) -> list[tuple[DagsterRun, str]]:
    """Fail every unfinished run whose process is gone and free its slots; also free slots still held by runs that
    have finished (the daemon's job, when no daemon runs). Returns the dead runs with why."""
    dead = []
    for run in instance.get_runs(filters=RunsFilter(statuses=UNFINISHED)):
        reason = why_dead(instance, run)
        if reason:
            fail_run(instance, run, reason)
            dead.append((run, reason))
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        for run_id in storage.get_concurrency_run_ids():
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                storage.free_concurrency_slots_for_run(run_id)
    return dead


def fail_runs_of(instance: DagsterInstance, identity: ProcessIdentity, reason: str) -> list[DagsterRun]:
    """Fail the unfinished runs of the main job ``identity`` (this process, told to stop) and free their slots."""
    runs = [run for run in instance.get_runs(filters=RunsFilter(statuses=UNFINISHED))
            if run.tags.get(MAIN_JOB_TAG) == identity.to_tag()]
    for run in runs:
        fail_run(instance, run, reason)
    return runs


def _holders(instance: DagsterInstance, pool: str) -> tuple[int, list[str]]:
    """The pool's limit and one line per claimed slot: run, job, step, since when."""
    info = instance.event_log_storage.get_concurrency_info(pool)
    lines = []
    for slot in info.claimed_slots:
        record = instance.get_run_record_by_id(slot.run_id)
        run = record.dagster_run if record else None
        since = (record.start_time or record.create_timestamp.timestamp()) if record else None
        when = (f"since {datetime.fromtimestamp(since).strftime('%H:%M:%S')} ({(time.time() - since) / 60:.0f} min)"
                if since else "")
        who = run.tags.get(MAIN_JOB_TAG, "").rsplit(":", 1)[0] if run else ""
        lines.append(f"run {slot.run_id[:8]} ({run.job_name if run else '?'}, step {slot.step_key}"
                     f"{', main job ' + who if who else ', launched from the UI' if run else ''}) {when}".rstrip())
    return info.limit or 0, lines


def wait_for_pool(instance: DagsterInstance, pool: str, say: Callable[[str], None], label: str) -> float:
    """Return once ``pool`` has a free slot (at once when it has); meanwhile sleep, fail dead holders, and ``say``
    who holds the slots and since when, at once and then once a minute. Returns the seconds waited."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return 0.0
    started, reported = time.monotonic(), None
    while True:
        limit, holders = _holders(instance, pool)
        if not limit or len(holders) < limit:
            return time.monotonic() - started
        dead = fail_dead_runs(instance)  # a holder that died while we wait frees its slot now
        for run, reason in dead:
            say(f"{'':<30} {label:<30} run {run.run_id[:8]} marked failed: {reason}; its slot is free")
        if dead:
            continue
        waited = time.monotonic() - started
        if reported is None or waited - reported >= REPORT_EVERY_S:
            say(f"{'':<30} {label:<30} waiting {waited / 60:.0f} min for pool {pool!r} ({limit} slot"
                f"{'s' if limit != 1 else ''}), held by: " + "; ".join(holders))
            reported = waited
        time.sleep(POLL_S)


def pool_of(defs, key) -> str | None:
    """The concurrency pool the asset ``key``'s step claims (None when it claims none)."""
    return getattr(defs.resolve_assets_def(key).op, "pool", None)
