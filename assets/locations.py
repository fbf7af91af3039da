"""Where an asset's output really is: its file or folder as Dagster ``path`` metadata, with its size.

Every model, selection, evaluation and report asset shows the location a user would open, load or upload (the model
folder with its ``config.json``, the selection's ids file, the evaluation's work folder, the report's folder), not
the IO manager's pickle of the value handed downstream; ``resources/value_io.py`` keeps this ``path`` over the IO
manager's own.
"""

from __future__ import annotations

from pathlib import Path

from dagster import MetadataValue


def size_bytes(path: str | Path) -> int:
    """The bytes of a file, or of every file under a folder (links not followed)."""
    path = Path(path)
    if path.is_file():
        return path.stat().st_size
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def human_size(n_bytes: int) -> str:
    """``1.4 GB``, ``532.0 KB``, ``12 B``: decimal units, as file browsers show them."""
    value = float(n_bytes)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def location_metadata(path: str | Path, key: str = "path") -> dict:
    """``path`` (``MetadataValue.path``), ``size_bytes`` and ``size`` (``"1.4 GB"``) of a file or folder; another
    ``key`` gives ``key``, ``key_size_bytes``, ``key_size``. Raises FileNotFoundError naming ``path`` when it is
    absent: an asset that claims a location it did not write is a bug."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: the asset's output is not there")
    prefix = "" if key == "path" else f"{key}_"
    n_bytes = size_bytes(path)
    return {key: MetadataValue.path(str(path)), f"{prefix}size_bytes": n_bytes, f"{prefix}size": human_size(n_bytes)}
