"""Annotation on a Ray cluster: each annotator becomes a pool of Ray actors, the pool's shards their tasks.

The shards are the in-process run's (``store.pending_shards``: same cut, same order), and every finished shard is
written by this driver into the same ``ShardStore`` (same folder, fingerprint and file name), so a run can start
in-process and finish on Ray or the reverse, and outputs are identical for deterministic annotators.

Fault tolerance is Ray's own: an actor that dies is restarted (``max_restarts``) and the shard it held is retried
on it (``max_task_retries``). Only the driver writes shards, and only once a shard's result has arrived, so a
killed worker costs at most the shards it held and nothing finished is computed again.

A model-holding annotator loads its model once per actor (annotators load lazily on their first ``annotate``);
``num_gpus`` per actor makes Ray set ``CUDA_VISIBLE_DEVICES``, so ``device="auto"`` lands on the actor's GPU and a
vLLM tagger (``tagger="llm-vllm"``) builds its engine inside that actor. Ray is imported only by these functions,
never at module import.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.store import assemble, plan_shards, shard_frame
from selection_ops.annotation.text import Sample

logger = logging.getLogger(__name__)

PROGRESS_LOG_EVERY_S = 10.0


@dataclass(frozen=True)
class ActorResources:
    """One annotator's actor pool: how many actors and what each reserves from Ray's scheduler."""

    actors: int = field(default=2, metadata={"help": "actors per annotator (each loads the model once)"})
    num_cpus: float = field(default=1.0, metadata={"help": "CPUs reserved per actor (also its torch threads)"})
    num_gpus: float = field(default=0.0, metadata={"help": "GPUs per actor; fractions share a GPU between actors"})

    def __post_init__(self) -> None:
        if self.actors < 1:
            raise ValueError(f"ActorResources.actors must be >= 1, got {self.actors}")
        if self.num_cpus < 0 or self.num_gpus < 0:
            raise ValueError(f"ActorResources: num_cpus / num_gpus must be >= 0, got {self.num_cpus}/{self.num_gpus}")


@dataclass(frozen=True)
class RayAnnotationSettings:
    """Actor pools per annotator and Ray's retry budget; ``per_annotator`` overrides ``default`` by annotator name
    (``embedding``, ``tags``, ``handcrafted``, ``deita_quality``, ``deita_complexity``, ``ifd``, ``reward``)."""

    default: ActorResources = field(default_factory=ActorResources)
    per_annotator: Mapping[str, ActorResources] = field(default_factory=dict)
    max_restarts: int = field(default=3, metadata={"help": "times Ray restarts a dead actor"})
    max_task_retries: int = field(default=3, metadata={"help": "times Ray retries a shard whose actor died"})
    in_flight_per_actor: int = field(default=2, metadata={
        "help": "shards queued per actor: one running, one waiting, so an actor never idles between shards"})

    def resources_for(self, annotator_name: str) -> ActorResources:
        return self.per_annotator.get(annotator_name, self.default)


class AnnotatorActor:
    """Holds one annotator (and, after the first shard, its model) inside a Ray worker process."""

    def __init__(self, annotator: Annotator) -> None:
        self.annotator = annotator

    def annotate(self, shard_index: int, batch: Sequence[Sample]) -> tuple[int, list[dict[str, Any]]]:
        return shard_index, self.annotator.annotate(batch)


ShardCallback = Callable[[int, list], None]


def run_annotator_on_ray(annotator: Annotator, samples: Sequence[Sample], store_root: Path, shard_size: int,
                         show_progress: bool = True, *, settings: RayAnnotationSettings | None = None,
                         on_shard_written: ShardCallback | None = None) -> pd.DataFrame:
    """``store.run_annotator`` with the shards computed by a pool of Ray actors; same result, same store.

    Needs a connected Ray session (``selection_ops.ray_session.ray_session``). ``on_shard_written(shards_done,
    actors)`` is called after each shard lands in the store (progress hooks; tests kill actors from it).
    """
    import ray

    if not ray.is_initialized():
        raise RuntimeError("run_annotator_on_ray needs a Ray session; open one with selection_ops.ray_session")
    settings = settings or RayAnnotationSettings()
    store, stored, shards = plan_shards(annotator, samples, store_root, shard_size, where=" on Ray")
    n_missing = sum(len(batch) for batch in shards)
    if not shards:
        return assemble(stored, [], samples)

    resources = settings.resources_for(annotator.name)
    actor_class = ray.remote(AnnotatorActor).options(
        num_cpus=resources.num_cpus, num_gpus=resources.num_gpus, max_restarts=settings.max_restarts,
        max_task_retries=settings.max_task_retries)
    # The annotator travels inline with each actor's creation task (it is small before its model loads), so a
    # restarted actor is rebuilt from its own spec, not from an object-store entry that may be gone.
    actors = [actor_class.remote(annotator) for _ in range(min(resources.actors, len(shards)))]
    queue = deque(enumerate(shards))
    in_flight: dict[Any, int] = {}  # object ref -> actor index
    load = [0] * len(actors)

    def submit() -> None:
        while queue:
            actor_index = min(range(len(actors)), key=load.__getitem__)
            if load[actor_index] >= settings.in_flight_per_actor:
                return
            shard_index, batch = queue.popleft()
            in_flight[actors[actor_index].annotate.remote(shard_index, batch)] = actor_index
            load[actor_index] += 1

    frames: list[pd.DataFrame | None] = [None] * len(shards)
    started = last_log = time.perf_counter()
    done_samples = 0
    try:
        with tqdm(total=n_missing, desc=f"annotate:{annotator.name} (ray x{len(actors)})", unit="sample",
                  disable=not show_progress) as progress:
            submit()
            while in_flight:
                ready, _ = ray.wait(list(in_flight), num_returns=1)
                load[in_flight.pop(ready[0])] -= 1
                shard_index, outputs = ray.get(ready[0])
                frame = shard_frame(annotator.name, shards[shard_index], outputs)
                store.write(frame)
                frames[shard_index] = frame
                done_samples += len(frame)
                progress.update(len(frame))
                if on_shard_written is not None:
                    on_shard_written(sum(f is not None for f in frames), actors)
                submit()
                now = time.perf_counter()
                if now - last_log >= PROGRESS_LOG_EVERY_S:
                    last_log = now
                    rate = done_samples / (now - started)
                    logger.info("annotator %s: %d/%d samples, %.2f samples/s over %d actors, ETA %.0f s",
                                annotator.name, done_samples, n_missing, rate, len(actors),
                                (n_missing - done_samples) / max(rate, 1e-9))
    finally:
        for actor in actors:
            ray.kill(actor, no_restart=True)
    elapsed = time.perf_counter() - started
    logger.info("annotator %s: %d samples in %.1f s on %d Ray actors (%.2f samples/s)", annotator.name, n_missing,
                elapsed, len(actors), n_missing / max(elapsed, 1e-9))
    return assemble(stored, [f for f in frames if f is not None], samples)


def ray_runner(settings: RayAnnotationSettings | None = None,
               on_shard_written: ShardCallback | None = None) -> Callable[..., pd.DataFrame]:
    """A drop-in for ``store.run_annotator`` (same positional signature) that runs on the connected cluster."""
    return functools.partial(run_annotator_on_ray, settings=settings or RayAnnotationSettings(),
                             on_shard_written=on_shard_written)
