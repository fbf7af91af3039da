"""The main job: materialize the whole loop of the study grid in order, in the project's real Dagster instance.

    python -m dagster_project.run_loop [--grid GRID.yaml] [--force]

Stages: pool, annotations, label graph -> every selection partition -> base models -> for each trained partition
fine-tune then evaluate -> correlation report. Partitions already materialized in the instance are skipped (so a
killed run resumes where it stopped) unless ``--force``. Everything lands in the same stores the Dagster UI and the
MLflow UI read, whose commands it prints at the end.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

from dagster_project.paths import REPO_ROOT, default_tracking_uri, state_dir

log = logging.getLogger("infosift.run_loop")


def dagster_home() -> Path:
    """``$DAGSTER_HOME``, set to ``<state>/dagster`` when unset, with a dagster.yaml so the instance is persistent."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(state_dir() / "dagster")))
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\n")
    return home


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--grid", type=Path, help="study grid YAML (default: $INFOSIFT_GRID or the embedded default)")
    parser.add_argument("--force", action="store_true", help="re-materialize partitions that already exist")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if args.grid:
        os.environ["INFOSIFT_GRID"] = str(args.grid.resolve())
    home = dagster_home()

    from dagster import AssetKey, DagsterInstance, materialize

    from dagster_project.definitions import all_assets, default_resources
    from dagster_project.grid import load_grid

    grid = load_grid()
    instance = DagsterInstance.get()
    assets = all_assets(grid)
    resources = default_resources()
    started = time.monotonic()

    def done(asset: str, partition: str | None) -> bool:
        if args.force:
            return False
        key = AssetKey(asset)
        if partition is None:
            return instance.get_latest_materialization_event(key) is not None
        return partition in instance.get_materialized_partitions(key)

    def step(selection: list[str], partition: str | None = None, *, always: bool = False,
             optional: bool = False) -> bool:
        """Materialize; a failure stops the loop unless ``optional``, where it is logged and reported."""
        if not always and all(done(a, partition) for a in selection):
            log.info(f"skip {selection} {partition or ''}: already materialized")
            return True
        t0 = time.monotonic()
        log.info(f"materialize {selection} {partition or ''}")
        result = materialize(assets, selection=selection, partition_key=partition, instance=instance,
                             resources=resources, tags={"infosift/study": grid.study}, raise_on_error=False)
        if not result.success:
            failure = next((e.step_failure_data.error for e in result.all_events if e.is_step_failure), None)
            reason = _innermost_message(failure) if failure else "see the Dagster UI"
            if not optional:
                raise SystemExit(f"materialization of {selection} {partition or ''} failed: {reason}")
            skipped.append(f"{partition}: {reason}")
            log.warning(f"{selection} {partition} failed and is left out: {reason}")
            return False
        log.info(f"done {selection} {partition or ''} in {time.monotonic() - t0:.0f}s")
        return True

    skipped: list[str] = []
    step(["pool", "annotations", "label_graph"])
    trained = {key.rsplit("__", 1)[0] for key in grid.training_keys()}
    for key in grid.selection_keys():
        # A selection nobody trains on may fail for want of an annotation (e.g. IFD without the IFD scorer):
        # the loop goes on and says so; one that feeds training must succeed.
        step(["selection"], key, optional=key not in trained)
    for key in grid.base_models:
        step(["base_model"], key)
        step(["baseline_scores"], key)  # the untuned base model: every report's reference row
    for key in grid.training_keys():
        step(["fine_tuned_model"], key)
        step(["benchmark_scores"], key)
        step(["preference_scores"], key)
    step(["diversity_correlation"], always=True)  # aggregates every evaluated partition, so it is never stale

    minutes = (time.monotonic() - started) / 60
    if skipped:
        print("\nSelections left out (not trained; fix the annotation and materialize them from the UI):\n  "
              + "\n  ".join(skipped))
    print(f"\nThe loop of study {grid.study!r} finished in {minutes:.1f} min.\n"
          f"Dagster UI (assets, metadata, backfills):\n"
          f"  DAGSTER_HOME={home} .venv/bin/dagster dev -w {REPO_ROOT / 'workspace.yaml'}\n"
          f"MLflow UI (one run per selection x base model):\n"
          f"  .venv/bin/mlflow ui --backend-store-uri {default_tracking_uri()}\n")
    return 0


def _innermost_message(error) -> str:
    """The message of the innermost cause of a Dagster SerializableErrorInfo (the user's error, not the wrapper)."""
    while error.cause is not None:
        error = error.cause
    return error.message.strip().splitlines()[-1] if error.message.strip() else error.cls_name or "unknown error"


if __name__ == "__main__":
    sys.exit(main())
