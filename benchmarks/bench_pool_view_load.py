"""Pool-view loading speed: the cost of the input checks (encoding per line, embedding rows, shape rules).

    PYTHONPATH=<checkout> python benchmarks/bench_pool_view_load.py [N]

Writes a seeded JSONL pool of N records (id, labels, score, 384-d embedding, messages) to a temporary folder and
times ``load_pool_view`` three times (the best is printed). Run it once per checkout (before and after a change)
on the same machine, back to back, and compare the two lines: the ratio is the figure, not the seconds.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from selection_ops.pool_view_io import load_pool_view


def write_pool(path: Path, n: int, dim: int = 384) -> None:
    rng = np.random.default_rng(0)
    with path.open("w", encoding="utf-8") as handle:
        for i in range(n):
            row = {"id": f"s{i}", "labels": [f"t{i % 50}", f"u{i % 7}"], "score": float(i % 6),
                   "embedding": rng.normal(size=dim).round(4).tolist(),
                   "messages": [{"role": "user", "content": f"question {i} caf\u00e9"},
                                {"role": "assistant", "content": "answer " * 20}]}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pool.jsonl"
        write_pool(path, n)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            view, _ = load_pool_view(path)
            timings.append(time.perf_counter() - started)
        print(f"load_pool_view: {n} records, {view.embeddings.shape[1]}-d embeddings: best of 3 "
              f"{min(timings):.2f} s ({n / min(timings):,.0f} records/s)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
