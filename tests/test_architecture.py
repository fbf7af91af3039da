"""Imports point down (ARCHITECTURE.md): dagster_project -> assets -> resources -> selection_ops -> foundation.

Every ``import`` of every module, including imports inside functions, is read with ``ast`` (nothing is imported),
so a lazy upward import fails here as surely as a top-level one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("dagster_project", "assets", "resources", "selection_ops")
FOUNDATION = "selection_ops.foundation"


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join([*package[:len(package) - node.level + 1], *([base] if base else [])])
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)  # ``from pkg import module``
    return names


def modules_of(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (REPO / package).rglob("*.py"))


def within(name: str, *roots: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def violations(paths: list[Path], forbidden: tuple[str, ...], allowed: tuple[str, ...] = ()) -> list[str]:
    found = []
    for path in paths:
        for name in sorted(imported_modules(path)):
            if within(name, *forbidden) and not within(name, *allowed):
                found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


def test_the_packages_exist() -> None:
    for package in (*PACKAGES, "selection_ops/foundation", "selection_ops/study"):
        assert (REPO / package / "__init__.py").is_file(), package


def test_foundation_imports_nothing_of_the_repository() -> None:
    paths = modules_of("selection_ops/foundation")
    assert paths
    assert violations(paths, (*PACKAGES, "dagster", "mlflow"), allowed=(FOUNDATION,)) == []


def test_selection_ops_is_plain_python() -> None:
    paths = [p for p in modules_of("selection_ops") if "foundation" not in p.parts]
    assert violations(paths, ("dagster", "dagster_project", "assets", "resources", "dagster_ray")) == []


def test_the_study_declarations_are_plain_python() -> None:
    """The grid and its cell keys (``selection_ops.study``), which assets build their partitions from."""
    paths = modules_of("selection_ops/study")
    assert {p.name for p in paths} >= {"grid.py", "cells.py"}
    assert violations(paths, ("dagster", "dagster_project", "assets", "resources", "mlflow")) == []


def test_resources_never_import_assets_or_dagster_project() -> None:
    assert violations(modules_of("resources"), ("assets", "dagster_project")) == []


def test_benchmarks_measure_plain_code() -> None:
    assert violations(modules_of("benchmarks"), ("assets", "dagster_project")) == []


def test_assets_never_import_dagster_project() -> None:
    assert violations(modules_of("assets"), ("dagster_project",)) == []


@pytest.mark.parametrize(("source", "expected"), [
    ("import dagster\n", {"dagster"}),
    ("def f():\n    from resources.annotators import TaggerResource\n",
     {"resources.annotators", "resources.annotators.TaggerResource"}),
    ("from . import config\n", {"selection_ops.annotation", "selection_ops.annotation.config"}),
    ("from ..foundation import paths\n", {"selection_ops.foundation", "selection_ops.foundation.paths"}),
])
def test_the_checker_sees_lazy_and_relative_imports(tmp_path: Path, source: str, expected: set[str],
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "selection_ops" / "annotation" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(source)
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert imported_modules(fake) == expected


def test_an_upward_import_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upward = tmp_path / "resources" / "tracker.py"
    upward.parent.mkdir(parents=True)
    upward.write_text("def uri():\n    from dagster_project.study import load_study\n    return load_study\n")
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    assert violations([upward], ("assets", "dagster_project")) == [
        "resources/tracker.py imports dagster_project.study",
        "resources/tracker.py imports dagster_project.study.load_study"]
