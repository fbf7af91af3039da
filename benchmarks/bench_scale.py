"""In-process vs a local Ray cluster, side by side in one run: annotation of real samples, then a selection grid.

    .venv/bin/python benchmarks/bench_scale.py --samples 2000 --workers 2
    .venv/bin/python benchmarks/bench_scale.py --samples 200 --annotators handcrafted   # a quick look

Annotation: the offline annotators (``--annotators``: embedding = MiniLM, tags = the keyphrase tagger,
handcrafted = the indicators) over ``--samples`` real samples of the shared pools, first in-process
(``store.run_annotator``), then on a fresh local Ray runtime of ``--workers`` CPUs with one actor per CPU
(``ray_runner.run_annotator_on_ray``), each into its own empty shard store; the outputs are checked identical.
Selection grid: every registered selector that needs only embeddings / scores / texts, at each ``--budgets``,
run one cell after another in-process, then as Ray tasks (one per cell, the pool put in the object store once);
the picks are checked identical. Ray's start-up is reported on its own row. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from selection_ops.annotation.config import AnnotationConfig  # noqa: E402
from selection_ops.annotation.factory import build_annotator  # noqa: E402
from selection_ops.annotation.pipeline import samples_from_pool  # noqa: E402
from selection_ops.annotation.ray_runner import ActorResources, RayAnnotationSettings, run_annotator_on_ray  # noqa: E402
from selection_ops.annotation.store import run_annotator  # noqa: E402
from selection_ops.pool.load import load_pool  # noqa: E402
from selection_ops.pool.spec import default_pool_spec  # noqa: E402
from selection_ops.ray_session import RaySessionSettings  # noqa: E402

GRID_NEEDS = {"embeddings", "score", "texts"}


def same_frames(left: pd.DataFrame, right: pd.DataFrame) -> bool:
    if list(left.columns) != list(right.columns) or list(left.index) != list(right.index):
        return False
    return all([np.asarray(a).tolist() for a in left[c]] == [np.asarray(b).tolist() for b in right[c]]
               for c in left.columns)


def grid_cell(view, method: str, budget: int, seed: int) -> list[str]:
    from selection_ops.registry import run_selector

    return list(run_selector(method, view, budget, seed=seed, params={}).ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2, help="CPUs of the local Ray runtime = actors per annotator")
    parser.add_argument("--annotators", default="embedding,tags,handcrafted",
                        help="offline annotators: embedding (MiniLM), tags (keyphrase), handcrafted")
    parser.add_argument("--budgets", default="32,100")
    parser.add_argument("--shard-size", type=int, default=256)
    parser.add_argument("--ray-first", action="store_true", help="annotate on Ray before the in-process run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = AnnotationConfig(show_progress=False, shard_size=args.shard_size)
    pool = load_pool(default_pool_spec(limit_per_source=-(-args.samples // 3))).head(args.samples)
    samples = samples_from_pool(pool)
    names = [n.strip() for n in args.annotators.split(",") if n.strip()]
    budgets = [int(b) for b in args.budgets.split(",")]
    load = os.getloadavg()
    print(f"# {platform.machine()}, {os.cpu_count()} CPUs, load average at start {load[0]:.2f}; {len(samples)} real "
          f"samples (LIMA / Alpaca-2k / Dolly-2k, seeded); shard size {args.shard_size}; Ray {args.workers} CPUs")
    print("| job | size | in-process (s) | Ray (s) | in-process /s | Ray /s | Ray overhead | identical |")
    print("|---|---|---:|---:|---:|---:|---:|:---:|")

    def row(job: str, size: str, local_s: float, ray_s: float, count: int, same: bool) -> None:
        print(f"| {job} | {size} | {local_s:.1f} | {ray_s:.1f} | {count / local_s:.1f} | {count / ray_s:.1f} | "
              f"{ray_s - local_s:+.1f} s ({ray_s / local_s:.2f}x) | {'yes' if same else 'NO'} |", flush=True)

    import ray

    with tempfile.TemporaryDirectory(prefix="bench_scale_") as scratch:
        local_out, local_s = {}, {}

        def annotate_in_process() -> None:
            for name in names:
                start = time.perf_counter()
                local_out[name] = run_annotator(build_annotator(config, name), samples, Path(scratch) / "local",
                                                args.shard_size, show_progress=False)
                local_s[name] = time.perf_counter() - start

        if not args.ray_first:
            annotate_in_process()
        start = time.perf_counter()
        session = RaySessionSettings(ray_address="local", num_cpus=args.workers, num_gpus=0, object_store_mb=200)
        ray.init(**session.init_kwargs())

        @ray.remote(num_cpus=1)
        def warm() -> int:
            return os.getpid()

        ray.get([warm.remote() for _ in range(args.workers)])
        startup_s = time.perf_counter() - start
        print(f"| Ray start-up (ray.init + {args.workers} warm workers) | - | - | {startup_s:.1f} | - | - | "
              f"{startup_s:+.1f} s | - |", flush=True)
        settings = RayAnnotationSettings(default=ActorResources(actors=args.workers, num_cpus=1))
        annotations, ray_s = {}, {}
        for name in names:
            start = time.perf_counter()
            annotations[name] = run_annotator_on_ray(build_annotator(config, name), samples, Path(scratch) / "ray",
                                                     args.shard_size, show_progress=False, settings=settings)
            ray_s[name] = time.perf_counter() - start
        if args.ray_first:
            annotate_in_process()
        for name in names:
            row(f"annotation: {name}", f"{len(samples)} samples", local_s[name], ray_s[name], len(samples),
                same_frames(local_out[name], annotations[name]))
        total_local = sum(local_s.values())

        frame = pd.DataFrame({"id": [s.id for s in samples]})
        if "embedding" in annotations:
            frame["embedding"] = list(annotations["embedding"]["embedding"])
        if "handcrafted" in annotations:
            frame["score"] = annotations["handcrafted"]["quality_handcrafted"].to_numpy(dtype=np.float64)
        from selection_ops.annotated_pool import pool_view_from_tables
        from selection_ops.registry import get_selector, selector_names

        view = pool_view_from_tables(pool, frame)
        present = {n for n in ("embeddings", "score", "texts") if view.has(n)}
        methods = [name for name in selector_names() if set(get_selector(name).needs) <= present
                   and name not in ("duplicate", "ifd")]  # the low-diversity control; IFD needs its own scorer
        cells = [(m, b) for m in methods for b in budgets]
        start = time.perf_counter()
        local_picks = [grid_cell(view, m, b, 0) for m, b in cells]
        grid_local_s = time.perf_counter() - start
        start = time.perf_counter()
        view_ref = ray.put(view)
        remote_cell = ray.remote(num_cpus=1)(grid_cell)
        ray_picks = ray.get([remote_cell.remote(view_ref, m, b, 0) for m, b in cells])
        grid_ray_s = time.perf_counter() - start
        row(f"selection grid: {', '.join(methods)}", f"{len(cells)} cells, budgets {args.budgets}", grid_local_s,
            grid_ray_s, len(cells), local_picks == ray_picks)
        ray.shutdown()
    print(f"# annotation in-process total {total_local:.1f} s; load average at end {os.getloadavg()[0]:.2f}; "
          "'/s' = samples/s for annotation, cells/s for the grid")


if __name__ == "__main__":
    main()
