"""Iris data, splits, the standardizer, synthetic sets, metrics."""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N806

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlp import (
    Standardizer,
    accuracy,
    classification_report,
    confusion_matrix,
    format_confusion_matrix,
    load_iris,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    one_hot,
    precision_recall,
    train_test_split,
)

# -- Iris ----------------------------------------------------------------------------------


def test_iris_is_fishers_corrected_version() -> None:
    data = load_iris()
    X, y = data
    assert X.shape == (150, 4) and y.shape == (150,) and X.dtype == np.float64
    assert np.bincount(y).tolist() == [50, 50, 50]
    assert data.target_names == ("setosa", "versicolor", "virginica")
    assert len(data.feature_names) == 4 and "CC BY 4.0" in data.description
    # the two samples the UCI file has wrong (1-based numbering)
    assert X[34].tolist() == [4.9, 3.1, 1.5, 0.2] and y[34] == 0
    assert X[37].tolist() == [4.9, 3.6, 1.4, 0.1] and y[37] == 0
    # known summary statistics of Fisher's data
    assert X.mean(axis=0) == pytest.approx([5.8433, 3.0573, 3.758, 1.1993], abs=1e-3)
    assert X[:, 2].min() == 1.0 and X[:, 2].max() == 6.9


def test_iris_ships_with_its_credits() -> None:
    data_dir = resources.files("mlp").joinpath("data")
    credit_text = data_dir.joinpath("CREDITS.md").read_text(encoding="utf-8")
    assert "CC BY 4.0" in credit_text and "10.24432/C56C76" in credit_text
    assert data_dir.joinpath("iris.csv").read_text(encoding="utf-8").startswith(
        "sepal_length_cm,sepal_width_cm,petal_length_cm,petal_width_cm,species\n")


# -- splits ----------------------------------------------------------------------------------


def test_iris_split_is_stratified_and_complete() -> None:
    X, y = load_iris()
    X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=0)
    assert len(y_test) == 30 and len(y_train) == 120
    assert np.bincount(y_test).tolist() == [10, 10, 10]
    rows = sorted(map(tuple, np.vstack([X_train, X_test]).tolist()))
    assert rows == sorted(map(tuple, X.tolist()))
    again = train_test_split(X, y, 0.2, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(again, (X_train, X_test, y_train, y_test)))
    other = train_test_split(X, y, 0.2, seed=1)
    assert not np.array_equal(other[3], y_test) or not np.array_equal(other[1], X_test)


@given(
    counts=st.lists(st.integers(2, 30), min_size=1, max_size=5),
    fraction=st.floats(0.1, 0.9),
    seed=st.integers(0, 2**31 - 1),
)
def test_stratified_split_properties(counts: list[int], fraction: float, seed: int) -> None:
    y = np.repeat(np.arange(len(counts)), counts)
    n = len(y)
    n_test = int(np.ceil(fraction * n))
    if not (len(counts) <= n_test <= n - len(counts)):
        with pytest.raises(ValueError):
            train_test_split(np.arange(n)[:, None], y, fraction, seed=seed)
        return
    X = np.arange(n)[:, None]
    X_train, X_test, y_train, y_test = train_test_split(X, y, fraction, seed=seed)
    assert len(y_test) == n_test and len(y_train) == n - n_test
    assert sorted(np.concatenate([X_train[:, 0], X_test[:, 0]]).tolist()) == list(range(n))
    assert np.array_equal(y[X_test[:, 0]], y_test) and np.array_equal(y[X_train[:, 0]], y_train)
    # each class's share of the test set is its share of the data, to within one sample
    test_counts = np.bincount(y_test, minlength=len(counts))
    assert np.all(np.abs(test_counts - np.array(counts) * n_test / n) < 1 + 1e-9)


def test_split_matches_scikit_learn() -> None:
    sklearn_split = pytest.importorskip("sklearn.model_selection").train_test_split
    X, y = load_iris()
    for seed in range(5):
        for stratify in (True, False):
            ours = train_test_split(X, y, 0.2, seed=seed, stratify=stratify)
            theirs = sklearn_split(X, y, test_size=0.2, random_state=seed,
                                   stratify=y if stratify else None)
            assert all(np.array_equal(a, b) for a, b in zip(ours, theirs))


def test_split_arguments_are_checked() -> None:
    X, y = np.zeros((10, 2)), np.array([0, 1] * 5)
    with pytest.raises(ValueError, match="10 samples but y has 9"):
        train_test_split(X, y[:9])
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\)"):
        train_test_split(X, y, 1.5)
    with pytest.raises(ValueError, match="both parts need"):
        train_test_split(X, y, 10)
    with pytest.raises(ValueError, match="only 1 sample"):
        train_test_split(X, np.array([0] * 9 + [1]), 0.3)
    with pytest.raises(TypeError, match="seed"):
        train_test_split(X, y, seed=1.5)  # type: ignore[arg-type]
    X_train, X_test, _, _ = train_test_split(X, y, 3, stratify=False, seed=0)
    assert len(X_test) == 3 and len(X_train) == 7


# -- scaling ---------------------------------------------------------------------------------


def test_standardizer_uses_training_statistics_only() -> None:
    rng = np.random.default_rng(0)
    train = rng.normal(5.0, 3.0, size=(50, 3))
    test = rng.normal(-5.0, 1.0, size=(20, 3))
    scaler = Standardizer().fit(train)
    scaled = scaler.transform(train)
    assert np.allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(scaled.std(axis=0), 1.0)
    assert np.allclose(scaler.transform(test), (test - train.mean(0)) / train.std(0))
    assert np.allclose(scaler.inverse_transform(scaler.transform(test)), test)
    copy = Standardizer.from_dict(scaler.to_dict())
    assert np.array_equal(copy.transform(test), scaler.transform(test))


def test_standardizer_edge_cases() -> None:
    constant = np.array([[1.0, 2.0], [1.0, 4.0]])
    assert Standardizer().fit_transform(constant)[:, 0].tolist() == [0.0, 0.0]
    with pytest.raises(RuntimeError, match="not fitted"):
        Standardizer().transform(constant)
    scaler = Standardizer().fit(constant)
    with pytest.raises(ValueError, match="fitted on 2 features, got 3"):
        scaler.transform(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        Standardizer().fit([[1.0, np.nan]])
    with pytest.raises(ValueError, match="2-D"):
        Standardizer().fit([1.0, 2.0])
    with pytest.raises(ValueError, match="scale"):
        Standardizer.from_dict({"mean": [0.0], "scale": [0.0]})
    assert repr(scaler) == "Standardizer(2 features)"


def test_standardizer_near_float64_limits_is_right_not_infinite() -> None:
    """Values near 1e308 overflow the plain sums, and the squares of a spread near 1e-300
    underflow to 0; standardizing is scale-free, so the results must be those of the
    same data scaled into a comfortable range."""
    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 3))
    for factor, ordinary in ((1.7e308 / np.abs(base).max(), 1e-300), (1e-300, 1e300)):
        X = base * factor
        scaler = Standardizer().fit(X)
        assert np.all(np.isfinite(scaler.mean)) and np.all(np.isfinite(scaler.scale))
        assert np.all(scaler.scale > 0)
        expected = Standardizer().fit_transform(X * ordinary)
        np.testing.assert_allclose(scaler.transform(X), expected, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(scaler.inverse_transform(expected), X, rtol=1e-12)
    extreme = np.array([[1.7e308], [1.7e308], [-1.7e308]])  # x - mean overflows for row 3
    np.testing.assert_allclose(Standardizer().fit_transform(extreme).ravel(),
                               [np.sqrt(0.5), np.sqrt(0.5), -np.sqrt(2.0)], rtol=1e-14)


def test_standardized_values_beyond_float64_are_an_error() -> None:
    scaler = Standardizer().fit([[0.0], [1e-300]])
    assert scaler.scale is not None and scaler.scale[0] == pytest.approx(5e-301)
    with pytest.raises(ValueError, match=r"standardized value of sample 1, feature 0 is "
                                         r"beyond float64's range"):
        scaler.transform([[0.0], [1e308]])
    wide = Standardizer().fit([[-1e308], [1e308]])
    with pytest.raises(ValueError, match="restored value of sample 0"):
        wide.inverse_transform([[3.0]])


# -- synthetic sets ------------------------------------------------------------------------


@pytest.mark.parametrize("make", [make_moons, make_circles, make_spirals, make_xor])
def test_synthetic_sets_are_seeded_and_balanced(make) -> None:  # type: ignore[no-untyped-def]
    X, y = make(n_samples=101, seed=3)
    assert X.shape == (101, 2) and y.shape == (101,) and y.dtype == np.int64
    again_X, again_y = make(n_samples=101, seed=3)
    assert np.array_equal(X, again_X) and np.array_equal(y, again_y)
    assert not np.array_equal(X, make(n_samples=101, seed=4)[0])
    if make is not make_xor:
        assert abs(int(np.sum(y == 0)) - int(np.sum(y == 1))) <= 1
    with pytest.raises(ValueError, match="n_samples"):
        make(n_samples=1)


def test_synthetic_geometry_without_noise() -> None:
    X, y = make_moons(50, noise=0.0, seed=0)
    upper = X[y == 0]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    X, y = make_circles(40, noise=0.0, factor=0.3, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert np.allclose(radius[y == 0], 1.0) and np.allclose(radius[y == 1], 0.3)
    X, y = make_xor(200, noise=0.0, seed=0)
    assert np.array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))
    assert set(make_spirals(90, n_classes=3, seed=0)[1].tolist()) == {0, 1, 2}
    assert one_hot(np.array([2, 0]), 3).tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(ValueError, match=r"0\.\.2"):
        one_hot(np.array([3]), 3)


# -- metrics ---------------------------------------------------------------------------------


def test_metrics_by_hand() -> None:
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    assert accuracy(y_true, y_pred) == pytest.approx(5 / 7)
    matrix = confusion_matrix(y_true, y_pred)
    assert matrix.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 2]]
    scores = precision_recall(y_true, y_pred)
    assert scores.precision.tolist() == pytest.approx([1 / 2, 2 / 3, 1.0])
    assert scores.recall.tolist() == pytest.approx([1 / 2, 1.0, 2 / 3])
    assert scores.f1[1] == pytest.approx(2 * (2 / 3) / (2 / 3 + 1))
    assert scores.support.tolist() == [2, 2, 3]
    # a class never predicted has precision 0, not a division error
    assert precision_recall([0, 1], [0, 0], n_classes=3).precision.tolist() == [0.5, 0, 0]
    table = format_confusion_matrix(matrix, ["a", "b", "c"])
    assert table.splitlines()[-1].split() == ["c", "1", "0", "2"]
    report = classification_report(y_true, y_pred, ["a", "b", "c"])
    assert "accuracy" in report and "0.714" in report


def test_metrics_reject_bad_labels() -> None:
    with pytest.raises(ValueError, match="3 labels but y_pred has 2"):
        accuracy([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="no labels"):
        accuracy([], [])
    with pytest.raises(TypeError, match="integer class labels"):
        accuracy([0.5], [0])
    with pytest.raises(ValueError, match="does not fit n_classes=2"):
        confusion_matrix([0, 2], [0, 1], n_classes=2)
    with pytest.raises(ValueError, match=">= 0"):
        confusion_matrix([-1], [0])
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        format_confusion_matrix(np.eye(3, dtype=int), ["a", "b"])


def test_a_huge_label_is_an_error_not_a_huge_matrix() -> None:
    """A label of 10**5 would make a matrix of 10**10 counts (80 GB)."""
    with pytest.raises(ValueError, match=r"label 100000 would make a 100001 x 100001 "
                                         r"confusion matrix.*at most 1000"):
        confusion_matrix([0, 10**5], [0, 1])
    with pytest.raises(ValueError, match=r"label 100000 would make"):
        classification_report([0, 1], [0, 10**5])
    with pytest.raises(ValueError, match="n_classes must be between 1 and 1000, got 100000"):
        confusion_matrix([0, 1], [0, 1], n_classes=10**5)
    assert confusion_matrix([999], [0]).shape == (1000, 1000)
    for labels in ([np.inf], [1e300], [np.nan]):
        with pytest.raises(TypeError, match="integer class labels"):
            confusion_matrix(labels, [0])
    with pytest.raises(ValueError, match="beyond int64"):
        confusion_matrix(np.array([2**63], dtype=np.uint64), [0])


def test_bad_argument_types_are_named_not_a_traceback() -> None:
    with pytest.raises(TypeError, match="n_classes must be an int, got str"):
        confusion_matrix([0, 1], [1, 0], n_classes="3")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="factor must be a number in"):
        make_circles(factor="a")  # type: ignore[arg-type]
