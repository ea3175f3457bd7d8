"""Zero-noise extrapolation by unitary folding, against noise-scaled density-matrix runs.

References: cirq.unitary of the unfolded circuit; density-matrix simulation of the circuit
under the noise model scaled by the folding factor (hardware.noise.scale).
"""

import cirq
import networkx as nx
import numpy as np
import pytest
from hw_helpers import cut_diagonal, qaoa_like

import hardware
from hardware import mitigation as hm
from hardware import noise as hn
from hardware.simulate import density_matrix_probabilities

FACTORS = (1, 3, 5)


def _compiled(gateset="cz"):
    graph = nx.cycle_graph(4)
    logical = cirq.resolve_parameters(qaoa_like(graph, 1), {"gamma_1": 0.6, "beta_1": 0.3})
    compiled = hardware.compile_circuit(logical, "grid:2x2", gateset)
    qubits = [compiled.final_map[q] for q in sorted(logical.all_qubits())]
    return compiled.circuit, qubits, cut_diagonal(4, [(u, v, 1.0) for u, v in graph.edges])


@pytest.mark.parametrize("fold", [hm.fold_global, hm.fold_gates])
@pytest.mark.parametrize("gateset", ["cz", "sqrt_iswap"])
def test_folding_keeps_the_unitary_and_multiplies_the_gates(fold, gateset):
    circuit, qubits, _ = _compiled(gateset)
    reference = cirq.unitary(circuit)
    n_ops = len(list(circuit.all_operations()))
    for f in FACTORS:
        folded = fold(circuit, f)
        np.testing.assert_allclose(cirq.unitary(folded), reference, atol=1e-8)
        assert len(list(folded.all_operations())) == f * n_ops
        hardware.validate(folded, "grid:2x2", gateset)  # inverses of CZ / sqrt-iSWAP are native


def test_local_folding_of_two_qubit_gates_only():
    circuit, _, _ = _compiled()
    folded = hm.fold_gates(circuit, 3, only=lambda op: len(op.qubits) == 2)
    assert hardware.two_qubit_count(folded) == 3 * hardware.two_qubit_count(circuit)
    n1 = sum(1 for op in circuit.all_operations() if len(op.qubits) == 1)
    assert sum(1 for op in folded.all_operations() if len(op.qubits) == 1) == n1
    np.testing.assert_allclose(cirq.unitary(folded), cirq.unitary(circuit), atol=1e-8)


@pytest.mark.parametrize("bad", [0, 2, -1, 2.5])
def test_bad_scale_factors_fail_clearly(bad):
    circuit, _, _ = _compiled()
    with pytest.raises(ValueError, match="odd integer"):
        hm.fold_global(circuit, bad)


def test_extrapolation_is_exact_for_polynomials():
    x = [1, 3, 5]
    assert hm.extrapolate(x, [2 - 0.3 * t + 0.01 * t * t for t in x]) == pytest.approx(2.0)
    assert hm.extrapolate(x, [2 - 0.3 * t for t in x], method="linear") == pytest.approx(2.0)
    with pytest.raises(ValueError, match="distinct"):
        hm.extrapolate([1, 1], [0.0, 1.0])


@pytest.mark.parametrize("fold", ["global", "gates"])
def test_folded_noise_matches_noise_scaled_simulation_and_zne_helps(fold):
    """Depolarising noise: the circuit folded by f has <C> close to the circuit with noise x f,
    and Richardson extrapolation over (1, 3, 5) lands closer to the ideal <C> than the raw."""
    circuit, qubits, diag = _compiled()
    model = hn.DepolarizingNoise(0.002, 0.01)

    def energy(c, m=model):
        return density_matrix_probabilities(c, noise=m, qubits=qubits) @ diag

    ideal = density_matrix_probabilities(circuit, qubits=qubits) @ diag
    folder = {"global": hm.fold_global, "gates": hm.fold_gates}[fold]
    value, measured = hm.zne(circuit, energy, scale_factors=FACTORS, fold=fold)
    for f in FACTORS:
        scaled = energy(circuit, hn.scale(model, f))
        assert measured[f] == pytest.approx(energy(folder(circuit, f)))
        # Folding f times reproduces noise x f to first order: well within 5% of its effect.
        assert abs(measured[f] - scaled) <= 0.05 * abs(scaled - ideal)
    raw = measured[1]
    assert abs(value - ideal) < 0.1 * abs(raw - ideal)
    linear = hm.extrapolate(FACTORS, [measured[f] for f in FACTORS], method="linear")
    assert abs(linear - ideal) < abs(raw - ideal)
