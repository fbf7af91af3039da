"""OpenCompass's progress reaches the caller while the CLI runs: a stand-in command prints the lines a real
``--debug`` run logs (task, dataset, tqdm redraws), slowly, through ``run_followed`` (the same ``run_logged`` and
follower the real evaluation uses)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from resources.opencompass import run_followed

STAND_IN = r"""
import sys, time
print("12/03 08:21:41 - OpenCompass - INFO - The Progress of This Task --> Models: 1/1, Datasets: 1/2", flush=True)
print("12/03 08:21:41 - OpenCompass - INFO - Start inferencing [m/ARC-c]", flush=True)
print("[x] [INFO] Starting inference process...", flush=True)
for done in range(4):
    sys.stdout.write(f"\r{done * 25}%|   | {done}/3 [00:0{done}<00:0{3 - done},  1.00s/it]")
    sys.stdout.flush()
    time.sleep(0.7)
print("\n12/03 08:21:44 - OpenCompass - INFO - Running 0-th replica of evaluation", flush=True)
"""


def test_progress_lines_arrive_while_the_cli_runs(tmp_path: Path) -> None:
    script = tmp_path / "stand_in.py"
    script.write_text(STAND_IN)
    seen: list[tuple[float, str]] = []
    run_followed([sys.executable, str(script)], cwd=tmp_path, env={}, log_path=tmp_path / "opencompass.log",
                 timeout_s=60, on_progress=lambda line: seen.append((time.monotonic(), line)), label="OpenCompass m",
                 interval_s=0.5)
    ended = time.monotonic()
    assert seen and seen[0][0] < ended - 0.5  # the first line came while the stand-in still ran
    assert any("answering m/ARC-c (dataset 1/2): batch" in line for _, line in seen)
    assert seen[-1][1].startswith("OpenCompass m: scoring m/ARC-c")  # the end is reported once it is logged
