"""The command line `python -m viz`, the chain-rule demo, and the docstring examples."""

from __future__ import annotations

import doctest
import io
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import viz
import viz.steps
import viz.text
from viz.__main__ import build_parser, main

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` not installed")


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(list(argv), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_prints_forward_backward_and_gradients() -> None:
    status, out, err = run("x*(2*y + z)", "x=3", "y=1", "z=2")
    assert status == 0 and err == ""
    assert out.startswith("f = x*(2*y + z)\n")  # the root is the function f
    assert "7     f     x·b          12" in out
    assert "df/db = df/df · ∂(x·b)/∂b = 1 · x = 3" in out  # in the graph's own names
    assert "df/dz = df/db · ∂(a + z)/∂z = 3 · 1 = 3" in out
    assert "Backward pass (output gradient df/df = 1)" in out
    gradients = out.split("Gradients\n")[1].split("\n\n")[0].splitlines()
    assert gradients == ["df/dx = 4", "df/dy = 6", "df/dz = 3"]


def test_an_expression_may_start_with_a_minus() -> None:
    status, out, _ = run("-x*y", "x=2", "y=3")
    assert status == 0
    assert "df/dx = -3" in out and "df/dy = -2" in out
    assert "3 · (-1) = -3" in out
    # anywhere on the line, after options too
    before, after = run("--text", "-x*y", "x=2", "y=3"), run("-x*y", "x=2", "y=3", "--text")
    assert before == after and before[0] == 0 and before[1].startswith(out)
    status, text_out, _ = run("--text", "-(x+y)", "x=2", "y=3")
    assert status == 0 and "Graph\n" in text_out
    # a run of minus signs is an expression, never a wall of "unrecognized arguments"
    status, _, err = run("-" * 5000 + "x", "x=1")
    assert status == 2 and "too long" in err and len(err) < 400


def test_text_option_prints_the_tree() -> None:
    status, out, _ = run("x*(2*y + z)", "x=3", "y=1", "z=2", "--text")
    assert status == 0
    assert "└── b = a + z   data 4  grad 3" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["x.y", "x=1"], "attribute access"),
        (["x + foo(y)", "x=1", "y=2"], "unknown function 'foo'"),
        (["x*y", "x=1"], "variable 'y' has no value"),
        (["x", "x=1", "q=2"], "does not use"),
        (["x", "x=abc"], "not a number"),
        (["x", "x"], "expected name=value"),
        (["x +", "x=1"], "ends too early"),
        (["x=abc"], "'=' cannot appear in the expression"),
        (["exp(x)(1)", "x=1"], "only a function named in the language can be called"),
        (["(" * 10000 + "x" + ")" * 10000, "x=1"], "too long"),
        (["x+" * 50000 + "x", "x=1"], "too long"),
        (["-" * 99 + "x", "x=1"], "nested too deeply"),
        (["__import__('os')", "x=1"], "unknown function '__import__'"),
        (["lambda: 1"], "lambda"),
        (["'s'"], "strings"),
        (["x[0]", "x=1"], "subscripts"),
        (["1e999e"], "syntax error"),
        (["x", "x=1", "--format", "%d"], "format spec"),
        (["x", "x=1", "--params", "w"], "--params"),
        (["x", "x=1", "--out", "graph.gif"], "extension must be one of"),
    ],
)
def test_bad_input_exits_2_with_one_error_line(argv: list[str], message: str) -> None:
    status, out, err = run(*argv)
    assert status == 2
    assert out == ""
    first, *rest = err.splitlines()
    assert first.startswith("python -m viz: error: ") and message in first
    assert len(rest) in (0, 2)  # optionally the expression and a caret under the problem
    if rest:
        assert rest[1].strip().startswith("^")
    assert "Traceback" not in err


def test_caret_under_the_unknown_function() -> None:
    _, _, err = run("x + foo(y)", "x=1", "y=2")
    assert err.splitlines()[1:] == ["    x + foo(y)", "        ^^^"]


def test_argument_errors_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["x", "--rankdir", "up"], stdout=io.StringIO(), stderr=io.StringIO())
    assert info.value.code == 2


def test_unknown_options_are_reported_not_parsed_as_expressions(
        capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["x", "x=1", "--htm", "a.html"], ["x", "x=1", "--frobnicate"]):
        with pytest.raises(SystemExit) as info:
            main(argv, stdout=io.StringIO(), stderr=io.StringIO())
        assert info.value.code == 2
        assert "unrecognized arguments: --" in capsys.readouterr().err


@needs_dot
def test_out_html_and_frames(tmp_path: Path) -> None:
    status, out, err = run("tanh(w*x + b)", "w=0.5", "x=2", "b=-1", "--params", "w,b",
                           "--out", str(tmp_path / "g.svg"), "--html", str(tmp_path / "s.html"),
                           "--frames", str(tmp_path / "frames"))
    assert status == 0, err
    assert (tmp_path / "g.svg").read_text().lstrip().startswith("<?xml")
    page = (tmp_path / "s.html").read_text()
    assert "<svg" in page and "http://" not in page and "https://" not in page
    assert len(list((tmp_path / "frames").glob("frame_*.svg"))) == page.count('class="frame"')
    assert "∂(tanh(c))/∂c" in out and "(1 − f²)" in out


def test_missing_graphviz_exits_1_and_keeps_the_dot_text(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    status, out, err = run("x*y", "x=1", "y=2", "--out", str(tmp_path / "g.png"))
    assert status == 1
    assert "df/dx = 2" in out  # the steps and gradients were printed first
    assert "apt-get install graphviz" in err and "Traceback" not in err
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    assert not (tmp_path / "g.png").exists()


def test_missing_graphviz_still_writes_every_output_and_says_so_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    status, _, err = run("x*(2*y + z)", "x=3", "y=1", "z=2", "--out", str(tmp_path / "g.svg"),
                         "--html", str(tmp_path / "s.html"), "--frames", str(tmp_path / "f"))
    assert status == 1
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("python -m viz: error: Graphviz's `dot`")
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert lines[0].count(hint) == 1
    assert (tmp_path / "g.dot").read_text().startswith("digraph")
    page = (tmp_path / "s.html").read_text()
    assert '<pre class="dot">' in page and str(tmp_path / "s.html") in err
    assert sorted(p.suffix for p in (tmp_path / "f").iterdir()) == [".dot"] * 12


def test_python_dash_m_viz_runs_and_fails_cleanly() -> None:
    ok = subprocess.run([sys.executable, "-m", "viz", "x*(2*y + z)", "x=3", "y=1", "z=2"],
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0 and "df/dy = 6" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "viz", "__import__('os')", "x=1"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.splitlines()[0] == (
        f"python -m viz: error: unknown function '__import__' (known: "
        f"{', '.join(viz.expr.FUNCTIONS)}) (column 1)")
    assert "Traceback" not in bad.stderr


@needs_dot
def test_chain_rule_demo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from demos import chain_rule

    assert chain_rule.main(["--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "dc/dz = dc/db · ∂(a + z)/∂z = 3 · 1 = 3" in out
    assert (tmp_path / "chain_rule.svg").exists()
    page = (tmp_path / "chain_rule_steps.html").read_text()
    assert page.count('class="frame"') == len(list((tmp_path / "chain_rule_frames").iterdir()))


@pytest.mark.parametrize("module", [viz, viz.steps, viz.text])
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module, raise_on_error=False)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


# -- options are bounded, paths are the user's, and help says every default ------------------


@pytest.mark.parametrize("spec", ["\\", "\\n>10", ">1000000000", ".1000f", "%d", "{}", "\x00",
                                  "\\>8", '">8', ".3\\f", "x" * 5000])
def test_any_number_format_gives_a_result_or_one_line_and_exit_2(spec: str) -> None:
    status, out, err = run("x*y", "x=1", "y=2", "--format", spec)
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and len(err) < 300 and "Traceback" not in err


def test_bounded_number_formats_still_work() -> None:
    status, out, _ = run("x*y", "x=1", "y=2", "--format", "+12.3f")
    assert status == 0 and "df/dx =       +2.000" in out


@pytest.mark.parametrize("option", ["--out", "--html", "--frames", "--gif"])
def test_an_empty_output_path_is_an_error(option: str) -> None:
    status, _, err = run("x*y", "x=1", "y=2", option, "")
    assert status == 2 and f"{option} needs a file name" in err


def test_a_write_error_names_the_users_path_not_a_temporary_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    target = blocker / "graph.dot"
    status, _, err = run("x*y", "x=1", "y=2", "--out", str(target))
    assert status == 1 and str(target) in err
    assert ".tmp" not in err and "tmp" not in err.replace(str(tmp_path), "")


def test_assignments_are_normalized_like_the_expression() -> None:
    status, out, err = run("x*2", "ｘ=1.5")  # a full-width x is the x of the expression
    assert status == 0, err
    assert "df/dx = 2" in out
    status, _, err = run("w*x", "w=1", "x=2", "--params", "ｗ")
    assert status == 0, err


def test_ten_to_the_400_and_the_literal_1e400_are_treated_alike() -> None:
    results = [run(text, "x=1") for text in ("10**400*x", "1e400*x", "1e300/1e-300*x")]
    for status, _, err in results:
        assert status == 2 and "number too large" in err
    status, out, _ = run("1/0*x", "x=1")  # a pole, not an overflow: IEEE infinity
    assert status == 0 and "inf" in out


def test_help_gives_every_option_help_text_and_a_default() -> None:
    text = build_parser().format_help()
    options = re.split(r"\n  (?=-)", text.split("options:")[1])[1:]
    assert len(options) >= 12
    for option in options:
        if option.startswith("-h"):
            continue
        assert "default" in option, option
    assert "seed" not in text.lower()


@needs_dot
def test_frames_into_a_folder_replace_the_ones_written_before(tmp_path: Path) -> None:
    folder = tmp_path / "frames"
    assert run("x*(2*y + z)", "x=3", "y=1", "z=2", "--frames", str(folder))[0] == 0
    many = len(list(folder.iterdir()))
    assert run("x*y", "x=1", "y=2", "--frames", str(folder))[0] == 0
    assert len(list(folder.iterdir())) < many
    assert len(list(folder.iterdir())) == 2 + 1 + 2 + 1  # forward, output gradient, edges, done


@needs_dot
def test_gif_option_writes_an_animation(tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image", reason="Pillow (the [plot] extra) is not installed")
    status, out, err = run("x*y", "x=1", "y=2", "--gif", str(tmp_path / "s.gif"), "--dpi", "50")
    assert status == 0, err
    gif = image.open(tmp_path / "s.gif")
    assert gif.n_frames == 6 and f"wrote {tmp_path / 's.gif'}" in out
    status, _, err = run("x*y", "x=1", "y=2", "--dpi", "100000", "--out", str(tmp_path / "a.png"))
    assert status == 2 and "dpi" in err
