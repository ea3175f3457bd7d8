"""Compile options: moment stratification and dynamical decoupling.

References: cirq's state-vector simulator (equivalence with the logical circuit) and the
density-matrix simulator (noisy energies under weber's calibration and a coherent detuning).
"""

import cirq
import networkx as nx
import numpy as np
import pytest
from hw_helpers import compiled_fidelity, cut_diagonal, qaoa_like

import hardware
from hardware import noise as hn
from hardware.scheduling import DD_TAG
from hardware.simulate import density_matrix_probabilities

RESOLVER = {"gamma_1": 0.6, "beta_1": 0.3}


def _logical(n=4):
    graph = nx.cycle_graph(4) if n == 4 else nx.random_regular_graph(3, n, seed=1)
    circuit = cirq.resolve_parameters(qaoa_like(graph, 1), RESOLVER)
    return circuit, cut_diagonal(n, [(u, v, 1.0) for u, v in graph.edges])


OPTIONS = [(True, False), (False, True), (True, True), (True, "XX_PAIR")]


@pytest.mark.parametrize("gateset", ["cz", "sqrt_iswap", "sycamore"])
@pytest.mark.parametrize("stratify, dd", OPTIONS)
def test_options_keep_the_state_and_the_native_gate_set(gateset, stratify, dd):
    logical, _ = _logical(6)
    compiled = hardware.compile_circuit(
        logical, "weber", gateset, stratify=stratify, dynamical_decoupling=dd
    )
    hardware.validate(compiled.circuit, "weber", gateset)
    assert compiled_fidelity(logical, compiled) >= 1 - 1e-6
    assert compiled.metadata["stratify"] is stratify
    if stratify:
        for moment in compiled.circuit:
            assert len({len(op.qubits) for op in moment}) == 1
    if dd:
        pulses = [op for op in compiled.circuit.all_operations() if DD_TAG in op.tags]
        assert pulses
        device_form = hardware.to_device_form(compiled.circuit)
        kept = [op for op in device_form.all_operations() if DD_TAG in op.tags]
        assert len(kept) == len(pulses)  # to_device_form does not merge them away
        assert compiled_fidelity(logical, _with_circuit(compiled, device_form)) >= 1 - 1e-6


def _with_circuit(compiled, circuit):
    return hardware.CompiledCircuit(
        circuit,
        compiled.initial_map,
        compiled.final_map,
        compiled.device,
        compiled.gateset,
        compiled.routing,
        compiled.symbolic,
    )


def test_bad_decoupling_requests_fail_clearly():
    logical, _ = _logical()
    with pytest.raises(ValueError, match="schema"):
        hardware.compile_circuit(logical, "weber", "cz", dynamical_decoupling="XZXZ")
    symbolic = qaoa_like(nx.cycle_graph(4), 1)
    with pytest.raises(ValueError, match="resolved circuit"):
        hardware.compile_circuit(symbolic, "weber", "cz", dynamical_decoupling=True)
    # Stratification works on symbolic (TFQ) circuits too.
    compiled = hardware.compile_circuit(symbolic, "weber", "cz", stratify=True)
    assert compiled_fidelity(symbolic, compiled, RESOLVER) >= 1 - 1e-6


class _Detuning(cirq.NoiseModel):
    """A coherent frequency offset: Z**eps on every qubit after every moment."""

    def __init__(self, eps: float):
        self.eps = eps

    def noisy_moment(self, moment, system_qubits):
        if all(cirq.is_measurement(op) for op in moment):
            return [moment]
        return [moment, cirq.Moment(cirq.Z(q) ** self.eps for q in system_qubits)]


def _energies(n, noise, **options):
    logical, diag = _logical(n)
    compiled = hardware.compile_circuit(logical, "weber", "cz", **options)
    native = hardware.to_device_form(compiled.circuit)
    qubits = [compiled.final_map[q] for q in sorted(logical.all_qubits())]
    ideal = density_matrix_probabilities(native, qubits=qubits) @ diag
    return ideal, density_matrix_probabilities(native, noise=noise, qubits=qubits) @ diag


def test_dynamical_decoupling_refocuses_a_coherent_detuning():
    """Measured n = 6, p = 1, CZ on weber: error 1.083 plain, 0.262 with X-Y-X-Y pulses."""
    noise = _Detuning(0.02)
    ideal, plain = _energies(6, noise)
    ideal_dd, with_dd = _energies(6, noise, dynamical_decoupling=True)
    assert ideal_dd == pytest.approx(ideal, abs=1e-9)
    assert abs(with_dd - ideal) < 0.5 * abs(plain - ideal)


def test_effect_on_the_weber_noisy_energy_is_small():
    """weber's model has no coherent idle error, so pulses only add gate error: measured
    (n = 4, p = 1, CZ) <C> 2.6909 plain, 2.6909 stratified, 2.6868 DD, 2.6809 both."""
    model = hn.google_noise("weber")
    ideal, plain = _energies(4, model)
    for options in ({"stratify": True}, {"dynamical_decoupling": True}):
        _, value = _energies(4, model, **options)
        assert abs(value - plain) < 0.05 * abs(plain - ideal)
    assert np.isfinite(plain)
