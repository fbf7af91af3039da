"""Is an asset partition up to date? The rule of the Dagster UI, asked from Python.

Dagster calls a materialized partition stale when its asset's ``code_version`` differs from the one it ran with, or
when an input's current data version differs from the one recorded when it ran (``DataVersion``s come from content,
``assets.versioning``). The main job skips exactly the partitions this says are FRESH, so it and the UI agree.
"""

from __future__ import annotations

from dagster import AssetKey, DagsterInstance
from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
from dagster._time import get_current_datetime

# Dagster has no public entry point for this yet; these are the pieces its own test utilities and the UI's
# GraphQL layer use (dagster/_utils/test/data_versions.py: get_stale_status_resolver).


def _resolver(instance: DagsterInstance, asset_graph) -> CachingStaleStatusResolver:
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=asset_graph)
    return CachingStaleStatusResolver(instance=instance, asset_graph=asset_graph, loading_context=view)


def status(instance: DagsterInstance, asset_graph, key: AssetKey, partition: str | None = None) -> StaleStatus:
    """FRESH, STALE or MISSING, computed now (a new resolver each time: its cache is per request)."""
    return _resolver(instance, asset_graph).get_status(key, partition)


def why_stale(instance: DagsterInstance, asset_graph, key: AssetKey, partition: str | None = None) -> list[str]:
    """The root causes, as the UI words them: ``"selection [b32|mig]: has a new dependency data version"``."""
    causes = _resolver(instance, asset_graph).get_stale_root_causes(key, partition)
    return [f"{c.key.asset_key.to_user_string()}{f' [{c.key.partition_key}]' if c.key.partition_key else ''}: "
            f"{c.reason}" for c in causes]


__all__ = ["StaleStatus", "status", "why_stale"]
