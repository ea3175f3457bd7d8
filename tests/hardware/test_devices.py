import cirq
import networkx as nx
import numpy as np
import pytest

import hardware
from hardware.devices import find_line, placement_cost


@pytest.mark.parametrize(
    "name, n_qubits", [("sycamore", 54), ("sycamore23", 23), ("rainbow", 23), ("weber", 53)]
)
def test_named_devices_match_cirq_google(name, n_qubits):
    device = hardware.get_device(name)
    assert device.n_qubits == n_qubits
    pairs = {frozenset(p) for p in device.cirq_device.metadata.qubit_pairs}
    assert {frozenset(e) for e in device.graph.edges} == pairs
    assert set(device.gatesets) <= set(hardware.GATESETS)


def test_calibration_known_only_for_rainbow_and_weber():
    assert hardware.get_device("weber").is_calibrated
    assert hardware.get_device("rainbow").is_calibrated
    assert not hardware.get_device("sycamore").is_calibrated


def test_grid_and_line_graphs():
    g = hardware.grid(3, 4)
    assert g.n_qubits == 12 and g.graph.number_of_edges() == 3 * 3 + 2 * 4
    assert hardware.get_device("line:5").graph.number_of_edges() == 4
    assert hardware.get_device("grid:2x3").n_qubits == 6


@pytest.mark.parametrize("bad", ["foo", "grid:3", "line:x", "Weber2"])
def test_unknown_device_names_fail_clearly(bad):
    with pytest.raises(ValueError, match="device"):
        hardware.get_device(bad)


def test_place_embeds_cycle_and_grid_without_swaps():
    device = hardware.grid(4, 4)
    for graph in (nx.cycle_graph(8), nx.grid_2d_graph(3, 3), nx.path_graph(10)):
        mapping = hardware.place(graph, device, seed=0)
        assert len(set(mapping.values())) == graph.number_of_nodes()
        assert all(device.is_coupled(mapping[u], mapping[v]) for u, v in graph.edges)
        assert placement_cost(graph, mapping, device) == graph.number_of_edges()


def test_place_prefers_low_error_qubits_on_calibrated_device():
    device = hardware.get_device("weber")
    mapping = hardware.place(nx.path_graph(4), device, seed=0)
    chosen = np.mean([device.qubit_error[q] for q in mapping.values()])
    assert chosen < np.median(list(device.qubit_error.values()))
    worst = max(device.qubit_error, key=device.qubit_error.get)
    assert worst not in mapping.values()


def test_place_rejects_problem_larger_than_device():
    with pytest.raises(ValueError, match="has only 23"):
        hardware.place(nx.path_graph(30), hardware.get_device("rainbow"))


def test_find_line_returns_connected_path():
    device = hardware.get_device("weber")
    path = find_line(device, 20, seed=0)
    assert len(set(path)) == 20
    assert all(device.is_coupled(a, b) for a, b in zip(path, path[1:], strict=False))
    assert all(isinstance(q, cirq.GridQubit) for q in path)
