"""Save/load: bit-exact round trips, every kind of broken file, atomic writes."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlp import MLP, BaseMLP, ModelFormatError, load_model
from mlp.io import (
    FORMAT_NAME,
    FORMAT_VERSION,
    atomic_write_text,
    model_from_dict,
    model_to_dict,
    save_model,
)

finite = st.floats(allow_nan=False, allow_infinity=False)


def _bits(model: MLP) -> list[bytes]:
    return [struct.pack("<d", p.data) for p in model.parameters()]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    nin=st.integers(1, 4),
    activation=st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "linear"]),
    output=st.sampled_from(["linear", "sigmoid", "softmax"]),
    values=st.lists(finite, min_size=1, max_size=200),
)
def test_round_trip_is_bit_exact(tmp_path: Path, sizes: list[int], nin: int, activation: str,
                                 output: str, values: list[float]) -> None:
    if output == "softmax" and sizes[-1] < 2:
        sizes = [*sizes[:-1], 2]
    model = MLP(nin, sizes, activation, output, seed=0, negative_slope=0.3)
    for i, p in enumerate(model.parameters()):  # extreme, subnormal and -0.0 floats included
        p.data = values[i % len(values)]
    model.metadata = {"classes": ["a", "b"], "note": "ünïcode", "nested": {"k": [1, 2.5]}}
    path = tmp_path / "model.json"
    model.save(path)
    loaded = MLP.load(path)
    assert _bits(loaded) == _bits(model)
    assert (loaded.n_inputs, loaded.layer_sizes, loaded.activation, loaded.output) == \
        (nin, sizes, activation, output)
    assert loaded.negative_slope == 0.3
    assert loaded.metadata == model.metadata
    assert [p.label for p in loaded.parameters()] == [p.label for p in model.parameters()]


def test_the_file_is_the_documented_json(tmp_path: Path) -> None:
    model = MLP(2, [3, 2], output="softmax", seed=1)
    path = tmp_path / "m.json"
    save_model(model, path, metadata={"classes": ["no", "yes"]})
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == FORMAT_NAME and document["version"] == FORMAT_VERSION
    assert document["architecture"] == {"n_inputs": 2, "layer_sizes": [3, 2],
                                        "activation": "relu", "output": "softmax",
                                        "negative_slope": 0.01}
    weight = document["layers"][0]["weight"]
    assert len(weight) == 3 and len(weight[0]) == 2
    assert weight[1][0] == model.named_parameters()["L0.N1.w0"].data
    assert document["layers"][1]["bias"] == [n.b.data for n in model.layers[1].neurons]
    assert document["metadata"] == {"classes": ["no", "yes"]}
    assert set(os.listdir(tmp_path)) == {"m.json"}  # no temporary file left behind


def _good_document() -> dict[str, Any]:
    model = MLP(2, [3, 2], output="softmax", seed=0)
    return model_to_dict(model, {"k": 1})


def _edit(change) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    document = _good_document()
    change(document)
    return document


CORRUPT_DOCUMENTS = {
    "not an object": ([1, 2, 3], "top level: expected a JSON object, got an array"),
    "other format": (_edit(lambda d: d.update(format="keras")), "format is 'keras'"),
    "newer version": (_edit(lambda d: d.update(version=2)), "version 2 .*newer"),
    "version as text": (_edit(lambda d: d.update(version="1")), "version: expected an integer"),
    "version as bool": (_edit(lambda d: d.update(version=True)), "version: expected an integer"),
    "no layers key": (_edit(lambda d: d.pop("layers")), "missing key.*'layers'"),
    "unknown key": (_edit(lambda d: d.update(extra=1)), "unknown key.*'extra'"),
    "architecture not an object": (_edit(lambda d: d.update(architecture=[])),
                                   "architecture: expected a JSON object"),
    "missing activation": (_edit(lambda d: d["architecture"].pop("activation")),
                           "architecture: missing key.*'activation'"),
    "unknown activation": (_edit(lambda d: d["architecture"].update(activation="gelu")),
                           "unknown 'gelu'"),
    "unknown output": (_edit(lambda d: d["architecture"].update(output="relu")),
                       "architecture.output"),
    "n_inputs zero": (_edit(lambda d: d["architecture"].update(n_inputs=0)),
                      "n_inputs: expected a positive integer"),
    "n_inputs float": (_edit(lambda d: d["architecture"].update(n_inputs=2.0)),
                       "n_inputs: expected a positive integer"),
    "sizes empty": (_edit(lambda d: d["architecture"].update(layer_sizes=[])),
                    "layer_sizes: expected a non-empty array"),
    "size as text": (_edit(lambda d: d["architecture"].update(layer_sizes=[3, "2"])),
                     r"layer_sizes\[1\]"),
    "slope as text": (_edit(lambda d: d["architecture"].update(negative_slope="0.1")),
                      "negative_slope"),
    "softmax with one output": (
        _edit(lambda d: (d["architecture"].update(layer_sizes=[3, 1]),
                         d["layers"][1].update(weight=[[0.0] * 3], bias=[0.0]))),
        "softmax output needs at least 2"),
    "too few layers": (_edit(lambda d: d["layers"].pop()), "expected weights for 2 layers"),
    "weight rows missing": (_edit(lambda d: d["layers"][0]["weight"].pop()),
                            r"layer 0 W: expected shape \(3, 2\)"),
    "ragged weight": (_edit(lambda d: d["layers"][0]["weight"][1].append(0.5)),
                      "layer 0 W: not a rectangular array"),
    "wrong bias length": (_edit(lambda d: d["layers"][1]["bias"].append(0.0)),
                          r"layer 1 b: expected shape \(2,\)"),
    "weight as text": (_edit(lambda d: d["layers"][1]["weight"][0].__setitem__(0, "0.5")),
                       r"layer 1 W\[0\]\[0\]: expected a number, got str"),
    "weight as bool": (_edit(lambda d: d["layers"][1]["weight"][0].__setitem__(0, True)),
                       r"expected a number, got bool"),
    "weight as null": (_edit(lambda d: d["layers"][0]["bias"].__setitem__(2, None)),
                       r"layer 0 b\[2\]: expected a number, got NoneType"),
    "bias not an array": (_edit(lambda d: d["layers"][0].update(bias=0.0)),
                          r"layers\[0\].bias: expected an array"),
    "layer not an object": (_edit(lambda d: d["layers"].__setitem__(0, [1])),
                            r"layers\[0\]: expected a JSON object"),
    "layer with extra key": (_edit(lambda d: d["layers"][0].update(scale=1)),
                             r"layers\[0\]: unknown key"),
    "metadata not an object": (_edit(lambda d: d.update(metadata=[1])),
                               "metadata: expected an object"),
    "huge number": (None, "NaN or infinity"),
}


@pytest.mark.parametrize("case", sorted(CORRUPT_DOCUMENTS))
def test_every_corrupt_document_raises_one_clear_error(tmp_path: Path, case: str) -> None:
    document, message = CORRUPT_DOCUMENTS[case]
    path = tmp_path / "bad.json"
    if document is None:  # 1e999 parses as inf in Python's json: must still be refused
        text = json.dumps(_good_document()).replace(
            str(_good_document()["layers"][0]["weight"][0][0]), "1e999", 1)
        path.write_text(text, encoding="utf-8")
    else:
        path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(ModelFormatError, match=message) as info:
        load_model(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not valid JSON.*truncated"),
        (b"\xff\xfe\x00garbage", "not a UTF-8 text file"),
        (b'{"format": "backprop-lab/mlp", "version": 1, "layers": [NaN]}',
         "non-finite number NaN"),
        (b'{"format": "backprop-lab/mlp", "version": 1, "layers": [Infinity]}',
         "non-finite number Infinity"),
        (b"{'format': 1}", "not valid JSON"),
        (b"[" * 100000, "not valid JSON|nested too deeply"),
    ],
)
def test_unreadable_bytes_raise_the_same_error(tmp_path: Path, content: bytes,
                                               message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(ModelFormatError, match=message):
        load_model(path)


def test_every_truncation_of_a_good_file_is_refused(tmp_path: Path) -> None:
    model = MLP(2, [2, 2], output="softmax", seed=0)
    good = tmp_path / "good.json"
    model.save(good)
    data = good.read_bytes().rstrip()
    cut = tmp_path / "cut.json"
    for length in range(0, len(data), 7):
        cut.write_bytes(data[:length])
        with pytest.raises(ModelFormatError):
            load_model(cut)


def test_missing_file_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.json")


def test_model_from_dict_checks_before_building() -> None:
    document = _good_document()
    document["layers"][1]["bias"] = [0.0, "x"]
    with pytest.raises(ModelFormatError, match=r"layer 1 b\[1\]"):
        model_from_dict(document)


def test_non_finite_models_and_unserializable_metadata_are_not_saved(tmp_path: Path) -> None:
    path = tmp_path / "m.json"
    model = MLP(2, [2], seed=0)
    model.save(path)
    before = path.read_bytes()
    model.layers[0].neurons[1].w[0].data = float("nan")
    with pytest.raises(ValueError, match="layer 0 has NaN or infinite parameters"):
        model.save(path)
    model.layers[0].neurons[1].w[0].data = 1.0
    with pytest.raises(TypeError, match="metadata is not JSON-serializable"):
        model.save(path, metadata={"a": object()})
    with pytest.raises(TypeError, match="metadata must be a dict"):
        model.save(path, metadata=[1])  # type: ignore[arg-type]
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.json"]


def test_existing_file_survives_a_failed_write(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "model.json"
    MLP(2, [2], seed=0).save(path)
    before = path.read_bytes()

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        MLP(2, [2], seed=1).save(path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]

    def rename_fails(src: str, dst: str) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.undo()
    monkeypatch.setattr(os, "replace", rename_fails)
    with pytest.raises(PermissionError):
        atomic_write_text(path, "new text")
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["model.json"]


def test_atomic_write_replaces_and_keeps_normal_permissions(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    atomic_write_text(path, "first")
    atomic_write_text(path, "second ✓")
    assert path.read_text(encoding="utf-8") == "second ✓"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_loading_returns_a_new_model_and_leaves_others_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`load` is a class method: it builds a model only from a file that checks out, and
    called on a model it returns a new one (``model = MLP.load(path)``)."""
    built: list[BaseMLP] = []
    original = BaseMLP.from_weights.__func__  # type: ignore[attr-defined]

    def spy(cls: type[BaseMLP], *args: Any, **kwargs: Any) -> BaseMLP:
        model = original(cls, *args, **kwargs)
        built.append(model)
        return model

    monkeypatch.setattr(BaseMLP, "from_weights", classmethod(spy))
    bad, good = tmp_path / "bad.json", tmp_path / "good.json"
    document = _good_document()
    good.write_text(json.dumps(document), encoding="utf-8")
    document["layers"][1]["weight"] = [[1.0, 2.0, 3.0]]  # one row short
    bad.write_text(json.dumps(document), encoding="utf-8")
    model = MLP(2, [3, 2], output="softmax", seed=5)
    before = model.get_weights()
    with pytest.raises(ModelFormatError, match="layer 1"):
        model.load(bad)
    assert built == []  # no model was built from the bad file, not even in part
    loaded = model.load(good)
    assert built == [loaded] and loaded is not model
    assert all(np.array_equal(a, b) for pair, old in zip(model.get_weights(), before)
               for a, b in zip(pair, old))
    assert not np.array_equal(loaded.get_weights()[0][0], before[0][0])
    assert "model = MLP.load(path)" in (MLP.load.__doc__ or "")


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_models_built_from_weights_have_no_seed(tmp_path: Path, engine: str) -> None:
    model = MLP(2, [3, 2], seed=7, engine=engine)
    assert model.seed == 7
    assert MLP.from_weights(model.get_weights(), engine=engine).seed is None
    model.save(tmp_path / "m.json")
    loaded = MLP.load(tmp_path / "m.json")
    assert loaded.engine == engine and loaded.seed is None  # the file records no seed
    assert model.to_engine("value").seed == 7  # a copy keeps its model's seed


def test_writing_into_a_missing_directory_names_the_target(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "m.json"
    for write in (lambda: atomic_write_text(target, "{}"), lambda: MLP(2, [2]).save(target)):
        with pytest.raises(FileNotFoundError) as error:
            write()
        message = str(error.value)
        assert f"cannot write {target}" in message
        assert f"the directory {target.parent} does not exist" in message
        assert ".tmp" not in message
    assert os.listdir(tmp_path) == []


def test_state_dict_layout_without_torch() -> None:
    model = MLP(3, [4, 2], seed=0)
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["0.weight"].shape == (4, 3) and state["2.bias"].shape == (2,)
    assert list(MLP(3, [4, 2], activation="linear", seed=0).state_dict()) == \
        ["0.weight", "0.bias", "1.weight", "1.bias"]
    other = MLP(3, [4, 2], seed=9)
    other.load_state_dict({k: v.tolist() for k, v in state.items()})  # plain lists work
    assert [p.data for p in other.parameters()] == [p.data for p in model.parameters()]
    # indices only need to be in order (a Dropout between layers shifts them)
    other = MLP(3, [4, 2], seed=9)
    other.load_state_dict({"0.weight": state["0.weight"], "0.bias": state["0.bias"],
                           "3.weight": state["2.weight"], "3.bias": state["2.bias"]})
    assert [p.data for p in other.parameters()] == [p.data for p in model.parameters()]


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ({"0.weight": np.zeros((4, 3))}, "no '0.bias'"),
        ({"layer.0.weight": np.zeros((4, 3))}, "expected '<index>.weight'"),
        ({"0.weight": np.zeros((4, 3)), "0.bias": np.zeros(4)}, "expected weights for 2 layers"),
        ({"0.weight": np.zeros((3, 4)), "0.bias": np.zeros(4), "2.weight": np.zeros((2, 4)),
          "2.bias": np.zeros(2)}, r"layer 0 W: expected shape \(4, 3\)"),
        ([1, 2], "must be a mapping"),
        # keys PyTorch never writes, which would silently overwrite or reorder layers
        ({"0.weight": np.zeros((4, 3)), "00.weight": np.ones((4, 3)), "0.bias": np.zeros(4)},
         r"key '00\.weight' is not how PyTorch names Linear 0's weight \('0\.weight'\), and "
         r"it clashes with '0\.weight'"),
        ({"01.weight": np.zeros((4, 3))}, r"'01\.weight' is not how PyTorch names Linear 1"),
        ({"\u0660.weight": np.zeros((4, 3))}, r"key '\u0660\.weight': expected '<index>"),
        ({"0.weight\n": np.zeros((4, 3))}, r"key '0\.weight\\n': expected '<index>"),
        ({"9" * 5000 + ".weight": np.zeros((4, 3))}, "expected '<index>.weight'"),
    ],
)
def test_bad_state_dicts_leave_the_model_unchanged(state: Any, message: str) -> None:
    model = MLP(3, [4, 2], seed=0)
    before = [p.data for p in model.parameters()]
    with pytest.raises(ModelFormatError, match=message):
        model.load_state_dict(state)
    assert [p.data for p in model.parameters()] == before
