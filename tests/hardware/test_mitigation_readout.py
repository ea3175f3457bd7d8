"""Readout mitigation with cirq.TensoredConfusionMatrices and readout symmetrisation.

References: the brute-force inverse of the full Kronecker confusion matrix (numpy), and the
density-matrix simulation of each bit-flipped circuit with a readout noise model.
"""

import functools

import cirq
import networkx as nx
import numpy as np
import pytest
from hw_helpers import cut_diagonal, cut_operator, cut_values, qaoa_like

from hardware import mitigation as hm
from hardware import noise as hn
from hardware import simulate as hs

ERRORS = [(0.02, 0.10), (0.01, 0.16), (0.05, 0.03), (0.0, 0.08)]


def _kron_confusion(errors):
    """A[read, true] for all qubits, big-endian, by explicit Kronecker products."""
    mats = [np.array([[1 - a, b], [a, 1 - b]]) for a, b in errors]
    return functools.reduce(np.kron, mats)


def _circuit_and_qubits():
    qubits = cirq.LineQubit.range(4)
    graph = nx.cycle_graph(4)
    circuit = cirq.resolve_parameters(qaoa_like(graph, 1, qubits), {"gamma_1": 0.7, "beta_1": 0.3})
    return circuit, qubits, [(u, v, 1.0) for u, v in graph.edges]


def test_confusion_matrices_match_the_readout_model():
    tcm = hm.confusion_matrices(ERRORS)
    assert isinstance(tcm, cirq.TensoredConfusionMatrices)
    # cirq's matrix is [prepared, read]: the transpose of A[read, true].
    np.testing.assert_allclose(tcm.confusion_matrix(), _kron_confusion(ERRORS).T, atol=1e-15)


def test_mitigate_probabilities_equals_brute_force_inverse(rng):
    true = rng.dirichlet(np.ones(16))
    measured = _kron_confusion(ERRORS) @ true
    reference = np.linalg.solve(_kron_confusion(ERRORS), measured)
    np.testing.assert_allclose(hm.mitigate_probabilities(measured, ERRORS), reference, atol=1e-12)
    np.testing.assert_allclose(hs.mitigate_probabilities(measured, ERRORS), true, atol=1e-12)


def test_mitigated_cut_expectation_equals_full_distribution_inverse(rng):
    """Per-edge cirq ZZ mitigation == full-histogram brute-force inverse on the same bits."""
    bits = (rng.random((5000, 4)) < [0.3, 0.6, 0.5, 0.2]).astype(np.uint8)
    edges = [(0, 1, 1.0), (1, 2, 2.0), (2, 3, 1.0), (3, 0, 0.5)]
    index = bits @ (1 << np.arange(3, -1, -1))
    hist = np.bincount(index, minlength=16) / len(bits)
    full = np.linalg.solve(_kron_confusion(ERRORS), hist) @ cut_diagonal(4, edges)
    assert hs.mitigated_expectation(bits, cut_operator(edges), ERRORS) == pytest.approx(
        full, abs=1e-12
    )
    value, stderr = hm.mitigated_pauli_z(bits, [0, 1], ERRORS)
    assert -1.5 < value < 1.5 and 0 < stderr < 0.05


@pytest.mark.parametrize(
    "bad", [[(0.6, 0.5)], [(-0.1, 0.1)], [(0.1,)], [(float("nan"), 0.1)]], ids=str
)
def test_invalid_readout_errors_fail_clearly(bad):
    with pytest.raises(ValueError, match="readout error 0"):
        hm.confusion_matrices(bad)


@pytest.mark.parametrize("n", [1, 3, 4, 7, 12])
def test_flip_masks_are_balanced_for_every_qubit_and_pair(n):
    masks = hm.flip_masks(n, 2 * hm.mask_block_size(n), seed=3).astype(int)
    assert masks.shape == (2 * hm.mask_block_size(n), n) and masks.min() >= 0
    signs = 1 - 2 * masks
    np.testing.assert_array_equal(signs.sum(axis=0), np.zeros(n))
    gram = signs.T @ signs
    np.testing.assert_array_equal(gram, len(masks) * np.eye(n))
    with pytest.raises(ValueError, match="multiple of"):
        hm.flip_masks(n, hm.mask_block_size(n) + 1)


def _marginal(probs, keep, n):
    t = np.asarray(probs).reshape((2,) * n)
    return t.sum(axis=tuple(k for k in range(n) if k not in keep)).reshape(-1)


def test_symmetrised_marginals_are_the_symmetric_confusion_of_the_ideal():
    """Density matrix of each flipped circuit, unflipped and averaged: every 1- and 2-qubit
    marginal equals the symmetric readout applied to the ideal marginal (to 1e-12)."""
    circuit, qubits, edges = _circuit_and_qubits()
    model = hn.ReadoutNoise(0.0, 0.0, per_qubit=dict(zip(qubits, ERRORS, strict=True)))
    ideal = hs.density_matrix_probabilities(circuit, qubits=qubits)
    raw = hs.density_matrix_probabilities(circuit, noise=model, qubits=qubits)
    np.testing.assert_allclose(raw, _kron_confusion(ERRORS) @ ideal, atol=1e-12)
    masks = hm.flip_masks(4, seed=1)
    runs = [
        hs.density_matrix_probabilities(
            hm.flip_circuit(circuit, qubits, m), noise=model, qubits=qubits
        )
        for m in masks
    ]
    sym = np.mean([hm.unflip_probabilities(p, m) for p, m in zip(runs, masks, strict=True)], axis=0)
    symmetric = hm.symmetrized_errors(ERRORS)
    for keep in [(k,) for k in range(4)] + [(i, j) for i in range(4) for j in range(i + 1, 4)]:
        expected = _kron_confusion([symmetric[k] for k in keep]) @ _marginal(ideal, keep, 4)
        np.testing.assert_allclose(_marginal(sym, keep, 4), expected, atol=1e-12)
    # The energy (edge marginals only) is recovered exactly by the symmetric inverse.
    diag = cut_diagonal(4, edges)
    assert hm.mitigate_probabilities(sym, symmetric) @ diag == pytest.approx(
        ideal @ diag, abs=1e-12
    )
    assert abs(raw @ diag - ideal @ diag) > 0.05


def test_flip_circuit_stays_native_and_keeps_the_state_up_to_the_flip():
    circuit, qubits, _ = _circuit_and_qubits()
    mask = [1, 0, 1, 1]
    flipped = hm.flip_circuit(circuit + cirq.measure(*qubits, key="m"), qubits, mask)
    assert not any(cirq.is_measurement(op) for op in flipped.all_operations())
    assert all(isinstance(op.gate, cirq.PhasedXZGate) for op in flipped[-1])
    p = hs.density_matrix_probabilities(circuit, qubits=qubits)
    q = hs.density_matrix_probabilities(flipped, qubits=qubits)
    np.testing.assert_allclose(hm.unflip_probabilities(q, mask), p, atol=1e-12)


def test_sample_symmetrized_makes_readout_symmetric_and_mitigation_unbiased():
    """qsim samples: P(read 1 | 0) = P(read 0 | 1) = (p01 + p10) / 2 after symmetrisation."""
    qubits = cirq.LineQubit.range(4)
    model = hn.ReadoutNoise(0.0, 0.0, per_qubit=dict(zip(qubits, ERRORS, strict=True)))
    shots = 16000
    zeros = hs.sample_symmetrized(
        cirq.Circuit(cirq.I.on_each(*qubits)), shots, qubits=qubits, noise=model, n_masks=8, seed=5
    )
    ones = hs.sample_symmetrized(
        cirq.Circuit(cirq.X.on_each(*qubits)), shots, qubits=qubits, noise=model, n_masks=8, seed=6
    )
    expected = np.array([e for e, _ in hm.symmetrized_errors(ERRORS)])
    tol = 5 * np.sqrt(expected * (1 - expected) / shots)
    assert np.all(np.abs(zeros.mean(axis=0) - expected) < tol)
    assert np.all(np.abs((1 - ones.mean(axis=0)) - expected) < tol)
    # Energy: symmetrised bits mitigated with the symmetric errors match the ideal <C>.
    circuit, _, edges = _circuit_and_qubits()
    ideal = hs.density_matrix_probabilities(circuit, qubits=qubits) @ cut_diagonal(4, edges)
    bits = hs.sample_symmetrized(circuit, shots, qubits=qubits, noise=model, seed=7)
    value = hs.mitigated_expectation(bits, cut_operator(edges), hm.symmetrized_errors(ERRORS))
    raw = cut_values(bits, edges).mean()
    stderr = cut_values(bits, edges).std() / np.sqrt(shots)
    assert abs(value - ideal) < 6 * stderr / (1 - 2 * expected.max()) ** 2
    assert abs(raw - ideal) > 10 * stderr  # readout error is visible before mitigation


def test_energy_with_symmetrized_readout_matches_the_readout_free_reference():
    """energy(sampling, symmetrize_readout, mitigate_readout) vs the density matrix without
    readout noise; asymmetric readout (p10 up to 0.16) on a 4-qubit ring."""
    circuit, qubits, edges = _circuit_and_qubits()
    errors = dict(zip(qubits, ERRORS, strict=True))
    model = hn.ReadoutNoise(0.0, 0.0, per_qubit=errors)
    ideal = hs.energy(circuit, cut_operator(edges), qubits=qubits, method="density_matrix").value
    est = hs.energy(
        circuit,
        cut_operator(edges),
        qubits=qubits,
        method="sampling",
        noise=model,
        shots=16000,
        seed=11,
        mitigate_readout=errors,
        symmetrize_readout=True,
    )
    assert est.method == "sampling+symmetrized+mitigated"
    assert abs(est.value - ideal) < 5 * est.stderr
    with pytest.raises(ValueError, match="method=.sampling. only"):
        hs.energy(
            circuit,
            cut_operator(edges),
            qubits=qubits,
            method="density_matrix",
            symmetrize_readout=True,
        )
    with pytest.raises(ValueError, match="multiple of"):
        hs.energy(
            circuit,
            cut_operator(edges),
            qubits=qubits,
            method="sampling",
            shots=1001,
            symmetrize_readout=True,
        )
