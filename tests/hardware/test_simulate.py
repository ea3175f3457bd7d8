import cirq
import networkx as nx
import numpy as np
import pytest
import sympy
from hw_helpers import cut_diagonal, cut_operator, cut_values, qaoa_like

import hardware
from hardware import noise as hn
from hardware import simulate as hs


@pytest.fixture(scope="module")
def compiled_case():
    graph = nx.random_regular_graph(3, 6, seed=5)
    edges = [(u, v, 1.0) for u, v in graph.edges]
    logical = cirq.resolve_parameters(qaoa_like(graph, 1), {"gamma_1": 0.45, "beta_1": 0.35})
    compiled = hardware.compile_circuit(logical, "weber", "sqrt_iswap")
    qubits = [compiled.final_map[q] for q in sorted(logical.all_qubits())]
    return logical, hardware.to_device_form(compiled.circuit), qubits, edges


def _brute_force_energy(logical, edges):
    """Independent reference: cirq.Simulator state and a direct cut sum over basis states."""
    state = (
        cirq.Simulator(dtype=np.complex128)
        .simulate(logical, qubit_order=sorted(logical.all_qubits()))
        .final_state_vector
    )
    n = len(logical.all_qubits())
    total = 0.0
    for index, amp in enumerate(state):
        bits = [(index >> (n - 1 - k)) & 1 for k in range(n)]
        total += abs(amp) ** 2 * sum(w for i, j, w in edges if bits[i] != bits[j])
    return total


def test_exact_energy_of_compiled_circuit_matches_logical_reference(compiled_case):
    logical, circuit, qubits, edges = compiled_case
    est = hs.energy(circuit, cut_operator(edges), qubits=qubits)
    assert est.value == pytest.approx(_brute_force_energy(logical, edges), abs=1e-5)


def test_trajectories_and_sampling_agree_with_density_matrix(compiled_case):
    _, circuit, qubits, edges = compiled_case
    model = hn.google_noise("weber")
    ref = hs.energy(
        circuit, cut_operator(edges), qubits=qubits, method="density_matrix", noise=model
    ).value
    traj = hs.energy(
        circuit,
        cut_operator(edges),
        qubits=qubits,
        method="trajectories",
        noise=model,
        repetitions=150,
        seed=3,
    )
    samp = hs.energy(
        circuit,
        cut_operator(edges),
        qubits=qubits,
        method="sampling",
        noise=model,
        shots=3000,
        seed=4,
    )
    assert abs(traj.value - ref) < 4 * traj.stderr
    assert abs(samp.value - ref) < 4 * samp.stderr
    clean = hs.energy(circuit, cut_operator(edges), qubits=qubits).value
    assert clean - ref > 4 * traj.stderr  # noise is visible


def test_readout_mitigation_recovers_readout_free_energy(compiled_case):
    _, circuit, qubits, edges = compiled_case
    gate_noise = hn.DepolarizingNoise(0.002, 0.01)
    readout = hn.ReadoutNoise(0.03, 0.08)
    both = hn.NoiseStack((gate_noise, readout))
    target = hs.energy(
        circuit, cut_operator(edges), qubits=qubits, method="density_matrix", noise=gate_noise
    ).value
    errors = hn.readout_errors(both, qubits)
    dm_mit = hs.energy(
        circuit,
        cut_operator(edges),
        qubits=qubits,
        method="density_matrix",
        noise=both,
        mitigate_readout=errors,
    )
    assert dm_mit.value == pytest.approx(target, abs=1e-9)
    raw = hs.energy(
        circuit,
        cut_operator(edges),
        qubits=qubits,
        method="sampling",
        noise=both,
        shots=4000,
        seed=7,
    )
    mit = hs.energy(
        circuit,
        cut_operator(edges),
        qubits=qubits,
        method="sampling",
        noise=both,
        shots=4000,
        seed=7,
        mitigate_readout=errors,
    )
    assert abs(mit.value - target) < 4 * mit.stderr
    assert abs(raw.value - target) > abs(mit.value - target)


def test_measured_readout_errors_match_model():
    qubits = cirq.GridQubit.rect(1, 3)
    measured = hs.measure_readout_errors(
        qubits, shots=4000, noise=hn.ReadoutNoise(0.05, 0.12), seed=0
    )
    for p01, p10 in measured.values():
        assert p01 == pytest.approx(0.05, abs=0.02) and p10 == pytest.approx(0.12, abs=0.025)


def test_mitigate_probabilities_inverts_tensored_confusion():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(8))
    errors = [(0.02, 0.05), (0.1, 0.03), (0.0, 0.2)]
    confusion = np.kron(
        np.kron(*[hs.confusion_matrix(*e) for e in errors[:2]]), hs.confusion_matrix(*errors[2])
    )
    np.testing.assert_allclose(
        hs.mitigate_probabilities(confusion @ probs, errors), probs, atol=1e-12
    )


def test_unresolved_symbols_are_rejected_by_samplers():
    q = cirq.LineQubit.range(2)
    circuit = cirq.Circuit(cirq.rx(sympy.Symbol("beta_1")).on(q[0]), cirq.CZ(*q))
    with pytest.raises(ValueError, match=r"unresolved symbols \['beta_1'\]"):
        hs.sample(circuit, 10)
    with pytest.raises(ValueError, match="unresolved"):
        hs.energy(circuit, cut_operator([(0, 1, 1.0)]), method="sampling")
    est = hs.energy(circuit, cut_operator([(0, 1, 1.0)]), resolver={"beta_1": np.pi})
    assert est.value == pytest.approx(1.0, abs=1e-6)


def test_bad_method_and_density_matrix_size_limit():
    q = cirq.LineQubit.range(14)
    circuit = cirq.Circuit(cirq.H.on_each(*q))
    with pytest.raises(ValueError, match="unknown method"):
        hs.energy(circuit, cut_operator([(0, 1, 1.0)]), method="magic")
    with pytest.raises(ValueError, match="trajectories"):
        hs.energy(
            circuit,
            cut_operator([(0, 1, 1.0)]),
            method="density_matrix",
            noise=hn.DepolarizingNoise(0.01, 0.01),
        )


def test_energy_estimate_json_round_trip():
    est = hs.EnergyEstimate(1.5, 0.1, "sampling", 100)
    assert hs.EnergyEstimate.from_json(est.to_json()) == est


def test_generic_observables_agree_and_edge_aliases_are_deprecated(compiled_case):
    """hardware.simulate takes a diagonal or a Z-string PauliSum; the old Max-Cut helpers
    (edges in, cut out) still work, with a DeprecationWarning."""
    _, circuit, qubits, edges = compiled_case
    n = len(qubits)
    diagonal, operator = cut_diagonal(n, edges), cut_operator(edges)
    np.testing.assert_allclose(hs.observable_diagonal(operator, n), diagonal, atol=1e-12)
    bits = np.random.default_rng(3).integers(0, 2, (400, n)).astype(np.uint8)
    np.testing.assert_allclose(hs.observable_values(bits, diagonal), cut_values(bits, edges))
    np.testing.assert_allclose(hs.observable_values(bits, operator), cut_values(bits, edges))
    errors = [(0.02, 0.05)] * n
    by_terms = hs.mitigated_expectation(bits, operator, errors)
    assert hs.mitigated_expectation(bits, diagonal, errors) == pytest.approx(by_terms, abs=1e-9)
    exact = hs.energy(circuit, diagonal, qubits=qubits).value
    assert hs.energy(circuit, operator, qubits=qubits).value == pytest.approx(exact, abs=1e-9)
    with pytest.warns(DeprecationWarning, match="generic diagonal"):
        assert hs.energy(circuit, edges, qubits=qubits).value == pytest.approx(exact, abs=1e-9)
    with pytest.warns(DeprecationWarning):
        np.testing.assert_array_equal(hs.cut_diagonal(n, edges), diagonal)
    with pytest.warns(DeprecationWarning):
        np.testing.assert_array_equal(hs.cut_values(bits, edges), cut_values(bits, edges))
    with pytest.warns(DeprecationWarning):
        old = hs.mitigated_cut_expectation(bits, edges, errors)
    assert old == pytest.approx(by_terms, abs=1e-9)
    with pytest.raises(ValueError, match="Z strings"):
        hs.observable_values(bits, cirq.PauliSum.from_pauli_strings(cirq.X(cirq.LineQubit(0))))
    with pytest.raises(ValueError, match="shape"):
        hs.observable_values(bits, diagonal[:-1])
