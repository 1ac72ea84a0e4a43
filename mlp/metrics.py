"""Classification metrics on class labels (ints): accuracy, confusion matrix, precision/recall."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "accuracy", "confusion_matrix", "precision_recall", "ClassScores", "format_confusion_matrix",
    "classification_report", "MAX_CLASSES",
]


#: the most classes `confusion_matrix` (and what builds on it) accepts: a matrix of
#: MAX_CLASSES**2 counts is 8 MB; a stray label of 10**5 would ask for 80 GB
MAX_CLASSES = 1000


def _labels(values: Any, name: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a 1-D sequence of class labels, got shape {array.shape}")
    if array.size and np.issubdtype(array.dtype, np.floating):
        whole = np.isfinite(array) & (array == np.round(array)) & (np.abs(array) < 2.0**62)
        if not np.all(whole):
            bad = array[~whole][0]
            raise TypeError(f"{name} must hold integer class labels, got {bad!r}")
        return array.astype(np.int64)
    if array.size and not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer class labels, got dtype {array.dtype}")
    if array.dtype == np.uint64 and array.size and array.max() > np.iinfo(np.int64).max:
        raise ValueError(f"{name} holds the label {array.max()}, beyond int64")
    return array.astype(np.int64)


def _pair(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray]:
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {t.size} labels but y_pred has {p.size}")
    if t.size == 0:
        raise ValueError("no labels to score")
    return t, p


def accuracy(y_true: Any, y_pred: Any) -> float:
    """The fraction of predictions equal to the true label."""
    t, p = _pair(y_true, y_pred)
    return float(np.mean(t == p))


def confusion_matrix(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """``C[i, j]`` = how many samples of true class i were predicted as class j.

    Classes are 0 .. n_classes-1 (by default 1 + the largest label seen), at most
    `MAX_CLASSES`: a larger label is an error, not a matrix of 10**10 cells.
    """
    t, p = _pair(y_true, y_pred)
    if t.min() < 0 or p.min() < 0:
        raise ValueError("class labels must be >= 0")
    largest = int(max(t.max(), p.max()))
    if n_classes is None:
        if largest >= MAX_CLASSES:
            raise ValueError(f"label {largest} would make a {largest + 1} x {largest + 1} "
                             f"confusion matrix; classes are 0 .. n_classes-1, at most "
                             f"{MAX_CLASSES} of them")
        n_classes = largest + 1
    elif isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral):
        raise TypeError(f"n_classes must be an int, got {type(n_classes).__name__}")
    elif not 1 <= n_classes <= MAX_CLASSES:
        raise ValueError(f"n_classes must be between 1 and {MAX_CLASSES}, got {n_classes}")
    elif n_classes <= largest:
        raise ValueError(f"label {largest} does not fit n_classes={n_classes}")
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (t, p), 1)
    return matrix


@dataclass(frozen=True)
class ClassScores:
    """Per-class precision, recall, F1 and support (arrays indexed by class)."""

    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray


def precision_recall(y_true: Any, y_pred: Any, n_classes: int | None = None) -> ClassScores:
    """Per-class precision (of those predicted c, how many are c), recall (of those that
    are c, how many were found) and F1; a class never predicted (or absent) scores 0."""
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    hits = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return ClassScores(precision, recall, f1, actual)


def _names(n: int, class_names: Sequence[str] | None) -> list[str]:
    if class_names is None:
        return [str(i) for i in range(n)]
    if len(class_names) != n:
        raise ValueError(f"{len(class_names)} class names for {n} classes")
    return [str(c) for c in class_names]


def format_confusion_matrix(matrix: np.ndarray, class_names: Sequence[str] | None = None) -> str:
    """The matrix as a text table: rows are true classes, columns predicted classes."""
    matrix = np.asarray(matrix)
    names = _names(matrix.shape[0], class_names)
    width = max(max(len(n) for n in names), len(str(int(matrix.max(initial=0)))), 4)
    head = " " * (width + 2) + " ".join(f"{n:>{width}}" for n in names)
    lines = ["true \\ predicted", head]
    for name, row in zip(names, matrix):
        lines.append(f"{name:>{width}}  " + " ".join(f"{int(c):>{width}}" for c in row))
    return "\n".join(lines)


def classification_report(y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None,
                          n_classes: int | None = None) -> str:
    """Precision, recall, F1 and support per class, and the overall accuracy, as text."""
    if n_classes is None and class_names is not None:
        n_classes = len(class_names)
    scores = precision_recall(y_true, y_pred, n_classes)
    names = _names(len(scores.support), class_names)
    width = max(max(len(n) for n in names), 8)
    lines = [f"{'':>{width}}  precision  recall      f1  support"]
    for i, name in enumerate(names):
        lines.append(f"{name:>{width}}  {scores.precision[i]:9.3f}  {scores.recall[i]:6.3f}  "
                     f"{scores.f1[i]:6.3f}  {int(scores.support[i]):7d}")
    lines.append(f"{'accuracy':>{width}}  {accuracy(y_true, y_pred):9.3f}"
                 f"{'':>18}{int(scores.support.sum()):7d}")
    return "\n".join(lines)
