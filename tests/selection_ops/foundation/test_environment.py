"""The environment table (``selection_ops/foundation/environment.py``) names every ``INFOSIFT_*`` variable the
code reads; each entry is read somewhere, its readers exist and name it; ``docs/environment.md`` is generated from
it."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from selection_ops.foundation import environment

REPO = Path(__file__).resolve().parents[3]
NAME = re.compile(r"INFOSIFT_[A-Z0-9_]*[A-Z0-9]")
SKIP_PARTS = {".venv", ".git", ".infosift", "tests", "node_modules", "build", "dist"}
TABLE = REPO / "selection_ops" / "foundation" / "environment.py"


def _sources() -> list[Path]:
    """Every .py and .sh file of the repository but the tests and the table itself (skipped folders not walked)."""
    files = []
    for folder, subfolders, names in os.walk(REPO):
        subfolders[:] = [d for d in subfolders if d not in SKIP_PARTS]
        files += [Path(folder) / n for n in names if n.endswith((".py", ".sh"))]
    return sorted(p for p in files if p != TABLE)


def _names_in(path: Path) -> set[str]:
    """``INFOSIFT_*`` names in a Python file's string literals (docstrings included), or anywhere in a script."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        return set(NAME.findall(text))
    literals = [node.value for node in ast.walk(ast.parse(text, filename=str(path)))
                if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    return {name for literal in literals for name in NAME.findall(literal)}


def _found() -> dict[str, list[str]]:
    where: dict[str, list[str]] = {}
    for path in _sources():
        for name in _names_in(path):
            where.setdefault(name, []).append(str(path.relative_to(REPO)))
    return where


def test_every_infosift_variable_in_the_code_is_in_the_table() -> None:
    missing = {name: files for name, files in _found().items() if name not in environment.BY_NAME}
    assert not missing, ("INFOSIFT_* variables named in the code but not in selection_ops/foundation/environment.py "
                         "(add them there with meaning, default and readers, then regenerate docs/environment.md):\n"
                         + "\n".join(f"  {name}: {', '.join(files)}" for name, files in sorted(missing.items())))


def test_every_table_entry_is_read_somewhere() -> None:
    found = _found()
    unread = [v.name for v in environment.VARIABLES if v.name.startswith("INFOSIFT_") and v.name not in found]
    assert not unread, f"in the environment table but named by no module or script: {unread}"


def test_each_reader_exists_and_names_its_variable() -> None:
    problems = []
    for variable in environment.VARIABLES:
        assert variable.meaning and variable.default and variable.readers, variable
        for reader in variable.readers:
            path = REPO / reader
            if not path.is_file():
                problems.append(f"{variable.name}: reader {reader} does not exist")
                continue
            text = path.read_text(encoding="utf-8")
            if variable.name not in text:  # a literal, a docstring, or the constant imported from the table
                problems.append(f"{variable.name}: {reader} does not name it")
    assert not problems, "\n".join(problems)


def test_names_and_constants_agree() -> None:
    assert len(environment.BY_NAME) == len(environment.VARIABLES), "a variable is listed twice"
    for variable in environment.VARIABLES:
        assert getattr(environment, variable.name) == variable.name


def test_the_docs_table_is_generated_from_the_module() -> None:
    docs = REPO / "docs" / "environment.md"
    assert docs.read_text(encoding="utf-8") == environment.markdown_table(), (
        "docs/environment.md is stale: python -m selection_ops.foundation.environment docs/environment.md")


def test_the_scan_sees_literals_and_docstrings_but_not_comments(tmp_path: Path) -> None:
    module = tmp_path / "reader.py"
    module.write_text('"""Reads ``$INFOSIFT_ALPHA``."""\nimport os\n# INFOSIFT_COMMENT\n'
                      'value = os.environ.get("INFOSIFT_BETA_2", "")\n', encoding="utf-8")
    assert _names_in(module) == {"INFOSIFT_ALPHA", "INFOSIFT_BETA_2"}
