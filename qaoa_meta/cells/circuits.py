"""Small Cirq circuits used by the quantum meta-learner cells, and helpers to batch them in TFQ.

Every circuit here is symbolic: data and weights enter as sympy symbols whose values are fed
to ``tfq.layers.Expectation`` from the classical part of a cell, so a whole step of a cell
(all gates, all batch rows) is one TFQ call with one circuit string repeated per row.
"""

from __future__ import annotations

from collections.abc import Sequence

import cirq
import numpy as np
import sympy

from qaoa_meta._tf import tf, tfq


def symbols(prefix: str, count: int) -> list[sympy.Symbol]:
    """``[prefix_0, ..., prefix_{count-1}]`` as sympy symbols."""
    return [sympy.Symbol(f"{prefix}_{i}") for i in range(count)]


def z_observables(qubits: Sequence[cirq.Qid]) -> list[cirq.PauliSum]:
    """``[Z_0, ..., Z_{n-1}]`` as one-term Pauli sums (one expectation per qubit)."""
    return [cirq.PauliSum.from_pauli_strings(cirq.Z(q)) for q in qubits]


def zero_projector(qubits: Sequence[cirq.Qid]) -> cirq.PauliSum:
    """``|0..0⟩⟨0..0| = Π_i (1 + Z_i)/2`` as a Pauli sum of ``2^n`` terms."""
    projector = cirq.PauliSum.from_pauli_strings(cirq.PauliString())
    for qubit in qubits:
        projector = projector * (0.5 * cirq.PauliString() + 0.5 * cirq.Z(qubit))
    return projector


def qlstm_vqc(
    qubits: Sequence[cirq.Qid], inputs: Sequence[sympy.Symbol], weights: np.ndarray
) -> cirq.Circuit:
    """QLSTM gate circuit: RX angle embedding, then ``BasicEntanglerLayers``.

    Each layer is RX(w_l,i) on every qubit followed by a CNOT ring (i → i+1 mod n; a single
    CNOT for n = 2), as in PennyLane's template with its default RX rotation.

    Args:
        qubits: the register.
        inputs: one symbol per qubit (the embedded angles).
        weights: ``(n_layers, n_qubits)`` array of symbols.
    """
    n = len(qubits)
    circuit = cirq.Circuit(cirq.rx(s).on(q) for s, q in zip(inputs, qubits, strict=True))
    for layer in np.asarray(weights):
        circuit.append(cirq.rx(s).on(q) for s, q in zip(layer, qubits, strict=True))
        if n == 2:
            circuit.append(cirq.CNOT(qubits[0], qubits[1]))
        elif n > 2:
            circuit.append(cirq.CNOT(qubits[i], qubits[(i + 1) % n]) for i in range(n))
    return circuit


def kernel_feature_map(qubits: Sequence[cirq.Qid], angles: Sequence[sympy.Symbol]) -> cirq.Circuit:
    """The QK-LSTM feature map U(φ): H, RZ(φ_i), RY(φ_i), CNOT chain, RZ(φ_i).

    This is the forward half of the published kernel circuit; the angles are φ = cos(x²) of
    the classical features x, computed in TensorFlow before they are fed as symbol values.
    """
    n = len(qubits)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    circuit.append(cirq.rz(s).on(q) for s, q in zip(angles, qubits, strict=True))
    circuit.append(cirq.ry(s).on(q) for s, q in zip(angles, qubits, strict=True))
    circuit.append(cirq.CNOT(qubits[i], qubits[i + 1]) for i in range(n - 1))
    circuit.append(cirq.rz(s).on(q) for s, q in zip(angles, qubits, strict=True))
    return circuit


def paper_kernel_circuit(
    qubits: Sequence[cirq.Qid], angles: Sequence[sympy.Symbol]
) -> cirq.Circuit:
    """The published QK-LSTM "kernel": U(φ) followed by U(φ)†, i.e. the identity."""
    forward = kernel_feature_map(qubits, angles)
    return forward + cirq.inverse(forward)


def fidelity_kernel_circuit(
    qubits: Sequence[cirq.Qid],
    data_angles: Sequence[sympy.Symbol],
    reference_angles: Sequence[sympy.Symbol],
) -> cirq.Circuit:
    """``U(r)† U(v)``: measuring ``|0⟩⟨0|`` on it gives k(v, r) = |⟨0|U(r)†U(v)|0⟩|²."""
    return kernel_feature_map(qubits, data_angles) + cirq.inverse(
        kernel_feature_map(qubits, reference_angles)
    )


def fwp_vqc(
    qubits: Sequence[cirq.Qid], inputs: Sequence[sympy.Symbol], weights: np.ndarray
) -> cirq.Circuit:
    """QFWP circuit: H, RY(x_i), then per layer a brick CNOT layer and RY(w_l,i)."""
    n = len(qubits)
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    circuit.append(cirq.ry(s).on(q) for s, q in zip(inputs, qubits, strict=True))
    for layer in np.asarray(weights):
        circuit.append(cirq.CNOT(qubits[i], qubits[i + 1]) for i in range(0, n - 1, 2))
        circuit.append(cirq.CNOT(qubits[i], qubits[i + 1]) for i in range(1, n - 1, 2))
        circuit.append(cirq.ry(s).on(q) for s, q in zip(layer, qubits, strict=True))
    return circuit


class BatchedExpectation:
    """One symbolic circuit and its observables, evaluated for many symbol-value rows at once.

    Wraps ``tfq.layers.Expectation`` with the adjoint differentiator: ``__call__(values)``
    takes ``(N, len(symbol_names))`` symbol values and returns ``(N, len(observables))``
    expectations, differentiable with respect to the values. The circuit string is tiled to
    N rows inside the graph, so N may vary between calls.
    """

    def __init__(
        self,
        circuit: cirq.Circuit,
        symbol_names: Sequence[sympy.Symbol],
        observables: Sequence[cirq.PauliSum],
    ):
        self.circuit = circuit
        self.symbol_names = [str(s) for s in symbol_names]
        self.observables = list(observables)
        self._circuit = tfq.convert_to_tensor([circuit]).numpy()
        self._operators = tfq.convert_to_tensor([self.observables]).numpy()
        self.layer = tfq.layers.Expectation(differentiator=tfq.differentiators.Adjoint())

    def __call__(self, values: tf.Tensor) -> tf.Tensor:
        rows = tf.shape(values)[0]
        circuits = tf.tile(tf.constant(self._circuit), [rows])
        operators = tf.tile(tf.constant(self._operators), [rows, 1])
        return self.layer(
            circuits,
            symbol_names=tf.constant(self.symbol_names),
            symbol_values=tf.cast(values, tf.float32),
            operators=operators,
        )
