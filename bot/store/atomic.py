"""Durable file replacement: the one way newsbot rewrites a file it must not lose."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

TEMP_SUFFIX = ".tmp"


def write_atomically(path: Path, data: bytes | Iterable[bytes], *, keep_mode: bool = False) -> None:
    """Replace ``path`` with ``data`` (bytes, or chunks of them written as they come, so a
    large file need not be in memory whole): a temporary file beside it (``.<name>.*.tmp``), fsync,
    rename over the old file, fsync the folder. A crash leaves the old file or the new one,
    never a mix. ``keep_mode`` gives the new file the old one's permissions (0644 when new)
    instead of the private 0600 of a fresh temporary file."""
    mode: int | None = None
    if keep_mode:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o644
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    try:
        with os.fdopen(fd, "wb") as tmp:
            if isinstance(data, bytes):
                tmp.write(data)
            else:
                for chunk in data:
                    tmp.write(chunk)
            tmp.flush()
            if mode is not None:
                os.fchmod(tmp.fileno(), mode)
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename, creation or unlink in ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
