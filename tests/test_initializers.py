"""Initialisers against closed forms, brute force and the published tables."""

from __future__ import annotations

import math

import numpy as np
import pytest

from qaoa_meta import initializers as inits
from qaoa_meta import optima, qaoa
from qaoa_meta.optimize import ExactEvaluator, qaoa_probabilities
from qaoa_meta.problems import (
    MaxCutProblem,
    cost_diagonal,
    erdos_renyi,
    load_paper_dataset,
    max_cut,
    random_regular,
)


def _tree(d: int, p: int) -> MaxCutProblem:
    """The radius-p light cone of an edge in a large-girth d-regular graph (a tree)."""
    edges, frontier, nxt = [(0, 1)], [0, 1], 2
    for _ in range(p):
        new = []
        for node in frontier:
            for _ in range(d - 1):
                edges.append((node, nxt))
                new.append(nxt)
                nxt += 1
        frontier = new
    return MaxCutProblem.from_edge_list(edges, n=nxt)


def _central_edge_cut(d: int, theta: np.ndarray) -> float:
    tree = _tree(d, len(theta) // 2)
    probabilities = qaoa_probabilities(cost_diagonal(tree), theta)
    index = np.arange(1 << tree.n)
    b0, b1 = (index >> (tree.n - 1)) & 1, (index >> (tree.n - 2)) & 1
    return float(probabilities[b0 != b1].sum())


def test_three_regular_p1_table_is_the_analytic_optimum():
    theta, guarantee = inits.fixed_angles(3, 1)
    # Brute force over the closed-form tree expression 1/2 + 1/2 sin4β sinγ cos²γ.
    g, b = np.meshgrid(np.linspace(0, np.pi, 2001), np.linspace(-np.pi / 4, np.pi / 4, 1001))
    values = 0.5 + 0.5 * np.sin(4 * b) * np.sin(g) * np.cos(g) ** 2
    k = np.argmax(values)
    np.testing.assert_allclose(theta, [g.flat[k], b.flat[k]], atol=2e-3)
    assert guarantee == pytest.approx(values.max(), abs=1e-4)
    assert guarantee == pytest.approx(0.6925, abs=1e-4)
    # On a triangle-free 3-regular graph (the cube) every edge achieves it exactly.
    cube = MaxCutProblem.from_edge_list(
        [(u, u ^ (1 << k)) for u in range(8) for k in range(3) if u < u ^ (1 << k)]
    )
    value = ExactEvaluator().value(cost_diagonal(cube)[None], theta[None])[0]
    assert value / cube.num_edges == pytest.approx(guarantee, abs=1e-4)


@pytest.mark.parametrize("p", [1, 2])
def test_three_regular_table_by_light_cone_simulation(p):
    theta, guarantee = inits.fixed_angles(3, p)
    assert _central_edge_cut(3, theta) == pytest.approx(guarantee, abs=2e-4)


def test_p1_fixed_angles_for_other_degrees_match_tree_simulation():
    for d in (2, 4):
        theta, guarantee = inits.fixed_angles(d, 1)
        assert _central_edge_cut(d, theta) == pytest.approx(guarantee, abs=1e-9)
    with pytest.raises(ValueError, match="No fixed angles"):
        inits.fixed_angles(4, 3)


def test_fixed_angle_table_rejects_irregular_graphs():
    table = inits.FixedAngleTable()
    np.testing.assert_allclose(table(random_regular(8, 3, seed=0), 1), inits.fixed_angles(3, 1)[0])
    with pytest.raises(ValueError, match="not regular"):
        table(erdos_renyi(8, 0.5, seed=1), 1)
    assert inits.FixedAngleTable(allow_irregular=True)(erdos_renyi(8, 0.5, seed=1), 1).shape == (2,)


def test_paper_fixed_points_and_random_initialiser():
    points = inits.paper_fixed_points()
    np.testing.assert_allclose(
        points["paper-fixed-1"](erdos_renyi(5, 0.5, seed=0), 1), [-0.9969, 0.8899]
    )
    np.testing.assert_allclose(
        points["paper-fixed-2"](erdos_renyi(5, 0.5, seed=0), 2), [-0.0408, -0.0408, 0.3181, 0.3181]
    )
    problems = [erdos_renyi(6, 0.5, seed=s) for s in range(3)]
    random = inits.RandomInitializer(seed=5)
    batch = random.batch(problems, 1)
    np.testing.assert_array_equal(batch[::-1], random.batch(problems[::-1], 1))  # order-free
    assert len({tuple(row) for row in batch}) == 3
    assert np.all((batch[:, 0] <= 0) & (batch[:, 0] > -1) & (batch[:, 1] >= 0) & (batch[:, 1] < 1))


def test_p1_optimum_matches_exact_bruteforce_grid():
    problem = erdos_renyi(7, 0.5, seed=3)
    theta, value = optima.p1_optimum(problem)
    g, b = np.meshgrid(np.linspace(0, np.pi, 121), np.linspace(-np.pi / 4, np.pi / 4, 61))
    grid = np.stack([g.ravel(), b.ravel()], axis=1)
    values = ExactEvaluator().value(np.repeat(cost_diagonal(problem)[None], len(grid), 0), grid)
    assert value >= values.max() - 1e-6 and value - values.max() < 1e-2
    exact = ExactEvaluator().value(cost_diagonal(problem)[None], theta[None])[0]
    assert exact == pytest.approx(value, rel=1e-6)


def test_paper_final_ar_is_the_per_instance_p1_optimum(paper_dataset_path):
    # The paper's "final AR (all converging methods)": 0.8370 / 0.8507 / 0.8260 / 0.8360.
    test = load_paper_dataset(paper_dataset_path).test
    expected = {10: 0.8370, 11: 0.8507, 12: 0.8260, 13: 0.8360}
    for n, published in expected.items():
        ratios = [optima.p1_optimum(pr)[1] / max_cut(pr).value for pr in test if pr.n == n]
        assert round(float(np.mean(ratios)), 4) == published


def test_interp_and_fourier_formulas():
    np.testing.assert_allclose(qaoa.interp_extend(np.array([0.4, 0.3])), [0.4, 0.4, 0.3, 0.3])
    np.testing.assert_allclose(
        qaoa.interp_extend(np.array([0.2, 0.6, 0.5, 0.1])), [0.2, 0.4, 0.6, 0.5, 0.3, 0.1]
    )
    m = qaoa.fourier_matrix(1, 1)
    np.testing.assert_allclose(m, np.diag([math.sin(math.pi / 4), math.cos(math.pi / 4)]))
    problem = erdos_renyi(6, 0.5, seed=2)
    for heuristic in (inits.Interp(), inits.Fourier()):
        np.testing.assert_allclose(heuristic(problem, 1), inits.LinearRamp()(problem, 1))
        assert heuristic(problem, 2).shape == (4,)
    np.testing.assert_allclose(inits.LinearRamp(1.0)(problem, 2), [0.25, 0.75, 0.75, 0.25])


def test_fitted_fixed_angle_is_the_grid_optimum_of_the_mean_ratio():
    problems = [erdos_renyi(6, 0.6, seed=s) for s in range(4)]
    fitted = inits.FittedFixedAngle.fit(problems, 1)
    cuts = np.array([max_cut(pr).value for pr in problems])
    g, b = np.meshgrid(np.linspace(0, np.pi, 91), np.linspace(-np.pi / 4, np.pi / 4, 46))
    grid = np.stack([g.ravel(), b.ravel()], axis=1)
    evaluator = ExactEvaluator()
    mean = sum(
        evaluator.value(np.repeat(cost_diagonal(pr)[None], len(grid), 0), grid) / cut
        for pr, cut in zip(problems, cuts, strict=True)
    ) / len(problems)
    assert fitted.train_score >= mean.max() - 1e-9
    assert fitted.train_score - mean.max() < 5e-3
    again = inits.initializer_from_config(fitted.config())
    np.testing.assert_allclose(again(problems[0], 1), fitted(problems[0], 1))


def test_feature_regression_recovers_a_linear_law():
    problems = [erdos_renyi(n, q, seed=n) for n in (6, 7, 8) for q in (0.4, 0.6, 0.8)]
    weights = np.array([[0.9, 0.4], [-0.05, 0.01], [-0.2, -0.1]])
    optima = [inits.graph_features(pr) @ weights for pr in problems]
    regression = inits.FeatureRegression.fit(problems, optima)
    np.testing.assert_allclose(regression.coefficients, weights, atol=1e-10)
    assert min(regression.r2) > 0.999
    with pytest.raises(ValueError, match="not fitted"):
        inits.FeatureRegression()(problems[0], 1)


def test_learned_initializer_uses_the_rollout():
    from qaoa_meta.meta import MetaConfig, MetaOptimizer

    model = MetaOptimizer(MetaConfig(model="lstm", variant="paper", steps=3, seed=1))
    learned = inits.LearnedInitializer(model)
    problems = [erdos_renyi(5, 0.6, seed=s) for s in range(2)]
    rollout = model.rollout(problems)
    np.testing.assert_allclose(learned.batch(problems, 1), rollout.final_theta)
    phase1 = learned.phase1(problems, 1)
    assert phase1.theta.shape == (2, 3, 2) and phase1.values.shape == (2, 3)
    with pytest.raises(ValueError, match="trained for p = 1"):
        learned.batch(problems, 2)


def test_learned_initializer_rolls_out_on_a_given_energy_and_restores_the_models_own():
    from qaoa_meta._tf import tf
    from qaoa_meta.meta import MetaConfig, MetaOptimizer

    model = MetaOptimizer(MetaConfig(model="lstm", variant="paper", steps=3, seed=1))
    problems = [erdos_renyi(5, 0.6, seed=s) for s in range(2)]
    exact = model.rollout(problems)

    def made_up(batch, theta):  # any energy the rollout can query, here not ⟨C⟩ at all
        return tf.reduce_sum(tf.sin(tf.cast(theta, tf.float32)), axis=1) + 1.0

    learned = inits.LearnedInitializer(model, energy=made_up)
    phase1 = learned.phase1(problems, 1)
    expected = np.sin(phase1.theta.astype(np.float32)).sum(axis=-1) + 1.0
    np.testing.assert_allclose(phase1.values, expected, rtol=1e-5)
    assert not np.allclose(phase1.values, exact.expectation)
    np.testing.assert_array_equal(learned.batch(problems, 1), phase1.theta[:, -1])
    assert model.energy_fn is None  # the model's own energy is back
    np.testing.assert_allclose(model.rollout(problems).theta, exact.theta, rtol=1e-6)
    kept = inits.LearnedInitializer(model, energy=made_up, keep_energy=True)
    np.testing.assert_allclose(kept.phase1(problems, 1).values, phase1.values, rtol=1e-6)
    assert model.energy_fn is made_up


def test_moved_names_still_answer_with_a_deprecation_warning():
    problem = erdos_renyi(6, 0.5, seed=1)
    with pytest.warns(DeprecationWarning, match="qaoa_meta.optima.instance_optimum"):
        moved = inits.instance_optimum
    assert moved is optima.instance_optimum
    with pytest.warns(DeprecationWarning, match="qaoa_meta.energy.analytic_p1_expectation"):
        grid = inits.analytic_p1_grid(problem, np.array([[0.3], [0.5]]), np.array([[0.2, 0.4]]))
    assert grid.shape == (2, 2)
    assert grid[1, 0] == pytest.approx(optima.analytic_p1_expectation(problem, 0.5, 0.2))
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        inits.nothing  # noqa: B018


# --- the one registry (qaoa_meta.initializer_names) ---------------------------------------------
def test_registry_declares_each_name_once_with_kind_and_description():
    from qaoa_meta import initializer_names as reg

    spellings = [n for entry in reg.REGISTRY for n in (entry.name, *entry.aliases)]
    assert len(spellings) == len(set(spellings))  # no name or alias twice
    assert all(entry.kind in reg.KINDS and entry.description for entry in reg.REGISTRY)
    assert all("\n" not in entry.description for entry in reg.REGISTRY)
    assert reg.ALIASES == {"fixed-angle-table": "fixed-angle", "feature-regression": "regression"}
    assert tuple(inits.INITIALIZERS) == reg.DATA_FREE  # factories for exactly the data-free ones
    assert tuple(inits.FITTED_INITIALIZERS) == reg.FITTED
    assert reg.EVALUATE_METHODS == reg.DATA_FREE + reg.FITTED


@pytest.mark.parametrize("name", list(inits.INITIALIZERS))
def test_every_data_free_name_builds(name):
    from qaoa_meta import initializer_names as reg

    problem = random_regular(6, 3, seed=2)
    built = inits.make_initializer(name)
    assert built.name == name or name.startswith("paper-fixed")
    assert np.asarray(built(problem, 2)).shape == (4,)
    for alias in reg.BY_NAME[name].aliases:  # the alias is the same initialiser
        again = inits.make_initializer(alias)
        assert type(again) is type(built) and again.name == name
        np.testing.assert_array_equal(again(problem, 2), built(problem, 2))


def test_every_fitted_name_fits_and_aliases_fit_the_same():
    from qaoa_meta import initializer_names as reg

    train = [erdos_renyi(6, q, seed=s) for s in range(2) for q in (0.5, 0.7)]
    problem = random_regular(6, 3, seed=2)
    for name in reg.FITTED:
        fitted = inits.fit_initializer(name, train, 1)
        assert fitted.name == name and fitted.config()["kind"] == name
        again = inits.initializer_from_config(fitted.config())
        np.testing.assert_allclose(again(problem, 1), fitted(problem, 1))
        for alias in reg.BY_NAME[name].aliases:
            np.testing.assert_allclose(
                inits.fit_initializer(alias, train, 1)(problem, 1), fitted(problem, 1)
            )


def test_configs_under_the_old_names_still_load():
    problem = random_regular(8, 3, seed=0)
    table = inits.initializer_from_config({"kind": "fixed-angle-table", "allow_irregular": True})
    assert isinstance(table, inits.FixedAngleTable) and table.allow_irregular
    assert table.name == "fixed-angle" and table.config()["kind"] == "fixed-angle"
    weights = [[0.9, 0.4], [-0.05, 0.01], [-0.2, -0.1]]
    old = {"kind": "feature-regression", "coefficients": weights, "r2": [1.0, 1.0]}
    regression = inits.initializer_from_config(old)
    assert isinstance(regression, inits.FeatureRegression) and regression.name == "regression"
    np.testing.assert_allclose(regression.coefficients, weights)
    assert regression(problem, 1).shape == (2,)


def test_unknown_or_wrong_kind_names_are_one_line_errors_listing_the_valid_ones():
    with pytest.raises(ValueError) as info:
        inits.make_initializer("bogus")
    message = str(info.value)
    assert "\n" not in message and "'bogus'" in message
    assert "linear-ramp" in message and "fixed-angle (or fixed-angle-table)" in message
    for fitted in ("regression", "feature-regression", "fitted-fixed-angle"):
        with pytest.raises(ValueError, match="fit_initializer"):
            inits.make_initializer(fitted)
    with pytest.raises(ValueError, match="LearnedInitializer"):
        inits.make_initializer("qk-lstm")
    with pytest.raises(ValueError, match=r"expected one of fitted-fixed-angle, regression"):
        inits.fit_initializer("linear-ramp", [], 1)


def test_initializer_names_imports_without_tensorflow_or_cirq():
    import os
    import pathlib
    import subprocess
    import sys

    code = (
        "import sys; import qaoa_meta.initializer_names, qaoa_meta.cli.names; "
        "print(qaoa_meta.initializer_names.__file__); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('tensorflow', 'cirq', 'tensorflow_quantum', 'numpy', 'scipy')))"
    )
    root = pathlib.Path(__file__).resolve().parents[1]
    path = os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root.parent,
        env={**os.environ, "PYTHONPATH": path},
    )
    where, heavy = out.stdout.strip().splitlines()
    assert pathlib.Path(where).is_relative_to(root)  # this checkout's registry, standing alone
    assert heavy == "[]"


def test_depth_heuristics_record_their_base():
    base = inits.LinearRamp(dt=0.5)
    for heuristic, kind in ((inits.Interp(base), "interp"), (inits.Fourier(base), "fourier")):
        config = heuristic.config()
        assert config == {"kind": kind, "base": base.config()}
        assert type(inits.initializer_from_config(config)) is type(heuristic)
