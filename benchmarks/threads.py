"""BLAS threads for the benchmarks: one unless ``--threads N`` says otherwise.

BLAS (NumPy's matrix products, and PyTorch's) reads its thread count once, when it is
loaded, so `pin_blas_threads` must run before NumPy is imported.  One thread by default,
as the demos use: the figures are then steady on a busy machine, and the engines are
compared doing the same work (a thread pool that helps one side and not the other is
not what is being measured).  The environment's own settings are overridden, so that two
runs compare.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def pin_blas_threads(argv: Sequence[str] | None = None) -> int:
    """Set every BLAS library's thread count to ``--threads N`` from `argv` (default:
    the command line), 1 if absent; returns it.  Call before NumPy is imported."""
    if "numpy" in sys.modules:
        raise RuntimeError("NumPy is already loaded: its BLAS threads are fixed")
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--threads", type=int, default=1)
    known, _ = early.parse_known_args(sys.argv[1:] if argv is None else argv)
    threads = max(1, known.threads)
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    return threads


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    """``--threads N`` in the benchmark's own help (`pin_blas_threads` has read it)."""
    parser.add_argument("--threads", type=int, default=1, metavar="N",
                        help="BLAS threads, set before NumPy loads (default: %(default)s; "
                             "the environment's *_NUM_THREADS are overridden)")
