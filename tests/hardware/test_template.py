"""Route-once templates: the resolved compile's state and native count at every θ."""

from __future__ import annotations

import types

import cirq
import networkx as nx
import numpy as np
import pytest
import sympy
from hw_helpers import compiled_fidelity, qaoa_like, random_resolver

import hardware
from hardware.template import compile_template


def _as_compiled(template, values) -> types.SimpleNamespace:
    return types.SimpleNamespace(circuit=template.resolve(values), final_map=template.final_map)


@pytest.mark.parametrize("gateset", ["sqrt_iswap", "cz", "sycamore"])
def test_template_equals_resolved_compile_in_state(gateset, rng):
    graph = nx.random_regular_graph(3, 6, seed=4)
    logical = qaoa_like(graph, 1)
    template = compile_template(logical, "weber", gateset, seed=0)
    resolved_counts = []
    for _ in range(2):
        values = random_resolver(1, rng)
        fidelity = compiled_fidelity(logical, _as_compiled(template, values), values)
        assert fidelity >= 1 - 1e-6
        resolved = hardware.compile_circuit(
            cirq.resolve_parameters(logical, values), "weber", gateset, seed=0
        )
        resolved_counts.append(resolved.two_qubit_count)
        native = hardware.two_qubit_count(template.resolve(values))
        assert native == template.two_qubit_count
        hardware.validate(template.resolve(values), hardware.get_device("weber"), gateset)
    symbolic = hardware.compile_circuit(logical, "weber", gateset, seed=0).two_qubit_count
    assert template.two_qubit_count <= symbolic
    if gateset in ("sqrt_iswap", "cz"):
        assert template.two_qubit_count == min(resolved_counts)


def test_template_sqrt_iswap_uses_two_natives_per_zz_at_depth_two(rng):
    graph = nx.random_regular_graph(3, 8, seed=1)
    logical = qaoa_like(graph, 2)
    template = compile_template(logical, "weber", "sqrt_iswap", seed=0)
    values = random_resolver(2, rng)
    assert compiled_fidelity(logical, _as_compiled(template, values), values) >= 1 - 1e-6
    resolved = hardware.compile_circuit(
        cirq.resolve_parameters(logical, values), "weber", "sqrt_iswap", seed=0
    )
    symbolic = hardware.compile_circuit(logical, "weber", "sqrt_iswap", seed=0)
    assert template.two_qubit_count == resolved.two_qubit_count
    assert template.two_qubit_count < 0.8 * symbolic.two_qubit_count


def test_template_vector_and_resolver_agree(rng):
    graph = nx.cycle_graph(4)
    logical = qaoa_like(graph, 1)
    symbols = [sympy.Symbol("gamma_1"), sympy.Symbol("beta_1")]
    template = compile_template(logical, "weber", "sqrt_iswap", symbols=symbols, seed=0)
    values = random_resolver(1, rng)
    a = cirq.unitary(template.resolve(values))
    b = cirq.unitary(template.resolve([values["gamma_1"], values["beta_1"]]))
    np.testing.assert_allclose(a, b, atol=1e-12)


def test_template_errors_name_the_problem():
    a, b, c = cirq.LineQubit.range(3)
    with pytest.raises(ValueError, match="3 qubits|decompose"):
        compile_template(cirq.Circuit(cirq.CCZ(a, b, c)), "weber", "sqrt_iswap")
    with pytest.raises(ValueError, match="gate set"):
        compile_template(cirq.Circuit(cirq.CZ(a, b)), "weber", "nope")
    template = compile_template(qaoa_like(nx.cycle_graph(3), 1), "weber", "cz")
    with pytest.raises(ValueError, match="expected 2 parameter values"):
        template.gates([0.1, 0.2, 0.3])
    t = sympy.Symbol("t")
    with pytest.raises(TypeError, match="not affine"):
        compile_template(cirq.Circuit(cirq.ZZ(a, b) ** (t * t)), "weber", "cz")


@pytest.mark.parametrize("kind", ["zz", "zz_swap"])
def test_sqrt_iswap_block_layers_equal_cirq_unitaries(kind):
    """The per-θ √iSWAP layers of ZZ blocks (closed form for ZZ, cirq's solver for ZZ + SWAP)
    rebuild ``cirq.unitary`` of the block, with the native count of cirq's own decomposition,
    across exponents that cross cirq's branch points (0, ±1/2, ±1, ...)."""
    from hardware.template import _sqrt_iswap_layers, _zz_sqrt_iswap_layers

    a, b = cirq.LineQubit.range(2)
    sqrt_iswap = cirq.unitary(cirq.SQRT_ISWAP)
    exponents = np.concatenate([np.linspace(-2.5, 2.5, 41), [1e-9, -1e-9, 0.5 + 1e-9, 0.73]])
    for t in exponents:
        block = cirq.Circuit(cirq.ZZ(a, b) ** t, *([cirq.SWAP(a, b)] if kind == "zz_swap" else []))
        target = cirq.unitary(block)
        if kind == "zz":
            dec = _zz_sqrt_iswap_layers(t)
        else:
            dec = _sqrt_iswap_layers((np.pi / 4, np.pi / 4, np.pi / 4 - np.pi * t / 2), 3)
        u = np.kron(*dec.layers[0])
        for layer in dec.layers[1:]:
            u = np.kron(*layer) @ sqrt_iswap @ u
        assert cirq.equal_up_to_global_phase(u, target, atol=1e-9), t
        if abs(np.sin(2 * np.pi * t)) > 1e-6:  # away from t = k/2 cirq needs as many natives
            ops = cirq.two_qubit_matrix_to_sqrt_iswap_operations(a, b, target, atol=1e-10)
            assert len(dec.natives) == sum(len(op.qubits) == 2 for op in ops)


@pytest.mark.parametrize("swap_first", [False, True])
def test_zz_swap_blocks_with_single_qubit_gates_between(swap_first, rng):
    """A ZZ rotation and a SWAP with a mixer rotation between them (as routing makes when a
    qubit's layer ends before its SWAP) use the ZZ + SWAP layers with the rotation moved
    through the SWAP; the state equals the logical circuit's."""
    a, b = cirq.LineQubit.range(2)
    gamma, beta = sympy.Symbol("gamma_1"), sympy.Symbol("beta_1")
    body = [cirq.ZZ(a, b) ** gamma, cirq.X(a) ** beta, cirq.Y(b) ** 0.3, cirq.SWAP(a, b)]
    if swap_first:
        body = body[::-1]
    logical = cirq.Circuit(cirq.H.on_each(a, b), cirq.X(b) ** 0.2, *body, cirq.X(a) ** beta)
    template = compile_template(logical, "weber", "sqrt_iswap", routing="cqc", seed=0)
    kinds = [(block.kind, len(block.ops)) for block in template.blocks]
    assert ("zz_swap", 4) in kinds
    for _ in range(3):
        values = random_resolver(1, rng)
        assert compiled_fidelity(logical, _as_compiled(template, values), values) >= 1 - 1e-9
    assert template.two_qubit_count == 3


@pytest.mark.parametrize("gateset", ["sqrt_iswap", "cz", "sycamore"])
def test_slot_matrices_equal_all_gates(gateset, rng):
    """The vectorised single-qubit slots (what noisy trajectories use per θ) are the matrices
    of :meth:`all_gates`, slot by slot, at random points of both signs."""
    graph = nx.random_regular_graph(3, 8, seed=1)
    template = compile_template(qaoa_like(graph, 2), "weber", gateset, seed=0)
    for _ in range(3):
        values = rng.uniform(-2, 2, 4)
        gates = template.all_gates(values)
        fast = template.slot_matrices(values)
        assert fast.shape == (len(gates), 2, 2)
        for gate, matrix in zip(gates, fast, strict=True):
            if gate.gate is None:
                np.testing.assert_allclose(matrix, gate.matrix, atol=1e-12)


def test_slot_matrices_at_fresh_points_of_a_larger_template(rng):
    """ZZ + SWAP blocks with mixer rotations between make a new decomposition per block and
    point; each must be used for its own block (a stale object identity once mixed them up)."""
    graph = nx.random_regular_graph(3, 10, seed=0)
    template = compile_template(qaoa_like(graph, 2), "weber", "sqrt_iswap", seed=0)
    for _ in range(6):
        values = rng.uniform(0, 1.5, 4)
        fast = template.slot_matrices(values)
        for gate, matrix in zip(template.all_gates(values), fast, strict=True):
            if gate.gate is None:
                np.testing.assert_allclose(matrix, gate.matrix, atol=1e-12)
