"""Annotation through a pool of Ray actors equals the in-process run, shard for shard, and survives a killed actor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from selection_ops.annotation.config import AnnotationConfig
from selection_ops.annotation.factory import build_annotator
from selection_ops.annotation.pipeline import annotate, samples_from_pool
from selection_ops.annotation.ray_runner import ActorResources, RayAnnotationSettings, ray_runner
from selection_ops.annotation.store import ShardStore, run_annotator

pytestmark = pytest.mark.ray

CONFIG = AnnotationConfig(shard_size=8, show_progress=False)
TWO_ACTORS = RayAnnotationSettings(default=ActorResources(actors=2, num_cpus=1))


def shard_names(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("shard-*.parquet")}


def assert_frames_identical(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    assert list(expected.columns) == list(actual.columns)
    for column in expected.columns:
        left, right = expected[column].tolist(), actual[column].tolist()
        if column == "embedding":
            assert all(np.array_equal(a, b) for a, b in zip(left, right)), column
        else:
            assert [np.asarray(v).tolist() for v in left] == [np.asarray(v).tolist() for v in right], column


def test_ray_annotation_equals_in_process_with_the_same_shards(ray_runtime: dict, real_pool_40: pd.DataFrame,
                                                                 tmp_path: Path) -> None:
    local = annotate(real_pool_40, CONFIG, tmp_path / "local")
    one_for_indicators = RayAnnotationSettings(default=ActorResources(actors=2, num_cpus=1),
                                               per_annotator={"handcrafted": ActorResources(actors=1)})
    on_ray = annotate(real_pool_40, CONFIG, tmp_path / "ray", runner=ray_runner(one_for_indicators))
    assert_frames_identical(local, on_ray)
    assert shard_names(tmp_path / "local") == shard_names(tmp_path / "ray")
    assert len(shard_names(tmp_path / "ray")) == 5 * 3  # 40 samples / 8 per shard, for embedder, tagger, indicators


def test_killed_actor_finishes_identically_without_recomputing_a_shard(ray_runtime: dict, real_pool_40: pd.DataFrame,
                                                                       tmp_path: Path, monkeypatch) -> None:
    import ray

    samples = samples_from_pool(real_pool_40)
    embedder = build_annotator(CONFIG, "embedding")
    expected = run_annotator(embedder, samples, tmp_path / "local", shard_size=4, show_progress=False)

    writes: list[str] = []
    original_write = ShardStore.write

    def counting_write(self: ShardStore, rows: pd.DataFrame) -> Path:
        path = original_write(self, rows)
        writes.append(path.name)
        return path

    monkeypatch.setattr(ShardStore, "write", counting_write)
    killed: list[int] = []

    def kill_first_actor(shards_done: int, actors: list) -> None:
        if not killed:  # mid-run: 1 of 10 shards written, the others queued or running on both actors
            ray.kill(actors[0], no_restart=False)
            killed.append(shards_done)

    runner = ray_runner(TWO_ACTORS, on_shard_written=kill_first_actor)
    actual = runner(build_annotator(CONFIG, "embedding"), samples, tmp_path / "ray", 4, False)
    assert killed == [1]
    assert len(writes) == len(set(writes)) == 10
    assert_frames_identical(expected, actual)
    assert shard_names(tmp_path / "local") == shard_names(tmp_path / "ray")


def test_in_process_resumes_a_ray_run_and_computes_nothing(ray_runtime: dict, real_pool_40: pd.DataFrame,
                                                           tmp_path: Path) -> None:
    samples = samples_from_pool(real_pool_40)
    ray_runner(TWO_ACTORS)(build_annotator(CONFIG, "handcrafted"), samples[:16], tmp_path, 8, False)

    class Refuses:
        """Wraps an annotator; any call to annotate means a stored shard was not reused."""

        def __init__(self, inner):
            self.inner, self.name, self.calls = inner, inner.name, []

        def fingerprint(self):
            return self.inner.fingerprint()

        def annotate(self, batch):
            self.calls.append([s.id for s in batch])
            return self.inner.annotate(batch)

    indicators = Refuses(build_annotator(CONFIG, "handcrafted"))
    run_annotator(indicators, samples, tmp_path, 8, show_progress=False)
    assert indicators.calls == [[s.id for s in samples[16:24]], [s.id for s in samples[24:32]],
                                [s.id for s in samples[32:40]]]
