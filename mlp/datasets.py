"""Data: the Iris set shipped with the package, splits, scaling, and synthetic 2-D sets.

Every function that draws random numbers takes a ``seed`` and uses its own NumPy
generator, so results do not depend on (or change) any global random state.
"""

# X (a matrix with one sample per row) follows the NumPy/scikit-learn convention.
# ruff: noqa: N803, N806

from __future__ import annotations

import csv
import io
import math
import numbers
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

__all__ = [
    "Dataset", "load_iris", "train_test_split", "Standardizer", "one_hot",
    "make_moons", "make_circles", "make_spirals", "make_xor",
]

_IRIS_HEADER = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm",
                "species"]
_IRIS_CLASSES = ("setosa", "versicolor", "virginica")

IRIS_DESCRIPTION = (
    "Fisher's Iris data (1936): 150 flowers, 50 each of Iris setosa, versicolor and "
    "virginica; sepal length, sepal width, petal length, petal width in cm. Fisher's "
    "values, i.e. the UCI file with samples 35 and 38 corrected. Source: UCI Machine "
    "Learning Repository, https://doi.org/10.24432/C56C76, licence CC BY 4.0."
)


@dataclass(frozen=True)
class Dataset:
    """Features ``X`` (n, d) float64, labels ``y`` (n,) int64, and their names.

    Unpacks as ``X, y = load_iris()``.
    """

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    description: str

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))

    def __len__(self) -> int:
        return len(self.y)


def load_iris() -> Dataset:
    """The 150 Iris flowers from the CSV inside the package (see ``mlp/data/CREDITS.md``)."""
    text = resources.files("mlp").joinpath("data", "iris.csv").read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    if header != _IRIS_HEADER:
        raise RuntimeError(f"mlp/data/iris.csv has an unexpected header: {header}")
    features, labels = [], []
    for line_number, row in enumerate(reader, start=2):
        if len(row) != 5 or row[4] not in _IRIS_CLASSES:
            raise RuntimeError(f"mlp/data/iris.csv line {line_number} is malformed: {row}")
        features.append([float(v) for v in row[:4]])
        labels.append(_IRIS_CLASSES.index(row[4]))
    if len(labels) != 150:
        raise RuntimeError(f"mlp/data/iris.csv has {len(labels)} rows, expected 150")
    return Dataset(np.array(features, dtype=np.float64), np.array(labels, dtype=np.int64),
                   tuple(_IRIS_HEADER[:4]), _IRIS_CLASSES, IRIS_DESCRIPTION)


def _features(X: Any, name: str = "X") -> np.ndarray:
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(f"{name} must be 2-D (samples x features), got shape {array.shape}")
    if array.dtype == np.bool_ or not (np.issubdtype(array.dtype, np.integer)
                                       or np.issubdtype(array.dtype, np.floating)):
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinity")
    return array


def _check_seed(seed: object) -> int | None:
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise TypeError(f"seed must be an int or None, got {type(seed).__name__}")
    return None if seed is None else int(seed)


def train_test_split(
    X: Any, y: Any, test_size: float | int = 0.2, *, seed: int | None = 0,
    stratify: bool = True, shuffle: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split into ``X_train, X_test, y_train, y_test`` (scikit-learn's order).

    `test_size` is a fraction (the test part gets ``ceil(test_size * n)`` samples) or a
    count.  With `stratify` each class is split in the same proportion, so a 20 % split
    of Iris has 10 flowers of each species in the test part.  The same `seed` gives the
    same split, and the same split as scikit-learn's ``train_test_split(X, y,
    test_size=..., stratify=y if stratify else None, random_state=seed)`` (same algorithm
    and random stream), so results can be compared across the two libraries.
    """
    X_arr = np.asarray(X)
    y_arr = np.asarray(y)
    if X_arr.ndim == 0 or y_arr.ndim != 1:
        raise ValueError(f"expected X with one row per sample and 1-D y, got shapes "
                         f"{X_arr.shape} and {y_arr.shape}")
    n = len(y_arr)
    if len(X_arr) != n:
        raise ValueError(f"X has {len(X_arr)} samples but y has {n}")
    if isinstance(test_size, bool) or not isinstance(test_size, numbers.Real):
        raise TypeError(f"test_size must be a fraction or a count, got {type(test_size).__name__}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0.0 < test_size < 1.0:
        n_test = math.ceil(test_size * n)
    else:
        raise ValueError(f"test_size as a fraction must be in (0, 1), got {test_size}")
    if not 1 <= n_test <= n - 1:
        raise ValueError(f"test_size gives {n_test} test samples out of {n}; both parts need "
                         f"at least one")
    # RandomState (not default_rng): the same stream as scikit-learn, so the same seed
    # gives the same split there.
    rng = np.random.RandomState(_check_seed(seed))
    n_train = n - n_test
    if not stratify:
        order = rng.permutation(n) if shuffle else np.arange(n)
        test_idx, train_idx = order[:n_test], order[n_test:]
    else:
        classes, y_index, counts = np.unique(y_arr, return_inverse=True, return_counts=True)
        if counts.min() < 2:
            raise ValueError(f"class {classes[counts.argmin()]!r} has only 1 sample; a "
                             f"stratified split needs at least 2 per class")
        if min(n_train, n_test) < len(classes):
            raise ValueError(f"{n_train} training and {n_test} test samples cannot both hold "
                             f"all {len(classes)} classes")
        train_per_class = _approximate_mode(counts, n_train, rng)
        test_per_class = _approximate_mode(counts - train_per_class, n_test, rng)
        members_of = np.split(np.argsort(y_index, kind="stable"), np.cumsum(counts)[:-1])
        train_list: list[int] = []
        test_list: list[int] = []
        for members, n_tr, n_te in zip(members_of, train_per_class, test_per_class):
            if shuffle:
                members = members[rng.permutation(len(members))]
            train_list.extend(members[:n_tr])
            test_list.extend(members[n_tr:n_tr + n_te])
        if shuffle:
            train_idx, test_idx = rng.permutation(train_list), rng.permutation(test_list)
        else:
            train_idx, test_idx = np.sort(train_list), np.sort(test_list)
    return X_arr[train_idx], X_arr[test_idx], y_arr[train_idx], y_arr[test_idx]


def _approximate_mode(counts: np.ndarray, n_draws: int, rng: np.random.RandomState
                      ) -> np.ndarray:
    """How many of `n_draws` to take from each class: the proportional share, rounded down,
    plus one for the largest remainders (ties broken at random), as scikit-learn does."""
    continuous = counts / counts.sum() * n_draws
    floored = np.floor(continuous)
    need = int(n_draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            take = min(len(tied), need)
            floored[rng.choice(tied, size=take, replace=False)] += 1
            need -= take
            if need == 0:
                break
    return floored.astype(np.int64)


class Standardizer:
    """Rescale each feature to mean 0 and standard deviation 1.

    Fit it on the training part only (`fit`), then `transform` both parts: the test
    data must not leak into the scaling.  A constant feature gets scale 1 (it becomes 0).
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, X: Any) -> Standardizer:
        """Learn each feature's mean and (population) standard deviation from `X`.

        Values near float64's limits are handled: where the plain sums would overflow
        (values near 1e308), or the squares of a tiny spread underflow to 0 (values near
        1e-300), each feature is first scaled by a power of two, exactly.
        """
        data = _features(X)
        if len(data) == 0:
            raise ValueError("cannot fit a Standardizer on no samples")
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            mean, std = data.mean(axis=0), data.std(axis=0)
        varies = np.any(data != data[0], axis=0)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))) or np.any(
                (std == 0.0) & varies):  # overflowed, or squares of tiny spreads underflowed
            # |data| < 2**e, so |data / 2**(e-2)| < 4: neither the sums nor the squares
            # overflow.  The mean and the deviation of values below 2**e are below it, so
            # scaling back cannot overflow either (2**(e-2) itself is at most 2**1022).
            _, exponent = np.frexp(np.max(np.abs(data), axis=0))
            power = np.ldexp(1.0, exponent - 2)
            scaled = data / power
            mean, std = scaled.mean(axis=0) * power, scaled.std(axis=0) * power
        self.mean = mean
        self.scale = np.where(std > 0.0, std, 1.0)
        return self

    def _fitted(self, X: Any) -> np.ndarray:
        if self.mean is None or self.scale is None:
            raise RuntimeError("this Standardizer is not fitted yet; call fit(X_train) first")
        data = _features(X)
        if data.shape[1] != len(self.mean):
            raise ValueError(f"fitted on {len(self.mean)} features, got {data.shape[1]}")
        return data

    def transform(self, X: Any) -> np.ndarray:
        """``(X - mean) / scale`` with the fitted statistics.

        Raises `ValueError` if a result does not fit in float64 (a value too far from
        the mean for its feature's scale), rather than returning infinity.
        """
        data = self._fitted(X)
        assert self.mean is not None and self.scale is not None
        with np.errstate(over="ignore", invalid="ignore"):
            out = (data - self.mean) / self.scale
            return _finite_or_halved(out, lambda: (data / 2 - self.mean / 2) / self.scale,
                                     "standardized")

    def fit_transform(self, X: Any) -> np.ndarray:
        """`fit` then `transform` the same data."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Back to the original units: ``X * scale + mean``.

        Raises `ValueError` if a result does not fit in float64.
        """
        data = self._fitted(X)
        assert self.mean is not None and self.scale is not None
        with np.errstate(over="ignore", invalid="ignore"):
            out = data * self.scale + self.mean
            return _finite_or_halved(out, lambda: data * (self.scale / 2) + self.mean / 2,
                                     "restored")

    def to_dict(self) -> dict[str, list[float]]:
        """The fitted statistics as plain lists (e.g. to store in a model's metadata)."""
        if self.mean is None or self.scale is None:
            raise RuntimeError("this Standardizer is not fitted yet")
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> Standardizer:
        """A fitted Standardizer from `to_dict`'s output."""
        if not isinstance(state, dict) or set(state) != {"mean", "scale"}:
            raise ValueError("expected a dict with keys 'mean' and 'scale'")
        mean = np.asarray(state["mean"], dtype=np.float64)
        scale = np.asarray(state["scale"], dtype=np.float64)
        if mean.ndim != 1 or mean.shape != scale.shape:
            raise ValueError("'mean' and 'scale' must be lists of the same length")
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(scale)) and np.all(scale > 0)):
            raise ValueError("'mean' must be finite and 'scale' finite and positive")
        out = cls()
        out.mean, out.scale = mean, scale
        return out

    def __repr__(self) -> str:
        fitted = "unfitted" if self.mean is None else f"{len(self.mean)} features"
        return f"Standardizer({fitted})"


def _finite_or_halved(out: np.ndarray, halves: Callable[[], np.ndarray], what: str
                      ) -> np.ndarray:
    """`out`, where an intermediate result overflowed recomputed as twice `halves()` (half
    of every term, so nothing overflows before the end); an error if it still does not
    fit in float64."""
    if np.all(np.isfinite(out)):
        return out
    retry = np.isinf(out) | np.isnan(out)
    out[retry] = (2.0 * halves())[retry]
    if not np.all(np.isfinite(out)):
        row, column = np.argwhere(~np.isfinite(out))[0]
        raise ValueError(f"the {what} value of sample {row}, feature {column} is beyond "
                         f"float64's range (about 1.8e308)")
    return out


def one_hot(y: Any, n_classes: int) -> np.ndarray:
    """Labels 0..n_classes-1 as rows of a float identity matrix."""
    labels = np.asarray(y)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError("one_hot expects a 1-D array of integer labels")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"labels must be in 0..{n_classes - 1}")
    return np.eye(n_classes)[labels]


# -- synthetic 2-D sets ---------------------------------------------------------------------


def _count(n: object, name: str = "n_samples", minimum: int = 2) -> int:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {n!r}")
    return int(n)


def _noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not (
        0.0 <= noise < math.inf
    ):
        raise ValueError(f"noise must be a number >= 0, got {noise!r}")
    return float(noise)


def _finish(X: np.ndarray, y: np.ndarray, noise: float, rng: np.random.Generator
            ) -> tuple[np.ndarray, np.ndarray]:
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    order = rng.permutation(len(y))
    return X[order], y[order].astype(np.int64)


def make_moons(n_samples: int = 100, noise: float = 0.1, seed: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (label 0: upper moon, 1: lower), plus Gaussian noise."""
    n = _count(n_samples)
    rng = np.random.default_rng(_check_seed(seed))
    n_upper = n // 2
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n - n_upper)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.vstack([upper, lower])
    y = np.concatenate([np.zeros(n_upper), np.ones(n - n_upper)])
    return _finish(X, y, _noise(noise), rng)


def make_circles(n_samples: int = 100, noise: float = 0.05, factor: float = 0.5,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A circle (label 0) around a smaller one of radius `factor` (label 1)."""
    n = _count(n_samples)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0.0 < factor < 1.0:
        raise ValueError(f"factor must be a number in (0, 1), got {factor!r}")
    rng = np.random.default_rng(_check_seed(seed))
    n_outer = n // 2
    t_outer = np.linspace(0.0, 2 * np.pi, n_outer, endpoint=False)
    t_inner = np.linspace(0.0, 2 * np.pi, n - n_outer, endpoint=False)
    X = np.vstack([np.column_stack([np.cos(t_outer), np.sin(t_outer)]),
                   factor * np.column_stack([np.cos(t_inner), np.sin(t_inner)])])
    y = np.concatenate([np.zeros(n_outer), np.ones(n - n_outer)])
    return _finish(X, y, _noise(noise), rng)


def make_spirals(n_samples: int = 100, n_classes: int = 2, noise: float = 0.2,
                 seed: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """`n_classes` interleaved spiral arms (CS231n's toy set); noise perturbs the angle."""
    n = _count(n_samples)
    k = _count(n_classes, "n_classes")
    noise = _noise(noise)
    rng = np.random.default_rng(_check_seed(seed))
    sizes = [n // k + (1 if c < n % k else 0) for c in range(k)]
    parts, labels = [], []
    for c, size in enumerate(sizes):
        radius = np.linspace(0.0, 1.0, size)
        angle = np.linspace(c * 4.0, (c + 1) * 4.0, size) + rng.normal(0.0, noise, size)
        parts.append(np.column_stack([radius * np.sin(angle), radius * np.cos(angle)]))
        labels.append(np.full(size, c))
    return _finish(np.vstack(parts), np.concatenate(labels), 0.0, rng)


def make_xor(n_samples: int = 100, noise: float = 0.1, seed: int | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Points in [-1, 1]²; label 1 where the two coordinates differ in sign (XOR)."""
    n = _count(n_samples)
    rng = np.random.default_rng(_check_seed(seed))
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    return _finish(X, y, _noise(noise), rng)
