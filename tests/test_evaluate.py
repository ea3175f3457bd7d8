"""Metrics on hand-made curves, run records, and the paper's deterministic numbers."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from qaoa_meta import initializers as inits
from qaoa_meta.evaluate import (
    InstanceRecord,
    RunRecord,
    convergence_iteration,
    evaluate,
    mean_ci,
    mean_curve,
    paper_curve,
    summarize,
)
from qaoa_meta.optimize import SGD, OptimizeResult
from qaoa_meta.problems import erdos_renyi, load_paper_dataset


def test_mean_curve_holds_finished_runs():
    curves = [np.array([3.0, 2.0, 1.0]), np.array([5.0, 4.0])]
    np.testing.assert_allclose(mean_curve(curves, 4), [4.0, 3.0, 2.5, 2.5])


def test_convergence_iteration_on_hand_made_curves():
    # Changes |m_t − m_{t−1}|: 0.1 until t = 20, then 5e-5 → first t >= 11 below 1e-4 is 21.
    curve = np.concatenate([1.0 - 0.1 * np.arange(21), 1.0 - 2.0 - 5e-5 * np.arange(1, 30)])
    assert convergence_iteration([curve]) == 21
    # A flat start is skipped: the rule only looks from t = 11 on.
    flat_start = np.concatenate([np.ones(11), 1 - 0.01 * np.arange(1, 6), np.full(3, 0.95)])
    assert convergence_iteration([flat_start]) == 16
    # Two runs: the short one is held at its final value.
    short = np.concatenate([np.linspace(1, 0.5, 15)])
    long = np.concatenate([np.linspace(1, 0.1, 40)])
    mean = mean_curve([short, long], 41)
    expected = next(t for t in range(11, 41) if abs(mean[t] - mean[t - 1]) < 1e-4)
    assert convergence_iteration([short, long]) == expected
    assert convergence_iteration([np.linspace(1, 0, 20)], tol=1e-9) == 20  # the held tail


def test_mean_ci_matches_scipy():
    values = [0.8, 0.82, 0.79, 0.85, 0.81]
    mean, half = mean_ci(values)
    low, high = scipy.stats.t.interval(0.95, 4, loc=np.mean(values), scale=scipy.stats.sem(values))
    assert mean == pytest.approx(np.mean(values)) and half == pytest.approx((high - low) / 2)
    assert mean_ci([1.0]) == (1.0, 0.0)


def _instance(values, phase1=None, cut=10.0, optimum=9.0):
    values = np.asarray(values, float)
    result = OptimizeResult(
        params=np.zeros(2),
        value=values[-1],
        trace_params=np.zeros((len(values), 2)),
        trace_values=values,
        iterations=len(values),
        n_evaluations=0,
        n_gradients=len(values),
        trace_evaluations=np.arange(1, len(values) + 1),
    )
    return InstanceRecord(
        problem=erdos_renyi(4, 1.0, seed=0),
        max_cut=cut,
        optimum=optimum,
        init_params=np.zeros(2),
        init_value=values[0],
        result=result,
        phase1_values=None if phase1 is None else np.asarray(phase1, float),
    )


def test_paper_curve_layout_and_targets():
    inst = _instance([6.0, 8.0, 8.995, 9.0])
    # The paper's Phase-II history lists the initial cost twice; error = 1 − AR.
    np.testing.assert_allclose(paper_curve(inst), [0.4, 0.4, 0.2, 0.1005, 0.1])
    with_phase1 = _instance([6.0, 8.0], phase1=[2.0, 4.0, 6.0])
    np.testing.assert_allclose(paper_curve(with_phase1), [0.8, 0.6, 0.4, 0.4, 0.2])
    assert inst.iterations_to_target(1e-3) == 2 and inst.evaluations_to_target(1e-3) == 3
    assert inst.iterations_to_target(1e-6) == 3
    assert _instance([6.0, 7.0]).iterations_to_target() is None
    summary = summarize([inst, with_phase1])
    assert summary["ar_final"]["mean"] == pytest.approx((0.9 + 0.8) / 2)
    assert summary["reached_target"] == 0.5


def test_evaluate_record_round_trip(tmp_path):
    problems = [erdos_renyi(6, 0.6, seed=s, name=f"g{s}") for s in range(2)]
    record = evaluate(
        problems, dict(inits.paper_fixed_points()), SGD(max_iter=25), 1, config={"tag": "t"}
    )
    assert [m.name for m in record.methods] == ["paper-fixed-1", "paper-fixed-2"]
    path = record.save(tmp_path / "run.json")
    again = RunRecord.load(path)
    assert again.config["tag"] == "t" and again.schema_version == 1
    assert "numpy" in again.versions
    for a, b in zip(record.methods, again.methods, strict=True):
        assert summarize(a.instances) == summarize(b.instances)
        np.testing.assert_array_equal(a.instances[0].init_params, b.instances[0].init_params)
    inst = record.methods[0].instances[0]
    assert inst.ar_init == pytest.approx(inst.result.trace_values[0] / inst.max_cut)
    assert inst.optimum >= inst.result.value - 1e-9
    # Compressed records (the committed reproduction record) read back the same.
    packed = record.save(tmp_path / "run.json.gz")
    assert packed.read_bytes()[:2] == b"\x1f\x8b"  # gzip magic
    assert RunRecord.load(packed).to_json() == again.to_json()
    packed.write_bytes(packed.read_bytes()[:40])  # truncated
    with pytest.raises(ValueError, match="run.json.gz"):
        RunRecord.load(packed)


@pytest.mark.slow
def test_paper_random_convergence_iterations(paper_dataset_path):
    """The paper's 'random' column (178 / 156 / 147 / 145): both fixed points pooled."""
    test = load_paper_dataset(paper_dataset_path).test
    expected = {10: 178, 11: 156, 12: 147, 13: 145}
    problems = [pr for pr in test if pr.n in expected]
    record = evaluate(problems, dict(inits.paper_fixed_points()), SGD(), 1, optima=False)
    for n, published in expected.items():
        curves = [paper_curve(i) for m in record.methods for i in m.instances if i.problem.n == n]
        assert convergence_iteration(curves) == published
    ratios = [i.ar_final for i in record.methods[1].instances if i.problem.n == 11]
    assert round(float(np.mean(ratios)), 4) == 0.8507
