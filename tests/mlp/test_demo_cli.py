"""The demos' command lines: named as they are run, every option explained with its
default, and every bad option one line on standard error with exit status 2."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from demos import chain_rule, digits, iris, mnist, moons

ROOT = Path(__file__).resolve().parents[2]
DEMOS: dict[str, ModuleType] = {"chain_rule": chain_rule, "iris": iris, "digits": digits,
                                "mnist": mnist, "moons": moons}


@pytest.mark.parametrize("name", list(DEMOS))
def test_help_names_the_command_and_every_default(name: str) -> None:
    parser = DEMOS[name].build_parser()
    text = parser.format_help()
    assert parser.prog == f"python -m demos.{name}"
    assert text.startswith(f"usage: python -m demos.{name} ")
    assert f"{name}.py" not in text
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f"{action.option_strings} has no help text"
        shown = action.help % {"default": action.default}
        assert "default" in shown, f"{action.option_strings}: {shown}"
    assert "examples:" in text


def _file(tmp_path: Path) -> str:
    path = tmp_path / "a-file"
    path.write_text("not a directory")
    return str(path)


BAD_OPTIONS = [
    ("iris", ["--lr", "-1"], "argument --lr: must be above 0, got -1"),
    ("iris", ["--lr", "0"], "argument --lr: must be above 0, got 0"),
    ("iris", ["--lr", "nan"], "argument --lr: must be a finite number, got nan"),
    ("iris", ["--lr", "inf"], "argument --lr: must be a finite number, got inf"),
    ("iris", ["--lr", "fast"], "argument --lr: expected a number, got 'fast'"),
    ("iris", ["--seed", "-1"], "argument --seed: must be from 0 to 4294967295, got -1"),
    ("iris", ["--seed", str(2**32)], "argument --seed: must be from 0 to 4294967295"),
    ("iris", ["--seeds", "0"], "argument --seeds: must be at least 1, got 0"),
    ("iris", ["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    ("iris", ["--epochs", "2.5"], "argument --epochs: expected a whole number, got '2.5'"),
    ("iris", ["--hidden", "16", "0"], "argument --hidden: must be from 1 to 4096, got 0"),
    ("iris", ["--hidden", "100000"], "argument --hidden: must be from 1 to 4096, got 100000"),
    ("iris", ["--hidden", "4096", "4096"],
     "--hidden 4096 4096 makes a network of 16,814,083 weights and biases; the demos allow "
     "at most 1,000,000"),
    ("iris", ["--out", ""], "argument --out: an empty path"),
    ("iris", ["--out", "{file}"], "argument --out: {file} is a file, not a directory"),
    ("iris", ["--out", "{file}/sub"],
     "argument --out: cannot create {file}/sub: {file} is a file, not a directory"),
    ("iris", ["--network", "seed-2"], "argument --network: invalid choice: 'seed-2'"),
    ("digits", ["--lr", "-0.5"], "argument --lr: must be above 0, got -0.5"),
    ("digits", ["--hidden", "0"], "argument --hidden: must be from 1 to 4096, got 0"),
    ("digits", ["--hidden", "1000", "1000"],
     "--hidden 1000 1000 makes a network of 1,076,010 weights and biases"),
    ("digits", ["--engine", "gpu"], "argument --engine: invalid choice: 'gpu'"),
    ("digits", ["--out", "{file}"], "argument --out: {file} is a file, not a directory"),
    ("mnist", ["--epochs", "0"], "argument --epochs: must be at least 1, got 0"),
    ("mnist", ["--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    ("mnist", ["--limit", "-5"], "argument --limit: must be at least 1, got -5"),
    ("mnist", ["--lr=-inf"], "argument --lr: must be a finite number, got -inf"),
    ("mnist", ["--seed", "-2"], "argument --seed: must be from 0 to 4294967295, got -2"),
    ("moons", ["--steps", "0"], "argument --steps: must be at least 1, got 0"),
    ("moons", ["--seed", "-1"], "argument --seed: must be from 0 to 4294967295, got -1"),
    ("moons", ["--out", "{file}"], "argument --out: {file} is a file, not a directory"),
    ("chain_rule", ["--x", "nan"], "argument --x: must be a finite number, got nan"),
    ("chain_rule", ["--z", "1e999"], "argument --z: must be a finite number, got 1e999"),
    ("chain_rule", ["--out", "{file}"], "argument --out: {file} is a file, not a directory"),
    ("chain_rule", ["--images", "{file}"],
     "argument --images: {file} is a file, not a directory"),
]


@pytest.mark.parametrize(("name", "argv", "message"), BAD_OPTIONS)
def test_a_bad_option_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             name: str, argv: list[str], message: str) -> None:
    file = _file(tmp_path)
    argv = [a.format(file=file) for a in argv]
    with pytest.raises(SystemExit) as info:
        DEMOS[name].main(argv)
    assert info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith(f"python -m demos.{name}: error: "
                                   f"{message.format(file=file)}")
    assert captured.err.count("\n") == 1 and captured.err.endswith(" (see --help)\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # nothing was written


def test_a_real_process_gets_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "demos.iris", "--lr", "-1", "--out",
                           str(tmp_path / "new")], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == ("python -m demos.iris: error: argument --lr: must be above 0, "
                           "got -1 (see --help)\n")
    assert not (tmp_path / "new").exists()


def test_a_model_that_cannot_be_written_is_one_line_and_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The directory is fine, but the model's own path is taken by a directory."""
    (tmp_path / "iris_relu-ce.json").mkdir()
    assert iris.main(["--quiet", "--epochs", "1", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err == (f"python -m demos.iris: error: cannot write {tmp_path / 'iris_relu-ce.json'}"
                   f": it is a directory\n")


def test_an_out_directory_that_does_not_exist_yet_is_made(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "a" / "b"
    assert digits.main(["--quiet", "--epochs", "1", "--hidden", "4", "--out", str(out)]) == 0
    assert "identical predictions" in capsys.readouterr().out
    assert [p.name for p in out.iterdir()] == ["digits_relu-ce.json"]


def test_the_readme_shows_what_a_bad_option_prints() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```console\n\$ (python -m demos\.\w+ [^\n]+)\n(.*?)```", text, flags=re.S)
    assert block is not None
    command, shown = block.group(1).split(), block.group(2)
    done = subprocess.run([sys.executable, *command[1:]], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 2 and done.stderr == shown


def test_a_hostile_mnist_file_is_one_line_and_exit_2(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    evil = tmp_path / "mnist.pkl.gz"
    evil.write_bytes(b"\x80\x02cos\nsystem\n(S'touch pwned'\ntR.")
    assert mnist.main(["--data", str(evil), "--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"python -m demos.mnist: error: {evil}: refused to load: the pickle "
                            f"asks for os.system, and an MNIST pickle holds only NumPy "
                            f"arrays\n")


def test_ctrl_c_is_one_line_and_status_130(capsys: pytest.CaptureFixture[str]) -> None:
    from demos.common import run_main

    def interrupted() -> int:
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as info:
        run_main(interrupted, "iris")
    assert info.value.code == 130
    assert capsys.readouterr().err == "python -m demos.iris: interrupted\n"
    with pytest.raises(SystemExit) as info:
        run_main(lambda: 1, "iris")
    assert info.value.code == 1


def test_a_reader_that_stops_early_ends_the_demo_quietly() -> None:
    """``python -m demos.newton | head -1``: the pipe is closed before the demo writes, so
    its first flush fails; that is status 141 and nothing on standard error."""
    process = subprocess.Popen([sys.executable, "-m", "demos.newton"], cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader is gone before anything is written
    err = process.stderr.read().decode()
    assert process.wait(timeout=60) == 141, err
    assert err == ""


def test_iris_demo_on_the_tensor_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    """``--engine tensor``: the same network as weight matrices, from the same start; it
    ends where the value engine does (the same final loss to the printed digits)."""
    assert iris.main(["--quiet", "--epochs", "10", "--engine", "tensor",
                      "--out", str(tmp_path)]) == 0
    tensor_out = capsys.readouterr().out
    assert "engine=tensor" in tensor_out and "identical predictions" in tensor_out
    assert iris.main(["--quiet", "--epochs", "10", "--out", str(tmp_path)]) == 0
    value_out = capsys.readouterr().out
    assert "engine=tensor" not in value_out

    def final_loss(out: str) -> str:
        match = re.search(r"final training loss (\S+)", out)
        assert match is not None, out
        return match.group(1)

    assert final_loss(tensor_out) == final_loss(value_out)
