import cirq
import networkx as nx
import numpy as np
import pytest
import sympy
from hw_helpers import cut_values, qaoa_like

import hardware
from hardware import simulate as hs


@pytest.fixture(scope="module")
def case():
    graph = nx.cycle_graph(5)
    edges = [(u, v, 1.0) for u, v in graph.edges]
    logical = cirq.resolve_parameters(qaoa_like(graph, 1), {"gamma_1": 0.5, "beta_1": 0.35})
    compiled = hardware.compile_circuit(logical, "rainbow", "sycamore")
    qubits = [compiled.final_map[q] for q in sorted(logical.all_qubits())]
    return hardware.to_device_form(compiled.circuit), qubits, edges


def test_noiseless_virtual_engine_matches_exact_energy(case):
    circuit, qubits, edges = case
    exact = hs.energy(circuit, edges, qubits=qubits).value
    sampler = hardware.virtual_sampler("rainbow", noisy=False, seed=1)
    bits = hs.sample_with_sampler(sampler, circuit, 3000, qubits=qubits)
    vals = cut_values(bits, edges)
    assert abs(vals.mean() - exact) < 4 * vals.std() / np.sqrt(len(vals))


def test_noisy_virtual_machine_matches_google_noise_reference(case):
    circuit, qubits, edges = case
    ref = hs.energy(
        circuit,
        edges,
        qubits=qubits,
        method="density_matrix",
        noise=hardware.google_noise("rainbow"),
    ).value
    sampler = hardware.virtual_sampler("rainbow", noisy=True, seed=2)
    bits = hs.sample_with_sampler(sampler, circuit, 1500, qubits=qubits)
    vals = cut_values(bits, edges)
    assert abs(vals.mean() - ref) < 4 * vals.std() / np.sqrt(len(vals))


def test_virtual_engine_rejects_unresolved_symbols_and_unknown_processors():
    sampler = hardware.virtual_sampler("weber")
    q = cirq.GridQubit(5, 5)
    with pytest.raises(ValueError, match="unresolved"):
        hs.sample_with_sampler(sampler, cirq.Circuit(cirq.X(q) ** sympy.Symbol("t")), 10)
    with pytest.raises(ValueError, match="no virtual engine"):
        hardware.virtual_engine("sycamore")


def test_compiled_json_rejects_other_payloads():
    with pytest.raises(ValueError, match="Not a CompiledCircuit record: kind is .x."):
        hardware.CompiledCircuit.from_json('{"kind": "x"}')
