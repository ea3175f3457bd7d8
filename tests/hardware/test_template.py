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
