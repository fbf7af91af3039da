"""The main job: bring the whole study grid up to date, in order, in the study's real Dagster instance.

    python -m dagster_project.run_loop [--grid GRID.yaml] [--force]

Stages: pool, annotations, label graph -> every selection (variant x budget x seed) -> base models (the untuned
baseline, and the Pool row when the grid asks) -> fine-tune then evaluate the grid's default training set (every
seed) -> correlation report. A partition is skipped exactly when Dagster calls it
up to date (same code version, same input data versions: ``dagster_project.staleness``), so a killed run resumes,
an identical re-run does nothing, and a changed setting re-runs exactly what depends on it; ``--force`` re-runs all.
It runs the project's own jobs (same names and study tags as runs launched from the UI), prints one line per stage
and partition, keeps Dagster's event stream in the study's log file, and ends with the grid's table and the commands
that open both UIs on the same stores and the same grid.

Faults. One main job per study: it holds the study lock (``StudyLayout.lock_path``) for its life; a second one says
who holds it and exits 1, or waits with ``--wait``. Before any work it checks that the MLflow store answers (one line
naming the URI otherwise), then fails the runs of earlier jobs whose process is gone (Dagster: failed, pool slots
freed; MLflow: FAILED with a note; ``dagster_project.recovery``) and goes on. A step that needs a full pool waits
asleep and says who holds it, once a minute. The CLIs it starts die with it, SIGKILL included
(``selection_ops.foundation.processes``). Ctrl-C / SIGTERM are taken by a watcher thread and end the job within
seconds in any state: children ended, runs marked failed, exit 130 / 143.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from selection_ops.comparison_plot import HEADLINE_METRICS as TABLE_METRICS
from selection_ops.foundation.paths import (
    dagster_ui_url,
    default_tracking_uri,
    host_and_port,
    mlflow_ui_url,
    state_dir,
)

STOP = threading.Event()  # set when the job is told to stop: no further step starts
AVERAGES = ("avg_obj", "avg_sub", "avg")


@contextmanager
def quiet(log_path: Path) -> Iterator[TextIO]:
    """Send everything written to stdout / stderr (Dagster's DEBUG stream, progress bars, library warnings) to
    ``log_path``, at the file-descriptor level so subprocesses and pre-bound log handlers follow; yields a stream
    to the real terminal for the one-line reports."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    with open(log_path, "a", buffering=1) as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield terminal
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
            terminal.close()


def _innermost_message(error) -> str:
    """The message of the innermost cause of a Dagster SerializableErrorInfo (the user's error, not the wrapper)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[-1] if error.message.strip() else error.cls_name or "unknown error"


def _numbers(metadata: dict) -> str:
    """The key numbers of a materialization, from its metadata."""
    picks = ("samples", "distinct_labels", "embedding_dim", "n_labels", "n_edges", "n_isolated_labels", "selected",
             "metric/novelsum", "metric/vendi", "final_loss", "avg_obj", "avg_sub", "avg", "points")
    parts = []
    scores = tuple(k for k in metadata if k.endswith("/score"))
    for key in picks + scores + tuple(k for k in metadata if k.endswith("/parse_rate")):
        if key in metadata:
            value = getattr(metadata[key], "value", metadata[key])
            name = "parsed_" + key.split("/")[0] if key.endswith("/parse_rate") else \
                key.removesuffix("/score").split("/")[-1]
            parts.append(f"{name}={value:.4g}" if isinstance(value, float) else f"{key}={value}")
    return " ".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", type=Path, help="study grid YAML (default: $INFOSIFT_GRID or the embedded default)")
    parser.add_argument("--force", action="store_true", help="re-materialize partitions that are up to date")
    parser.add_argument("--wait", action="store_true", help="when another main job is writing this study, wait for "
                        "it to end instead of exiting")
    parser.add_argument("--plan", action="store_true", help="print the study's plan (resolved resources, checks, "
                        "cells, estimated device-hours) and exit; runs nothing, reaches no network")
    args = parser.parse_args(argv)
    if args.plan:
        from dagster_project.plan import main as plan_main

        return plan_main(["--grid", str(args.grid)] if args.grid else [])
    if args.grid:
        os.environ["INFOSIFT_GRID"] = str(args.grid.resolve())
    os.environ.setdefault("TQDM_DISABLE", "1")
    _watch_signals()
    return _main(args)


_running: dict = {}  # what a stop must end: the grid, the terminal's ``say`` and stream, once the work has begun


def _watch_signals() -> None:
    """Take Ctrl-C and SIGTERM in a watcher thread, whatever handler is installed when they arrive: Python writes the
    number of every signal it handles to the wakeup fd (``signal.set_wakeup_fd``, process-wide), so Dagster's own
    handlers, which replace ours while a step runs, cannot swallow them. The work stays in the main thread (libraries
    install handlers there) and children inherit no blocked signals."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    for signo in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signo, lambda *_: None)  # handled by the watcher; a Python handler makes the wakeup fd see it

    def watch() -> None:
        while True:
            numbers = [n for n in os.read(read_fd, 64) if n in (signal.SIGINT, signal.SIGTERM)]
            if numbers:
                break
        if not _running:
            print(f"infosift: stopped by {signal.Signals(numbers[0]).name} before any work", file=sys.stderr,
                  flush=True)
            os._exit(128 + numbers[0])
        try:
            _stop(numbers[0], **_running)
        finally:
            os._exit(128 + numbers[0])

    threading.Thread(target=watch, name="infosift-signals", daemon=True).start()


def _main(args: argparse.Namespace) -> int:
    from dagster_project.study import load_study, preflight_problems
    from resources.mlflow_tracker import MlflowTracker, TrackerUnreachable
    from resources.study_layout import StudyLayout
    from selection_ops.foundation import file_lock
    from selection_ops.study.grid import GridError, grid_path

    try:  # the grid, its sections and what they name are checked before any work
        study = load_study(grid_path())
    except GridError as error:
        print(f"infosift: {error}", file=sys.stderr)
        return 2
    grid = study.grid
    problems = preflight_problems(study)
    for problem in problems:
        print(f"infosift: {grid.source_path}: {problem}", file=sys.stderr)
    if problems:
        return 2
    layout = StudyLayout(study=grid.study)
    try:
        MlflowTracker().check_reachable()
    except TrackerUnreachable as error:
        print(f"infosift: {error}", file=sys.stderr)
        return 1
    lock = layout.lock_path()

    def waiting(holder: str, waited_s: float) -> None:
        print(f"study {grid.study!r} is being written by {holder}; waiting ({waited_s / 60:.0f} min so far)",
              file=sys.stderr, flush=True)

    try:
        file_lock.acquire_exclusive(lock, wait=args.wait, on_wait=waiting)
    except file_lock.LockHeld:
        print(f"infosift: study {grid.study!r} is already being written by {file_lock.describe_holder(lock)}; "
              f"run again with --wait to wait for it (lock {lock})", file=sys.stderr)
        return 1
    from dagster_project.instance import write_instance_config, write_workspace

    os.environ["DAGSTER_HOME"] = str(layout.dagster_home())
    write_instance_config(layout.dagster_home(), slots=study.execution.accelerator_slots)
    workspace = write_workspace(layout.dagster_home(), grid.study, grid.source_path)
    started = time.monotonic()
    with quiet(layout.run_log()) as out:
        try:
            code = _run(grid, lambda line: out.write(line + "\n"), force=args.force, out=out)
        finally:
            if STOP.is_set():  # the watcher thread is ending the job (exit 128 + the signal); the terminal stays
                threading.Event().wait()
        minutes = (time.monotonic() - started) / 60
        grid_env = f"INFOSIFT_GRID={grid.source_path}"
        dagster_host, dagster_port = host_and_port(dagster_ui_url())  # served where the MLflow links point
        mlflow_host, mlflow_port = host_and_port(mlflow_ui_url())  # ... and where Dagster's links point
        out.write(f"\nStudy {grid.study!r} ({grid.source_path}) {'finished' if code == 0 else 'stopped'} in "
                  f"{minutes:.1f} min. Dagster's event stream: {layout.run_log()}\n"
                  f"Dagster UI (assets, staleness, checks, backfills of this grid), at {dagster_ui_url()}:\n"
                  f"  INFOSIFT_HOME={state_dir()} {grid_env} DAGSTER_HOME={layout.dagster_home()} "
                  f".venv/bin/dagster dev -h {dagster_host} -p {dagster_port} -w {workspace}\n"
                  f"MLflow UI (experiment {grid.study!r}: study run, one run per selection, fine-tunes under them), "
                  f"at {mlflow_ui_url()}:\n"
                  f"  .venv/bin/mlflow ui --backend-store-uri {default_tracking_uri()} --host {mlflow_host} "
                  f"--port {mlflow_port}\n"
                  f"  then open {comparison_link(grid.study)}\n")
    file_lock.release(lock)
    return code


def comparison_link(study: str) -> str:
    """The MLflow UI on the study's saved comparison view, or why there is none (a store not reachable)."""
    from resources.mlflow_tracker import MlflowTracker

    try:
        return MlflowTracker().comparison_url(study) + "  (current runs grouped by kind)"
    except Exception as error:  # noqa: BLE001 - the closing lines never fail the job
        return f"the experiment {study!r} (no comparison view: {error})"


def _run(grid, say: Callable[[str], None], *, force: bool, out: TextIO) -> int:
    """Fail what dead jobs left (``resume``), then bring the study up to date, in this (the main) thread."""
    from dagster import DagsterInstance

    from dagster_project.definitions import build_definitions

    warnings.filterwarnings("ignore")
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    _running.update(grid=grid, say=say, out=out)
    with DagsterInstance.get() as instance:
        resume(instance, grid, say)
        return bring_up_to_date(build_definitions(grid), grid, instance, say, force=force)


def _stop(signo: int, grid, say: Callable[[str], None], out: TextIO) -> None:
    """Told to stop: no further step, the running step's CLIs ended, this job's unfinished Dagster runs failed
    (slots freed) and its MLflow runs FAILED with a note; then exit 128 + ``signo`` (130 Ctrl-C, 143 SIGTERM)."""
    from dagster import DagsterInstance

    from dagster_project.recovery import fail_runs_of
    from resources.mlflow_tracker import MlflowTracker
    from selection_ops.foundation.processes import ProcessIdentity, end_children

    name = signal.Signals(signo).name
    STOP.set()
    note = f"the main job (pid {os.getpid()}) was stopped by {name}"
    say(f"\n{name}: stopping; ending the running step")
    children = end_children(grace_s=3.0)
    time.sleep(1.0)  # a step whose CLI just ended fails by itself and marks its runs
    with DagsterInstance.get() as instance:
        runs = fail_runs_of(instance, ProcessIdentity.current(), note)
    tracker = MlflowTracker()
    ended = tracker.fail_writing(note)
    try:
        ended += tracker.fail_running(grid.study, note)
    except Exception as error:  # noqa: BLE001 - a store that went away: the next main job ends them
        say(f"MLflow runs not ended ({error}); the next main job ends them FAILED")
    say(f"stopped by {name}: {children} CLI process group(s) ended, {len(runs)} Dagster run(s) marked failed, "
        f"{len(ended)} MLflow run(s) ended FAILED; run the same command to resume")
    out.flush()
    sys.stdout.flush()
    os._exit(128 + signo)


def resume(instance, grid, say: Callable[[str], None]) -> None:
    """Before any work: fail the study's runs whose process is gone (slots freed) and end the MLflow runs a dead job
    left RUNNING; one line for each kind found (none when there is nothing to resume from)."""
    from dagster_project.recovery import fail_dead_runs
    from resources.mlflow_tracker import MlflowTracker

    start = time.monotonic()
    dead = fail_dead_runs(instance)
    ended = MlflowTracker().fail_running(grid.study, "its writer's process was gone; ended by the next main job")
    if dead:
        names = ", ".join(f"{run.job_name} {run.run_id[:8]} ({run.tags.get('dagster/partition', '-')})"
                          for run, _ in dead)
        say(f"{'resume':<30} {len(dead)} run(s) of a dead job marked failed, slots freed: {names} "
            f"({dead[0][1]})")
    if ended:
        say(f"{'resume':<30} MLflow runs left RUNNING ended FAILED: {', '.join(ended)} "
            f"({time.monotonic() - start:.0f}s)")


def bring_up_to_date(defs, grid, instance, say: Callable[[str], None], force: bool = False) -> int:
    """Materialize, in order, every partition of the study that Dagster does not call up to date; one ``say`` line
    per stage and partition, then the grid's table. Returns 0, or 1 when a required step failed."""
    from dagster import AssetCheckSeverity, AssetKey, AssetRecordsFilter, DagsterEventType

    from assets.constants import JOB_POOL_ROW, JOB_PREPARE, JOB_REPORT, JOB_STUDY_GRID
    from assets.evaluation import benchmark_scores_key
    from assets.partitions import partition_for
    from assets.pool_row import pool_fine_tuned_key, pool_row_name, pool_scores_key
    from assets.preference import baseline_scores_key, preference_scores_key
    from assets.training import base_model_key, fine_tuned_key
    from dagster_project import staleness
    from dagster_project.jobs import JOB_BASE_MODELS, study_tags
    from dagster_project.recovery import MAIN_JOB_TAG, pool_of, wait_for_pool
    from dagster_project.staleness import observe
    from dagster_project.step_ticker import StepTicker, new_run_id
    from selection_ops.foundation.processes import ProcessIdentity
    from selection_ops.study.cells import CellRef

    graph = defs.resolve_asset_graph()
    # the job's identity on every run it starts: a later job tells a dead run from a live one by it
    tags = {**study_tags(grid), MAIN_JOB_TAG: ProcessIdentity.current().to_tag()}
    for line in grid.left_out:
        say(f"note: {line}")

    t0 = time.monotonic()
    observe([defs.resolve_assets_def(AssetKey("selection_spec"))], instance=instance, tags=tags)
    say(f"{'grid':<30} {grid.study:<30} observed {len(grid.selection_keys())} selection specs "
        f"({time.monotonic() - t0:.0f}s)")

    def step(job: str, key: AssetKey, partition: str | None, label: str, *, optional: bool = False) -> bool:
        current = staleness.status(instance, graph, key, partition)
        name = key.to_user_string()
        if current == staleness.StaleStatus.FRESH and not force:
            say(f"{name:<30} {label:<30} up to date")
            return True
        why = "" if current == staleness.StaleStatus.MISSING else \
            " (stale: " + "; ".join(staleness.why_stale(instance, graph, key, partition))[:120] + ")"
        if STOP.is_set():
            raise SystemExit(1)
        pool = pool_of(defs, key)
        if pool:  # wait asleep for a slot here; Dagster's executor would poll a full pool in a busy loop
            wait_for_pool(instance, pool, say, label)
        start = time.monotonic()
        run_id = new_run_id()
        with StepTicker(instance, run_id, say, f"{name:<30} {label:<30}"):  # a line a minute for a long step
            result = defs.resolve_job_def(job).execute_in_process(
                instance=instance, partition_key=partition, asset_selection=[key], raise_on_error=False, tags=tags,
                run_id=run_id)
        seconds = time.monotonic() - start
        if not result.success:
            failure = next((e.step_failure_data.error for e in result.all_events if e.is_step_failure), None)
            reason = _innermost_message(failure) if failure else "see the log"
            say(f"{name:<30} {label:<30} FAILED {seconds:5.0f}s  {reason}{why}")
            if not optional:
                raise SystemExit(1)
            left_out.append(f"{label}: {reason}")
            return False
        metadata = {}
        for event in result.get_asset_materialization_events():
            metadata.update(event.materialization.metadata)
        evaluations = [e.event_specific_data for e in result.all_events
                       if e.event_type == DagsterEventType.ASSET_CHECK_EVALUATION and not e.event_specific_data.passed]
        failed = [c.check_name for c in evaluations if c.severity != AssetCheckSeverity.WARN]
        warned = [c.check_name for c in evaluations if c.severity == AssetCheckSeverity.WARN]
        checks = (f"  checks failed: {', '.join(failed)}" if failed else "") + \
            (f"  warnings: {', '.join(warned)}" if warned else "")
        say(f"{name:<30} {label:<30} done {seconds:5.0f}s  {_numbers(metadata)}{checks}{why}")
        return True

    left_out: list[str] = []
    try:
        for asset in ("pool", "annotations", "label_graph"):
            step(JOB_PREPARE, AssetKey(asset), None, asset)
        trained = {CellRef.parse(key).selection for key in grid.default_training_keys()}
        for key in grid.selection_keys():
            # A selection nobody trains by default may fail (e.g. an annotation it needs is missing): the loop goes
            # on and says so; one that feeds training must succeed.
            step(JOB_STUDY_GRID, AssetKey("selection"), str(partition_for(key)), key, optional=key not in trained)
        for model in grid.base_models:
            step(JOB_BASE_MODELS, base_model_key(model), None, model)
            step(JOB_BASE_MODELS, baseline_scores_key(model), None, model)  # every report's reference row
            if grid.pool_row:  # MIG Table 1's "Pool" row: the whole pool, fine-tuned and evaluated
                if step(JOB_POOL_ROW, pool_fine_tuned_key(model), None, pool_row_name(model), optional=True):
                    step(JOB_POOL_ROW, pool_scores_key(model), None, pool_row_name(model), optional=True)
        for cell in grid.default_training_keys():
            ref = CellRef.parse(cell)
            model, partition = ref.model, str(partition_for(ref.selection))
            if step(JOB_STUDY_GRID, fine_tuned_key(model), partition, cell, optional=True):
                if step(JOB_STUDY_GRID, benchmark_scores_key(model), partition, cell, optional=True):
                    step(JOB_STUDY_GRID, preference_scores_key(model), partition, cell, optional=True)
        step(JOB_REPORT, AssetKey("diversity_correlation"), None, "report")
    except SystemExit:
        return 1
    if left_out:
        say("\nLeft out (fix and materialize them from the UI):\n  " + "\n  ".join(left_out))

    def materialized(key: AssetKey, partition: str | None) -> bool:
        partitions = [partition] if partition is not None else None
        return bool(instance.fetch_materializations(
            AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=1).records)

    say("")
    with defs.get_asset_value_loader(instance) as loader:
        def value(key: AssetKey, partition: str | None = None):
            """The asset's typed value (``assets.values``) through the study's IO manager; None when absent."""
            if not materialized(key, partition):
                return None
            return loader.load_asset_value(key, partition_key=partition)

        say(_table(grid, value))
    verdicts = _verdicts(defs.resources["layout"].report_dir())  # the study's layout, whatever its home
    if verdicts:
        say("")
        say(verdicts)
    return 0


def _short(run: str) -> str:
    """A run's name without its base model (the verdicts pair runs of one base model): a cell's selection, any other
    run (the untuned baseline, the Pool row) as it is."""
    from selection_ops.study.cells import CellRef

    try:
        return CellRef.parse(run).selection
    except ValueError:
        return run


def _verdicts(report_dir: Path) -> str:
    """The report's paired verdicts in a few lines: per benchmark (and A.4 average), the pairs told apart and the
    smallest difference the study could have seen for the others (median MDE at 80 % power)."""
    import pandas as pd

    path = report_dir / "pairs.csv"
    if not report_dir.name or not path.is_file():
        return ""
    pairs = pd.read_csv(path)
    if pairs.empty:
        return ""
    report = report_dir / "report.json"
    uninformative = json.loads(report.read_text()).get("uninformative", {}) if report.is_file() else {}
    lines = [f"Paired verdicts ({len(pairs)} comparisons, 95 % paired bootstrap, Holm-adjusted; {path}):"]
    for benchmark, rows in pairs.groupby("benchmark", sort=False):
        if benchmark in uninformative:
            lines.append(f"  {benchmark:<18} uninformative: {uninformative[benchmark]}")
            continue
        apart = rows[rows["verdict"] != "indistinguishable"]
        same = rows[rows["verdict"] == "indistinguishable"]
        told = ", ".join(f"{_short(r.a if r.verdict == 'a better' else r.b)} better than "
                         f"{_short(r.b if r.verdict == 'a better' else r.a)} by {abs(r.diff):.3g}"
                         for r in apart.itertuples()) or "none"
        mdes = same["mde"].dropna()
        mde = ("; others indistinguishable" + (f", median MDE {mdes.median():.3g}" if len(mdes) else
                                               " (too few questions for a test)")) if len(same) else ""
        lines.append(f"  {benchmark:<18} {len(apart)}/{len(rows)} told apart: {told}{mde}")
    return "\n".join(lines)


def _table(grid, value: Callable) -> str:
    """The grid as a table: one row per selection (variant, budget, seed: a cell's seeds on adjacent rows) and base
    model (and per base model the untuned baseline and, with ``pool_row``, the Pool row), key diversity metrics,
    every benchmark's score and MIG Appx. A.4's averages. ``value(key, partition)`` loads an asset's typed value
    (None when not materialized): ``Selection``, ``BenchmarkScores``, ``PreferenceScores``, read as
    ``ScoreRecord``s; no metadata string or MLflow name is parsed back."""
    from dagster import AssetKey

    from assets.evaluation import benchmark_scores_key
    from assets.partitions import partition_for
    from assets.pool_row import pool_scores_key
    from assets.preference import baseline_scores_key, preference_scores_key
    from selection_ops.evaluation.records import ScoreRecord
    from selection_ops.study.cells import SelectionRef

    rows = []
    benchmarks: list[str] = []

    def record(*values) -> ScoreRecord:
        merged = ScoreRecord({})
        for found in values:
            if found is not None:
                merged = merged.merged(found.record())
        return merged

    def add(variant: str, budget: str, seed: str, model: str, metrics: dict, scores: ScoreRecord) -> None:
        benchmarks.extend(b for b in scores.scores if b not in benchmarks)
        averages = scores.averages() if scores.scores else {}
        rows.append((variant, budget, seed, model, metrics, dict(scores.scores), [averages.get(a) for a in AVERAGES]))

    for model in grid.base_models:
        add("(untuned)", "-", "-", model, {}, record(value(baseline_scores_key(model))))  # both halves in one asset
        if grid.pool_row:
            add("(pool)", "all", "-", model, {}, record(value(pool_scores_key(model))))
    for key in grid.selection_keys():
        partition = str(partition_for(key))
        selection = value(AssetKey("selection"), partition)
        ref = SelectionRef.parse(key)
        for model in grid.base_models:
            add(ref.variant, str(ref.budget), str(grid.seed_of(ref.seed)), model,
                dict(selection.metrics) if selection is not None else {},
                record(value(benchmark_scores_key(model), partition), value(preference_scores_key(model), partition)))
    head = ["variant", "budget", "seed", "base model", *TABLE_METRICS, *benchmarks, *AVERAGES]
    lines = [head]
    for variant, budget, seed, model, metrics, bench, averages in rows:
        lines.append([variant, budget, seed, model, *(_fmt(metrics.get(m)) for m in TABLE_METRICS),
                      *(_fmt(bench.get(b)) for b in benchmarks), *(_fmt(a) for a in averages)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines)


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    sys.exit(main())
