"""Atomic file writes, for every file the library writes (models, pictures, pages).

A reader (or a crash) sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *,
                 make_parents: bool = False) -> Path:
    """Write `data` (str as UTF-8) to `path` atomically; returns the path written.

    The bytes go to a temporary file in the same directory, are flushed to disk, then
    the file is renamed over `path` (`os.replace` is atomic).  If anything fails, the
    temporary file is removed and an existing `path` is left as it was.  With
    `make_parents` a missing directory is created; without, it is an error naming it.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    directory = target.absolute().parent
    if make_parents:
        directory.mkdir(parents=True, exist_ok=True)
    temp = directory / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        # 0o666 lets the umask decide the permissions, as a plain open() would.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:  # name the file asked for, not the hidden temporary one
        problem = (f"the directory {directory} does not exist" if not directory.is_dir()
                   else f"cannot create a file in {directory} ({exc.strerror})")
        raise type(exc)(exc.errno, f"cannot write {target}: {problem}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target
