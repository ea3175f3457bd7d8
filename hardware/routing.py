"""Routing onto a device: ``cirq.RouteCQC`` or a QAOA swap network.

:func:`route` places the logical qubits (:func:`hardware.devices.place`) and routes with
``cirq.RouteCQC`` (any circuit of 1- and 2-qubit gates) or an odd-even transposition swap
network on a line of device qubits (for circuits whose two-qubit gates are diagonal, e.g. QAOA
cost layers). The result keeps the gates it was given; :mod:`hardware.gatesets` converts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import cirq
import networkx as nx

from hardware.devices import (
    Device,
    SeedLike,
    find_line,
    place,
)

ROUTERS: tuple[str, ...] = ("auto", "cqc", "swap_network")
_DIAGONAL_2Q = (cirq.ZZPowGate, cirq.CZPowGate)


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

    Args:
        circuit: a circuit of 1- and 2-qubit gates (measurements may act on more).

    Returns:
        An undirected graph on every qubit of the circuit (idle ones included); edge
        ``weight`` counts the non-measurement 2-qubit operations on that pair.

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


@dataclass
class RoutedCircuit:
    """A circuit on device qubits with the logical-to-physical maps at its start and end.

    Attributes:
        circuit: the routed circuit on device qubits, SWAP gates inserted, terminal
            measurements on each logical qubit's final device qubit.
        initial_map: logical qubit -> device qubit at the start.
        final_map: logical qubit -> device qubit at the end (after the swaps).
        method: ``cqc``, ``swap_network``, or ``none`` when the placement needed no swap.
    """

    circuit: cirq.Circuit
    initial_map: dict[cirq.Qid, cirq.GridQubit]
    final_map: dict[cirq.Qid, cirq.GridQubit]
    method: str


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


__all__ = [
    "ROUTERS",
    "RoutedCircuit",
    "check_at_most_two_qubits",
    "interaction_graph",
    "route",
]
