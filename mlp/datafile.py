"""Reading data files safely: the errors of the data readers, and a bounded byte source.

A `Source` reads a file front to back as a stream, gunzipping it on the fly when it
starts with gzip's magic bytes, so a small compressed file never turns into a large
buffer in memory: the readers above it decide how many bytes they may take before they
take them.  Every failure is a one-line error naming the file.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

__all__ = ["DataFormatError", "UnsafePickleError", "MnistNotFoundError", "Source",
           "open_source", "to_native", "first_line"]


class DataFormatError(ValueError):
    """A data file that is not what it claims to be (the message names the file)."""


class UnsafePickleError(DataFormatError):
    """A pickle that asks for anything but NumPy arrays; it was not loaded."""


class MnistNotFoundError(FileNotFoundError):
    """No MNIST data where we looked; the message says how to get it."""


GZIP_MAGIC = b"\x1f\x8b"
# Deflate cannot expand data more than 1032-fold, so a gzip file of n bytes holds at most
# 1032 n bytes: a header promising more is refused before anything is decompressed.
MAX_GZIP_RATIO = 1032
_CHUNK = 2**20


def first_line(error: BaseException) -> str:
    """The first line of an error's message (or its type's name when it has none)."""
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


class Source:
    """A data file read front to back (gunzipped on the fly when it is gzip); every read
    is checked, and failures name the file."""

    def __init__(self, handle: BinaryIO, path: Path) -> None:
        self.path = path
        self.file_size = os.fstat(handle.fileno()).st_size
        self.compressed = handle.read(2) == GZIP_MAGIC
        handle.seek(0)
        self._stream: BinaryIO = (gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[assignment]
                                  if self.compressed else handle)
        self.offset = 0  # bytes read so far, after decompression

    def most_bytes(self) -> int:
        """The most bytes (after decompression) this file can hold."""
        return self.file_size * MAX_GZIP_RATIO if self.compressed else self.file_size

    def most_left(self) -> int:
        """The most bytes (after decompression) still to come."""
        return self.most_bytes() - self.offset

    def _broken(self, error: BaseException) -> DataFormatError:
        return DataFormatError(f"{self.path}: broken gzip data ({first_line(error)})")

    def read_at_most(self, n: int) -> bytes:
        """Up to `n` bytes (fewer at the end of the file)."""
        try:
            data = self._stream.read(n)
        except (OSError, EOFError, zlib.error) as error:
            raise self._broken(error) from None
        self.offset += len(data)
        return data

    def read(self, n: int, what: str) -> bytes:
        """Exactly `n` bytes (`n` small), else an error saying that `what` is cut short."""
        data = self.read_at_most(n)
        if len(data) != n:
            raise DataFormatError(f"{self.path}: {what} cut short (the file ends after "
                                  f"{self.offset} bytes)")
        return data

    def byte(self, what: str) -> int:
        """One unsigned byte."""
        return self.read(1, what)[0]

    def readline(self, limit: int, what: str) -> bytes:
        """One line of at most `limit` bytes, without its newline."""
        try:
            line = self._stream.readline(limit + 1)
        except (OSError, EOFError, zlib.error) as error:
            raise self._broken(error) from None
        self.offset += len(line)
        if not line.endswith(b"\n"):
            raise DataFormatError(f"{self.path}: {what} at offset {self.offset - len(line)} "
                                  f"is not a line of at most {limit} bytes")
        return line[:-1]

    def fill(self, array: np.ndarray, what: str) -> None:
        """Read exactly ``array.nbytes`` bytes into the contiguous `array`, a chunk at a
        time, so the data are never in memory twice."""
        view = memoryview(array).cast("B")
        done = 0
        while done < len(view):
            chunk = self.read_at_most(min(_CHUNK, len(view) - done))
            if not chunk:
                raise DataFormatError(f"{self.path}: {what} cut short: {len(view)} bytes "
                                      f"promised, the file holds {done}")
            view[done:done + len(chunk)] = chunk
            done += len(chunk)

    def at_end(self) -> bool:
        """Whether nothing follows (for gzip, reading to the end also checks its CRC)."""
        return not self.read_at_most(1)


@contextlib.contextmanager
def open_source(path: Path) -> Iterator[Source]:
    """`path` opened as a `Source`; a missing file is a `MnistNotFoundError`, a directory
    a `DataFormatError`."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise MnistNotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataFormatError(f"{path}: is a directory, not a data file") from None
    with handle:
        yield Source(handle, path)


def to_native(array: np.ndarray) -> np.ndarray:
    """`array` in the machine's byte order, swapped in place (no copy) when it is not."""
    if not array.dtype.isnative:
        array.byteswap(inplace=True)
    return array.view(array.dtype.newbyteorder("="))
