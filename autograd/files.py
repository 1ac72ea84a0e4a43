"""Atomic file writes, for every file the library writes (models, pictures, pages).

A reader (or a crash) sees the old file or the new one, never half of one; and the write
respects what is there: a symlink is written through (it stays a link), an existing
file keeps its permission bits, and a read-only file is refused as `open` refuses it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike[str], data: bytes | str, *,
                 make_parents: bool = False) -> Path:
    """Write `data` (str as UTF-8) to `path` atomically; returns `path` as a `Path`.

    The bytes go to a temporary file in the directory of the file to be replaced, are
    flushed to disk, then the temporary file is renamed over it (`os.replace` is
    atomic).  So:

    * if `path` is a symlink, the file it points to is replaced and the link stays a
      link (as ``open(path, "w")`` would write through it);
    * a device or a pipe (``/dev/stdout``, a FIFO) is written to, not replaced;
    * an existing file keeps its permission bits (a new one gets the umask's, as with
      `open`);
    * a file this process may not write (read-only, for a user other than root) is
      refused with `PermissionError`, as `open` refuses it, and left as it was;
    * if anything fails, including a `KeyboardInterrupt` during the write, the
      temporary file is removed and an existing file is left as it was.

    Errors are `OSError`s whose message names `path`, never the temporary file.  With
    `make_parents` a missing directory is created; without, it is an error naming it.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    # Through a symlink (however many), to the file that is really replaced.
    destination = Path(os.path.realpath(target)) if target.is_symlink() else target.absolute()
    directory = destination.parent
    if make_parents:
        directory.mkdir(parents=True, exist_ok=True)
    existing = _existing_file(destination, target)
    mode = None if existing is None else stat.S_IMODE(existing.st_mode)
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        # A device or a pipe (/dev/stdout, /dev/null, a FIFO) is written to, as open()
        # would: renaming a file over it would replace the device node itself.
        try:
            with open(destination, "wb") as handle:
                handle.write(payload)
        except OSError as exc:
            raise _named(exc, target, exc.strerror or str(exc)) from None
        return target
    temp = directory / f".{destination.name}.{secrets.token_hex(6)}.tmp"
    try:
        # 0o666 lets the umask decide a new file's permissions, as a plain open() would.
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as exc:
        problem = (f"the directory {directory} does not exist" if not directory.is_dir()
                   else f"cannot create a file in {directory} ({exc.strerror})")
        raise _named(exc, target, problem) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, destination)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        if isinstance(exc, OSError):
            raise _named(exc, target, exc.strerror or str(exc)) from None
        raise
    return target


def _existing_file(destination: Path, target: Path) -> os.stat_result | None:
    """What is at `destination` now (None if nothing); refuses a directory, and a file
    this process may not write."""
    try:
        info = os.stat(destination)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _named(exc, target, exc.strerror or str(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, f"cannot write {target}: it is a directory")
    # os.access asks the kernel as open() would: root may write a read-only file (so may
    # we, then), anyone else may not.
    if not os.access(destination, os.W_OK):
        raise PermissionError(errno.EACCES, f"cannot write {target}: permission denied "
                                            f"(the file is read-only)")
    return info


def _named(exc: OSError, target: Path, problem: str) -> OSError:
    """`exc` again, of the same type, with a message naming the user's path."""
    return type(exc)(exc.errno, f"cannot write {target}: {problem}")
