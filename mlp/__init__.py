"""A small neural-network library on the `autograd` engine: neurons to trained models.

>>> from mlp import MLP, fit, load_iris, train_test_split, Standardizer
>>> X, y = load_iris()
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, 0.2, seed=0)
>>> scaler = Standardizer().fit(X_train)
>>> model = MLP(4, [16, 16, 3], activation="relu", output="softmax", seed=0)
>>> history = fit(model, scaler.transform(X_train), y_train, epochs=5, batch_size=16,
...               seed=0, progress=False)
>>> model.predict(scaler.transform(X_test)).shape
(30,)

`MLP` is the base class of both engines' models: ``MLP(...)`` builds a `ValueMLP`
(every weight a `Value`) and ``MLP(..., engine="tensor")`` a `TensorMLP` (a weight matrix
per layer), with the same initial weights, methods, `fit`, losses, optimizers and file
format.
"""

from mlp.architecture import DTYPES, ENGINES, ModelFormatError
from mlp.base import HIDDEN_ACTIVATIONS, INITIALIZERS, MLP, OUTPUT_ACTIVATIONS, BaseMLP, Layer
from mlp.datasets import (
    Dataset,
    Standardizer,
    load_iris,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    one_hot,
    train_test_split,
)
from mlp.explain import FourEquations, four_equations
from mlp.io import load_model, save_model
from mlp.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    hinge,
    l2_penalty,
    mse,
)
from mlp.metrics import (
    accuracy,
    classification_report,
    confusion_matrix,
    format_confusion_matrix,
    precision_recall,
)
from mlp.nn import Neuron, ValueLayer, ValueMLP
from mlp.optim import SGD, Adam, LinearLR, LRSchedule, Optimizer, StepLR
from mlp.tensor_nn import TensorLayer, TensorMLP
from mlp.train import History, TrainingDivergedError, evaluate, fit

__all__ = [
    "Neuron", "Layer", "MLP", "HIDDEN_ACTIVATIONS", "OUTPUT_ACTIVATIONS", "INITIALIZERS",
    "ENGINES", "DTYPES", "BaseMLP", "ValueLayer", "ValueMLP", "TensorLayer", "TensorMLP",
    "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse", "hinge",
    "l2_penalty",
    "Optimizer", "SGD", "Adam", "LRSchedule", "StepLR", "LinearLR",
    "fit", "evaluate", "History", "TrainingDivergedError",
    "accuracy", "confusion_matrix", "precision_recall", "classification_report",
    "format_confusion_matrix",
    "Dataset", "load_iris", "train_test_split", "Standardizer", "one_hot",
    "make_moons", "make_circles", "make_spirals", "make_xor",
    "save_model", "load_model", "ModelFormatError",
    "four_equations", "FourEquations",
]
