"""The benchmark scripts still run, and their own checks still hold (no timing is asserted).

`benchmarks/iris.py` stops unless its hand-written floor ends the demo's training with
the demo's weights; the README quotes that agreement.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_iris_floor_does_the_demos_training() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "iris.py"), "--rounds", "1"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    match = re.search(r"end with the same weights \(largest difference (\S+)\)", done.stdout)
    assert match is not None, done.stdout
    assert float(match.group(1)) <= 1e-9
    for row in ("hand-written plain Python (floor)", "the demo (autograd + mlp, value engine)",
                'the same on engine="tensor"'):
        assert re.search(re.escape(row) + r"\s+[\d.]+ s\s+[\d.]+x", done.stdout), done.stdout
