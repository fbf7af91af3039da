"""Screenshots of a study in the MLflow UI, for docs/: the experiment opened on the study's saved comparison view
(current runs grouped by kind, in the classic ML view), a fine-tune run's page (its description linking to the
Dagster asset and run, its live-logged ``train.loss``), and the study run's comparison figure.

It serves the study's tracking store with ``mlflow ui`` (read-only apart from the experiment's view tags, which the
project writes on any run anyway), drives Debian's Chromium through Playwright, and stops the server it started.

    .venv/bin/python scripts/mlflow_screenshots.py --home /tmp/home --study embedded-default [--out docs]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from resources.mlflow_tracker import KIND_FINE_TUNE, KIND_STUDY, MlflowTracker  # noqa: E402
from scripts.screenshots import wait_until_up  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def serve(store: str, port: int, log: Path) -> subprocess.Popen:
    mlflow = Path(sys.executable).with_name("mlflow")
    return subprocess.Popen([str(mlflow), "ui", "--backend-store-uri", store, "--host", "127.0.0.1", "--port",
                             str(port)], stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)


def take(tracker: MlflowTracker, study: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    fine_tune = tracker.find_runs(study=study, kind=KIND_FINE_TUNE, current_only=True)[0]
    (study_run,) = tracker.find_runs(study=study, kind=KIND_STUDY)
    shots = [(tracker.comparison_url(study), "mlflow_comparison_view.png", 10_000),
             (tracker.run_url(study, fine_tune.info.run_id), "mlflow_run_description.png", 6_000),
             (tracker.run_url(study, fine_tune.info.run_id, "model-metrics"), "mlflow_train_loss.png", 8_000),
             (tracker.run_url(study, study_run.info.run_id, "artifacts/comparison.png"),
              "mlflow_comparison_figure.png", 8_000)]
    taken = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1500, "height": 950})
        for url, name, wait_ms in shots:
            page.goto(url)
            page.wait_for_load_state("load")  # the UI polls: never network-idle
            page.wait_for_timeout(wait_ms)
            if name == "mlflow_train_loss.png":  # the charts of the live-logged curves only
                page.get_by_placeholder("Search metric charts").fill("train.")
                page.wait_for_timeout(2000)
            page.screenshot(path=str(out / name))
            taken.append(out / name)
        browser.close()
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, required=True, help="the study's INFOSIFT_HOME (holds mlflow.db)")
    parser.add_argument("--study", required=True, help="the study's name (its MLflow experiment)")
    parser.add_argument("--out", type=Path, default=REPO / "docs")
    parser.add_argument("--port", type=int, default=5077)
    args = parser.parse_args(argv)
    store = f"sqlite:///{args.home.resolve() / 'mlflow.db'}"
    tracker = MlflowTracker(tracking_uri=store, ui_url=f"http://127.0.0.1:{args.port}")
    log = args.out / ".mlflow_ui.log"
    server = serve(store, args.port, log)
    try:
        wait_until_up(tracker.ui_url, server, probe="/health", name="mlflow ui")
        for path in take(tracker, args.study, args.out):
            print(path)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
