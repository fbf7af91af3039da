"""The GPU check runs as shipped: its plan parses, and its smoke mode times the selection paths on CPU."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = REPO_ROOT / "benchmarks" / "gpu_check.sh"


def rows(stdout: str) -> dict[str, list[str]]:
    table = [line.strip("|").split("|") for line in stdout.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in table[1:]}


def test_dry_run_lists_every_check_with_its_limit() -> None:
    proc = subprocess.run(["bash", str(SCRIPT), "--dry-run"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    plan = rows(proc.stdout)
    assert len(plan) == 11 and "(939000, 4531, 50000)" in plan["MIG torch vs numba"][0]
    assert abs(sum(float(cells[1]) for cells in plan.values()) - 570) <= len(plan)  # limits, rounded, sum to 570 s


def test_smoke_mode_times_the_selection_paths_on_cpu() -> None:
    proc = subprocess.run(["bash", str(SCRIPT), "--smoke", "--only", "mig,novelsum,kcenter"], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    table = rows(proc.stdout)
    assert list(table) == ["MIG torch vs numba", "NovelSum", "K-Center-Greedy dense"]
    for cells in table.values():
        assert float(cells[1]) > 0, cells
    assert "identical picks: True" in table["MIG torch vs numba"][3]
