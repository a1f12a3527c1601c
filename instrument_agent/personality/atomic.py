"""Atomic file replacement: write a temporary sibling, flush it to disk, rename it over the target.

A reader sees the old file or the new one, never a half-written one; a failed
or interrupted write leaves the old file as it was and no temporary behind.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

__all__ = ["atomic_write", "atomic_writer"]


@contextlib.contextmanager
def atomic_writer(path: str | Path, mode: str = "wb", *, file_mode: int | None = None) -> Iterator[IO]:
    """Open a temporary file next to ``path``; when the block ends without an
    error it is fsynced and renamed over ``path``, otherwise removed.

    Args:
        path: the file to replace (its parent directory is created).
        mode: ``"wb"`` or ``"w"``.
        file_mode: permission bits for the new file (e.g. ``0o600`` for secrets).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if file_mode is not None:
            os.chmod(tmp, file_mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write(path: str | Path, data: bytes | str, *, file_mode: int | None = None) -> Path:
    """Replace ``path`` with ``data`` (bytes, or text written as UTF-8) atomically; returns ``path``."""
    with atomic_writer(path, "wb", file_mode=file_mode) as handle:
        handle.write(data.encode() if isinstance(data, str) else data)
    return Path(path)
