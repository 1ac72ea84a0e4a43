"""The Iris and moons demos, and the optional plots."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

import os
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from demos import iris, moons
from demos.common import reload_matches
from mlp import MLP, History, load_iris, make_moons, train_test_split


def test_iris_fast_configuration_reaches_the_target() -> None:
    """Seed 0, 30 epochs instead of 80: still at most one of 30 test flowers wrong."""
    result = iris.train_iris(0, replace(iris.IrisConfig(), epochs=30), progress=False)
    assert result.test_accuracy >= 29 / 30
    assert result.train_accuracy >= 0.95
    assert result.history.epochs == 30
    assert np.bincount(result.y_test).tolist() == [10, 10, 10]


def test_iris_sigmoid_mse_network_learns_too() -> None:
    """The four-equations tutorial's sigmoid + MSE network, on Iris."""
    config = replace(iris.NETWORKS["sigmoid-mse"], epochs=30)
    result = iris.train_iris(0, config, progress=False)
    assert result.model.activation == "sigmoid" and result.model.output == "sigmoid"
    assert result.test_accuracy >= 0.9


def test_iris_demo_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert iris.main(["--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "identical predictions" in out
    test_accuracy = float(re.search(r"test accuracy:\s+([\d.]+)%", out).group(1))  # type: ignore[union-attr]
    assert test_accuracy >= 96.7
    assert "confusion matrix" in out and "virginica" in out
    saved = MLP.load(tmp_path / "iris_relu-ce.json")
    assert saved.metadata["class_names"] == ["setosa", "versicolor", "virginica"]
    assert saved.metadata["test_accuracy"] == pytest.approx(test_accuracy / 100)


def test_iris_demo_several_seeds(capsys: pytest.CaptureFixture[str]) -> None:
    """5 seeds of 10 epochs (about a second; ``--seeds 10`` with 80 epochs takes 25 s and
    gives 96.7 %): the mean test accuracy still reaches 95 %."""
    assert iris.main(["--quiet", "--seeds", "5", "--epochs", "10"]) == 0
    out = capsys.readouterr().out
    per_seed = [float(a) for a in re.findall(r"^seed \d: train [\d.]+%, test ([\d.]+)%", out,
                                             flags=re.MULTILINE)]
    assert len(per_seed) == 5
    match = re.search(r"mean test accuracy over 5 seeds: ([\d.]+)%", out)
    assert match is not None, out
    assert float(match.group(1)) >= 95.0
    assert float(match.group(1)) == pytest.approx(np.mean(per_seed), abs=0.06)


def test_iris_scaling_is_fitted_on_the_training_part_only() -> None:
    result = iris.train_iris(3, replace(iris.IrisConfig(), epochs=1), progress=False)
    data = load_iris()
    X_train, X_test, _, y_test = train_test_split(data.X, data.y, 0.2, seed=3)
    assert np.array_equal(result.X_test, X_test) and np.array_equal(result.y_test, y_test)
    assert result.scaler.mean is not None and result.scaler.scale is not None
    assert np.allclose(result.scaler.mean, X_train.mean(axis=0), rtol=0, atol=1e-12)
    assert np.allclose(result.scaler.scale, X_train.std(axis=0), rtol=0, atol=1e-12)
    assert not np.allclose(result.scaler.mean, data.X.mean(axis=0), rtol=0, atol=1e-6)
    assert result.model.metadata["standardizer"] == result.scaler.to_dict()


def test_the_reload_check_notices_a_difference(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    model = MLP(2, [3, 2], seed=0)
    X = np.array([[0.5, -1.0], [2.0, 0.25]])
    assert reload_matches(model, tmp_path / "a" / "m.json", X)
    assert not reload_matches(model, tmp_path / "m.json", X, lambda loaded: X + 1.0)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"saved {tmp_path / 'a' / 'm.json'}; reloaded it: identical predictions",
                     f"saved {tmp_path / 'm.json'}; reloaded it: PREDICTIONS DIFFER"]


def test_moons_demo_separates_the_moons() -> None:
    model, losses, accuracy, _ = moons.train_moons(steps=40, seed=0, verbose=False)
    assert repr(model).startswith("MLP(2 -> 16 -> 16 -> 1")
    assert accuracy >= 0.95
    assert losses[-1] < losses[0] / 5


def test_moons_demo_writes_its_picture(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    out_dir = tmp_path / "new"  # the demo makes the directory
    assert moons.main(["--steps", "1", "--out", str(out_dir)]) == 0
    picture = out_dir / "moons.png"
    assert capsys.readouterr().out.strip().splitlines()[-1] == f"saved {picture}"
    assert picture.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert os.listdir(out_dir) == ["moons.png"]


def test_moons_demo_without_matplotlib(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    assert moons.main(["--steps", "2", "--out", str(tmp_path)]) == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == 'no picture: plotting needs matplotlib: pip install "backprop-lab[plot]"'
    assert not (tmp_path / "moons.png").exists()


def test_plots_are_png_files(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from mlp.plot import plot_decision_boundary, plot_history

    X, y = make_moons(40, seed=0)
    for model in (MLP(2, [4, 1], seed=0), MLP(2, [4, 1], output="sigmoid", seed=0),
                  MLP(2, [4, 3], output="softmax", seed=0)):
        path = plot_decision_boundary(model, X, y % model.n_outputs if model.n_outputs > 1
                                      else y, tmp_path / "boundary.png", resolution=20)
        assert path.read_bytes().startswith(b"\x89PNG")
    history = History(loss=[1.0, 0.5], accuracy=[0.5, 0.9], val_loss=[1.1, 0.7],
                      val_accuracy=[0.4, 0.8], lr=[0.1, 0.1], best_epoch=1)
    assert plot_history(history, tmp_path / "h.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="2 inputs"):
        plot_decision_boundary(MLP(3, [2], seed=0), X, y, tmp_path / "x.png")
    with pytest.raises(ValueError, match="empty"):
        plot_history(History(), tmp_path / "e.png")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boundary.png", "h.png"]
