import cirq
import networkx as nx
import numpy as np
import pytest
import sympy
from hw_helpers import (
    compiled_fidelity,
    import_tfq,
    qaoa_like,
    random_product_layer,
    random_resolver,
)

import hardware
from hardware.gatesets import is_native_two_qubit

GATESETS = ("cz", "sqrt_iswap", "sycamore")


@pytest.mark.parametrize("gateset", GATESETS)
@pytest.mark.parametrize("routing", ["cqc", "swap_network"])
@pytest.mark.parametrize("symbolic", [False, True])
def test_compile_is_equivalent_on_random_graphs(gateset, routing, symbolic, rng):
    """Every compile path reproduces the logical state, routing permutation included."""
    for trial in [int(symbolic) ^ (routing == "cqc")]:
        graph = nx.gnp_random_graph(6, 0.6, seed=int(rng.integers(1 << 30)))
        for u, v in graph.edges:
            graph[u][v]["weight"] = float(rng.uniform(0.5, 1.5))
        qubits = cirq.LineQubit.range(6)
        logical = random_product_layer(qubits, rng) + qaoa_like(graph, 2, qubits)
        values = random_resolver(2, rng)
        circuit = logical if symbolic else cirq.resolve_parameters(logical, values)
        device = "weber" if trial == 0 else "grid:3x3"
        compiled = hardware.compile_circuit(circuit, device, gateset, routing=routing, seed=trial)
        assert compiled.symbolic == symbolic
        assert cirq.is_parameterized(compiled.circuit) == (symbolic and graph.number_of_edges() > 0)
        hardware.validate(compiled.circuit, device, gateset)
        assert compiled_fidelity(logical, compiled, values) > 1 - 1e-6


def test_auto_routing_keeps_fewer_two_qubit_gates(rng):
    dense = nx.complete_graph(7)
    circuit = cirq.resolve_parameters(qaoa_like(dense, 1), random_resolver(1, rng))
    counts = {
        r: hardware.compile_circuit(circuit, "grid:3x3", "cz", routing=r).two_qubit_count
        for r in ("cqc", "swap_network", "auto")
    }
    assert counts["auto"] == min(counts["cqc"], counts["swap_network"])


@pytest.mark.parametrize(
    "gateset, resolved, symbolic", [("cz", 2, 2), ("sqrt_iswap", 2, 4), ("sycamore", 2, 4)]
)
def test_two_qubit_gates_per_zz(gateset, resolved, symbolic):
    a, b = cirq.LineQubit.range(2)
    gamma = sympy.Symbol("gamma_1")
    circuit = cirq.Circuit(cirq.ZZ(a, b) ** (-0.7 * gamma / np.pi))
    assert (
        hardware.two_qubit_count(
            hardware.to_gateset(cirq.resolve_parameters(circuit, {"gamma_1": 0.9}), gateset)
        )
        == resolved
    )
    sym = hardware.to_gateset_symbolic(circuit, gateset)
    assert hardware.two_qubit_count(sym) == symbolic
    for value in (0.3, -1.7):
        u = cirq.unitary(cirq.resolve_parameters(sym, {"gamma_1": value}))
        ref = cirq.unitary(cirq.resolve_parameters(circuit, {"gamma_1": value}))
        cirq.testing.assert_allclose_up_to_global_phase(u, ref, atol=1e-6)


def test_symbolic_exponents_are_scalar_multiples_of_symbols():
    a, b = cirq.LineQubit.range(2)
    g, s = sympy.Symbol("gamma_1"), sympy.Symbol("beta_1")
    circuit = cirq.Circuit(cirq.ZZ(a, b) ** (0.3 + 2 * g - s / np.pi), cirq.rx(2 * s + 0.1).on(a))
    out = hardware.to_gateset_symbolic(circuit, "sqrt_iswap")
    for op in out.all_operations():
        for value in (getattr(op.gate, "exponent", 0), getattr(op.gate, "phase_exponent", 0)):
            if isinstance(value, sympy.Basic) and value.free_symbols:
                coeff, rest = value.as_coeff_Mul()
                assert isinstance(rest, sympy.Symbol), value
    for vals in ({"gamma_1": 0.2, "beta_1": -0.4}, {"gamma_1": -1.1, "beta_1": 0.9}):
        cirq.testing.assert_allclose_up_to_global_phase(
            cirq.unitary(cirq.resolve_parameters(out, vals)),
            cirq.unitary(cirq.resolve_parameters(circuit, vals)),
            atol=1e-6,
        )


def test_non_affine_symbolic_exponent_is_rejected():
    a, b = cirq.LineQubit.range(2)
    g = sympy.Symbol("gamma_1")
    with pytest.raises(TypeError, match="not affine"):
        hardware.to_gateset_symbolic(cirq.Circuit(cirq.ZZ(a, b) ** (g**2)), "cz")
    with pytest.raises(TypeError, match="supported"):
        hardware.to_gateset_symbolic(cirq.Circuit(cirq.ISWAP(a, b) ** g), "cz")


def test_resolved_compile_rejects_symbols():
    a, b = cirq.LineQubit.range(2)
    with pytest.raises(ValueError, match="unresolved symbols"):
        hardware.to_gateset(cirq.Circuit(cirq.ZZ(a, b) ** sympy.Symbol("g")), "cz")


def test_compiled_weber_circuit_passes_cirq_google_validation(rng):
    graph = nx.random_regular_graph(3, 8, seed=2)
    circuit = cirq.resolve_parameters(qaoa_like(graph, 1), random_resolver(1, rng))
    for gateset in GATESETS:
        compiled = hardware.compile_circuit(circuit, "weber", gateset)
        device = hardware.get_device("weber").cirq_device
        device.validate_circuit(hardware.to_device_form(compiled.circuit))
        assert all(
            is_native_two_qubit(op.gate, gateset)
            for op in compiled.circuit.all_operations()
            if len(op.qubits) == 2
        )


def test_validate_errors_name_the_problem():
    device = hardware.grid(2, 2)
    a, b, c = cirq.GridQubit(0, 0), cirq.GridQubit(0, 1), cirq.GridQubit(1, 1)
    with pytest.raises(ValueError, match="not on device"):
        hardware.validate(cirq.Circuit(cirq.X(cirq.GridQubit(5, 5))), device)
    with pytest.raises(ValueError, match="uncoupled"):
        hardware.validate(cirq.Circuit(cirq.CZ(a, c)), device)
    with pytest.raises(ValueError, match="not native"):
        hardware.validate(cirq.Circuit(cirq.CNOT(a, b)), device)
    with pytest.raises(ValueError, match="not native"):
        hardware.validate(cirq.Circuit(cirq.CZ(a, b)), device, "sqrt_iswap")
    with pytest.raises(ValueError, match="not native"):
        hardware.validate(cirq.Circuit(cirq.H(a)), device)
    hardware.validate(cirq.Circuit(cirq.CZ(a, b), (cirq.ISWAP**0.5)(b, c)), device)


def test_bad_compile_inputs():
    circuit = qaoa_like(nx.path_graph(30), 1)
    with pytest.raises(ValueError, match="has only 23"):
        hardware.compile_circuit(circuit, "rainbow", "cz")
    small = qaoa_like(nx.path_graph(3), 1)
    with pytest.raises(ValueError, match="unknown gate set"):
        hardware.compile_circuit(small, "weber", "cnot")
    with pytest.raises(ValueError, match="not native"):
        hardware.compile_circuit(small, "sycamore", "cz")
    with pytest.raises(ValueError, match="swap network"):
        q = cirq.LineQubit.range(3)
        hardware.compile_circuit(
            cirq.Circuit(cirq.CNOT(q[0], q[2])), "grid:2x2", routing="swap_network"
        )


def test_symbolic_compile_serialises_and_runs_in_tfq(rng):
    """TFQ batch-resolves the compiled symbolic circuit and matches cirq's exact expectation."""
    tf, tfq = import_tfq()

    graph = nx.cycle_graph(4)
    logical = qaoa_like(graph, 1, cirq.GridQubit.rect(1, 4))
    for gateset in GATESETS:
        compiled = hardware.compile_circuit(logical, "grid:2x3", gateset, symbolic=True)
        tensor = tfq.convert_to_tensor([compiled.circuit])
        zz = [compiled.final_map[q] for q in sorted(logical.all_qubits())]
        op = cirq.Z(zz[0]) * cirq.Z(zz[1])
        values = np.array([[0.4, 0.3], [-0.8, 1.1]], dtype=np.float32)
        out = tfq.layers.Expectation()(
            tf.repeat(tensor, 2),
            symbol_names=["beta_1", "gamma_1"],
            symbol_values=values,
            operators=[op],
        ).numpy()[:, 0]
        for row, expect in zip(values, out, strict=True):
            res = {"beta_1": float(row[0]), "gamma_1": float(row[1])}
            state = cirq.Simulator(dtype=np.complex128).simulate(
                cirq.resolve_parameters(logical, res), qubit_order=sorted(logical.all_qubits())
            )
            ref = op.with_qubits(*sorted(logical.all_qubits())[:2]).expectation_from_state_vector(
                state.final_state_vector, {q: i for i, q in enumerate(sorted(logical.all_qubits()))}
            )
            assert expect == pytest.approx(np.real(ref), abs=1e-4)


def test_json_round_trip_keeps_circuit_and_maps(rng, tmp_path):
    circuit = qaoa_like(nx.cycle_graph(5), 1)
    compiled = hardware.compile_circuit(circuit, "rainbow", "sycamore")
    path = tmp_path / "c.json"
    hardware.save_compiled(compiled, str(path))
    back = hardware.load_compiled(str(path))
    assert back.circuit == compiled.circuit
    assert back.initial_map == compiled.initial_map and back.final_map == compiled.final_map
    assert back.summary() == compiled.summary()


def test_cirq_json_protocol_carries_a_compiled_circuit_inside_other_cirq_values():
    circuit = qaoa_like(nx.cycle_graph(5), 1)
    compiled = hardware.compile_circuit(circuit, "weber", "sqrt_iswap")
    compiled.metadata["note"] = "kept"
    text = cirq.to_json({"compiled": [compiled], "logical": circuit})
    assert '"cirq_type": "hardware.CompiledCircuit"' in text
    back = cirq.read_json(
        json_text=text, resolvers=[hardware.json_resolver, *cirq.DEFAULT_RESOLVERS]
    )
    (again,) = back["compiled"]
    assert again == compiled and again.metadata == {**compiled.metadata}
    assert back["logical"] == circuit
    # Without the resolver Cirq names the type it cannot read.
    with pytest.raises(ValueError, match="hardware.CompiledCircuit"):
        cirq.read_json(json_text=text)
    assert hardware.json_resolver("cirq.LineQubit") is None


def test_names_moved_out_of_compile_still_answer_with_a_deprecation_warning():
    from hardware import compile as compile_module
    from hardware import gatesets, routing, scheduling

    for name, home in (("tfq_safe", gatesets), ("RoutedCircuit", routing), ("DD_TAG", scheduling)):
        with pytest.warns(DeprecationWarning, match=f"use {home.__name__}.{name}"):
            assert getattr(compile_module, name) is getattr(home, name)
    assert hardware.tfq_safe is gatesets.tfq_safe and hardware.route is routing.route
    assert compile_module.to_gateset is gatesets.to_gateset  # used by compile: no warning
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        compile_module.nothing  # noqa: B018
