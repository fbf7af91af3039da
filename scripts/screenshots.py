"""Screenshots of a study in the Dagster UI, for docs/: the report asset's page (its scores table, visible without
a toggle), the report's plots (its inline images), a fine-tuned model's real folder (``path``, with its size), and
the report's automation sensor (its ticks and the runs it launched), the study's plan (``study_plan``), a fine-tune's
run with its training progress lines, and the code location named after the study.

It serves an already built study with ``dagster dev`` (read-only use: it opens pages and materializes nothing; the
report's automation sensor, on by default, launches a run only when some scores are newer than the report), drives
Debian's Chromium through Playwright, and stops the server it started.

    .venv/bin/python scripts/screenshots.py --home /tmp/home --grid /tmp/home/grid.yaml [--env small] [--out docs]

``--home`` is the study's ``INFOSIFT_HOME``, ``--grid`` its grid file (the study it names must have a report).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from dagster_project.jobs import REPORT_SENSOR  # noqa: E402
from selection_ops.foundation.environment import INFOSIFT_ENV, INFOSIFT_GRID, INFOSIFT_HOME  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
REPORT_ASSET = "diversity_correlation"


def serve(home: Path, grid: Path, env: str | None, dagster_home: Path, port: int, log: Path,
          workspace: Path) -> subprocess.Popen:
    """``dagster dev`` on the study's own workspace, in its own process group, its output in ``log``."""
    environment = {**os.environ, INFOSIFT_HOME: str(home), INFOSIFT_GRID: str(grid), "DAGSTER_HOME": str(dagster_home)}
    if env:
        environment[INFOSIFT_ENV] = env
    dagster = Path(sys.executable).with_name("dagster")
    command = [str(dagster), "dev", "-h", "127.0.0.1", "-p", str(port), "-w", str(workspace)]
    return subprocess.Popen(command, cwd=REPO, env=environment, stdout=log.open("w"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def stop(server: subprocess.Popen) -> None:
    """Ctrl-C to the server this script started (dagster dev's own shutdown), then its whole process group killed:
    the webserver, daemon and code server it spawned, and only them."""
    try:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(server.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    server.wait()


def wait_until_up(url: str, server: subprocess.Popen, timeout_s: float = 300, probe: str = "/server_info",
                  name: str = "dagster dev") -> None:
    """Wait until the UI ``server`` started answers ``url + probe``; fail naming it when it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"{name} exited with {server.returncode} before serving {url}")
        try:
            with urllib.request.urlopen(f"{url}{probe}", timeout=5):
                return
        except OSError:
            time.sleep(2)
    raise TimeoutError(f"{name} did not answer at {url} within {timeout_s:.0f} s")


def skip_community_modal(page) -> None:
    """Dagster's first-visit "join the community" dialog covers the page; its Skip button closes it."""
    skip = page.get_by_role("button", name="Skip")
    if skip.count():
        skip.first.click()
        page.wait_for_timeout(500)


def open_page(page, url: str, wait_for: str) -> None:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    skip_community_modal(page)
    page.get_by_text(wait_for).first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)


def metadata_row(page, key: str):
    """The row of the materialization's metadata table whose first cell is ``key``."""
    return page.locator("tr", has=page.locator("td", has_text=key)).first


def take(base: str, out: Path, model: str, partition: str, location: str, training_run: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    shots = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1900, "height": 1250})

        # 1. the report's latest materialization: its metadata, the scores table inline
        open_page(page, f"{base}/assets/{REPORT_ASSET}?view=events", "scores")
        path = out / "dagster_report.png"
        page.screenshot(path=str(path))
        shots.append(path)

        # 2. its plots: the markdown entry opened (images inline, each linking to its MLflow artifact)
        row = metadata_row(page, "plots")
        row.get_by_text("[Show Markdown]").click()
        dialog = page.get_by_role("dialog")
        dialog.locator("img").first.wait_for(timeout=30_000)
        page.wait_for_timeout(1500)
        path = out / "dagster_report_plots.png"
        page.screenshot(path=str(path))  # the dialog over the page: the first plots, as a user sees them
        shots.append(path)
        page.keyboard.press("Escape")

        # 3. a fine-tuned model's partition: the path of its model folder and its size
        page.set_viewport_size({"width": 1500, "height": 1000})
        open_page(page, f"{base}/assets/{model}/fine_tuned_model?view=events&partition={partition}", "size_bytes")
        path = out / "dagster_fine_tuned_model.png"
        page.screenshot(path=str(path))
        shots.append(path)

        # 4. the report's sensor: on, its description naming the study and grid, its ticks and the runs it launched
        open_page(page, f"{base}/locations/{location}/sensors/{REPORT_SENSOR}", "Latest tick")
        path = out / "dagster_report_sensor.png"
        page.screenshot(path=str(path))
        shots.append(path)

        # 5. the study's plan: resolved resources, checks, cells and estimated device-hours, on the asset's page
        # before it is ever materialized (definition metadata)
        open_page(page, f"{base}/assets/study_plan", "estimated_device_hours")
        path = out / "dagster_study_plan.png"
        page.screenshot(path=str(path), full_page=True)
        shots.append(path)

        # 6. the fine-tune's run: LLaMA-Factory's progress lines (step, loss, lr, epoch, time left) in its log
        page.set_viewport_size({"width": 1700, "height": 1000})
        open_page(page, f"{base}/runs/{training_run}", "remaining")
        search = page.locator('input[placeholder^="Filter"]').first  # the log's filter: the progress lines only
        search.fill("remaining")
        search.press("Enter")
        page.wait_for_timeout(2000)
        path = out / "dagster_training_progress.png"
        page.screenshot(path=str(path))
        shots.append(path)

        # 7. the code location, named after the study and its grid file
        open_page(page, f"{base}/locations", location)
        path = out / "dagster_code_location.png"
        page.screenshot(path=str(path))
        shots.append(path)
        browser.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="the study's INFOSIFT_HOME")
    parser.add_argument("--grid", type=Path, required=True, help="the study's grid file")
    parser.add_argument("--env", default=None, help="the profile the study was built with (e.g. small)")
    parser.add_argument("--out", type=Path, default=REPO / "docs", help="where the PNGs go")
    parser.add_argument("--port", type=int, default=3111)
    parser.add_argument("--partition", default=None,
                        help="the fine-tuned model's partition to show (default: the grid's first trained cell)")
    args = parser.parse_args(argv)

    from selection_ops.study.grid import load_grid

    grid = load_grid(args.grid)
    model = next(iter(grid.base_models))
    partition = args.partition or _first_trained(grid, model)
    dagster_home = args.home.resolve() / "studies" / grid.study / "dagster"
    if not (args.home / "studies" / grid.study / "reports" / "report.json").is_file():
        raise SystemExit(f"{args.home}: study {grid.study!r} has no report yet; build it first (run_loop)")
    args.out.mkdir(parents=True, exist_ok=True)
    log = dagster_home.parent / "logs" / "screenshots_dagster_dev.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    from dagster_project.instance import location_name, write_workspace

    workspace = write_workspace(dagster_home, grid.study, grid.source_path)
    training_run = _training_run(dagster_home, model, partition)
    server = serve(args.home.resolve(), args.grid.resolve(), args.env, dagster_home, args.port, log, workspace)
    try:
        base = f"http://127.0.0.1:{args.port}"
        wait_until_up(base, server)
        for path in take(base, args.out, model, partition, location_name(grid.study, grid.source_path),
                         training_run):
            print(path)
    finally:
        stop(server)
    return 0


def _training_run(dagster_home: Path, model: str, partition: str) -> str:
    """The id of the run that last materialized ``model``'s fine-tune of ``partition``."""
    from dagster import AssetRecordsFilter, DagsterInstance

    from assets.training import fine_tuned_key

    instance = DagsterInstance.from_config(str(dagster_home))
    try:
        (record,) = instance.fetch_materializations(
            AssetRecordsFilter(asset_key=fine_tuned_key(model), asset_partitions=[partition]), limit=1).records
        return record.run_id
    finally:
        instance.dispose()


def _first_trained(grid, model: str) -> str:
    """The partition key (``b8|mig``) of the grid's first default-trained cell on ``model``."""
    from assets.partitions import cell_of, grid_partitions

    trained = set(grid.default_training_keys())
    return next(key for key in grid_partitions(grid).get_partition_keys() if cell_of(key, model) in trained)


if __name__ == "__main__":
    sys.exit(main())
