"""Scale 0 is noiseless for every model; the full and TFQ Google models agree on CZ.

References: cirq's density-matrix simulator on the noiseless circuit and on the circuit
with the full (cirq-google) noise model.
"""

import cirq
import networkx as nx
import numpy as np
import pytest
from hw_helpers import cut_diagonal, qaoa_like

import hardware
from hardware import noise as hn
from hardware.simulate import density_matrix_probabilities


def _compiled(gateset: str, device: str = "weber", n: int = 4):
    """ZZ + rx QAOA-like ring built with cirq, compiled (resolved) for ``device``."""
    graph = nx.cycle_graph(n)
    logical = cirq.resolve_parameters(qaoa_like(graph, 1), {"gamma_1": 0.6, "beta_1": 0.3})
    compiled = hardware.compile_circuit(logical, device, gateset)
    qubits = [compiled.final_map[q] for q in sorted(logical.all_qubits())]
    edges = [(u, v, 1.0) for u, v in graph.edges]
    return hardware.to_device_form(compiled.circuit), qubits, edges


def _models():
    qubit = cirq.GridQubit(5, 4)
    return {
        "depolarizing": hn.DepolarizingNoise(0.003, 0.02),
        "depolarizing_local": hn.DepolarizingNoise(0.003, 0.02, two_qubit_local=True),
        "thermal": hn.ThermalNoise(15.0, 20.0),
        "readout": hn.ReadoutNoise(0.02, 0.05, per_qubit={qubit: (0.01, 0.1)}),
        "stack": hn.noise_from_spec("depolarizing:0.002,0.01+thermal:30,40+readout:0.01,0.04"),
        "google_weber": hn.google_noise("weber"),
        "google_rainbow": hn.google_noise("rainbow"),
        "calibrated_weber": hn.calibrated_noise("weber"),
        "twirled_google": hn.TwirledNoise(hn.google_noise("weber")),
    }


@pytest.mark.parametrize("kind", list(_models()))
def test_scale_zero_is_exactly_noiseless_for_every_model(kind):
    circuit, qubits, _ = _compiled("sqrt_iswap", "rainbow" if "rainbow" in kind else "weber")
    model = hn.scale(_models()[kind], 0.0)
    clean = density_matrix_probabilities(circuit, qubits=qubits)
    scaled = density_matrix_probabilities(circuit, noise=model, qubits=qubits)
    assert np.all(np.isfinite(scaled))
    np.testing.assert_allclose(scaled, clean, atol=1e-9)
    # The scaled model still inserts its readout channels safely at tiny factors.
    tiny = hn.scale(_models()[kind], 1e-12)
    tiny = density_matrix_probabilities(circuit, noise=tiny, qubits=qubits)
    np.testing.assert_allclose(tiny, clean, atol=1e-9)


def test_google_scale_zero_has_no_readout_error():
    model = hn.scale(hn.google_noise("weber"), 0.0)
    qubits = hardware.get_device("weber").qubits[:3]
    assert hn.readout_errors(model, qubits) == {q: (0.0, 0.0) for q in qubits}


def test_cz_error_is_the_sqrt_iswap_error_in_both_models():
    """The stated assumption: per coupler, CZ depolarising = sqrt-iSWAP total Pauli error
    minus thermal part (no coherent CZ error), identically in the full and the TFQ model."""
    full = hn.google_noise("weber")
    props = full._noise_properties
    calibrated = hn.to_tfq_compatible(full)
    pairs = {frozenset(k.qubits) for k in props.gate_pauli_errors if k.gate_type is cirq.CZPowGate}
    assert len(pairs) == hardware.get_device("weber").graph.number_of_edges()
    for op_id, err in props._depolarizing_error.items():
        if op_id.gate_type is cirq.CZPowGate:
            iswap = cirq.devices.noise_utils.OpIdentifier(cirq.ISwapPowGate, *op_id.qubits)
            assert props.gate_pauli_errors[op_id] == props.gate_pauli_errors[iswap]
            assert calibrated.p2[(frozenset(op_id.qubits), "cz")] == pytest.approx(err)
    assert not any(cls == "cz" for _, cls in calibrated.coherent)


@pytest.mark.parametrize("device", ["weber", "rainbow"])
@pytest.mark.parametrize("gateset", ["cz", "sqrt_iswap", "sycamore"])
def test_tfq_model_shift_is_within_a_quarter_of_the_noise_effect(device, gateset):
    """|<C>_tfq - <C>_full| <= 1/4 |<C>_full - <C>_ideal| (density matrix, compiled circuit)."""
    circuit, qubits, edges = _compiled(gateset, device)
    full = hn.google_noise(device)
    tfq = hn.to_tfq_compatible(full)
    assert hn.uses_only_tfq_channels(hardware.tfq_safe(circuit).with_noise(tfq))
    diag = cut_diagonal(len(qubits), edges)
    ideal = density_matrix_probabilities(circuit, qubits=qubits) @ diag
    e_full = density_matrix_probabilities(circuit, noise=full, qubits=qubits) @ diag
    e_tfq = density_matrix_probabilities(circuit, noise=tfq, qubits=qubits) @ diag
    assert abs(e_full - ideal) > 0.01  # the noise is visible
    assert abs(e_tfq - e_full) <= 0.25 * abs(e_full - ideal)
