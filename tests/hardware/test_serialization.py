"""hardware.serialization: the one dataclass <-> dict rule, and hardware's two saved classes."""

from __future__ import annotations

import dataclasses
import enum
import json
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from hardware import serialization as ser

ROOT = pathlib.Path(__file__).resolve().parents[2]


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass(frozen=True)
class Point:
    x: float
    y: float = 0.0


@dataclasses.dataclass
class Shape:
    name: str
    corners: tuple[Point, ...]
    weights: np.ndarray
    colour: Colour = Colour.RED
    where: pathlib.Path = pathlib.Path("a/b")
    centre: Point | None = None
    tags: dict[str, list[int]] = dataclasses.field(default_factory=dict)
    size: tuple[int, int] = (1, 2)
    schema_version: int = 3

    def __eq__(self, other):
        return (
            isinstance(other, Shape)
            and {k: v for k, v in vars(self).items() if k != "weights"}
            == {k: v for k, v in vars(other).items() if k != "weights"}
            and np.array_equal(self.weights, other.weights)
        )


SHAPE = ser.Schema(version=3, tag=("type", "Shape"))


def shape() -> Shape:
    return Shape(
        name="tri",
        corners=(Point(0.0), Point(1.0, 2.0), Point(np.float32(0.5), 1.0)),
        weights=np.arange(6, dtype=float).reshape(2, 3),
        colour=Colour.BLUE,
        centre=Point(0.5, 0.5),
        tags={"a": [1, 2]},
        size=(np.int64(3), 4),
    )


def test_round_trip_of_nested_dataclasses_tuples_arrays_enums_and_paths():
    data = ser.to_dict(shape(), SHAPE)
    text = json.dumps(data)  # plain JSON types only
    assert list(data)[:3] == ["schema_version", "type", "name"]
    assert data["schema_version"] == 3 and "schema_version" not in list(data)[1:]
    assert data["corners"][1] == {"x": 1.0, "y": 2.0}
    assert data["weights"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert (data["colour"], data["where"], data["size"]) == ("blue", "a/b", [3, 4])
    back = ser.from_dict(Shape, json.loads(text), SHAPE)
    assert back == shape()
    assert isinstance(back.corners, tuple) and isinstance(back.corners[0], Point)
    assert back.weights.shape == (2, 3) and back.colour is Colour.BLUE
    assert isinstance(back.where, pathlib.Path) and back.size == (3, 4)
    assert ser.from_json(Shape, ser.to_json(shape(), SHAPE), SHAPE) == shape()


@dataclasses.dataclass(frozen=True)
class Labelled(ser.Serializable):
    label: str
    at: Point = Point(0.0)

    _schema = ser.Schema(version=2, tag=("type", "Labelled"))
    _json_sort_keys = True


def test_serializable_gives_the_four_methods_by_the_class_schema():
    labelled = Labelled("b", Point(1.0, 2.0))
    assert [field.name for field in dataclasses.fields(Labelled)] == ["label", "at"]
    assert labelled.to_dict() == ser.to_dict(labelled, Labelled._schema)
    assert list(json.loads(labelled.to_json())) == ["at", "label", "schema_version", "type"]
    assert labelled.to_json(indent=1).startswith("{\n")
    assert Labelled.from_json(labelled.to_json()) == labelled
    assert Labelled.from_dict({"label": "b", "at": {"x": 1, "y": 2}}) == labelled
    with pytest.raises(ValueError, match="Not a Labelled record"):
        Labelled.from_dict({"label": "b", "type": "Other"})
    with pytest.raises(ValueError):
        Labelled.from_json("{")


def test_a_missing_schema_version_is_version_1_and_a_newer_one_is_refused():
    assert ser.from_dict(Point, {"x": 1}) == Point(1.0)
    assert isinstance(ser.from_dict(Point, {"x": 1}).x, float)  # ints into float fields
    assert ser.from_dict(Point, {"x": 1.0, "schema_version": 1}) == Point(1.0)
    old = {k: v for k, v in ser.to_dict(shape(), SHAPE).items() if k != "schema_version"}
    assert ser.from_dict(Shape, old, SHAPE) == shape()  # version 1 of a version-3 class
    with pytest.raises(ValueError) as info:
        ser.from_dict(Shape, {**old, "schema_version": 4}, SHAPE)
    message = str(info.value)
    assert "Shape schema_version 4 is newer than the version this code reads (3)" in message
    for bad in (0, "2", True, 1.5):
        with pytest.raises(ValueError, match="schema_version must be an integer >= 1"):
            ser.from_dict(Point, {"x": 1.0, "schema_version": bad})


def test_unknown_keys_name_themselves_close_matches_and_the_known_keys():
    with pytest.raises(ValueError) as info:
        ser.from_dict(Point, {"x": 1.0, "yy": 2.0, "colour": 3})
    assert str(info.value) == (
        "Unknown Point keys ['colour', 'yy'] (did you mean 'yy' -> 'y'?); "
        "expected some of ['x', 'y']."
    )
    hinted = ser.Schema(hint="see examples/point.yaml")
    with pytest.raises(ValueError, match=r"expected some of \['x', 'y'\]; see examples/point"):
        ser.from_dict(Point, {"x": 1.0, "z": 2.0}, hinted)


def test_missing_required_keys_other_tags_and_non_dicts_are_refused():
    with pytest.raises(ValueError, match=r"A Point record needs the keys \['x'\]; got \['y'\]"):
        ser.from_dict(Point, {"y": 1.0})
    record = ser.to_dict(shape(), SHAPE)
    with pytest.raises(ValueError, match="Not a Shape record: type is 'Circle'"):
        ser.from_dict(Shape, {**record, "type": "Circle"}, SHAPE)
    untagged = {k: v for k, v in record.items() if k != "type"}
    assert ser.from_dict(Shape, untagged, SHAPE) == shape()  # the tag may be absent
    with pytest.raises(ValueError, match="must be a JSON object of its fields, got list"):
        ser.from_dict(Point, [1.0, 2.0])


def test_renamed_legacy_derived_defaults_and_hooks():
    @dataclasses.dataclass
    class Run:
        label: str
        values: np.ndarray
        created: str = "now"

        @property
        def total(self) -> float:
            return float(np.sum(self.values))

    schema = ser.Schema(
        renamed={"name": "label"},
        legacy={"threads": "records of version 0.1 (tests only)"},
        derived={"total": lambda run: run.total},
        encode={"label": str.upper},
        decode={"label": str.lower, "values": ser.array(np.int64)},
        defaults={"created": lambda: ""},
    )
    run = Run("a", np.array([1, 2]), created="today")
    data = ser.to_dict(run, schema)
    assert data == {
        "schema_version": 1,
        "label": "A",
        "values": [1, 2],
        "created": "today",
        "total": 3.0,
    }
    back = ser.from_dict(Run, data, schema)
    assert back.label == "a" and back.values.dtype == np.int64 and back.created == "today"
    old = ser.from_dict(Run, {"name": "B", "values": [1], "threads": 2}, schema)
    assert (old.label, old.created) == ("b", "")  # renamed, legacy dropped, read default
    with pytest.raises(ValueError, match="has both 'name' and its new name 'label'"):
        ser.from_dict(Run, {"name": "b", "label": "c", "values": []}, schema)
    # A null value is read as None, without the hook.
    assert ser.from_dict(Run, {"label": "x", "values": None}, schema).values is None


def test_values_json_cannot_hold_are_refused_when_writing():
    @dataclasses.dataclass
    class Holder:
        thing: object

    with pytest.raises(TypeError, match="Cannot write a complex as JSON"):
        ser.to_dict(Holder(1j))
    assert ser.to_dict(Holder({"a": (np.float32(0.5), None)})) == {"thing": {"a": [0.5, None]}}


def test_the_helper_and_hardware_import_without_cirq():
    code = (
        "import sys; import hardware; from hardware import serialization; "
        "print('cirq' in sys.modules, 'qaoa_meta' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert done.stdout.split() == ["False", "False"]


def test_hardware_names_load_on_first_use():
    import hardware
    from hardware import compile as compile_module
    from hardware import simulate

    assert hardware.CompiledCircuit is compile_module.CompiledCircuit
    assert hardware.EnergyEstimate is simulate.EnergyEstimate
    for name in hardware.__all__:
        assert getattr(hardware, name) is not None, name
    assert hardware.noise.__name__ == "hardware.noise"  # submodules too
    assert set(hardware.__all__) <= set(dir(hardware))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hardware.nope  # noqa: B018


# --- hardware's saved classes ------------------------------------------------------------------
def test_energy_estimate_round_trip_and_strict_keys():
    from hardware.simulate import EnergyEstimate

    estimate = EnergyEstimate(1.5, 0.1, "sampling+mitigated", 100)
    assert EnergyEstimate.from_dict(estimate.to_dict()) == estimate
    assert json.loads(estimate.to_json()) == {
        "value": 1.5,
        "stderr": 0.1,
        "method": "sampling+mitigated",
        "samples": 100,
    }
    with pytest.raises(ValueError, match=r"Unknown EnergyEstimate keys \['shots'\]"):
        EnergyEstimate.from_json('{"value": 1.0, "stderr": 0.0, "method": "exact", "shots": 3}')
    with pytest.raises(ValueError, match="EnergyEstimate schema_version 2 is newer"):
        EnergyEstimate.from_dict({**estimate.to_dict(), "schema_version": 2})


def test_compiled_circuit_round_trip_version_and_keys():
    import cirq

    import hardware

    qubits = cirq.LineQubit.range(3)
    logical = cirq.Circuit(
        cirq.H.on_each(*qubits), cirq.ZZ(qubits[0], qubits[2]) ** 0.3, cirq.rx(0.4).on_each(*qubits)
    )
    compiled = hardware.compile_circuit(logical, "grid:2x2", "cz", seed=1)
    data = json.loads(compiled.to_json())
    assert (data["schema_version"], data["kind"]) == (1, "hardware.CompiledCircuit")
    assert data["summary"] == compiled.summary()
    back = hardware.CompiledCircuit.from_json(compiled.to_json())
    assert back.circuit == compiled.circuit and back.final_map == compiled.final_map
    assert back.initial_map == compiled.initial_map and back.metadata == compiled.metadata
    assert back.summary() == compiled.summary()
    del data["schema_version"]  # files without a version are version 1
    assert hardware.CompiledCircuit.from_dict(data).circuit == compiled.circuit
    with pytest.raises(ValueError, match="CompiledCircuit schema_version 2 is newer .* \\(1\\)"):
        hardware.CompiledCircuit.from_dict({**data, "schema_version": 2})
    with pytest.raises(ValueError, match=r"Unknown CompiledCircuit keys \['qubits'\]"):
        hardware.CompiledCircuit.from_dict({**data, "qubits": []})
