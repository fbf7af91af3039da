"""Annotation on a Ray cluster: each annotator becomes a pool of Ray actors, the pool's shards their tasks.

The shards are the in-process run's (``store.pending_shards``: same cut, same order), and every finished shard is
written by this driver into the same ``ShardStore`` (same folder, fingerprint and file name), so a run can start
in-process and finish on Ray or the reverse, and outputs are identical for deterministic annotators.

Faults (a killed worker, a lost node): Ray restarts a dead actor, wherever the cluster has room
(``max_restarts``), and the driver resubmits each shard the actor held to a live actor of the pool
(``max_task_retries`` times per shard). The driver does the retry, not Ray's ``max_task_retries`` on the actor,
because Ray would queue the shard on the dead actor until it is placed again: after a node loss that shrinks the
cluster below the pool's size, that is never, and the run would hang. An actor is given shards again once it
answers a probe after its restart. Only the driver writes shards, and only once a shard's result has arrived, so a
lost node costs at most the shards its actors held and nothing finished is computed again. An annotator's own
exception (a bad record, a bug) is not retried: it fails the run, naming the annotator and the shard.

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
    max_restarts: int = field(default=3, metadata={
        "help": "times Ray restarts a dead actor (on any node with room); -1 = without limit"})
    max_task_retries: int = field(default=3, metadata={
        "help": "times a shard is resubmitted, to a live actor of the pool, after the actor holding it died"})
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

    def ready(self) -> bool:
        """Answers once the actor is alive (after a restart, too): the driver's probe before sending it shards."""
        return True


ShardCallback = Callable[[int, list], None]


def run_annotator_on_ray(annotator: Annotator, samples: Sequence[Sample], store_root: Path, shard_size: int,
                         show_progress: bool = True, *, settings: RayAnnotationSettings | None = None,
                         on_shard_written: ShardCallback | None = None) -> pd.DataFrame:
    """``store.run_annotator`` with the shards computed by a pool of Ray actors; same result, same store.

    Needs a connected Ray session (``selection_ops.ray_session.ray_session``). ``on_shard_written(shards_done,
    actors)`` is called after each shard lands in the store (progress hooks; tests kill actors from it).
    """
    import ray
    from ray.exceptions import ActorDiedError, RayActorError, RayTaskError

    if not ray.is_initialized():
        raise RuntimeError("run_annotator_on_ray needs a Ray session; open one with selection_ops.ray_session")
    settings = settings or RayAnnotationSettings()
    store, stored, shards = plan_shards(annotator, samples, store_root, shard_size, where=" on Ray")
    n_missing = sum(len(batch) for batch in shards)
    if not shards:
        return assemble(stored, [], samples)

    resources = settings.resources_for(annotator.name)
    # max_task_retries=0: a shard whose actor dies comes back to this driver, which resubmits it to a live actor
    # (see the module docstring); Ray still restarts the actor itself.
    actor_class = ray.remote(AnnotatorActor).options(
        num_cpus=resources.num_cpus, num_gpus=resources.num_gpus, max_restarts=settings.max_restarts,
        max_task_retries=0)
    # The annotator travels inline with each actor's creation task (it is small before its model loads), so a
    # restarted actor is rebuilt from its own spec, not from an object-store entry that may be gone.
    actors = [actor_class.remote(annotator) for _ in range(min(resources.actors, len(shards)))]
    live = [True] * len(actors)
    actor_failures = [0] * len(actors)
    queue = deque(enumerate(shards))
    in_flight: dict[Any, tuple[int, int]] = {}  # object ref -> (actor index, shard index)
    probes: dict[Any, int] = {}  # object ref of a `ready` probe -> actor index
    attempts = [0] * len(shards)  # failed attempts per shard
    load = [0] * len(actors)

    def submit() -> None:
        while queue:
            candidates = [i for i in range(len(actors)) if live[i] and load[i] < settings.in_flight_per_actor]
            if not candidates:
                return
            actor_index = min(candidates, key=load.__getitem__)
            shard_index, batch = queue.popleft()
            in_flight[actors[actor_index].annotate.remote(shard_index, batch)] = (actor_index, shard_index)
            load[actor_index] += 1

    def probe(actor_index: int) -> None:
        probes[actors[actor_index].ready.remote()] = actor_index

    def actor_lost(actor_index: int, error: Exception) -> None:
        """A shard's actor failed: send it no more shards until a probe says Ray restarted it."""
        if live[actor_index]:
            live[actor_index] = False
            logger.warning("annotator %s: actor %d lost (%s); its shards go to the other actors while Ray restarts "
                           "it", annotator.name, actor_index, type(error).__name__)
            probe(actor_index)

    def probe_answered(actor_index: int, ref: Any) -> None:
        try:
            ray.get(ref)
        except ActorDiedError as error:  # dead, not restarting: Ray's restarts may be spent
            actor_failures[actor_index] += 1
            if 0 <= settings.max_restarts < actor_failures[actor_index]:
                logger.warning("annotator %s: actor %d lost for good (%s); %d of %d actors left", annotator.name,
                               actor_index, type(error).__name__, sum(live), len(actors))
                return
            probe(actor_index)
        except RayActorError:  # ActorUnavailableError: restarting (Ray answers every ~2 s until it is placed)
            probe(actor_index)
        else:
            live[actor_index] = True
            logger.info("annotator %s: actor %d is back", annotator.name, actor_index)

    frames: list[pd.DataFrame | None] = [None] * len(shards)
    started = last_log = time.perf_counter()
    done_samples = 0
    try:
        with tqdm(total=n_missing, desc=f"annotate:{annotator.name} (ray x{len(actors)})", unit="sample",
                  disable=not show_progress) as progress:
            submit()
            while in_flight or queue:
                if not in_flight and not probes:
                    raise RuntimeError(f"annotator {annotator.name}: every Ray actor is lost (max_restarts="
                                       f"{settings.max_restarts} spent); {len(queue)} shard(s) not computed")
                ready, _ = ray.wait([*in_flight, *probes], num_returns=1, timeout=PROGRESS_LOG_EVERY_S)
                now = time.perf_counter()
                if not any(live) and now - last_log >= PROGRESS_LOG_EVERY_S:
                    last_log = now
                    logger.warning("annotator %s: no live actor; %d restarting (waiting for room on the cluster), "
                                   "%d shard(s) waiting", annotator.name, len(probes), len(queue))
                if not ready:
                    continue
                ref = ready[0]
                if ref in probes:
                    probe_answered(probes.pop(ref), ref)
                    submit()
                    continue
                actor_index, shard_index = in_flight.pop(ref)
                load[actor_index] -= 1
                try:
                    _, outputs = ray.get(ref)
                except RayActorError as error:
                    attempts[shard_index] += 1
                    if attempts[shard_index] > settings.max_task_retries:
                        raise RuntimeError(
                            f"annotator {annotator.name}: shard {shard_index} (samples "
                            f"{shards[shard_index][0].id}..{shards[shard_index][-1].id}) lost its actor "
                            f"{attempts[shard_index]} times (max_task_retries={settings.max_task_retries})"
                        ) from error
                    queue.appendleft((shard_index, shards[shard_index]))
                    actor_lost(actor_index, error)
                    submit()
                    continue
                except RayTaskError as error:  # the annotator raised: not a fault Ray can fix by retrying
                    raise RuntimeError(f"annotator {annotator.name} failed on shard {shard_index} (samples "
                                       f"{shards[shard_index][0].id}..{shards[shard_index][-1].id}) on Ray: "
                                       f"{error.cause!r}") from error
                frame = shard_frame(annotator.name, shards[shard_index], outputs)
                store.write(frame)
                frames[shard_index] = frame
                done_samples += len(frame)
                progress.update(len(frame))
                if on_shard_written is not None:
                    on_shard_written(sum(f is not None for f in frames), actors)
                submit()
                if now - last_log >= PROGRESS_LOG_EVERY_S:
                    last_log = now
                    rate = done_samples / (now - started)
                    logger.info("annotator %s: %d/%d samples, %.2f samples/s over %d actors, ETA %.0f s",
                                annotator.name, done_samples, n_missing, rate, sum(live),
                                (n_missing - done_samples) / max(rate, 1e-9))
    finally:
        for actor in actors:
            ray.kill(actor, no_restart=True)
    retried = sum(attempts)
    elapsed = time.perf_counter() - started
    logger.info("annotator %s: %d samples in %.1f s on %d Ray actors (%.2f samples/s)%s", annotator.name, n_missing,
                elapsed, len(actors), n_missing / max(elapsed, 1e-9),
                f"; {retried} shard attempt(s) lost with their actor and resubmitted" if retried else "")
    return assemble(stored, [f for f in frames if f is not None], samples)


def ray_runner(settings: RayAnnotationSettings | None = None,
               on_shard_written: ShardCallback | None = None) -> Callable[..., pd.DataFrame]:
    """A drop-in for ``store.run_annotator`` (same positional signature) that runs on the connected cluster."""
    return functools.partial(run_annotator_on_ray, settings=settings or RayAnnotationSettings(),
                             on_shard_written=on_shard_written)
