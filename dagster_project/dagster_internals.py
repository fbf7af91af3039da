"""Every use of Dagster's private modules (``dagster._...``) in one place, and a check that the installed Dagster
still has them.

Why private at all: Dagster has no public Python entry point for "is this asset partition FRESH, STALE or MISSING,
and why" - the rule its UI shows. The UI's GraphQL layer and Dagster's own test utilities
(``dagster/_utils/test/data_versions.py: get_stale_status_resolver``) build a ``CachingStaleStatusResolver`` over an
``AssetGraphView``; ``dagster_project.staleness`` asks the same question from Python so the main job skips exactly the
partitions the UI calls up to date. The second private name is a module path, not an import: a ``dagster.yaml``
names its run coordinator by module, and Dagster's deployment docs name ``dagster._core.run_coordinator``.

Everything else the project does with Dagster goes through ``import dagster`` (observing a source asset included:
``staleness.observe`` is built from ``define_asset_job`` and ``Definitions``). ``tests/dagster_project/
test_dagster_internals.py`` fails when any other module imports ``dagster._``, and - through
``check_compatible()`` and a tiny real instance - when a Dagster release renames, moves or changes what is used
here. The lock file (``requirements.lock``) pins the Dagster these were checked on; on an upgrade, run that test first.
"""

from __future__ import annotations

import inspect
from importlib import import_module
from typing import Any

import dagster

# (module, attribute, keyword parameters of the callable used) - what this module needs from Dagster's internals.
_VIEW = "dagster._core.asset_graph_view.asset_graph_view"
_DATA_VERSION = "dagster._core.definitions.data_version"
USED = (
    (_VIEW, "AssetGraphView", ("temporal_context", "instance", "asset_graph")),
    (_VIEW, "TemporalContext", ()),
    (_DATA_VERSION, "CachingStaleStatusResolver", ("instance", "asset_graph", "loading_context")),
    (_DATA_VERSION, "StaleStatus", ()),
    ("dagster._time", "get_current_datetime", ()),
    ("dagster._core.run_coordinator", "DefaultRunCoordinator", ()),
)
# methods of CachingStaleStatusResolver called, with their parameters
RESOLVER_METHODS = {"get_status": ("key", "partition_key"), "get_stale_root_causes": ("key", "partition_key")}


class IncompatibleDagster(RuntimeError):
    """The installed Dagster lacks a private name this project uses."""


def _problems() -> list[str]:
    found = []
    for module_name, attribute, parameters in USED:
        try:
            target = getattr(import_module(module_name), attribute)
        except (ImportError, AttributeError) as error:
            found.append(f"{module_name}.{attribute} is gone ({error})")
            continue
        if parameters:
            accepted = inspect.signature(target).parameters
            missing = [p for p in parameters if p not in accepted]
            if missing:
                found.append(f"{module_name}.{attribute}() no longer takes {', '.join(missing)}")
    if not found:
        resolver = getattr(import_module(_DATA_VERSION), "CachingStaleStatusResolver")
        for method, parameters in RESOLVER_METHODS.items():
            if not callable(getattr(resolver, method, None)):
                found.append(f"CachingStaleStatusResolver.{method} is gone")
                continue
            accepted = inspect.signature(getattr(resolver, method)).parameters
            found += [f"CachingStaleStatusResolver.{method}() no longer takes {p}" for p in parameters
                      if p not in accepted]
        status = getattr(import_module(_DATA_VERSION), "StaleStatus")
        if {s.name for s in status} != {"FRESH", "STALE", "MISSING"}:
            found.append(f"StaleStatus is now {[s.name for s in status]}, not FRESH/STALE/MISSING")
    return found


def check_compatible() -> None:
    """Raise ``IncompatibleDagster`` naming every private name that the installed Dagster lacks or changed."""
    problems = _problems()
    if problems:
        raise IncompatibleDagster(
            f"dagster {dagster.__version__} is not compatible with dagster_project/dagster_internals.py:\n  - "
            + "\n  - ".join(problems)
            + "\nInstall the Dagster pinned in requirements.lock (bash scripts/setup.sh), or adapt this module to the "
              "new Dagster and re-run tests/dagster_project/test_dagster_internals.py.")


try:
    from dagster._core.asset_graph_view.asset_graph_view import AssetGraphView, TemporalContext
    from dagster._core.definitions.data_version import CachingStaleStatusResolver, StaleStatus
    from dagster._time import get_current_datetime
except ImportError as error:  # pragma: no cover - only on an incompatible Dagster
    raise IncompatibleDagster(f"dagster {dagster.__version__}: {error}; see dagster_project/dagster_internals.py "
                              f"(install the Dagster pinned in requirements.lock)") from error

# A dagster.yaml fragment: launch each submitted run at once in this process's daemon-less instance (no run queue).
IMMEDIATE_RUN_COORDINATOR = {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"}


def stale_status_resolver(instance: dagster.DagsterInstance, asset_graph: Any) -> CachingStaleStatusResolver:
    """A resolver that answers as the UI does, as of now (its cache is per request: make a new one per question)."""
    view = AssetGraphView(temporal_context=TemporalContext(effective_dt=get_current_datetime(), last_event_id=None),
                          instance=instance, asset_graph=asset_graph)
    return CachingStaleStatusResolver(instance=instance, asset_graph=asset_graph, loading_context=view)


__all__ = ["IMMEDIATE_RUN_COORDINATOR", "IncompatibleDagster", "StaleStatus", "check_compatible",
           "stale_status_resolver"]
