import cirq
import networkx as nx
import numpy as np
import pytest

from qaoa_meta import qaoa
from qaoa_meta._tf import tf
from qaoa_meta.energy import (
    Energy,
    analytic_p1_expectation,
    exact_expectation,
    p1_coefficients,
    p1_expectation,
    pad_diagonals,
)
from qaoa_meta.problems import MaxCutProblem, cost_diagonal, erdos_renyi, sherrington_kirkpatrick


def cirq_energy(problem, theta):
    """Independent reference: cirq.Simulator state vector in double precision."""
    p = len(theta) // 2
    state = cirq.final_state_vector(
        qaoa.qaoa_circuit(problem, p, params=np.asarray(theta, float)), dtype=np.complex128
    )
    return float(np.real(np.vdot(state, cost_diagonal(problem) * state)))


def mixed_batch(seed=0):
    rng = np.random.default_rng(seed)
    return [
        erdos_renyi(5, 0.6, rng),
        MaxCutProblem.from_edge_list([(0, 1, 0.7), (1, 2, -1.3), (2, 5, 2.0), (3, 4, 0.4)], n=6),
        sherrington_kirkpatrick(7, "gaussian", rng),
        erdos_renyi(4, 0.8, rng),
    ]


@pytest.mark.parametrize("p", [1, 2, 3])
@pytest.mark.parametrize("backend", ["exact", "tfq"])
def test_backends_match_cirq_on_mixed_size_batches(backend, p):
    problems = mixed_batch(p)
    rng = np.random.default_rng(10 + p)
    theta = rng.uniform(-1.5, 1.5, size=(len(problems), 2 * p)).astype(np.float32)
    values = Energy(problems, p, backend=backend)(theta).numpy()
    reference = [cirq_energy(pr, t) for pr, t in zip(problems, theta.astype(float), strict=True)]
    np.testing.assert_allclose(values, reference, rtol=1e-5, atol=1e-5)


def test_double_precision_exact_path_matches_cirq_tightly():
    problems = mixed_batch(4)
    theta = np.random.default_rng(1).uniform(-2, 2, size=(4, 4))
    values = Energy(problems, 2, dtype=tf.float64)(theta).numpy()
    reference = [cirq_energy(pr, t) for pr, t in zip(problems, theta, strict=True)]
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n", range(3, 14))
def test_float64_energies_match_cirq_to_1e12_for_odd_and_even_n(n):
    # rtol=0: a wrong normalisation (e.g. 1/sqrt(2^n) rounded through float32 for odd n)
    # scales every energy by ~1 - 3e-8 and must fail here.
    problem = erdos_renyi(n, 0.5, seed=n)
    theta = np.random.default_rng(n).uniform(-1.5, 1.5, size=(1, 2))
    value = Energy([problem], 1, dtype=tf.float64)(theta).numpy()[0]
    assert abs(value - cirq_energy(problem, theta[0])) <= 1e-12 * max(1.0, abs(value))


def p1_problems():
    rng = np.random.default_rng(5)
    return [
        erdos_renyi(n, density, rng)
        for n, density in ((2, 1.0), (3, 1.0), (5, 0.5), (7, 0.6), (9, 0.4), (10, 0.7))
    ] + [MaxCutProblem.from_edge_list([(0, 1), (1, 2)], n=6)]  # isolated nodes


def test_p1_closed_form_matches_cirq_state_vectors():
    problems = [pr for pr in p1_problems() if pr.num_edges]
    theta = np.random.default_rng(2).uniform(-np.pi, np.pi, size=(len(problems), 2))
    values = p1_expectation(*p1_coefficients(problems), theta, tf.float64).numpy()
    reference = [cirq_energy(pr, t) for pr, t in zip(problems, theta, strict=True)]
    np.testing.assert_allclose(values, reference, rtol=0, atol=1e-11)
    # float32 with tables sized for a larger register (padding) gives the same values.
    single = p1_expectation(*p1_coefficients(problems, n_qubits=14), theta).numpy()
    np.testing.assert_allclose(single, reference, rtol=2e-6, atol=2e-5)


def test_p1_closed_form_gradient_matches_finite_differences():
    problem = p1_problems()[4]
    theta = np.array([[0.7, -0.3]])
    tables = p1_coefficients([problem])
    params = tf.Variable(theta)
    with tf.GradientTape() as tape:
        value = p1_expectation(*tables, params, tf.float64)
    gradient = tape.gradient(value, params).numpy()[0]
    np.testing.assert_allclose(gradient, central_difference(problem, theta[0]), atol=1e-7)


def test_p1_closed_form_refuses_weighted_graphs():
    weighted = MaxCutProblem.from_edge_list([(0, 1, 0.5), (1, 2, 2.0)], n=3)
    with pytest.raises(ValueError, match="unweighted"):
        p1_coefficients([weighted])


def test_exact_and_tfq_agree_with_each_other_on_larger_graphs():
    problems = [erdos_renyi(n, 0.5, seed=n) for n in (9, 10, 11)]
    theta = np.random.default_rng(3).uniform(0, 1, size=(3, 4)).astype(np.float32)
    exact = Energy(problems, 2, "exact")(theta).numpy()
    tfq_values = Energy(problems, 2, "tfq")(theta).numpy()
    np.testing.assert_allclose(exact, tfq_values, rtol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_p1_matches_analytic_formula(seed):
    # Graphs with triangles, varied degrees and an isolated node.
    problem = erdos_renyi(8, 0.55, seed=seed)
    rng = np.random.default_rng(seed)
    grid = rng.uniform(-np.pi, np.pi, size=(6, 2))
    values = Energy([problem], 1, dtype=tf.float64)(grid).numpy()
    analytic = [analytic_p1_expectation(problem, g, b) for g, b in grid]
    np.testing.assert_allclose(values, analytic, atol=1e-10)


def test_analytic_formula_on_a_hand_checked_graph():
    # Single edge: <C> = 1/2 + 1/4 sin(4 beta) sin(gamma) * 2 (d = e = 0, no triangles).
    edge = MaxCutProblem.from_edge_list([(0, 1)])
    gamma, beta = 0.7, 0.3
    expected = 0.5 + 0.5 * np.sin(4 * beta) * np.sin(gamma)
    assert analytic_p1_expectation(edge, gamma, beta) == pytest.approx(expected)
    assert cirq_energy(edge, [gamma, beta]) == pytest.approx(expected)
    with pytest.raises(ValueError, match="unweighted"):
        analytic_p1_expectation(MaxCutProblem.from_edge_list([(0, 1, 2.0)]), 0.1, 0.1)


def central_difference(problem, theta, step=1e-5):
    gradient = np.zeros_like(theta)
    for k in range(len(theta)):
        shift = np.zeros_like(theta)
        shift[k] = step
        gradient[k] = (
            cirq_energy(problem, theta + shift) - cirq_energy(problem, theta - shift)
        ) / (2 * step)
    return gradient


@pytest.mark.parametrize(
    "backend, dtype, tol",
    [("exact", tf.float64, 1e-6), ("exact", tf.float32, 2e-3), ("tfq", tf.float32, 2e-3)],
)
def test_gradients_match_central_finite_differences(backend, dtype, tol):
    problems = mixed_batch(7)[:3]
    theta = np.random.default_rng(2).uniform(-1, 1, size=(3, 4))
    _, gradient = Energy(problems, 2, backend=backend, dtype=dtype).value_and_gradient(theta)
    for problem, t, g in zip(problems, theta, gradient, strict=True):
        np.testing.assert_allclose(g, central_difference(problem, t), atol=tol, rtol=tol)


def test_exact_expectation_is_tf_function_compatible_and_padding_is_neutral():
    problems = [erdos_renyi(4, 0.9, seed=1), erdos_renyi(6, 0.5, seed=2)]
    diagonals = pad_diagonals(problems, n_qubits=8)
    assert diagonals.shape == (2, 256)
    theta = tf.constant([[0.3, 0.2], [0.5, -0.4]])
    compiled = tf.function(exact_expectation)
    values = compiled(tf.constant(diagonals), theta).numpy()
    reference = [
        cirq_energy(pr, t) for pr, t in zip(problems, theta.numpy().astype(float), strict=True)
    ]
    np.testing.assert_allclose(values, reference, rtol=1e-5)


def test_broadcasting_rules_and_errors():
    problem = erdos_renyi(5, 0.6, seed=0)
    energy = Energy([problem], 1)
    grid = np.array([[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])
    values = energy(grid).numpy()
    assert values.shape == (3,)
    assert values[1] == pytest.approx(cirq_energy(problem, grid[1]), rel=1e-5)
    two = Energy([problem, erdos_renyi(6, 0.5, seed=1)], 1)
    assert two([0.1, 0.2]).shape == (2,)
    with pytest.raises(ValueError, match="one row per problem"):
        two(grid)
    with pytest.raises(ValueError, match="shape \\(batch, 2\\)"):
        energy(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="Unknown energy backend"):
        Energy([problem], 1, backend="qsim")
    with pytest.raises(ValueError, match="positive integer"):
        Energy([problem], 0)
    with pytest.raises(ValueError, match="float32 only"):
        Energy([problem], 1, backend="tfq", dtype=tf.float64)


@pytest.mark.parametrize("backend", ["exact", "tfq"])
def test_edgeless_problem_has_zero_energy(backend):
    problem = MaxCutProblem.from_edge_list([], n=3)
    assert Energy([problem, erdos_renyi(3, 1.0, seed=0)], 1, backend)([0.4, 0.3]).numpy()[0] == 0


def test_complete_graph_maximum_over_grid_is_below_max_cut():
    problem = MaxCutProblem.from_networkx(nx.complete_graph(6))
    gammas, betas = np.meshgrid(np.linspace(0, np.pi, 15), np.linspace(0, np.pi / 2, 15))
    values = Energy([problem], 1)(np.stack([gammas.ravel(), betas.ravel()], 1)).numpy()
    assert values.max() <= 9.0 + 1e-5 and values.min() >= 0
