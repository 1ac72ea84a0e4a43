"""The README's examples run and print what the README says they print."""

from __future__ import annotations

import doctest
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def _python_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    return [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if ">>>" not in b]


def test_readme_has_the_two_setup_commands_and_ci_runs_its_test_command() -> None:
    text = README.read_text(encoding="utf-8")
    assert "python -m demos.iris" in text
    assert "python -m pytest -q" in text
    assert "python -m pytest -q" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


@pytest.mark.parametrize("index", range(len(_python_blocks())))
def test_python_blocks_run(index: int, tmp_path: Path) -> None:
    block = _python_blocks()[index]
    if shutil.which("dot") is None and re.search(
            r"\b(viz\.render|viz\.svg_text|\w+\.write_frames|\w+\.write_html|\w+\.write_gif)\(",
            block):
        pytest.skip("Graphviz's `dot` program is not installed (the block draws pictures)")
    script = tmp_path / "example.py"
    script.write_text(block, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    if "print(x.grad, y.grad, z.grad)" in block:
        assert done.stdout.split() == ["4.0", "6.0", "3.0"]


def test_readme_doctests() -> None:
    result = doctest.testfile(str(README), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_the_command_line_example_prints_what_the_readme_shows() -> None:
    text = README.read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ (python -m viz [^\n]+)\n\.\.\.\n(.*?)```", text, flags=re.S)
    assert block is not None
    command, shown = block.group(1), block.group(2)
    args = [a.strip('"') for a in re.findall(r'"[^"]*"|\S+', command)][3:]
    done = subprocess.run([sys.executable, "-m", "viz", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert shown.strip() in done.stdout
