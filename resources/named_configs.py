"""Config files named by a bare name in the project's folder (``training_configs/``, ``eval_configs/``) or by path."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def named_config(name: str | Path, folder: Path, suffixes: Sequence[str], what: str) -> Path:
    """An existing file with one of ``suffixes`` given as a path, else ``<folder>/<name><suffixes[0]>``.

    FileNotFoundError lists the names the folder offers, so a typo shows its fix.
    """
    candidate = Path(name)
    if candidate.suffix in suffixes and candidate.is_file():
        return candidate.resolve()
    named = folder / f"{name}{suffixes[0]}"
    if named.is_file():
        return named
    known = sorted(p.stem for p in folder.glob(f"*{suffixes[0]}"))
    raise FileNotFoundError(f"{what} {str(name)!r} not found (not a file, not one of {known})")
