"""Helpers for the hardware tests: QAOA-style circuits and independent references."""

from __future__ import annotations

import cirq
import networkx as nx
import numpy as np
import sympy


def qaoa_like(graph: nx.Graph, p: int, qubits=None) -> cirq.Circuit:
    """Textbook QAOA circuit (H, ZZ**(-w g/pi), rx(2b)) built here, independent of qaoa_meta."""
    qubits = qubits or cirq.LineQubit.range(graph.number_of_nodes())
    circuit = cirq.Circuit(cirq.H.on_each(*qubits))
    for k in range(1, p + 1):
        gamma, beta = sympy.Symbol(f"gamma_{k}"), sympy.Symbol(f"beta_{k}")
        for u, v, d in graph.edges(data=True):
            circuit.append(cirq.ZZ(qubits[u], qubits[v]) ** (-d.get("weight", 1.0) * gamma / np.pi))
        circuit.append(cirq.rx(2 * beta).on_each(*qubits))
    return circuit


def random_resolver(p: int, rng: np.random.Generator) -> dict:
    values = {f"gamma_{k}": rng.uniform(-np.pi, np.pi) for k in range(1, p + 1)}
    values.update({f"beta_{k}": rng.uniform(-np.pi, np.pi) for k in range(1, p + 1)})
    return values


def random_product_layer(qubits, rng: np.random.Generator) -> cirq.Circuit:
    """Random single-qubit unitaries: tests equivalence beyond the |0...0> input."""
    return cirq.Circuit(
        cirq.PhasedXZGate(
            x_exponent=rng.uniform(0, 1),
            z_exponent=rng.uniform(-1, 1),
            axis_phase_exponent=rng.uniform(-1, 1),
        ).on(q)
        for q in qubits
    )


def compiled_fidelity(logical: cirq.Circuit, compiled, resolver=None) -> float:
    """|<psi_logical (x) 0_spare | psi_compiled>|^2 with cirq.Simulator in complex128.

    The compiled state is read in the order final_map[logical qubit], spare device qubits
    last (they must come back to |0>), so the routing permutation is accounted for.
    """
    sim = cirq.Simulator(dtype=np.complex128)
    logical_qubits = sorted(logical.all_qubits())
    psi = sim.simulate(
        cirq.resolve_parameters(logical, resolver), qubit_order=logical_qubits
    ).final_state_vector
    used = [compiled.final_map[q] for q in logical_qubits]
    spare = sorted(set(compiled.circuit.all_qubits()) - set(used))
    phi = sim.simulate(
        cirq.resolve_parameters(compiled.circuit, resolver), qubit_order=used + spare
    ).final_state_vector
    zero = np.zeros(2 ** len(spare))
    zero[0] = 1.0
    return float(abs(np.vdot(np.kron(psi, zero), phi)) ** 2)


def import_tfq():
    """(tensorflow, tensorflow_quantum), imported the way TFQ 0.7.6 needs (Keras 2), without
    qaoa_meta: tests/hardware test the hardware package alone."""
    import os

    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import tensorflow_quantum as tfq

    return tf, tfq


# The Max-Cut cost, built here: hardware.simulate takes a generic diagonal observable.
def cut_values(bits: np.ndarray, edges) -> np.ndarray:
    """Cut value ``sum w [b_i != b_j]`` of each bitstring row."""
    bits = np.asarray(bits)
    total = np.zeros(bits.shape[0])
    for i, j, w in edges:
        total += w * (bits[:, i] != bits[:, j])
    return total


def cut_diagonal(n: int, edges) -> np.ndarray:
    """Cut value of every basis state (big-endian: qubit 0 is the most significant bit)."""
    idx = np.arange(2**n)
    return cut_values(((idx[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1), edges)


def cut_operator(edges) -> cirq.PauliSum:
    """The cut ``sum w (1 - Z_i Z_j) / 2`` as a Z-string PauliSum on ``cirq.LineQubit(i)``."""
    total = cirq.PauliSum()
    for i, j, w in edges:
        zz = cirq.Z(cirq.LineQubit(i)) * cirq.Z(cirq.LineQubit(j))
        total += 0.5 * w * cirq.PauliString() - 0.5 * w * zz
    return total
