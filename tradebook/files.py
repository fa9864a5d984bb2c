"""Atomic file writes: a temporary file beside the target, then ``os.replace``.

A reader never sees a half-written file, and a failed write leaves the old file
(or nothing) in place.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: Path, *, mode: int | None = None) -> Iterator[Path]:
    """A temporary path beside ``path``: write it inside the block; on success it
    replaces ``path`` with ``mode`` (default: what a plain ``open`` would give, not
    mkstemp's 0600); on failure it is removed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~current_umask() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: Path, payload: bytes, *, mode: int | None = None) -> Path:
    """Write ``payload`` to ``path`` atomically; return ``path``."""
    with atomic_path(path, mode=mode) as tmp:
        tmp.write_bytes(payload)
    return path


def write_text_atomic(path: Path, text: str, *, encoding: str = "utf-8",
                      newline: str | None = None, mode: int | None = None) -> Path:
    """Write ``text`` to ``path`` atomically (``newline=""`` keeps line ends as given)."""
    with atomic_path(path, mode=mode) as tmp:
        with open(tmp, "w", encoding=encoding, newline=newline) as fh:
            fh.write(text)
    return path
