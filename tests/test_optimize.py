"""Phase-II optimisers against closed forms, brute force and exact counts."""

from __future__ import annotations

import numpy as np
import pytest

from qaoa_meta.energy import Energy
from qaoa_meta.optima import p1_optimum
from qaoa_meta.optimize import (
    SGD,
    SPSA,
    Adam,
    ExactEvaluator,
    OptimizeResult,
    ScipyOptimizer,
    make_optimizer,
    optimizer_from_config,
    qaoa_probabilities,
)
from qaoa_meta.problems import MaxCutProblem, cost_diagonal, erdos_renyi, random_regular


class Quadratic:
    """A fake evaluator: ⟨C⟩(θ) = −½ Σ a (θ − c)², maximised at c."""

    def __init__(self, a: float, c: np.ndarray):
        self.a, self.c = a, np.asarray(c, float)

    def value_and_gradient(self, diagonals, params):
        delta = np.asarray(params, float) - self.c
        return -0.5 * self.a * (delta**2).sum(axis=1), -self.a * delta


@pytest.fixture(scope="module")
def small_problems():
    return [erdos_renyi(5, 0.6, seed=s, name=f"g{s}") for s in range(3)]


def test_sgd_on_quadratic_matches_closed_form(small_problems):
    a, lr, c = 2.0, 0.1, np.array([0.3, -0.2])
    theta0 = np.array([[1.0, 1.0]])
    sgd = SGD(lr=lr, tol=1e-9, max_iter=50, param_dtype="float64")
    (result,) = sgd._run_batch(small_problems[:1], theta0, Quadratic(a, c))
    k = np.arange(len(result.trace_values))[:, None]
    expected = c + (1 - lr * a) ** k * (theta0 - c)
    np.testing.assert_allclose(result.trace_params, expected, rtol=1e-12)
    # The paper's rule: stop after the first iteration k >= 1 with |v_k − v_{k−1}| <= tol.
    values = -0.5 * a * ((expected - c) ** 2).sum(axis=1)
    changes = np.abs(np.diff(values))
    first = int(np.flatnonzero(changes <= 1e-9)[0]) + 1
    assert result.iterations == min(first + 1, 50)
    assert result.n_gradients == result.iterations and result.n_evaluations == 0


def test_adam_first_step_is_lr_times_sign(small_problems):
    adam = Adam(lr=0.05, max_iter=2, param_dtype="float64")
    (result,) = adam._run_batch(small_problems[:1], np.array([[1.0, -1.0]]), Quadratic(1.0, [0, 0]))
    np.testing.assert_allclose(result.trace_params[1], [0.95, -0.95], atol=1e-7)


def test_sgd_batched_equals_one_by_one(small_problems):
    init = np.array([[0.3, 0.2], [-0.5, 0.4], [0.9, 0.1]])
    sgd = SGD(lr=1e-2, max_iter=40)
    together = sgd.run(small_problems, init)
    for i, problem in enumerate(small_problems):
        (alone,) = sgd.run([problem], init[i : i + 1])
        np.testing.assert_array_equal(alone.trace_values, together[i].trace_values)
        assert alone.iterations == together[i].iterations


def test_sgd_keeps_float32_parameters(small_problems):
    (result,) = SGD(max_iter=5).run(small_problems[:1], np.array([[0.1, 0.2]]))
    np.testing.assert_array_equal(result.trace_params, result.trace_params.astype(np.float32))


def test_lbfgsb_reaches_bruteforce_grid_optimum():
    problem = random_regular(8, 3, seed=3)
    energy = Energy([problem], p=1, dtype=__import__("qaoa_meta._tf", fromlist=["tf"]).tf.float64)
    gammas = np.linspace(0, np.pi, 181)
    betas = np.linspace(-np.pi / 4, np.pi / 4, 91)
    grid = np.array([[g, b] for g in gammas for b in betas])
    values = energy(grid).numpy()
    best = grid[np.argmax(values)]
    (result,) = ScipyOptimizer("L-BFGS-B").run([problem], best[None, :])
    assert result.value >= values.max() - 1e-12
    assert result.value - values.max() < 5e-3  # the grid is within a step of the optimum
    # ... and equals the closed-form p=1 optimum (an independent reference).
    assert result.value == pytest.approx(p1_optimum(problem)[1], abs=1e-8)
    assert result.n_gradients >= result.iterations and result.n_evaluations == 0


@pytest.mark.parametrize("method", ["COBYLA", "Nelder-Mead"])
def test_gradient_free_counts_match_scipy(method, monkeypatch):
    import scipy.optimize

    problem = erdos_renyi(6, 0.5, seed=1)
    seen = {}
    original = scipy.optimize.minimize

    def spy(*args, **kwargs):
        result = original(*args, **kwargs)
        seen["nfev"] = result.nfev
        return result

    monkeypatch.setattr(scipy.optimize, "minimize", spy)
    (result,) = ScipyOptimizer(method, max_iter=60).run([problem], np.array([[0.4, 0.3]]))
    assert result.n_evaluations == seen["nfev"] and result.n_gradients == 0
    assert result.trace_evaluations[-1] <= result.n_evaluations


def test_spsa_counts_and_shots():
    problem = erdos_renyi(6, 0.5, seed=2)
    (result,) = SPSA(max_iter=7, shots=100).run([problem], np.array([[0.4, 0.3]]), seed=1)
    assert result.n_evaluations == 14 and result.shots == 1400
    assert result.circuit_evaluations() == 14
    assert len(result.trace_values) == 8
    again = SPSA(max_iter=7, shots=100).run([problem], np.array([[0.4, 0.3]]), seed=1)[0]
    np.testing.assert_array_equal(result.trace_params, again.trace_params)


def test_shots_rejected_for_gradient_methods():
    with pytest.raises(ValueError, match="gradients"):
        ScipyOptimizer("L-BFGS-B", shots=10)


def test_numpy_probabilities_match_tf_energy():
    problem = erdos_renyi(7, 0.5, seed=4)
    theta = np.array([0.3, -0.7, 0.5, 0.2])
    diagonal = cost_diagonal(problem)
    probabilities = qaoa_probabilities(diagonal, theta)
    value = ExactEvaluator().value(diagonal[None], theta[None])[0]
    assert probabilities.sum() == pytest.approx(1.0)
    # rel 1e-6: the TF path scales odd-n states by a float32-rounded 2^(-n/2) (see report).
    assert probabilities @ diagonal == pytest.approx(value, rel=1e-6)


def test_result_and_config_round_trip():
    problem = MaxCutProblem.from_edge_list([(0, 1), (1, 2), (2, 0), (2, 3)])
    (result,) = SGD(max_iter=10).run([problem], np.array([[0.2, 0.3]]))
    again = OptimizeResult.from_dict(result.to_dict())
    np.testing.assert_array_equal(again.trace_values, result.trace_values)
    assert again.paper_history()[0] == again.paper_history()[1] == -result.trace_values[0]
    for name in ("sgd", "adam", "l-bfgs-b", "cobyla", "nelder-mead", "spsa"):
        optimizer = make_optimizer(name)
        assert optimizer_from_config(optimizer.config()).config() == optimizer.config()
    with pytest.raises(ValueError, match="Unknown optimizer"):
        make_optimizer("newton")


def test_configs_list_every_setting_in_a_fixed_order():
    configs = [
        SGD(lr=0.5, tol=0.0, max_iter=7, param_dtype="float64").config(),
        Adam(lr=0.1, beta1=0.8, beta2=0.99, eps=1e-6).config(),
        ScipyOptimizer("COBYLA", max_iter=9, tol=None, shots=100, options={"rhobeg": 0.3}).config(),
        SPSA(max_iter=5, a=0.1, shots=64).config(),
    ]
    assert configs == [
        {"name": "sgd", "lr": 0.5, "tol": 0.0, "max_iter": 7, "param_dtype": "float64"},
        {
            "name": "adam",
            "lr": 0.1,
            "tol": 1e-6,
            "max_iter": 300,
            "beta1": 0.8,
            "beta2": 0.99,
            "eps": 1e-6,
            "param_dtype": "float64",
        },
        {
            "name": "cobyla",
            "method": "COBYLA",
            "max_iter": 9,
            "tol": None,
            "shots": 100,
            "options": {"rhobeg": 0.3},
        },
        {
            "name": "spsa",
            "max_iter": 5,
            "a": 0.1,
            "c": 0.1,
            "A": 10.0,
            "alpha": 0.602,
            "gamma": 0.101,
            "shots": 64,
        },
    ]
    # the order of the keys is the order of the JSON records
    assert [list(config) for config in configs] == [
        ["name", "lr", "tol", "max_iter", "param_dtype"],
        ["name", "lr", "tol", "max_iter", "beta1", "beta2", "eps", "param_dtype"],
        ["name", "method", "max_iter", "tol", "shots", "options"],
        ["name", "max_iter", "a", "c", "A", "alpha", "gamma", "shots"],
    ]


class PeakObjective:
    """A user's own objective (the :class:`qaoa_meta.optimize.Objective` protocol):
    ⟨C⟩(θ) = 3 − |θ − c|², maximised at c, with its analytic gradient."""

    def __init__(self, c):
        self.c = np.asarray(c, float)
        self.n_evaluations = self.n_gradients = self.shots_used = 0

    @property
    def cost(self):
        return self.n_evaluations + self.n_gradients

    def exact(self, theta):
        return 3.0 - float(((np.asarray(theta) - self.c) ** 2).sum())

    def value(self, theta):
        self.n_evaluations += 1
        return self.exact(theta)

    def value_and_gradient(self, theta):
        self.n_gradients += 1
        return self.exact(theta), -2.0 * (np.asarray(theta, float) - self.c)


@pytest.mark.parametrize(
    "name, settings",
    [
        ("sgd", {"lr": 0.1, "param_dtype": "float64"}),
        ("adam", {"lr": 0.05}),
        ("l-bfgs-b", {}),
        ("cobyla", {}),
        ("nelder-mead", {}),
        ("spsa", {"max_iter": 300, "a": 0.2}),
    ],
)
def test_every_optimizer_maximises_any_objective_through_the_public_api(name, settings):
    peak = [0.3, -0.2, 0.5, 0.1]
    objective = PeakObjective(peak)
    result = make_optimizer(name, **settings).optimize(objective, np.zeros(4), seed=1)
    np.testing.assert_allclose(result.params, peak, atol=0.02)
    assert result.value == pytest.approx(objective.exact(result.params))
    assert result.value > result.trace_values[0]
    # The result's counts are the objective's own counters.
    assert (result.n_evaluations, result.n_gradients) == (
        objective.n_evaluations,
        objective.n_gradients,
    )


def test_run_is_optimize_on_each_instance(small_problems):
    from qaoa_meta.optimize import InstanceObjective

    theta0 = np.tile([0.2, 0.3], (len(small_problems), 1))
    batch = SPSA(max_iter=10, shots=64).run(small_problems, theta0, seed=4)
    seeds = np.random.default_rng(4).integers(2**32, size=len(small_problems))
    for problem, seed, expected in zip(small_problems, seeds, batch, strict=True):
        objective = InstanceObjective(problem, ExactEvaluator(), 64, int(seed))
        alone = SPSA(max_iter=10, shots=64).optimize(objective, theta0[0], seed=int(seed))
        np.testing.assert_array_equal(alone.trace_params, expected.trace_params)


def test_no_module_reaches_into_the_optimisers_private_loop():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[1]
    private = re.compile(r"\b(_FirstOrder|_PerInstance|_Recorder|_run_one|_init_state)\b")
    offenders = [
        f"{path.relative_to(root)}:{number}"
        for folder in ("qaoa_meta", "scripts", "tests")
        for path in sorted((root / folder).rglob("*.py"))
        if path.name not in ("optimize.py", "test_optimize.py")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if private.search(line)
    ]
    assert not offenders, f"use Optimizer.optimize instead of private names: {offenders}"
