"""Readout-aware placement and line search avoid weber's worst readout qubits.

Reference: the calibration's own readout errors (cirq-google's median weber calibration).
"""

import functools

import cirq
import networkx as nx
import numpy as np
import pytest

import hardware
from hardware.devices import bad_readout_qubits, find_line, placement_cost


@pytest.fixture(scope="module")
def weber():
    return hardware.get_device("weber")


def test_worst_readout_qubits_of_weber(weber):
    totals = {q: a + b for q, (a, b) in weber.readout_error.items()}
    bad = bad_readout_qubits(weber)
    assert bad == {cirq.GridQubit(3, 2), cirq.GridQubit(3, 5), cirq.GridQubit(4, 7)}
    assert all(totals[q] > 2 * np.median(list(totals.values())) for q in bad)
    assert weber.readout_error[cirq.GridQubit(3, 5)][1] == pytest.approx(0.162, abs=1e-3)
    assert not bad_readout_qubits(hardware.get_device("sycamore"))


GRAPHS = [(n, s) for n in (8, 12, 16) for s in range(3)]


@functools.cache
def _placements(n: int, s: int):
    """(graph, readout-aware default placement, readout-blind placement) on weber."""
    weber = hardware.get_device("weber")
    graph = nx.random_regular_graph(3, n, seed=s)
    default = hardware.place(graph, weber, seed=0)
    return graph, default, hardware.place(graph, weber, seed=0, readout_aware=False)


@pytest.mark.parametrize("n, s", GRAPHS)
def test_readout_aware_placement_avoids_worst_readout_qubits(weber, n, s):
    graph, default, blind = _placements(n, s)  # default: readout-aware (calibrated device)
    assert not set(default.values()) & bad_readout_qubits(weber)
    # The price in estimated gate, swap and qubit error stays bounded: measured 0-15%.
    assert placement_cost(graph, default, weber) <= 1.2 * placement_cost(graph, blind, weber)
    if not set(blind.values()) & bad_readout_qubits(weber):
        assert default == blind  # nothing to avoid: the readout-blind choice is kept


def test_readout_blind_placement_did_pick_a_bad_readout_qubit(weber):
    """The defect the option fixes (so the test above is not vacuous)."""
    hits = sum(
        bool(set(_placements(n, s)[2].values()) & bad_readout_qubits(weber)) for n, s in GRAPHS
    )
    assert hits >= 3


@pytest.mark.parametrize("n", [4, 8, 12, 20])
def test_swap_network_line_avoids_worst_readout_qubits(weber, n):
    path = find_line(weber, n, seed=0)
    assert len(set(path)) == n
    assert all(weber.is_coupled(a, b) for a, b in zip(path, path[1:], strict=False))
    assert not set(path) & bad_readout_qubits(weber)
    blind = find_line(weber, n, seed=0, readout_aware=False)
    assert set(blind) & bad_readout_qubits(weber)  # the search used to walk through them


def test_compile_circuit_uses_readout_aware_placement(weber):
    graph = nx.random_regular_graph(3, 8, seed=0)
    qubits = cirq.LineQubit.range(8)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    circuit += [cirq.ZZ(qubits[u], qubits[v]) ** 0.3 for u, v in graph.edges]
    circuit += cirq.rx(0.4).on_each(*qubits)
    for routing in ("cqc", "swap_network"):
        compiled = hardware.compile_circuit(circuit, weber, "cz", routing=routing)
        assert not set(compiled.circuit.all_qubits()) & bad_readout_qubits(weber)


def test_explicit_readout_aware_equals_the_default(weber):
    graph, default, _ = _placements(8, 0)
    assert hardware.place(graph, weber, seed=0, readout_aware=True) == default


def test_uncalibrated_devices_are_unchanged():
    device = hardware.grid(4, 4)
    graph = nx.cycle_graph(8)
    assert hardware.place(graph, device, seed=0) == hardware.place(
        graph, device, seed=0, readout_aware=True
    )
    assert find_line(device, 10, seed=0) == find_line(device, 10, seed=0, readout_aware=False)
