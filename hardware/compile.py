"""The compile pipeline: route onto a device, convert to a gate set, schedule.

:func:`compile_circuit` runs both routers of :mod:`hardware.routing` (``auto``) and keeps the
one with fewer native two-qubit gates, converts with :mod:`hardware.gatesets` (resolved or
symbolic) and applies the options of :mod:`hardware.scheduling`; :class:`CompiledCircuit`
carries the result, its qubit maps and its JSON.

Routing, gate sets and scheduling each live in their own module (``hardware`` exports their
names from there). Code written against the single ``hardware.compile`` module still finds
them here: the ones this module uses are imported, the others answer through a
``DeprecationWarning`` that names their home.
"""

from __future__ import annotations

import importlib
import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import cirq

from hardware import serialization
from hardware.devices import (
    GATESETS,
    Device,
    SeedLike,
    get_device,
)
from hardware.gatesets import (
    to_gateset,
    to_gateset_symbolic,
    two_qubit_count,
    validate,
)
from hardware.routing import (
    ROUTERS,
    check_at_most_two_qubits,
    route,
)
from hardware.scheduling import (
    add_dynamical_decoupling,
    decoupling_schema,
    stratify_moments,
)

COMPILED_KIND = "hardware.CompiledCircuit"
COMPILED_SCHEMA_VERSION = 1


def _cirq_to_json(value) -> object:
    return json.loads(cirq.to_json(value))


def _cirq_from_json(data) -> object:
    return cirq.read_json(json_text=json.dumps(data))


def _qubit_map_to_json(qubit_map: Mapping) -> list:
    return [_cirq_to_json([logical, physical]) for logical, physical in qubit_map.items()]


def _qubit_map_from_json(items: list) -> dict:
    return dict(_cirq_from_json(item) for item in items)


@dataclass
class CompiledCircuit(serialization.Serializable):
    """A compiled circuit and how its logical qubits sit on the device.

    Saved (:class:`hardware.serialization.Serializable`) with its kind and schema version: the
    circuit and qubit maps in Cirq's JSON (``cirq.to_json``), the settings, :meth:`summary`
    and :attr:`metadata`.

    Attributes:
        circuit: native circuit on device qubits.
        initial_map: logical qubit -> physical qubit before the first gate.
        final_map: logical qubit -> physical qubit after the last gate (read results here).
        device: device name (``hardware.get_device`` rebuilds it).
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore``.
        routing: router used (``cqc``, ``swap_network`` or ``none``).
        symbolic: True when the circuit still carries sympy symbols (TFQ-compatible form).
        compile_seconds: wall time of the compile.
        metadata: compile options recorded with the result (``stratify`` and
            ``dynamical_decoupling`` after :func:`compile_circuit`), kept in the JSON.
    """

    circuit: cirq.Circuit
    initial_map: dict[cirq.Qid, cirq.GridQubit]
    final_map: dict[cirq.Qid, cirq.GridQubit]
    device: str
    gateset: str
    routing: str
    symbolic: bool
    compile_seconds: float = 0.0
    metadata: dict = field(default_factory=dict)

    @property
    def two_qubit_count(self) -> int:
        """The number of two-qubit operations in :attr:`circuit`."""
        return two_qubit_count(self.circuit)

    @property
    def depth(self) -> int:
        """The number of moments of :attr:`circuit`."""
        return len(self.circuit)

    def logical_qubits(self) -> list[cirq.Qid]:
        """The logical qubits, sorted.

        Returns:
            The keys of :attr:`initial_map` in sorted order.
        """
        return sorted(self.initial_map)

    def summary(self) -> dict:
        """Plain-JSON summary: sizes and settings.

        Returns:
            A dict with ``device``, ``gateset``, ``routing``, ``symbolic``, ``n_logical``,
            ``depth``, ``two_qubit_count`` and ``compile_seconds``.
        """
        return {
            "device": self.device,
            "gateset": self.gateset,
            "routing": self.routing,
            "symbolic": self.symbolic,
            "n_logical": len(self.initial_map),
            "depth": self.depth,
            "two_qubit_count": self.two_qubit_count,
            "compile_seconds": self.compile_seconds,
        }

    # Cirq objects go through Cirq's JSON protocol; "summary" is derived from the circuit.
    _json_indent = 1
    _schema = serialization.Schema(
        version=COMPILED_SCHEMA_VERSION,
        tag=("kind", COMPILED_KIND),
        derived={"summary": lambda compiled: compiled.summary()},
        encode={
            "circuit": _cirq_to_json,
            "initial_map": _qubit_map_to_json,
            "final_map": _qubit_map_to_json,
        },
        decode={
            "circuit": _cirq_from_json,
            "initial_map": _qubit_map_from_json,
            "final_map": _qubit_map_from_json,
        },
        hint="pass a file written by CompiledCircuit.to_json (qaoa-meta compile)",
    )

    # Cirq's JSON protocol, so a compiled circuit can sit inside any Cirq JSON (a list of
    # them, a dict beside circuits); read it back with resolvers=[json_resolver, *cirq's].
    @classmethod
    def _json_namespace_(cls) -> str:
        return "hardware"

    def _json_dict_(self) -> dict:
        return {
            "circuit": self.circuit,
            "initial_map": [list(pair) for pair in self.initial_map.items()],
            "final_map": [list(pair) for pair in self.final_map.items()],
            "device": self.device,
            "gateset": self.gateset,
            "routing": self.routing,
            "symbolic": self.symbolic,
            "compile_seconds": self.compile_seconds,
            "metadata": self.metadata,
        }

    @classmethod
    def _from_json_dict_(cls, circuit, initial_map, final_map, **settings) -> CompiledCircuit:
        settings.pop("cirq_type", None)
        return cls(circuit, dict(map(tuple, initial_map)), dict(map(tuple, final_map)), **settings)


def json_resolver(cirq_type: str) -> type | None:
    """Cirq JSON resolver for this package's types (today :class:`CompiledCircuit`).

    ``cirq.to_json`` writes a :class:`CompiledCircuit` anywhere in a Cirq JSON value;
    ``cirq.read_json(..., resolvers=[hardware.json_resolver, *cirq.DEFAULT_RESOLVERS])``
    reads it back.

    Args:
        cirq_type: the ``cirq_type`` field of a JSON object.

    Returns:
        The class for ``hardware.*`` types this package defines, else None (Cirq then asks
        the next resolver).
    """
    return {"hardware.CompiledCircuit": CompiledCircuit}.get(cirq_type)


def check_target(device: Device | str, gateset: str, routing: str) -> Device:
    """The device, after checking that ``gateset`` is native to it and ``routing`` is known.

    Args:
        device: a :class:`Device` or its name.
        gateset: gate-set name; must be one of :data:`GATESETS` and native to the device.
        routing: router name; must be one of :data:`ROUTERS`.

    Returns:
        The :class:`Device` (looked up with :func:`get_device` when given a name).

    Raises:
        ValueError: naming the unknown gate set or router, or the gate sets the device has;
            for a device name :func:`get_device` does not know.
    """
    dev = get_device(device) if isinstance(device, str) else device
    if gateset not in GATESETS:
        raise ValueError(f"unknown gate set {gateset!r}; expected one of {', '.join(GATESETS)}")
    if gateset not in dev.gatesets:
        raise ValueError(
            f"gate set {gateset!r} is not native to device {dev.name!r}; choose one of "
            f"{', '.join(dev.gatesets)}"
        )
    if routing not in ROUTERS:
        raise ValueError(f"unknown routing {routing!r}; expected one of {', '.join(ROUTERS)}")
    return dev


def compile_circuit(
    circuit: cirq.AbstractCircuit,
    device: Device | str,
    gateset: str = "sqrt_iswap",
    *,
    routing: str = "auto",
    symbolic: bool | None = None,
    initial_map: Mapping[cirq.Qid, cirq.GridQubit] | None = None,
    seed: SeedLike = 0,
    stratify: bool = False,
    dynamical_decoupling: bool | str = False,
) -> CompiledCircuit:
    """Places, routes and converts a circuit to a device's native gate set.

    Args:
        circuit: logical circuit of 1- and 2-qubit gates (symbols allowed).
        device: a :class:`Device` or its name.
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore`` (must be native to the device).
        routing: ``auto`` (try ``cqc`` and ``swap_network``, keep the fewer native 2q gates),
            ``cqc`` or ``swap_network``.
        symbolic: keep symbols (TFQ-compatible output); default: whether the circuit has any.
        initial_map: fixed start mapping for ``cqc``; default :func:`hardware.place`.
        seed: seed for placement and line search.
        stratify: put single- and two-qubit gates in separate moments
            (``cirq.stratified_circuit``), as Google devices schedule them.
        dynamical_decoupling: fill idle spots of single-qubit moments with Pauli pulses
            (``cirq.add_dynamical_decoupling``): ``True`` for cirq's default X-Y-X-Y
            sequence or a cirq schema name (``XX_PAIR``, ``X_XINV``, ``YY_PAIR``,
            ``Y_YINV``). Resolved circuits only. The pulses become ``PhasedXZGate``s tagged
            :data:`DD_TAG`, which :func:`hardware.to_device_form` does not merge away.
            Applied after ``stratify``.

    Returns:
        The :class:`CompiledCircuit`, checked with :func:`validate`.

    Raises:
        ValueError: for an unknown or non-native gate set, an unknown routing, an operation
            on 3 or more qubits (names it; decompose it first), a circuit no router takes,
            an unknown decoupling schema, or decoupling asked of a symbolic circuit.
    """
    start = time.perf_counter()
    dev = check_target(device, gateset, routing)
    check_at_most_two_qubits(circuit)  # one clear error under every routing option
    if symbolic is None:
        symbolic = cirq.is_parameterized(circuit)
    schema = decoupling_schema(dynamical_decoupling, symbolic)
    convert = to_gateset_symbolic if symbolic else to_gateset
    methods = ["cqc", "swap_network"] if routing == "auto" else [routing]
    if initial_map is not None and routing == "auto":
        methods = ["cqc"]
    best: CompiledCircuit | None = None
    errors = []
    for method in methods:
        try:
            routed = route(circuit, dev, method=method, initial_map=initial_map, seed=seed)
        except ValueError as error:
            if routing != "auto":
                raise
            errors.append(str(error))
            continue
        native = convert(routed.circuit, gateset)
        cand = CompiledCircuit(
            native, routed.initial_map, routed.final_map, dev.name, gateset, routed.method, symbolic
        )
        if best is None or cand.two_qubit_count < best.two_qubit_count:
            best = cand
    if best is None:  # every router refused (e.g. too few qubits): each reason once
        raise ValueError("; ".join(dict.fromkeys(errors)))
    if stratify:
        best.circuit = stratify_moments(best.circuit)
    if schema is not None:
        best.circuit = add_dynamical_decoupling(best.circuit, schema)
    best.metadata.update(stratify=bool(stratify), dynamical_decoupling=schema)
    validate(best.circuit, dev, gateset)
    best.compile_seconds = time.perf_counter() - start
    return best


# Names that lived here before compile.py was split, now only in their own module.
_MOVED = {
    "DD_SCHEMAS": "hardware.scheduling",
    "DD_TAG": "hardware.scheduling",
    "RoutedCircuit": "hardware.routing",
    "interaction_graph": "hardware.routing",
    "is_native_two_qubit": "hardware.gatesets",
    "target_gateset": "hardware.gatesets",
    "tfq_safe": "hardware.gatesets",
}


def __getattr__(name: str):
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    warnings.warn(
        f"hardware.compile.{name} moved: use {_MOVED[name]}.{name}",
        DeprecationWarning,
        stacklevel=2,
    )
    return getattr(importlib.import_module(_MOVED[name]), name)


__all__ = [
    "COMPILED_SCHEMA_VERSION",
    "CompiledCircuit",
    "check_target",
    "compile_circuit",
    "json_resolver",
]
