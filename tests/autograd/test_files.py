"""`atomic_write`: all or nothing, through symlinks, keeping permissions, refusing what
`open` refuses, and never leaving a temporary file behind."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from autograd import files
from autograd.files import atomic_write

NOBODY = 65534


def _names(directory: Path) -> list[str]:
    return sorted(os.listdir(directory))


def test_writes_text_and_bytes_and_replaces(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    assert atomic_write(target, "é") == target
    assert target.read_bytes() == "é".encode()
    assert atomic_write(str(target), b"\x00\x01") == target
    assert target.read_bytes() == b"\x00\x01"
    assert _names(tmp_path) == ["m.json"]


def test_a_symlink_is_written_through_and_stays_a_link(tmp_path: Path) -> None:
    real = tmp_path / "data" / "model.json"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(Path("data") / "model.json")  # relative, as links often are
    chained = tmp_path / "current.json"
    chained.symlink_to(link)
    atomic_write(link, "new")
    assert link.is_symlink() and os.readlink(link) == os.path.join("data", "model.json")
    assert real.read_text() == "new"
    atomic_write(chained, "newer")
    assert chained.is_symlink() and link.is_symlink() and real.read_text() == "newer"
    assert _names(tmp_path) == ["current.json", "data", "latest.json"]
    assert _names(real.parent) == ["model.json"]


def test_a_dangling_symlink_creates_its_target_as_open_would(tmp_path: Path) -> None:
    link = tmp_path / "out.svg"
    link.symlink_to(tmp_path / "made.svg")
    atomic_write(link, "<svg/>")
    assert link.is_symlink() and (tmp_path / "made.svg").read_text() == "<svg/>"


def test_an_existing_file_keeps_its_permission_bits(tmp_path: Path) -> None:
    target = tmp_path / "private.json"
    target.write_text("old")
    for mode in (0o600, 0o640, 0o755):
        target.chmod(mode)
        atomic_write(target, "new")
        assert stat.S_IMODE(target.stat().st_mode) == mode
    link = tmp_path / "link.json"
    link.symlink_to(target)
    target.chmod(0o604)
    atomic_write(link, "via the link")
    assert stat.S_IMODE(target.stat().st_mode) == 0o604


def test_a_new_file_gets_the_permissions_open_gives(tmp_path: Path) -> None:
    old_umask = os.umask(0o027)
    try:
        atomic_write(tmp_path / "a", "x")
        with open(tmp_path / "b", "w") as handle:
            handle.write("x")
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) == \
        stat.S_IMODE((tmp_path / "b").stat().st_mode) == 0o640


def test_a_read_only_file_is_treated_as_open_treats_it(tmp_path: Path) -> None:
    """Whoever runs the tests: where `open` may write a read-only file (root), so may
    atomic_write; where it may not, atomic_write refuses too and changes nothing."""
    target = tmp_path / "frozen.json"
    target.write_text("old")
    target.chmod(0o444)
    try:
        with open(target, "a"):
            pass
        open_refuses = False
    except PermissionError:
        open_refuses = True
    if open_refuses:
        with pytest.raises(PermissionError, match=f"cannot write {target}"):
            atomic_write(target, "new")
        assert target.read_text() == "old"
    else:
        atomic_write(target, "new")
        assert target.read_text() == "new"
        assert stat.S_IMODE(target.stat().st_mode) == 0o444
    assert _names(tmp_path) == ["frozen.json"]


def _in_child_as_nobody(action: Callable[[], None]) -> str:
    """Run `action` in a forked child that has become user `nobody`; returns what it
    reports: "ok", or the type and message of the exception it raised."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_end)
            try:
                os.setgid(NOBODY)
                os.setuid(NOBODY)
            except OSError as error:
                raise _CannotSwitchUserError(str(error)) from None
            action()
            report = "ok"
        except BaseException as error:  # whatever it is, the parent hears of it
            report = f"{type(error).__name__}: {error}"
        try:
            os.write(write_end, report.encode())
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode()
    os.waitpid(pid, 0)
    if report.startswith(_CannotSwitchUserError.__name__):
        pytest.skip(f"cannot become user nobody to test as an ordinary user ({report})")
    return report


class _CannotSwitchUserError(Exception):
    """The child process could not give up root."""


@pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "geteuid"),
                    reason="needs POSIX fork and user ids")
def test_a_read_only_file_is_refused_for_an_ordinary_user() -> None:
    """The refusal itself.  Root may write any file (so open, and atomic_write, do); as
    root, the test checks the refusal in a child process that has become user `nobody`,
    owning the read-only file and its writable directory: a rename over the file would
    succeed there, so only atomic_write's own check stops it."""
    directory = Path(tempfile.mkdtemp(prefix="atomic-write-"))
    try:
        target = directory / "frozen.json"
        target.write_text("old")
        target.chmod(0o444)
        if os.geteuid() == 0:
            os.chown(directory, NOBODY, NOBODY)
            os.chown(target, NOBODY, NOBODY)
            report = _in_child_as_nobody(lambda: atomic_write(target, "new"))
            opened = _in_child_as_nobody(lambda: open(target, "w").close())
            assert opened.startswith("PermissionError"), opened  # open refuses it too
        else:
            with pytest.raises(PermissionError) as info:
                atomic_write(target, "new")
            report = f"PermissionError: {info.value}"
        assert report == (f"PermissionError: [Errno {errno.EACCES}] cannot write {target}: "
                          f"permission denied (the file is read-only)")
        assert target.read_text() == "old" and _names(directory) == ["frozen.json"]
    finally:
        for path in directory.iterdir():
            path.unlink()
        directory.rmdir()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX named pipes")
def test_a_pipe_is_written_to_not_replaced(tmp_path: Path) -> None:
    """A named pipe (like /dev/stdout or /dev/null, not a regular file) gets the data, as
    open() would give it; renaming a file over it would replace the pipe itself."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    link = tmp_path / "link"
    link.symlink_to(pipe)
    reader = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)  # so that opening to write won't wait
    try:
        atomic_write(pipe, b"through the pipe, ")
        atomic_write(link, "and through the link")
        assert os.read(reader, 100) == b"through the pipe, and through the link"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(pipe.stat().st_mode) and link.is_symlink()
    assert _names(tmp_path) == ["link", "pipe"]


def test_a_directory_is_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    with pytest.raises(IsADirectoryError, match=f"cannot write {tmp_path / 'out'}: it is a "
                                                f"directory"):
        atomic_write(tmp_path / "out", "x")
    assert _names(tmp_path) == ["out"] and _names(tmp_path / "out") == []


def test_a_missing_directory_is_named_or_made(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "c.txt"
    with pytest.raises(FileNotFoundError, match=f"the directory {target.parent} does not exist"):
        atomic_write(target, "x")
    assert atomic_write(target, "x", make_parents=True).read_text() == "x"


@pytest.mark.parametrize("failure", [
    KeyboardInterrupt(),
    OSError(errno.ENOSPC, "No space left on device"),
])
@pytest.mark.parametrize("where", ["fsync", "replace", "fchmod"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: BaseException,
        where: str) -> None:
    target = tmp_path / "model.json"
    target.write_text("old")
    calls: list[str] = []

    def fail(*args: object) -> None:
        calls.append(where)
        names = _names(tmp_path)
        assert len(names) == 2 and any(n.endswith(".tmp") for n in names)  # mid-write
        raise failure

    monkeypatch.setattr(files.os, where, fail)
    expected = (KeyboardInterrupt if isinstance(failure, KeyboardInterrupt) else OSError)
    with pytest.raises(expected) as info:
        atomic_write(target, "new")
    assert calls == [where]
    assert target.read_text() == "old" and _names(tmp_path) == ["model.json"]
    if expected is OSError:
        assert str(info.value) == (f"[Errno {errno.ENOSPC}] cannot write {target}: No space "
                                   f"left on device")
        assert info.value.errno == errno.ENOSPC


def test_errors_never_name_the_temporary_file(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def cross_device(source: object, destination: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link", str(source), None,
                      str(destination))

    monkeypatch.setattr(files.os, "replace", cross_device)
    with pytest.raises(OSError) as info:
        atomic_write(tmp_path / "m.json", "x")
    assert ".tmp" not in str(info.value) and str(tmp_path / "m.json") in str(info.value)
    assert _names(tmp_path) == []


@pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "geteuid"),
                    reason="needs POSIX fork and user ids")
def test_an_unwritable_directory_is_named() -> None:
    """As root, in a child that has become `nobody` (root may write in any directory)."""
    directory = Path(tempfile.mkdtemp(prefix="atomic-write-"))
    target = directory / "x.json"
    try:
        directory.chmod(0o555)
        if os.geteuid() == 0:
            report = _in_child_as_nobody(lambda: atomic_write(target, "x"))
        else:
            with pytest.raises(PermissionError) as info:
                atomic_write(target, "x")
            report = f"PermissionError: {info.value}"
        assert report == (f"PermissionError: [Errno {errno.EACCES}] cannot write {target}: "
                          f"cannot create a file in {directory} (Permission denied)")
        assert _names(directory) == []
    finally:
        directory.chmod(0o755)
        directory.rmdir()
