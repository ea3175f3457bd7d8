"""Routing onto a device and conversion to Google gate sets, for resolved and symbolic circuits.

Two routers: ``cirq.RouteCQC`` (any circuit of 1- and 2-qubit gates) and a QAOA swap network
(odd-even transposition on a line of device qubits; for circuits whose two-qubit gates are
diagonal, e.g. QAOA cost layers). :func:`compile_circuit` runs both and keeps the one with
fewer native two-qubit gates.

Two converters: :func:`to_gateset` compiles resolved circuits with
``cirq.optimize_for_target_gateset`` (2 natives per ZZ rotation, 3 per ZZ+SWAP);
:func:`to_gateset_symbolic` keeps sympy symbols, writing each symbolic ZZ rotation as
``CX · Z**t · CX`` with the CX pair compiled once to natives, and Rx/Rz as ``XPowGate``/
``ZPowGate`` with exponents ``coefficient * symbol``: the only symbolic form TFQ serialises.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field

import cirq
import networkx as nx
import numpy as np
import sympy

from hardware.devices import (
    GATESETS,
    Device,
    SeedLike,
    find_line,
    get_device,
    import_cirq_google,
    place,
)

ROUTERS: tuple[str, ...] = ("auto", "cqc", "swap_network")


@contextlib.contextmanager
def quiet_cirq():
    """Silences cirq 1.5's ``use_repetition_ids`` FutureWarning, raised by its own transformers."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r"(?s).*use_repetition_ids", category=FutureWarning
        )
        yield


_SYC_THETA, _SYC_PHI = np.pi / 2, np.pi / 6
_DIAGONAL_2Q = (cirq.ZZPowGate, cirq.CZPowGate)


def target_gateset(gateset: str) -> cirq.CompilationTargetGateset:
    """The cirq compilation target for a gate-set name (``cz``, ``sqrt_iswap``, ``sycamore``)."""
    if gateset == "cz":
        return cirq.CZTargetGateset()
    if gateset == "sqrt_iswap":
        return cirq.SqrtIswapTargetGateset()
    if gateset == "sycamore":
        cg = import_cirq_google()

        return cg.SycamoreTargetGateset()
    raise ValueError(f"unknown gate set {gateset!r}; expected one of {', '.join(GATESETS)}")


def check_at_most_two_qubits(circuit: cirq.AbstractCircuit) -> None:
    """Raises if a non-measurement operation acts on 3 or more qubits (routers need 1q/2q).

    Args:
        circuit: the circuit to check.

    Raises:
        ValueError: naming the first such operation and the fix (``cirq.decompose``).
    """
    for op in circuit.all_operations():
        if len(op.qubits) > 2 and not cirq.is_measurement(op):
            raise ValueError(
                f"operation {op} acts on {len(op.qubits)} qubits; routing and compilation take "
                "only 1- and 2-qubit gates: decompose the circuit first, e.g. "
                "cirq.Circuit(cirq.decompose(circuit, keep=lambda op: len(op.qubits) <= 2))"
            )


def interaction_graph(circuit: cirq.AbstractCircuit) -> nx.Graph:
    """Qubits as nodes, an edge (``weight`` = gate count) per pair acted on by a 2-qubit gate.

    Raises:
        ValueError: for an operation on 3 or more qubits (see :func:`check_at_most_two_qubits`).
    """
    check_at_most_two_qubits(circuit)
    graph = nx.Graph()
    graph.add_nodes_from(circuit.all_qubits())
    for op in circuit.all_operations():
        if len(op.qubits) == 2 and not cirq.is_measurement(op):
            a, b = op.qubits
            w = graph.get_edge_data(a, b, {"weight": 0})["weight"]
            graph.add_edge(a, b, weight=w + 1)
    return graph


def two_qubit_count(circuit: cirq.AbstractCircuit) -> int:
    """Number of two-qubit gate operations (measurements excluded)."""
    return sum(
        1 for op in circuit.all_operations() if len(op.qubits) == 2 and not cirq.is_measurement(op)
    )


@dataclass
class RoutedCircuit:
    """A circuit on device qubits with the logical-to-physical maps at its start and end."""

    circuit: cirq.Circuit
    initial_map: dict[cirq.Qid, cirq.GridQubit]
    final_map: dict[cirq.Qid, cirq.GridQubit]
    method: str


COMPILED_KIND = "hardware.CompiledCircuit"
COMPILED_SCHEMA_VERSION = 1


@dataclass
class CompiledCircuit:
    """A compiled circuit and how its logical qubits sit on the device.

    Attributes:
        circuit: native circuit on device qubits.
        initial_map: logical qubit -> physical qubit before the first gate.
        final_map: logical qubit -> physical qubit after the last gate (read results here).
        device: device name (``hardware.get_device`` rebuilds it).
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore``.
        routing: router used (``cqc``, ``swap_network`` or ``none``).
        symbolic: True when the circuit still carries sympy symbols (TFQ-compatible form).
        compile_seconds: wall time of the compile.
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
        return two_qubit_count(self.circuit)

    @property
    def depth(self) -> int:
        return len(self.circuit)

    def logical_qubits(self) -> list[cirq.Qid]:
        """The logical qubits, sorted."""
        return sorted(self.initial_map)

    def summary(self) -> dict:
        """Plain-JSON summary: sizes and settings."""
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

    def to_json(self) -> str:
        """Serialises the circuit and qubit maps (``cirq.to_json``) with the settings.

        The file names its kind and schema version; :meth:`from_json` reads it back.
        """
        payload = {
            "schema_version": COMPILED_SCHEMA_VERSION,
            "kind": COMPILED_KIND,
            "device": self.device,
            "gateset": self.gateset,
            "routing": self.routing,
            "symbolic": self.symbolic,
            "compile_seconds": self.compile_seconds,
            "summary": self.summary(),
            "metadata": self.metadata,
            "circuit": json.loads(cirq.to_json(self.circuit)),
            "initial_map": [json.loads(cirq.to_json([k, v])) for k, v in self.initial_map.items()],
            "final_map": [json.loads(cirq.to_json([k, v])) for k, v in self.final_map.items()],
        }
        return json.dumps(payload, indent=1)

    @classmethod
    def from_json(cls, text: str) -> CompiledCircuit:
        """Inverse of :meth:`to_json`.

        Raises:
            ValueError: the text is not a compiled circuit, or its schema is newer than this
                version reads.
        """
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("kind") != COMPILED_KIND:
            kind = data.get("kind") if isinstance(data, dict) else type(data).__name__
            raise ValueError(
                f"not a compiled-circuit JSON (kind={kind!r}); expected one written by "
                "CompiledCircuit.to_json / qaoa-meta compile"
            )
        if data.get("schema_version", 0) > COMPILED_SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {data['schema_version']} is newer than supported "
                f"({COMPILED_SCHEMA_VERSION}); upgrade qaoa-meta"
            )

        def qubit_map(items):
            return dict(cirq.read_json(json_text=json.dumps(item)) for item in items)

        return cls(
            circuit=cirq.read_json(json_text=json.dumps(data["circuit"])),
            initial_map=qubit_map(data["initial_map"]),
            final_map=qubit_map(data["final_map"]),
            device=data["device"],
            gateset=data["gateset"],
            routing=data["routing"],
            symbolic=data["symbolic"],
            compile_seconds=data.get("compile_seconds", 0.0),
            metadata=data.get("metadata", {}),
        )


# ----------------------------------------------------------------------------- routing


def _split_measurements(circuit: cirq.AbstractCircuit):
    if not circuit.are_all_measurements_terminal():
        raise ValueError(
            "mid-circuit measurements are not supported; measure only at the end of the circuit"
        )
    measurements = [op for op in circuit.all_operations() if cirq.is_measurement(op)]
    body = cirq.Circuit(op for op in circuit.all_operations() if not cirq.is_measurement(op))
    return body, measurements


def _remeasure(circuit: cirq.Circuit, measurements, final_map) -> cirq.Circuit:
    if not measurements:
        return circuit
    mapped = [op.transform_qubits(lambda q: final_map[q]) for op in measurements]
    return circuit + cirq.Moment(mapped) if _disjoint(mapped) else circuit + cirq.Circuit(mapped)


def _disjoint(ops) -> bool:
    seen: set = set()
    for op in ops:
        if seen & set(op.qubits):
            return False
        seen |= set(op.qubits)
    return True


def route(
    circuit: cirq.AbstractCircuit,
    device: Device,
    *,
    method: str = "cqc",
    initial_map: Mapping[cirq.Qid, cirq.GridQubit] | None = None,
    seed: SeedLike = 0,
) -> RoutedCircuit:
    """Routes a circuit of 1- and 2-qubit gates onto ``device`` by swap insertion.

    Args:
        circuit: logical circuit (any qubits); terminal measurements are kept.
        device: target device.
        method: ``cqc`` (``cirq.RouteCQC``) or ``swap_network`` (QAOA swap network on a line
            of device qubits; needs all two-qubit gates diagonal: ZZ or CZ powers).
        initial_map: logical -> physical start mapping (``cqc`` only); default :func:`place`.
        seed: seed for placement.

    Returns:
        The routed circuit (SWAP gates inserted) with its initial and final qubit maps.

    Raises:
        ValueError: for an operation on 3 or more qubits (decompose it first), too few
            device qubits, an unknown method, or a circuit the method cannot route.
    """
    check_at_most_two_qubits(circuit)
    body, measurements = _split_measurements(circuit)
    logical = sorted(circuit.all_qubits())
    if len(logical) > device.n_qubits:
        raise ValueError(
            f"the circuit needs {len(logical)} qubits but device {device.name!r} has only "
            f"{device.n_qubits}; choose a larger device or a smaller problem"
        )
    if method == "cqc":
        routed = _route_cqc(body, logical, device, initial_map, seed)
    elif method == "swap_network":
        routed = _route_swap_network(body, logical, device, seed)
    else:
        raise ValueError(f"unknown routing method {method!r}; expected 'cqc' or 'swap_network'")
    routed.circuit = _remeasure(routed.circuit, measurements, routed.final_map)
    return routed


def _route_cqc(body, logical, device, initial_map, seed) -> RoutedCircuit:
    graph = interaction_graph(body)
    graph.add_nodes_from(logical)
    if initial_map is None:
        initial_map = place(graph, device, seed=seed)
    initial_map = dict(initial_map)
    _check_map(initial_map, logical, device)
    physical = body.transform_qubits(lambda q: initial_map[q])
    used = set(initial_map.values())
    if all(
        device.is_coupled(*op.qubits) for op in physical.all_operations() if len(op.qubits) == 2
    ):
        return RoutedCircuit(cirq.Circuit(physical), initial_map, dict(initial_map), "none")
    region = _routing_region(device, used)
    if len(used) == 1 or not any(len(op.qubits) == 2 for op in physical.all_operations()):
        return RoutedCircuit(cirq.Circuit(physical), initial_map, dict(initial_map), "none")
    router = cirq.RouteCQC(region)
    identity = {q: q for q in used}
    routed, init, swaps = router.route_circuit(
        physical, initial_mapper=cirq.HardCodedInitialMapper(identity)
    )
    # init: physical-in-input -> physical start; swaps: physical start -> physical end.
    start = {lq: init[initial_map[lq]] for lq in logical}
    final = {lq: swaps[start[lq]] for lq in logical}
    return RoutedCircuit(cirq.Circuit(routed), start, final, "cqc")


def _routing_region(device: Device, used: set) -> nx.Graph:
    """The device graph restricted to the used qubits and their neighbours (if connected)."""
    nodes = set(used)
    for q in used:
        nodes.update(device.graph.neighbors(q))
    sub = device.graph.subgraph(nodes)
    return nx.Graph(sub) if nx.is_connected(sub) else nx.Graph(device.graph)


def _check_map(initial_map, logical, device) -> None:
    missing = [q for q in logical if q not in initial_map]
    if missing:
        raise ValueError(f"initial_map has no entry for logical qubits {missing}")
    phys = list(initial_map.values())
    bad = [p for p in phys if p not in device.graph]
    if bad:
        raise ValueError(f"initial_map targets qubits {bad} that are not on device {device.name!r}")
    if len(set(phys)) != len(phys):
        raise ValueError("initial_map maps two logical qubits to the same physical qubit")


def _route_swap_network(body, logical, device, seed) -> RoutedCircuit:
    n = len(logical)
    path = find_line(device, n, seed=seed)
    if path is None:
        raise ValueError(
            f"device {device.name!r} has no line of {n} connected qubits for a swap network; "
            "use method='cqc'"
        )
    order = list(logical)  # order[k] = logical qubit at path position k
    pos = {q: k for k, q in enumerate(order)}
    initial_map = {q: path[pos[q]] for q in logical}
    out: list[cirq.Operation] = []
    pending: dict[frozenset, list[cirq.Operation]] = {}

    def flush() -> None:
        rnd = 0
        while pending:
            for k in range(rnd % 2, n - 1, 2):
                a, b = order[k], order[k + 1]
                key = frozenset((a, b))
                for op in pending.pop(key, []):
                    out.append(op.transform_qubits(lambda q: path[pos[q]]))
                if not pending:
                    break
                out.append(cirq.SWAP(path[k], path[k + 1]))
                order[k], order[k + 1] = b, a
                pos[a], pos[b] = k + 1, k
            rnd += 1
            if rnd > n + 1:
                raise AssertionError("swap network failed to meet all pairs")  # pragma: no cover

    deferred: list[cirq.Operation] = []  # 1q ops that must wait for the pending block
    blocked: set[cirq.Qid] = set()

    def flush_all() -> None:
        flush()
        for op in deferred:
            out.append(op.transform_qubits(lambda q: path[pos[q]]))
        deferred.clear()
        blocked.clear()

    for op in body.all_operations():
        if len(op.qubits) == 2:
            if not isinstance(op.gate, _DIAGONAL_2Q):
                raise ValueError(
                    f"the swap network routes only diagonal two-qubit gates (ZZ, CZ powers), got "
                    f"{op}; use method='cqc'"
                )
            if blocked & set(op.qubits):
                flush_all()
            pending.setdefault(frozenset(op.qubits), []).append(op)
        elif len(op.qubits) == 1:
            (q,) = op.qubits
            diagonal = isinstance(op.gate, cirq.ZPowGate)
            if q in blocked or (not diagonal and any(q in key for key in pending)):
                deferred.append(op)
                blocked.add(q)
            else:
                out.append(op.transform_qubits(lambda q: path[pos[q]]))
        else:  # pragma: no cover - route() refuses 3+ qubit operations first
            raise ValueError(f"the swap network routes only 1- and 2-qubit gates, got {op}")
    flush_all()
    final_map = {q: path[pos[q]] for q in logical}
    return RoutedCircuit(cirq.Circuit(out), initial_map, final_map, "swap_network")


# ----------------------------------------------------------------------------- resolved


def to_gateset(circuit: cirq.AbstractCircuit, gateset: str) -> cirq.Circuit:
    """Compiles a resolved circuit to a native gate set with the fewest two-qubit gates.

    Uses ``cirq.optimize_for_target_gateset`` (2 natives per ZZ rotation, 3 per ZZ+SWAP).
    Single-qubit gates come out as ``PhasedXZGate`` (use :func:`tfq_safe` for TFQ).

    Raises:
        ValueError: if the circuit has unresolved symbols.
    """
    target = target_gateset(gateset)
    if cirq.is_parameterized(circuit):
        names = sorted(str(s) for s in cirq.parameter_names(circuit))
        raise ValueError(
            f"circuit has unresolved symbols {names}; resolve them first "
            "(cirq.resolve_parameters) or use to_gateset_symbolic / symbolic=True"
        )
    with quiet_cirq():
        out = cirq.optimize_for_target_gateset(circuit, gateset=target)
        out = cirq.drop_negligible_operations(out)
        out = cirq.drop_empty_moments(out)
        return _canonical_natives(out)


def _canonical_natives(circuit: cirq.Circuit) -> cirq.Circuit:
    """Maps Rx/XPow leftovers of the Sycamore target to PhasedXZ so every 1q gate is one type."""

    def map_op(op: cirq.Operation, _: int) -> cirq.OP_TREE:
        if (
            len(op.qubits) == 1
            and not cirq.is_measurement(op)
            and not isinstance(op.gate, cirq.PhasedXZGate)
            and cirq.has_unitary(op)
        ):
            return cirq.PhasedXZGate.from_matrix(cirq.unitary(op)).on(*op.qubits)
        return op

    return cirq.map_operations(circuit, map_op).unfreeze(copy=False)


def tfq_safe(circuit: cirq.AbstractCircuit) -> cirq.Circuit:
    """Rewrites ``PhasedXZGate``s (rejected by TFQ) as ``PhasedXPowGate`` + ``ZPowGate``."""

    def map_op(op: cirq.Operation, _: int) -> cirq.OP_TREE:
        if isinstance(op.gate, cirq.PhasedXZGate):
            return _phx_z(cirq.unitary(op), op.qubits[0])
        return op

    return cirq.map_operations_and_unroll(circuit, map_op).unfreeze(copy=False)


def _phx_z(matrix: np.ndarray, q: cirq.Qid) -> list[cirq.Operation]:
    gates = cirq.single_qubit_matrix_to_phased_x_z(matrix, atol=1e-10)
    return [g.on(q) for g in gates]


# ----------------------------------------------------------------------------- symbolic


@functools.cache
def _fixed_block(gateset: str, which: str) -> tuple[cirq.Operation, ...]:
    """Native decomposition of CX(a,b) or CX(b,a)·CX(a,b) on LineQubit(0), LineQubit(1)."""
    a, b = cirq.LineQubit.range(2)
    if which == "cx":
        logical = cirq.Circuit(cirq.CNOT(a, b))
    elif which == "dcx":
        logical = cirq.Circuit(cirq.CNOT(a, b), cirq.CNOT(b, a))
    else:  # pragma: no cover
        raise KeyError(which)
    best = to_gateset(logical, gateset)
    if which == "dcx":  # compiling each CX alone can beat the joint compile (Sycamore)
        split = to_gateset(cirq.Circuit(cirq.CNOT(a, b)), gateset) + to_gateset(
            cirq.Circuit(cirq.CNOT(b, a)), gateset
        )
        if two_qubit_count(split) < two_qubit_count(best):
            best = split
    return tuple(tfq_safe(_to_tfq_natives(best, gateset)).all_operations())


def _to_tfq_natives(circuit: cirq.Circuit, gateset: str) -> cirq.Circuit:
    """SYC -> ``FSimGate(pi/2, pi/6)`` (same unitary; TFQ serialises FSimGate)."""
    if gateset != "sycamore":
        return circuit
    return cirq.map_operations(
        circuit,
        lambda op, _: (
            cirq.FSimGate(_SYC_THETA, _SYC_PHI).on(*op.qubits) if is_sycamore_gate(op.gate) else op
        ),
    ).unfreeze(copy=False)


def is_sycamore_gate(gate: cirq.Gate | None) -> bool:
    """Whether ``gate`` is Sycamore's FSim(π/2, π/6), in any cirq class that carries it."""
    return (
        isinstance(gate, cirq.FSimGate)
        and not cirq.is_parameterized(gate)
        and np.isclose(gate.theta, _SYC_THETA)
        and np.isclose(gate.phi, _SYC_PHI)
    )


def _linear_terms(expr, gate_desc: str) -> list:
    """Splits an exponent ``c0 + sum_k c_k s_k`` into ``[c0, c_1 s_1, ...]`` (c0 if nonzero)."""
    if not isinstance(expr, sympy.Basic):
        return [float(expr)]
    symbols = sorted(expr.free_symbols, key=str)
    terms: list = []
    const = expr.subs({s: 0 for s in symbols})
    coeffs = [sympy.diff(expr, s) for s in symbols]
    if const.free_symbols or any(c.free_symbols for c in coeffs):
        raise TypeError(
            f"{gate_desc} has exponent {expr}, which is not affine in its symbols; "
            "symbolic compilation supports exponents c0 + sum_k c_k * symbol_k"
        )
    if abs(float(const)) > 1e-15:
        terms.append(float(const))
    for sym, coeff in zip(symbols, coeffs, strict=True):
        if abs(float(coeff)) > 1e-15:
            terms.append(sympy.Float(float(coeff)) * sym)
    return terms


def _sym_rotation(gate_type, expr, q, desc) -> list[cirq.Operation]:
    ops = []
    for term in _linear_terms(expr, desc):
        if isinstance(term, float):
            ops.extend(_phx_z(cirq.unitary(gate_type(exponent=term)), q))
        else:
            ops.append(gate_type(exponent=term).on(q))
    return ops


def _template(gateset: str, which: str, a: cirq.Qid, b: cirq.Qid) -> list[cirq.Operation]:
    l0, l1 = cirq.LineQubit.range(2)
    mapping = {l0: a, l1: b}
    return [op.transform_qubits(mapping) for op in _fixed_block(gateset, which)]


def to_gateset_symbolic(circuit: cirq.AbstractCircuit, gateset: str) -> cirq.Circuit:
    """Compiles a (possibly symbolic) circuit to natives while keeping its symbols.

    Symbolic gates handled: ``ZZPowGate``, ``CZPowGate``, ``XPowGate``/``Rx``,
    ``YPowGate``/``Ry``, ``ZPowGate``/``Rz``, with exponents affine in the symbols; a ZZ
    rotation followed directly by a SWAP on the same pair (swap networks) is fused. Each
    symbolic ZZ**t becomes ``CX(a,b) · Z_b**t · CX(a,b)``, each ZZ**t+SWAP becomes
    ``CX(a,b) · Z_b**t · CX(b,a) · CX(a,b)``, with the fixed CX blocks compiled to natives.
    Native two-qubit gates per symbolic ZZ: 2 (cz), 4 (sqrt_iswap), 4 (sycamore); per
    ZZ+SWAP: 3, 4, 6. Resolved gates go through :func:`to_gateset` (2 natives per ZZ).
    Output gates: CZ, ``ISWAP**0.5``, ``FSimGate(pi/2, pi/6)`` (= SYC), ``PhasedXPowGate``,
    ``XPowGate``/``YPowGate``/``ZPowGate`` with exponents ``c * symbol``: all TFQ-serialisable.

    Raises:
        TypeError: for a symbolic gate outside the list or a non-affine exponent.
    """
    target_gateset(gateset)  # validates the name
    ops = list(circuit.all_operations())
    fused_swap: set[int] = set()
    last: dict[cirq.Qid, int] = {}
    for idx, op in enumerate(ops):
        if op.gate == cirq.SWAP:
            a, b = op.qubits
            j = last.get(a)
            if (
                j is not None
                and last.get(b) == j
                and isinstance(ops[j].gate, cirq.ZZPowGate)
                and cirq.is_parameterized(ops[j])
                and j not in fused_swap
            ):
                fused_swap.add(j)
                fused_swap.add(idx)
        for q in op.qubits:
            last[q] = idx

    out: list[cirq.Operation] = []
    resolved_run: list[cirq.Operation] = []

    def emit_resolved() -> None:
        if resolved_run:
            out.extend(
                tfq_safe(
                    _to_tfq_natives(to_gateset(cirq.Circuit(resolved_run), gateset), gateset)
                ).all_operations()
            )
            resolved_run.clear()

    for idx, op in enumerate(ops):
        if idx in fused_swap and op.gate == cirq.SWAP:
            continue
        if cirq.is_measurement(op) or not cirq.is_parameterized(op):
            if cirq.is_measurement(op):
                emit_resolved()
                out.append(op)
            else:
                resolved_run.append(op)
            continue
        emit_resolved()
        gate = op.gate
        if isinstance(gate, cirq.ZZPowGate) or isinstance(gate, cirq.CZPowGate):
            a, b = op.qubits
            t = gate.exponent
            if isinstance(gate, cirq.CZPowGate):
                # CZ**t = Z_a**(t/2) Z_b**(t/2) ZZ**(-t/2)
                out.extend(_sym_rotation(cirq.ZPowGate, t / 2, a, str(op)))
                out.extend(_sym_rotation(cirq.ZPowGate, t / 2, b, str(op)))
                t = -t / 2
            if idx in fused_swap:
                out.extend(_template(gateset, "cx", a, b))
                out.extend(_sym_rotation(cirq.ZPowGate, t, b, str(op)))
                out.extend(_template(gateset, "dcx", b, a))
            else:
                out.extend(_template(gateset, "cx", a, b))
                out.extend(_sym_rotation(cirq.ZPowGate, t, b, str(op)))
                out.extend(_template(gateset, "cx", a, b))
        elif isinstance(gate, cirq.XPowGate | cirq.YPowGate | cirq.ZPowGate) and (
            gate.global_shift in (0.0, -0.5)
        ):
            base = (
                type(gate)
                if type(gate) in (cirq.XPowGate, cirq.YPowGate, cirq.ZPowGate)
                else {
                    cirq.Rx: cirq.XPowGate,
                    cirq.Ry: cirq.YPowGate,
                    cirq.Rz: cirq.ZPowGate,
                }[type(gate)]
            )
            out.extend(_sym_rotation(base, gate.exponent, op.qubits[0], str(op)))
        else:
            raise TypeError(
                f"cannot compile symbolic operation {op} while keeping its symbols; supported "
                "symbolic gates: ZZPowGate, CZPowGate, XPowGate/rx, YPowGate/ry, ZPowGate/rz "
                "(resolve the circuit and use to_gateset otherwise)"
            )
    emit_resolved()
    return _merge_fixed_1q(cirq.Circuit(out))


def _merge_fixed_1q(circuit: cirq.Circuit) -> cirq.Circuit:
    """Merges runs of resolved single-qubit gates into one PhasedXPow + ZPow pair."""
    with quiet_cirq():
        merged = cirq.merge_k_qubit_unitaries(
            circuit,
            k=1,
            rewriter=lambda op: _phx_z(cirq.unitary(op), op.qubits[0]),
        )
    merged = cirq.drop_negligible_operations(cirq.Circuit(merged.all_operations()))
    return cirq.drop_empty_moments(merged).unfreeze(copy=False)


# ----------------------------------------------------------------------------- pipeline


def check_target(device: Device | str, gateset: str, routing: str) -> Device:
    """The device, after checking that ``gateset`` is native to it and ``routing`` is known.

    Raises:
        ValueError: naming the unknown gate set or router, or the gate sets the device has.
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
            on 3 or more qubits (names it; decompose it first), or a circuit no router takes.
    """
    start = time.perf_counter()
    dev = check_target(device, gateset, routing)
    check_at_most_two_qubits(circuit)  # one clear error under every routing option
    if symbolic is None:
        symbolic = cirq.is_parameterized(circuit)
    schema = _dd_schema(dynamical_decoupling, symbolic)
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


# ----------------------------------------------------------------------------- scheduling

DD_TAG = "dynamical_decoupling"
DD_SCHEMAS: tuple[str, ...] = ("DEFAULT", "XX_PAIR", "X_XINV", "YY_PAIR", "Y_YINV")


def _dd_schema(option: bool | str, symbolic: bool) -> str | None:
    if option is False or option is None:
        return None
    schema = "DEFAULT" if option is True else str(option).upper()
    if schema not in DD_SCHEMAS:
        raise ValueError(
            f"unknown dynamical decoupling schema {option!r}; expected True or one of "
            f"{', '.join(DD_SCHEMAS)}"
        )
    if symbolic:
        raise ValueError(
            "dynamical decoupling needs a resolved circuit (cirq merges pulses into the "
            "neighbouring gates by their unitaries); resolve the symbols first or compile "
            "with dynamical_decoupling=False"
        )
    return schema


def stratify_moments(circuit: cirq.AbstractCircuit) -> cirq.Circuit:
    """Moments of single-qubit gates only and of two-qubit gates only (``cirq.stratified_circuit``).

    Measurements and other operations form their own moments.
    """
    with quiet_cirq():
        out = cirq.stratified_circuit(
            cirq.Circuit(circuit),
            categories=[
                lambda op: len(op.qubits) == 1 and not cirq.is_measurement(op),
                lambda op: len(op.qubits) == 2 and not cirq.is_measurement(op),
            ],
        )
    return cirq.drop_empty_moments(out).unfreeze(copy=False)


def add_dynamical_decoupling(
    circuit: cirq.AbstractCircuit, schema: str = "DEFAULT"
) -> cirq.Circuit:
    """``cirq.add_dynamical_decoupling`` with native pulses.

    Pauli pulses (X, Y, and Z where cirq leaves one) become ``PhasedXZGate`` (Z stays a
    virtual ``ZPowGate``) tagged :data:`DD_TAG`; other gates cirq rewrote are already
    ``PhasedXZGate``.

    Args:
        circuit: resolved native circuit.
        schema: a cirq schema name (:data:`DD_SCHEMAS`).

    Returns:
        The circuit with pulses in the idle spots of its single-qubit moments.
    """
    if cirq.is_parameterized(circuit):
        raise ValueError("dynamical decoupling needs a resolved circuit; resolve its symbols first")
    with quiet_cirq():
        out = cirq.add_dynamical_decoupling(cirq.Circuit(circuit), schema=schema)

    def map_op(op: cirq.Operation, _: int) -> cirq.OP_TREE:
        if isinstance(op.gate, cirq.Pauli) and not op.tags:
            if op.gate == cirq.Z:
                return cirq.Z(*op.qubits).with_tags(DD_TAG)
            gate = cirq.PhasedXZGate.from_matrix(cirq.unitary(op.gate))
            return gate.on(*op.qubits).with_tags(DD_TAG)
        if (
            len(op.qubits) == 1
            and not cirq.is_measurement(op)
            and not isinstance(op.gate, _ONE_QUBIT_NATIVE)
            and cirq.has_unitary(op)
        ):
            return cirq.PhasedXZGate.from_matrix(cirq.unitary(op)).on(*op.qubits)
        return op

    return cirq.map_operations(out, map_op).unfreeze(copy=False)


# ----------------------------------------------------------------------------- validation

_ONE_QUBIT_NATIVE = (
    cirq.PhasedXZGate,
    cirq.PhasedXPowGate,
    cirq.XPowGate,
    cirq.YPowGate,
    cirq.ZPowGate,
    cirq.IdentityGate,
)


def is_native_two_qubit(gate: cirq.Gate, gateset: str) -> bool:
    """True when ``gate`` is the native two-qubit gate of ``gateset`` (resolved)."""
    if gate is None or cirq.is_parameterized(gate):
        return False
    if gateset == "cz":
        return isinstance(gate, cirq.CZPowGate) and np.isclose(gate.exponent % 2, 1.0)
    if gateset == "sqrt_iswap":
        return isinstance(gate, cirq.ISwapPowGate) and (
            np.isclose(gate.exponent % 4, 0.5) or np.isclose(gate.exponent % 4, 3.5)
        )
    if gateset == "sycamore":
        return is_sycamore_gate(gate)
    raise ValueError(f"unknown gate set {gateset!r}; expected one of {', '.join(GATESETS)}")


def validate(
    circuit: cirq.AbstractCircuit, device: Device | str, gateset: str | None = None
) -> None:
    """Checks that a circuit can run on ``device``: qubits, couplers and native gates.

    Args:
        circuit: compiled circuit.
        device: a :class:`Device` or its name.
        gateset: the one allowed native two-qubit gate set; default any of the device's.

    Raises:
        ValueError: naming the first offending operation and the fix.
    """
    dev = get_device(device) if isinstance(device, str) else device
    allowed = dev.gatesets if gateset is None else (gateset,)
    for name in allowed:
        if name not in dev.gatesets:
            raise ValueError(
                f"gate set {name!r} is not native to device {dev.name!r} ({', '.join(dev.gatesets)})"
            )
    for i, moment in enumerate(circuit):
        for op in moment:
            for q in op.qubits:
                if q not in dev.graph:
                    raise ValueError(
                        f"moment {i}: {op} uses qubit {q}, which is not on device {dev.name!r}; "
                        "compile the circuit for this device first (hardware.compile_circuit)"
                    )
            if cirq.is_measurement(op) or isinstance(op.gate, cirq.GlobalPhaseGate):
                continue
            if len(op.qubits) == 1:
                if not isinstance(op.gate, _ONE_QUBIT_NATIVE):
                    raise ValueError(
                        f"moment {i}: single-qubit gate {op} is not native; expected one of "
                        "PhasedXZ, PhasedXPow, X/Y/ZPow (compile with hardware.to_gateset)"
                    )
            elif len(op.qubits) == 2:
                a, b = op.qubits
                if not dev.is_coupled(a, b):
                    raise ValueError(
                        f"moment {i}: {op} acts on uncoupled qubits {a}, {b} of device "
                        f"{dev.name!r}; route the circuit first (hardware.route)"
                    )
                if not any(is_native_two_qubit(op.gate, g) for g in allowed):
                    raise ValueError(
                        f"moment {i}: two-qubit gate {op} is not native to gate set(s) "
                        f"{', '.join(allowed)}; convert it with hardware.to_gateset"
                    )
            else:
                raise ValueError(
                    f"moment {i}: {op} acts on {len(op.qubits)} qubits; devices run only 1- and "
                    "2-qubit gates"
                )


__all__ = [
    "DD_SCHEMAS",
    "DD_TAG",
    "CompiledCircuit",
    "RoutedCircuit",
    "check_at_most_two_qubits",
    "compile_circuit",
    "interaction_graph",
    "is_native_two_qubit",
    "route",
    "stratify_moments",
    "target_gateset",
    "tfq_safe",
    "to_gateset",
    "to_gateset_symbolic",
    "add_dynamical_decoupling",
    "two_qubit_count",
    "validate",
]
