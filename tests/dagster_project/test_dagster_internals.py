"""Dagster's private API stays in one module, and the installed Dagster still answers through it.

A Dagster release that moves or changes one of the private names ``dagster_project/dagster_internals.py`` uses fails
here with the names listed (``check_compatible``) and, in case a name survived with new meaning, on a tiny real
instance whose FRESH / STALE / MISSING answers are known.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dagster
from dagster import (
    AssetKey,
    DagsterInstance,
    DataVersion,
    Definitions,
    MaterializeResult,
    StaticPartitionsDefinition,
    asset,
    materialize,
    observable_source_asset,
)

from dagster_project import dagster_internals, staleness

REPO = Path(__file__).resolve().parents[2]
WRAPPER = REPO / "dagster_project" / "dagster_internals.py"


def _private_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        found += [f"{path.relative_to(REPO)}:{node.lineno} imports {n}" for n in names if n.startswith("dagster._")]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("dagster._"):
            found.append(f"{path.relative_to(REPO)}:{node.lineno} names {node.value!r}")
    return found


def test_only_the_wrapper_touches_dagster_private_modules() -> None:
    paths = [p for p in REPO.rglob("*.py") if not {".venv", ".git", ".infosift", "node_modules"} & set(p.parts)]
    skip = (WRAPPER, Path(__file__).resolve())  # the one module allowed, and this test that names the prefix
    found = [line for p in sorted(paths) if p not in skip for line in _private_imports(p)]
    assert found == [], ("Dagster's private modules are used only in dagster_project/dagster_internals.py "
                         "(add the name there, with why):\n" + "\n".join(found))


def test_the_installed_dagster_has_every_private_name_used() -> None:
    problems = dagster_internals._problems()
    assert problems == [], f"dagster {dagster.__version__}: " + "; ".join(problems)
    dagster_internals.check_compatible()


def test_an_incompatible_dagster_is_named_with_what_it_lacks(monkeypatch) -> None:
    monkeypatch.setattr(dagster_internals, "USED", (*dagster_internals.USED, ("dagster._time", "no_such_thing", ())))
    try:
        dagster_internals.check_compatible()
    except dagster_internals.IncompatibleDagster as error:
        assert "dagster._time.no_such_thing is gone" in str(error) and dagster.__version__ in str(error)
    else:
        raise AssertionError("check_compatible() accepted a Dagster without dagster._time.no_such_thing")


def _graph(spec_version: str, code_version: str):
    parts = StaticPartitionsDefinition(["a", "b"])

    @observable_source_asset(partitions_def=parts)
    def spec(context) -> dagster.DataVersionsByPartition:
        return dagster.DataVersionsByPartition({"a": DataVersion(spec_version), "b": DataVersion("fixed")})

    @asset(deps=[spec], partitions_def=parts, code_version="1")
    def made(context) -> MaterializeResult:  # its content, and so its data version, follows the spec's
        return MaterializeResult(data_version=DataVersion(spec_version if context.partition_key == "a" else "fixed"))

    @asset(deps=[made], partitions_def=parts, code_version=code_version)
    def reported() -> None:
        return None

    @asset(code_version="1")
    def never_run() -> None:
        return None

    return [spec, made, reported, never_run]


def test_a_real_instance_answers_fresh_stale_and_missing() -> None:
    key_made, key_reported, key_never = AssetKey("made"), AssetKey("reported"), AssetKey("never_run")
    with DagsterInstance.ephemeral() as instance:
        assets = _graph("v1", "1")
        assert staleness.observe([assets[0]], instance=instance).success
        for partition in ("a", "b"):
            assert materialize(assets[1:3], instance=instance, partition_key=partition).success
        graph = Definitions(assets=assets).resolve_asset_graph()
        assert staleness.status(instance, graph, key_made, "a") == staleness.StaleStatus.FRESH
        assert staleness.status(instance, graph, key_reported, "b") == staleness.StaleStatus.FRESH
        assert staleness.status(instance, graph, key_never) == staleness.StaleStatus.MISSING

        # the source's data version changes for partition "a" only: "a" and its downstream are stale, "b" is not
        changed = _graph("v2", "1")
        assert staleness.observe([changed[0]], instance=instance).success
        graph = Definitions(assets=changed).resolve_asset_graph()
        assert staleness.status(instance, graph, key_made, "a") == staleness.StaleStatus.STALE
        assert staleness.status(instance, graph, key_made, "b") == staleness.StaleStatus.FRESH
        why = staleness.why_stale(instance, graph, key_made, "a")
        assert why and all("spec [a]" in line and "data version" in line for line in why), why
        # once "made [a]" runs again, its new data version makes "reported [a]" stale in turn
        assert materialize(changed[1:2], instance=instance, partition_key="a").success
        assert staleness.status(instance, graph, key_made, "a") == staleness.StaleStatus.FRESH
        assert staleness.status(instance, graph, key_reported, "a") == staleness.StaleStatus.STALE
        assert staleness.status(instance, graph, key_reported, "b") == staleness.StaleStatus.FRESH

        # a new code version makes that asset stale in every partition, and nothing upstream of it
        recoded = _graph("v2", "2")
        graph = Definitions(assets=recoded).resolve_asset_graph()
        assert staleness.status(instance, graph, key_made, "b") == staleness.StaleStatus.FRESH
        assert staleness.status(instance, graph, key_reported, "b") == staleness.StaleStatus.STALE
        assert any("code version" in line for line in staleness.why_stale(instance, graph, key_reported, "b"))
