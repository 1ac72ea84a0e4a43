"""The model file's limits, and a fuzz test: any bytes give a model or one ModelFormatError."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlp import MLP, ModelFormatError, TensorMLP, load_model
from mlp.io import model_to_dict
from mlp.model_file import DEFAULT_MAX_PARAMETERS, max_file_bytes, read_model_file

_FIXTURE_OK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture],
                       max_examples=150, deadline=None)


def _good_text() -> str:
    model = MLP(3, [2, 2], "tanh", "softmax", seed=0)
    model.metadata = {"classes": ["a", "b"]}
    return json.dumps(model_to_dict(model), indent=1)


GOOD = _good_text()


def _load_or_refuse(path: Path, content: bytes) -> MLP | None:
    """Load `content`; a refusal must be the library's one error, naming the file, and
    come quickly."""
    path.write_bytes(content)
    started = time.perf_counter()
    try:
        model = load_model(path)
    except ModelFormatError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        model = None
    assert time.perf_counter() - started < 5.0
    return model


@_FIXTURE_OK
@given(st.binary(max_size=3000))
def test_any_bytes_load_or_raise_the_librarys_error(tmp_path: Path, content: bytes) -> None:
    assert _load_or_refuse(tmp_path / "fuzz.json", content) is None


# Pieces a hostile or damaged file might hold where a value or token was.
NASTY = [
    "1" + "0" * 5000,             # more digits than int() reads
    "-" + "9" * 4299,             # just under the limit: a huge int, not a float
    "1" + "0" * 400,              # a float that overflows to inf
    "1e999", "-1e999", "NaN", "Infinity", "-Infinity",
    "[" * 50_000, "{" * 50_000, "[" * 50_000 + "]" * 50_000,
    "null", "true", "false", "0", "-0", "0.5", "1e-400", '""', '"\\ud800"', "[]", "{}",
    '{"weight": [[1]], "bias": [1]}', "[[1, 2], [3]]", "[[true]]", "4294967296",
]


@_FIXTURE_OK
@given(st.data())
def test_mutated_model_files_load_or_raise_the_librarys_error(tmp_path: Path,
                                                              data: st.DataObject) -> None:
    text = GOOD
    for _ in range(data.draw(st.integers(1, 3))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, min(len(text), start + 40)))
        piece = data.draw(st.sampled_from(NASTY) | st.text(max_size=8))
        text = text[:start] + piece + text[end:]
    model = _load_or_refuse(tmp_path / "mutated.json", text.encode("utf-8", "surrogatepass"))
    if model is not None:
        assert isinstance(model, MLP) and model.n_parameters <= DEFAULT_MAX_PARAMETERS


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner,
                                                                max_size=4),
    max_leaves=20,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


@_FIXTURE_OK
@given(st.data())
def test_documents_with_any_value_anywhere_load_or_raise_the_librarys_error(
        tmp_path: Path, data: st.DataObject) -> None:
    document = json.loads(GOOD)
    where = data.draw(st.sampled_from(_paths(document)[1:]))
    node = document
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = data.draw(json_values)
    _load_or_refuse(tmp_path / "changed.json", json.dumps(document).encode())


def test_a_number_with_too_many_digits_is_a_format_error_naming_the_file(
        tmp_path: Path) -> None:
    path = tmp_path / "digits.json"
    path.write_text(GOOD.replace('"n_inputs": 3', '"n_inputs": 1' + "0" * 5000), "utf-8")
    with pytest.raises(ModelFormatError, match=r"digits\.json: a number Python will not read"):
        MLP.load(path)


def test_the_parameter_limit_is_checked_before_any_weight(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    document = json.loads(GOOD)
    document["architecture"]["layer_sizes"] = [10**9, 2]  # the weights are still tiny
    path.write_text(json.dumps(document), "utf-8")
    with pytest.raises(ModelFormatError, match=r"huge\.json: architecture: 6000000002 "
                                               r"parameters is more than max_parameters="):
        MLP.load(path)
    document["architecture"]["layer_sizes"] = [10**4000, 2]
    path.write_text(json.dumps(document), "utf-8")
    with pytest.raises(ModelFormatError, match=r"a number of about 10\*\*4000 parameters"):
        MLP.load(path)


def test_the_parameter_limit_can_be_raised_or_lowered(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    model = MLP(3, [2, 2], seed=0, engine="tensor")  # 14 parameters
    model.save(path)
    with pytest.raises(ModelFormatError, match="14 parameters is more than max_parameters=13"):
        MLP.load(path, max_parameters=13)
    assert isinstance(MLP.load(path, max_parameters=14), TensorMLP)
    assert load_model(path, max_parameters=14).n_parameters == 14
    with pytest.raises(ValueError, match="max_parameters must be an int >= 1"):
        MLP.load(path, max_parameters=0)


def test_a_file_larger_than_the_limit_allows_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with open(path, "wb") as file:  # sparse: takes no disk space
        file.truncate(max_file_bytes(1) + 1)
    tracemalloc.start()
    try:
        with pytest.raises(ModelFormatError, match=r"big\.json: more bytes than a model of "
                                                   r"at most 1 parameters needs"):
            read_model_file(path, max_parameters=1)
        assert tracemalloc.get_traced_memory()[1] < 1 << 20  # nothing was read
    finally:
        tracemalloc.stop()


def test_deep_nesting_costs_little(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 200_000 + "]" * 200_000, "utf-8")
    tracemalloc.start()
    try:
        with pytest.raises(ModelFormatError, match=r"deep\.json: JSON nested too deeply"):
            MLP.load(path)
        assert tracemalloc.get_traced_memory()[1] < 50 << 20
    finally:
        tracemalloc.stop()
