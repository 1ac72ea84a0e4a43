"""Scripts a newcomer runs: ``python -m demos.<name>``.

Run this way, the demos give BLAS (NumPy's matrix products) one thread unless
``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or ``MKL_NUM_THREADS`` says otherwise.  Their
matrices are small, and on a machine whose cores are busy with other work, BLAS threads
wait for each other: we measured an MNIST epoch taking 64 s with two threads and 1.1 s
with one (and 0.9 s against 1.1 s when the machine was idle).
"""

import os
import sys

if "numpy" not in sys.modules:  # it reads these only when it is first imported
    for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_name, "1")
