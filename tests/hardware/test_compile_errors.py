"""Operations on 3+ qubits get one clear error under every routing option."""

import cirq
import numpy as np
import pytest

import hardware


def _three_qubit_circuit():
    a, b, c = cirq.LineQubit.range(3)
    return cirq.Circuit(cirq.H(a), cirq.CZ(a, b), cirq.CCZ(a, b, c), cirq.ZZ(b, c) ** 0.3)


@pytest.mark.parametrize("routing", ["auto", "cqc", "swap_network"])
def test_three_qubit_gate_names_the_operation_and_the_fix(routing):
    circuit = _three_qubit_circuit()
    with pytest.raises(ValueError) as info:
        hardware.compile_circuit(circuit, "weber", "cz", routing=routing)
    message = str(info.value)
    assert "CCZ" in message and "3 qubits" in message and "cirq.decompose" in message
    assert "not on device" not in message


@pytest.mark.parametrize("method", ["cqc", "swap_network"])
def test_route_refuses_three_qubit_gates(method):
    with pytest.raises(ValueError, match=r"CCZ.*3 qubits.*cirq\.decompose"):
        hardware.route(_three_qubit_circuit(), hardware.get_device("grid:2x2"), method=method)


def test_the_suggested_decomposition_compiles():
    """The fix the message names works: decompose into 1q/2q gates, then compile."""
    circuit = _three_qubit_circuit()
    decomposed = cirq.Circuit(cirq.decompose(circuit, keep=lambda op: len(op.qubits) <= 2))
    compiled = hardware.compile_circuit(decomposed, "grid:2x2", "cz")
    hardware.validate(compiled.circuit, "grid:2x2", "cz")
    # Equivalence against cirq's simulator on the original 3-qubit-gate circuit.
    sim = cirq.Simulator(dtype=complex)
    logical = sorted(circuit.all_qubits())
    psi = sim.simulate(circuit, qubit_order=logical).final_state_vector
    used = [compiled.final_map[q] for q in logical]
    spare = sorted(set(compiled.circuit.all_qubits()) - set(used))
    phi = sim.simulate(compiled.circuit, qubit_order=used + spare).final_state_vector
    zero = [1.0] + [0.0] * (2 ** len(spare) - 1)
    assert abs(np.vdot(np.kron(psi, zero), phi)) ** 2 == pytest.approx(1.0, abs=1e-6)


def test_multi_qubit_measurement_is_still_accepted():
    a, b, c = cirq.LineQubit.range(3)
    circuit = cirq.Circuit(cirq.H(a), cirq.CZ(a, b), cirq.CZ(b, c), cirq.measure(a, b, c, key="m"))
    for routing in ("cqc", "swap_network"):
        compiled = hardware.compile_circuit(circuit, "line:3", "cz", routing=routing)
        assert any(cirq.is_measurement(op) for op in compiled.circuit.all_operations())
