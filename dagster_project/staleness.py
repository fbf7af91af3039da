"""Is an asset partition up to date? The rule of the Dagster UI, asked from Python.

Dagster calls a materialized partition stale when its asset's ``code_version`` differs from the one it ran with, or
when an input's current data version differs from the one recorded when it ran (``DataVersion``s come from content,
``assets.versioning``). The main job skips exactly the partitions this says are FRESH, so it and the UI agree.

Dagster has no public entry point for the question itself; the private pieces it needs live in
``dagster_project.dagster_internals`` (the one module that imports ``dagster._``), which checks they still exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dagster import AssetKey, AssetsDefinition, AssetSelection, DagsterInstance, Definitions, define_asset_job

from dagster_project.dagster_internals import StaleStatus, stale_status_resolver

_OBSERVATION_JOB = "infosift_observation"


def status(instance: DagsterInstance, asset_graph, key: AssetKey, partition: str | None = None) -> StaleStatus:
    """FRESH, STALE or MISSING, computed now (a new resolver each time: its cache is per request)."""
    return stale_status_resolver(instance, asset_graph).get_status(key, partition)


def why_stale(instance: DagsterInstance, asset_graph, key: AssetKey, partition: str | None = None) -> list[str]:
    """The root causes, as the UI words them: ``"selection [b32|mig]: has a new dependency data version"``."""
    causes = stale_status_resolver(instance, asset_graph).get_stale_root_causes(key, partition)
    return [f"{c.key.asset_key.to_user_string()}{f' [{c.key.partition_key}]' if c.key.partition_key else ''}: "
            f"{c.reason}" for c in causes]


def observe(assets: Sequence[AssetsDefinition], instance: DagsterInstance, tags: Mapping[str, str] | None = None,
            partition_key: str | None = None):
    """Observe observable source assets in-process (new data versions recorded on ``instance``), through the public
    API: a job over every asset including sources, run in this process. Returns the ``ExecuteInProcessResult``."""
    job = define_asset_job(_OBSERVATION_JOB, selection=AssetSelection.all(include_sources=True))
    return Definitions(assets=list(assets), jobs=[job]).resolve_job_def(_OBSERVATION_JOB).execute_in_process(
        instance=instance, partition_key=partition_key, tags=tags)


__all__ = ["StaleStatus", "observe", "status", "why_stale"]
