"""The reader of ``mnist.pkl.gz``: a pickle interpreter that builds tuples of NumPy arrays
of MNIST's shapes, and nothing else.

It is not `pickle.Unpickler`.  It knows the two dozen instructions that write tuples of
NumPy arrays (protocols 2 to 4) and no others, and it calls nothing the file names: the
three globals an MNIST pickle uses are matched by name, an array is allocated only once
its shape, dtype and byte count are checked against what MNIST can hold, and its data
are read from the file straight into it.  So a hostile file can neither run code nor
make the process build big objects: it reads at most 220 MB of array data and 10000
instructions, and anything else is refused before it is acted on.
"""

from __future__ import annotations

import math
import pickletools
import struct
from typing import Any

import numpy as np

from mlp.datafile import Source, to_native

__all__ = ["read_mnist_pickle", "RefusedError", "MNIST_PIXELS", "MNIST_MAX_IMAGES"]

#: MNIST's images are rows of 28 x 28 pixels, at most 70000 of them in a split
MNIST_PIXELS = 784
MNIST_MAX_IMAGES = 70_000
# all the array data a pickle may hold: 70000 float32 images and their int64 labels (the
# classic file holds 50000 + 10000 + 10000 of each: 220 MB)
_PICKLE_MAX_ARRAY_BYTES = MNIST_MAX_IMAGES * (MNIST_PIXELS * 4 + 8)
# the classic file has 151 instructions; a string other than an array's data is a dtype
# code or a module name
_PICKLE_MAX_OPS = 10_000
_PICKLE_MAX_TEXT = 100

_OP_NAMES = {op.code.encode("latin-1"): op.name for op in pickletools.opcodes}
# instructions that look up or call something, or build other objects through classes
_CALLING_OPS = {"INST", "OBJ", "NEWOBJ", "NEWOBJ_EX", "EXT1", "EXT2", "EXT4", "PERSID",
                "BINPERSID", "GLOBAL", "STACK_GLOBAL", "REDUCE", "BUILD"}

_DTYPE_CODES = frozenset({"f4", "f8", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"})


class _Global:
    """One of the globals an MNIST pickle names, matched by name and never imported."""

    def __init__(self, name: str) -> None:
        self.name = name


_RECONSTRUCT, _NDARRAY, _DTYPE = (_Global("_reconstruct"), _Global("ndarray"),
                                  _Global("dtype"))
_PICKLE_GLOBALS: dict[tuple[str, str], _Global] = {
    ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,  # NumPy 1 (the classic file)
    ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,  # NumPy 2
    ("numpy", "ndarray"): _NDARRAY,
    ("numpy", "dtype"): _DTYPE,
}


class _Dtype:
    """``numpy.dtype(code)`` as the pickle builds it; its state then sets the byte order."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.byteorder: str | None = None

    def dtype(self) -> np.dtype:
        if self.byteorder is None:
            raise ValueError("a dtype is used before its byte order is set")
        return np.dtype(self.code).newbyteorder(self.byteorder)


class _Array:
    """An array the pickle has begun (an empty placeholder) and fills in with BUILD."""

    def __init__(self) -> None:
        self.array: np.ndarray | None = None


class _Data:
    """An array's data, read from the file straight into the array."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array


_MARK = object()


class RefusedError(Exception):
    """The pickle asks for something an MNIST pickle does not (a function, a class, an
    object's state); nothing of it was acted on."""


class _MnistPickleReader:
    """Reads a pickle of tuples of NumPy arrays of MNIST's shapes, and nothing else."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.stack: list[Any] = []
        self.memo: dict[int, Any] = {}
        self.array_bytes = 0

    # -- the stack --

    def _pop_mark(self) -> list[Any]:
        for k in range(len(self.stack) - 1, -1, -1):
            if self.stack[k] is _MARK:
                items = self.stack[k + 1:]
                del self.stack[k:]
                return items
        raise ValueError("a tuple without its opening mark")

    def _pop(self, n: int = 1) -> list[Any]:
        if len(self.stack) < n or any(item is _MARK for item in self.stack[-n:]):
            raise ValueError("an instruction finds too few values on the stack")
        items = self.stack[-n:]
        del self.stack[-n:]
        return items

    # -- arrays --

    def _check_array(self, shape: Any, dtype: Any, n_bytes: int | None = None) -> np.dtype:
        if not (isinstance(shape, tuple) and all(type(d) is int for d in shape)
                and (shape[1:] in ((), (MNIST_PIXELS,)))
                and 0 <= (shape[0] if shape else -1) <= MNIST_MAX_IMAGES):
            raise ValueError(f"an array of shape {shape!r}; MNIST's arrays are (n, "
                             f"{MNIST_PIXELS}) images and (n,) labels, n <= "
                             f"{MNIST_MAX_IMAGES}")
        if not isinstance(dtype, _Dtype):
            raise ValueError("an array's dtype is not a NumPy dtype")
        resolved = dtype.dtype()
        size = math.prod(shape) * resolved.itemsize
        if n_bytes is not None and n_bytes != size:
            raise ValueError(f"an array of shape {shape} and dtype {resolved.name} with "
                             f"{n_bytes} bytes of data, not {size}")
        if self.array_bytes + size > _PICKLE_MAX_ARRAY_BYTES:
            raise ValueError(f"more array data than MNIST holds ({_PICKLE_MAX_ARRAY_BYTES} "
                             f"bytes: {MNIST_MAX_IMAGES} float32 images and their labels)")
        return resolved

    def _array_data(self, n_bytes: int) -> _Data:
        """A long string: only an array's data, read into the array checked for it."""
        s = self.stack
        if not (len(s) >= 6 and s[-5] is _MARK and isinstance(s[-6], _Array)
                and s[-6].array is None and type(s[-4]) is int and s[-4] == 1):
            raise ValueError(f"a string of {n_bytes} bytes that is not an array's data")
        shape, dtype, fortran = s[-3], s[-2], s[-1]
        resolved = self._check_array(shape, dtype, n_bytes)
        if n_bytes > self.source.most_left():
            raise ValueError(f"an array's data of {n_bytes} bytes, more than the rest of the "
                             f"file can hold")
        self.array_bytes += n_bytes
        flat = np.empty(math.prod(shape), dtype=resolved)
        self.source.fill(flat, "an array's data")
        return _Data(to_native(flat).reshape(shape, order="F" if fortran else "C"))

    def _build_array(self, target: _Array, state: Any) -> None:
        if target.array is not None:
            raise ValueError("an array is filled in twice")
        if not (isinstance(state, tuple) and len(state) == 5 and state[0] == 1):
            raise ValueError("an array's state is not (1, shape, dtype, fortran, data)")
        _, shape, dtype, fortran, data = state
        if not isinstance(dtype, _Dtype):
            raise ValueError("an array's dtype is not a NumPy dtype")
        if isinstance(data, _Data):
            if data.array.shape != shape or data.array.dtype != dtype.dtype().newbyteorder("="):
                raise ValueError("an array's data were read for another shape")
            target.array = data.array
            return
        if isinstance(data, str):  # a Python 2 string, decoded as latin-1 to keep bytes
            data = data.encode("latin-1")
        if not isinstance(data, bytes):
            raise ValueError("an array's data are not bytes")
        resolved = self._check_array(shape, dtype, len(data))
        self.array_bytes += len(data)
        flat = np.frombuffer(data, dtype=resolved).copy()
        target.array = to_native(flat).reshape(shape, order="F" if fortran else "C")

    @staticmethod
    def _build_dtype(target: _Dtype, state: Any) -> None:
        if not (isinstance(state, tuple) and len(state) in (8, 9) and state[0] in (3, 4)
                and state[1] in ("<", ">", "|", "=") and state[2:5] == (None, None, None)):
            raise ValueError("a dtype's state is not that of a plain number type")
        target.byteorder = state[1]

    def _reduce(self, func: Any, args: Any) -> Any:
        if func is _RECONSTRUCT:
            if not (isinstance(args, tuple) and len(args) == 3 and args[0] is _NDARRAY
                    and args[1] == (0,) and args[2] in ("b", b"b")):
                raise RefusedError("calls _reconstruct with arguments other than an empty array's")
            return _Array()
        if func is _DTYPE:
            if not (isinstance(args, tuple) and len(args) == 3
                    and (args[0].decode("latin-1") if isinstance(args[0], bytes) else args[0])
                    in _DTYPE_CODES and all(a in (0, 1) for a in args[1:])):
                raise RefusedError(f"asks for the dtype {args!r:.60}, not a plain number type")
            code = args[0]
            return _Dtype(code.decode("latin-1") if isinstance(code, bytes) else code)
        raise RefusedError(f"calls {_describe(func)}, which an MNIST pickle does not")

    # -- the loop --

    def _text(self, n: int, encoding: str | None) -> Any:
        if n > _PICKLE_MAX_TEXT:
            return self._array_data(n)
        raw = self.source.read(n, "a string")
        return raw if encoding is None else raw.decode(encoding)

    def _int(self, fmt: str, size: int) -> int:
        return int(struct.unpack(fmt, self.source.read(size, "a number"))[0])

    def load(self) -> Any:
        """Run the instructions up to STOP; returns the object built.

        Raises `RefusedError` for what an MNIST pickle does not ask for, `ValueError`
        (or `UnicodeDecodeError`) for a malformed pickle.
        """
        for _ in range(_PICKLE_MAX_OPS):
            at = self.source.offset
            code = self.source.read(1, "the pickle (it has no STOP instruction)")
            name = _OP_NAMES.get(code)
            if name is None:
                raise ValueError(f"byte {code.hex()} at offset {at} is not a pickle "
                                 f"instruction")
            if name == "STOP":
                if len(self.stack) != 1 or self.stack[0] is _MARK:
                    raise ValueError("STOP with other than one value on the stack")
                return self._finished(self.stack[0])
            handler = getattr(self, f"_op_{name.lower()}", None)
            if handler is None:
                if name in _CALLING_OPS:
                    raise RefusedError(f"uses {name}, which an MNIST pickle does not")
                raise ValueError(f"it uses {name} at offset {at}, which an MNIST pickle "
                                 f"does not")
            handler()
        raise ValueError(f"more than {_PICKLE_MAX_OPS} instructions (the classic MNIST "
                         f"pickle has 151)")

    def _finished(self, obj: Any, depth: int = 0) -> Any:
        """`obj` with every array placeholder replaced by its array."""
        if isinstance(obj, _Array):
            if obj.array is None:
                raise ValueError("an array is begun but never filled in")
            return obj.array
        if isinstance(obj, tuple) and depth < 3:
            return tuple(self._finished(item, depth + 1) for item in obj)
        return obj

    def _op_proto(self) -> None:
        if self.source.byte("the protocol") not in (2, 3, 4):
            raise ValueError("a pickle protocol other than 2, 3 or 4")

    def _op_frame(self) -> None:
        self._int("<Q", 8)  # a hint for buffering; the stream is read as it comes

    def _op_mark(self) -> None:
        self.stack.append(_MARK)

    def _op_tuple(self) -> None:
        self.stack.append(tuple(self._pop_mark()))

    def _op_empty_tuple(self) -> None:
        self.stack.append(())

    def _op_tuple1(self) -> None:
        self.stack.append(tuple(self._pop(1)))

    def _op_tuple2(self) -> None:
        self.stack.append(tuple(self._pop(2)))

    def _op_tuple3(self) -> None:
        self.stack.append(tuple(self._pop(3)))

    def _op_none(self) -> None:
        self.stack.append(None)

    def _op_newtrue(self) -> None:
        self.stack.append(True)

    def _op_newfalse(self) -> None:
        self.stack.append(False)

    def _op_binint(self) -> None:
        self.stack.append(self._int("<i", 4))

    def _op_binint1(self) -> None:
        self.stack.append(self.source.byte("a number"))

    def _op_binint2(self) -> None:
        self.stack.append(self._int("<H", 2))

    def _op_long1(self) -> None:
        n = self.source.byte("a number")
        if n > 8:
            raise ValueError(f"an integer of {n} bytes")
        self.stack.append(int.from_bytes(self.source.read(n, "a number"), "little",
                                          signed=True))

    def _op_short_binstring(self) -> None:
        self.stack.append(self._text(self.source.byte("a string"), "latin-1"))

    def _op_binstring(self) -> None:
        n = self._int("<i", 4)
        if n < 0:
            raise ValueError("a string of negative length")
        self.stack.append(self._text(n, "latin-1"))

    def _op_short_binbytes(self) -> None:
        self.stack.append(self._text(self.source.byte("bytes"), None))

    def _op_binbytes(self) -> None:
        self.stack.append(self._text(self._int("<I", 4), None))

    def _op_binbytes8(self) -> None:
        self.stack.append(self._text(self._int("<Q", 8), None))

    def _op_short_binunicode(self) -> None:
        self.stack.append(self._short_unicode(self.source.byte("a string")))

    def _op_binunicode(self) -> None:
        self.stack.append(self._short_unicode(self._int("<I", 4)))

    def _short_unicode(self, n: int) -> str:
        if n > _PICKLE_MAX_TEXT:
            raise ValueError(f"a text string of {n} bytes")
        return self.source.read(n, "a string").decode("utf-8")

    def _global(self, module: str, name: str) -> None:
        found = _PICKLE_GLOBALS.get((module, name))
        if found is None:
            raise RefusedError(f"asks for {module}.{name}, and an MNIST pickle holds only NumPy "
                           f"arrays")
        self.stack.append(found)

    def _op_global(self) -> None:
        module = self.source.readline(_PICKLE_MAX_TEXT, "a module name")
        name = self.source.readline(_PICKLE_MAX_TEXT, "a global's name")
        self._global(module.decode("utf-8"), name.decode("utf-8"))

    def _op_stack_global(self) -> None:
        module, name = self._pop(2)
        if not (isinstance(module, str) and isinstance(name, str)):
            raise ValueError("STACK_GLOBAL on values that are not names")
        self._global(module, name)

    def _memo_put(self, index: int) -> None:
        if not self.stack or self.stack[-1] is _MARK:
            raise ValueError("memoizing an empty stack")
        self.memo[index] = self.stack[-1]

    def _memo_get(self, index: int) -> None:
        if index not in self.memo:
            raise ValueError(f"memo entry {index} used before it is stored")
        self.stack.append(self.memo[index])

    def _op_binput(self) -> None:
        self._memo_put(self.source.byte("a memo index"))

    def _op_long_binput(self) -> None:
        self._memo_put(self._int("<I", 4))

    def _op_memoize(self) -> None:
        self._memo_put(len(self.memo))

    def _op_binget(self) -> None:
        self._memo_get(self.source.byte("a memo index"))

    def _op_long_binget(self) -> None:
        self._memo_get(self._int("<I", 4))

    def _op_reduce(self) -> None:
        func, args = self._pop(2)
        self.stack.append(self._reduce(func, args))

    def _op_build(self) -> None:
        (state,) = self._pop(1)
        target = self.stack[-1] if self.stack else None
        if isinstance(target, _Array):
            self._build_array(target, state)
        elif isinstance(target, _Dtype):
            self._build_dtype(target, state)
        else:
            raise RefusedError(f"sets the state of {_describe(target)}, which an MNIST "
                           f"pickle does not")


def _describe(obj: Any) -> str:
    """What a value on the reader's stack is, in the words of a message."""
    if isinstance(obj, _Global):
        return obj.name
    kinds = {_Array: "an array", _Dtype: "a dtype", _Data: "an array's data"}
    if obj is _MARK:
        return "a mark"
    return kinds.get(type(obj), f"a {type(obj).__name__}")


def read_mnist_pickle(source: Source) -> Any:
    """The object the pickle in `source` builds: tuples (at most three deep) of arrays.

    Raises `RefusedError` or `ValueError` as `_MnistPickleReader.load` does.
    """
    return _MnistPickleReader(source).load()
