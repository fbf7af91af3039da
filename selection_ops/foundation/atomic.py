"""Files written whole or not at all: a temporary file beside the target, renamed into place when complete.

A killed process leaves the previous file (or none), never a truncated one that parses as a smaller result.
``check_output_path`` finds an unwritable output, or an output that would overwrite an input, before any work.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO


class OutputPathError(ValueError):
    """An output path that cannot be written, or that names one of the inputs."""


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yields a temporary path in ``target``'s folder; on success it is renamed to ``target``, on error removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def atomic_open(target: str | os.PathLike[str], mode: str = "w", encoding: str | None = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """``open`` for writing, atomically: the file appears at ``target`` only once the block ends without error.

    ``newline`` as for ``open`` (``""`` for the csv module)."""
    if "b" in mode:
        encoding = newline = None
    with atomic_path(target) as temporary:
        with open(temporary, mode, encoding=encoding, newline=newline) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())


def write_text_atomic(target: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``target`` atomically; returns the path."""
    with atomic_open(target, "w", encoding=encoding) as stream:
        stream.write(text)
    return Path(target)


def write_bytes_atomic(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically; returns the path."""
    with atomic_open(target, "wb") as stream:
        stream.write(data)
    return Path(target)


def check_output_path(output: str | os.PathLike[str], inputs: Iterable[str | os.PathLike[str] | None] = (),
                      *, option: str = "--out") -> Path:
    """Refuse, before any work, an output that is a folder, whose parent cannot be written, or that is an input.

    A missing parent folder is created (as the atomic writers would); an input that does not exist is ignored.
    """
    path = Path(output)
    resolved = path.resolve()
    for source in inputs:
        if source is None:
            continue
        source_path = Path(source)
        if source_path.exists() and (resolved == source_path.resolve()
                                     or (path.exists() and os.path.samefile(path, source_path))):
            raise OutputPathError(f"{option} {output} is also an input ({source}); refusing to overwrite it")
    if path.is_dir():
        raise OutputPathError(f"{option} {output} is a directory, not a file")
    parent = resolved.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputPathError(f"{option} {output}: cannot create its folder {parent} ({error.strerror})") from None
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputPathError(f"{option} {output}: folder {parent} is not writable")
    if path.exists() and not os.access(path, os.W_OK) and not os.access(parent, os.W_OK):
        raise OutputPathError(f"{option} {output} is not writable")
    return path
