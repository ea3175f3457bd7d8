import cirq
import numpy as np
import pytest
import scipy.linalg
import sympy

from qaoa_meta import qaoa
from qaoa_meta.problems import MaxCutProblem, cost_diagonal, erdos_renyi

X = np.array([[0, 1], [1, 0]], dtype=complex)


def reference_state(problem, theta):
    """Independent reference: dense matrix exponentials of C and of each X_i."""
    n, p = problem.n, len(theta) // 2
    state = np.full(2**n, 2 ** (-n / 2), dtype=complex)
    diagonal = cost_diagonal(problem)
    for gamma, beta in zip(theta[:p], theta[p:], strict=True):
        state = np.exp(-1j * gamma * diagonal) * state
        mixer = scipy.linalg.expm(-1j * beta * X)
        full = mixer
        for _ in range(n - 1):
            full = np.kron(full, mixer)
        state = full @ state
    return state


def fidelity(a, b):
    return abs(np.vdot(a, b)) ** 2


@pytest.mark.parametrize("p", [1, 2, 3])
def test_circuit_matches_dense_reference(p):
    rng = np.random.default_rng(p)
    edges = [(0, 1, 1.0), (1, 2, -0.5), (0, 3, 2.0), (2, 4, 1.5), (3, 4, 1.0)]
    problem = MaxCutProblem.from_edge_list(edges, n=5)
    theta = rng.uniform(-2, 2, 2 * p)
    state = cirq.final_state_vector(
        qaoa.qaoa_circuit(problem, p, params=theta), dtype=np.complex128
    )
    assert fidelity(state, reference_state(problem, theta)) == pytest.approx(1, abs=1e-10)
    symbolic = qaoa.qaoa_circuit(problem, p)
    assert cirq.parameter_names(symbolic) == {s.name for s in qaoa.parameter_symbols(p)}
    resolved = cirq.resolve_parameters(symbolic, qaoa.resolver(theta))
    resolved_state = cirq.final_state_vector(resolved, dtype=np.complex128)
    assert fidelity(resolved_state, state) == pytest.approx(1, abs=1e-10)


def test_cost_operator_is_the_cut_diagonal():
    problem = erdos_renyi(5, 0.6, seed=2)
    qubits = cirq.LineQubit.range(5)
    matrix = qaoa.cost_operator(problem, qubits).matrix(qubits)
    np.testing.assert_allclose(matrix, np.diag(cost_diagonal(problem)), atol=1e-12)
    zz = qaoa.zz_operator(problem, qubits).matrix(qubits)
    np.testing.assert_allclose(zz + problem.total_weight / 2 * np.eye(32), matrix, atol=1e-12)


def test_given_qubits_and_symbols():
    problem = erdos_renyi(4, 0.9, seed=0)
    qubits = cirq.GridQubit.rect(2, 2)
    circuit = qaoa.qaoa_circuit(problem, 2, qubits=qubits)
    assert circuit.all_qubits() == set(qubits)
    assert [s.name for s in qaoa.parameter_symbols(2)] == ["gamma_1", "gamma_2", "beta_1", "beta_2"]
    assert isinstance(qaoa.gamma_symbols(1)[0], sympy.Symbol)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda pr: qaoa.qaoa_circuit(pr, 0), "positive integer"),
        (lambda pr: qaoa.qaoa_circuit(pr, 1, params=[0.1, 0.2, 0.3]), "2p = 2"),
        (lambda pr: qaoa.qaoa_circuit(pr, 1, qubits=cirq.LineQubit.range(3)), "4 distinct"),
        (lambda pr: qaoa.resolver([0.1, 0.2, 0.3]), "2p parameters"),
    ],
)
def test_bad_input(call, message):
    with pytest.raises(ValueError, match=message):
        call(erdos_renyi(4, 0.9, seed=0))


def ring(n):
    return MaxCutProblem.from_edge_list([(i, (i + 1) % n) for i in range(n)])


def test_known_p1_optimum_maps_to_the_same_energy_in_every_convention():
    # Ring of 8: the p=1 optimum is <C> = 3/4 * 8 = 6 at gamma = pi/4, beta = pi/8 (Farhi 2014).
    problem = ring(8)
    qubits = cirq.LineQubit.range(8)
    theta = np.array([np.pi / 4, np.pi / 8])
    state = cirq.final_state_vector(
        qaoa.qaoa_circuit(problem, 1, params=theta), dtype=np.complex128
    )
    cost = qaoa.cost_operator(problem, qubits)
    textbook = cost.expectation_from_state_vector(state, {q: i for i, q in enumerate(qubits)}).real
    assert textbook == pytest.approx(6.0, abs=1e-9)

    # PennyLane qml.qaoa: cost_h = sum 0.5 (Z Z - 1); cost_layer(g) = exp(-i g cost_h);
    # mixer_layer(a) = exp(-i a sum X). Built independently from Pauli-sum exponentials.
    gamma_pl, alpha = qaoa.textbook_to_pennylane(theta)
    cost_h = sum(0.5 * cirq.Z(qubits[u]) * cirq.Z(qubits[v]) for u, v, _ in problem.edges)
    mixer_h = sum(cirq.X(q) for q in qubits)
    pl_circuit = cirq.Circuit(
        cirq.H.on_each(*qubits),
        cirq.PauliSumExponential(cost_h, exponent=-gamma_pl),
        cirq.PauliSumExponential(mixer_h, exponent=-alpha),
    )
    pl_state = cirq.final_state_vector(pl_circuit, dtype=np.complex128)
    constant = -0.5 * problem.num_edges
    pl_cost = (
        cost_h.expectation_from_state_vector(pl_state, {q: i for i, q in enumerate(qubits)}).real
        + constant
    )
    assert pl_cost == pytest.approx(qaoa.pennylane_cost(textbook), abs=1e-9)
    np.testing.assert_allclose(qaoa.pennylane_to_textbook([gamma_pl, alpha]), theta)

    exponents = qaoa.textbook_to_cirq_exponents(theta)
    np.testing.assert_allclose(exponents, [-0.25, 0.25])
    raw = cirq.final_state_vector(
        qaoa.qaoa_circuit_from_exponents(problem, exponents), dtype=np.complex128
    )
    assert fidelity(raw, state) == pytest.approx(1, abs=1e-10)
    np.testing.assert_allclose(qaoa.cirq_exponents_to_textbook(exponents), theta)


def test_converters_work_on_batches_and_depth():
    theta = np.arange(12, dtype=float).reshape(2, 6)
    np.testing.assert_allclose(qaoa.pennylane_to_textbook(qaoa.textbook_to_pennylane(theta)), theta)
    np.testing.assert_allclose(
        qaoa.cirq_exponents_to_textbook(qaoa.textbook_to_cirq_exponents(theta)), theta
    )
    assert (
        qaoa.textbook_to_pennylane(theta)[0, 0] == -0.0
        and qaoa.textbook_to_pennylane(theta)[1, 3] == 9
    )
