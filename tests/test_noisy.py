"""Noisy, shot-based energies: limits, mitigation, parameter shift, exact shot counting."""

from __future__ import annotations

import numpy as np
import pytest

from qaoa_meta.energy import Energy
from qaoa_meta.noisy import NoisyObjective, NoisyQAOA, NoisySetup, optimize_noisy
from qaoa_meta.optimize import ExactEvaluator, make_optimizer
from qaoa_meta.problems import cost_diagonal, generate

THETA = np.array([0.55, 0.35])


@pytest.fixture(scope="module")
def problem():
    return generate("random_regular", 6, 3, d=3)


def exact_energy(problem, theta):
    """Independent reference: the TF state-vector Energy on the logical problem."""
    return float(Energy([problem], p=len(theta) // 2)(np.array([theta], np.float32)).numpy()[0])


def test_setup_json_round_trip_and_validation():
    setup = NoisySetup(device="grid:2x3", gateset="cz", noise="weber*0.5", shots=256)
    assert NoisySetup.from_json(setup.to_json()) == setup
    with pytest.raises(ValueError, match="shots"):
        NoisySetup(shots=0)
    with pytest.raises(ValueError, match="Unknown NoisySetup keys"):
        NoisySetup.from_dict({"shotz": 3})


def test_noiseless_shots_converge_to_exact(problem):
    reference = exact_energy(problem, THETA)
    circuit = NoisyQAOA(problem, 1, NoisySetup(device="grid:3x3", gateset="cz", noise="none"))
    diagonal = cost_diagonal(problem)
    sigma = np.sqrt(np.max(diagonal**2)) / np.sqrt(20000)
    estimate = circuit.estimate(THETA, 20000, seed=1)
    assert abs(estimate - reference) < 5 * sigma
    # Shot noise shrinks like 1/sqrt(shots).
    spread = {
        s: np.std([circuit.estimate(THETA, s, seed=k) for k in range(30)]) for s in (50, 5000)
    }
    assert spread[5000] < spread[50] / 4


def test_noisy_energy_approaches_exact_as_noise_vanishes(problem):
    reference = exact_energy(problem, THETA)
    gaps = {}
    for spec in ("weber", "weber*0.1", "weber*0.01"):
        circuit = NoisyQAOA(problem, 1, NoisySetup(device="weber", noise=spec, trajectories=64))
        gaps[spec] = abs(circuit.expectation(THETA, trajectories=200, seed=0) - reference)
    assert gaps["weber"] > 0.05 * reference  # the calibration noise is visible
    assert gaps["weber*0.1"] < gaps["weber"] / 3
    assert gaps["weber*0.01"] < 0.02 * reference
    # Sampled estimates at weak noise and many shots also approach the exact value.
    circuit = NoisyQAOA(problem, 1, NoisySetup(device="weber", noise="weber*0.01"))
    assert abs(circuit.estimate(THETA, 20000, seed=2) - reference) < 0.03 * reference


def test_readout_mitigation_removes_readout_bias(problem):
    reference = exact_energy(problem, THETA)
    kwargs = dict(device="grid:3x3", gateset="cz", noise="readout:0.05,0.15", shots=40000)
    raw = NoisyQAOA(problem, 1, NoisySetup(**kwargs))
    mitigated = NoisyQAOA(problem, 1, NoisySetup(mitigate_readout=True, **kwargs))
    bias_raw = raw.estimate(THETA, seed=3) - reference
    bias_mitigated = mitigated.estimate(THETA, seed=3) - reference
    assert abs(bias_raw) > 0.1  # readout errors pull the cut towards random
    assert abs(bias_mitigated) < abs(bias_raw) / 4
    limit = mitigated.expectation(THETA, trajectories=1000) - reference  # infinite-shot limit
    assert abs(limit) < abs(bias_raw) / 4
    # raw and mitigated limits from one set of trajectories equal the two separate calls
    pair = mitigated.expectations(THETA, trajectories=1000)
    assert pair == (
        mitigated.expectation(THETA, trajectories=1000, mitigate=False),
        mitigated.expectation(THETA, trajectories=1000),
    )
    assert pair[0] == pytest.approx(raw.expectation(THETA, trajectories=1000))


def test_parameter_shift_gradient_matches_exact(problem):
    circuit = NoisyQAOA(problem, 2, NoisySetup(device="grid:3x3", gateset="cz", noise="none"))
    # One parameter-dependent gate per edge and per mixer qubit, per layer.
    assert len(circuit.shift_terms) == 2 * (problem.num_edges + problem.n)
    objective = NoisyObjective(circuit, shots=200000, seed=0)
    theta = np.array([0.4, 0.7, 0.5, 0.3])
    value, gradient = objective.value_and_gradient(theta)
    _, exact = ExactEvaluator().value_and_gradient(cost_diagonal(problem)[None], theta[None])
    np.testing.assert_allclose(gradient, exact[0], atol=0.08)
    assert abs(value - objective.exact(theta)) < 0.05


def test_shot_counting_is_exact(problem):
    circuit = NoisyQAOA(
        problem, 1, NoisySetup(device="weber", noise="weber", shots=100, trajectories=4)
    )
    objective = NoisyObjective(circuit, seed=0)
    objective.value(THETA)
    objective.value(THETA)
    objective.value_and_gradient(THETA)
    circuits = 2 + 1 + circuit.circuits_per_gradient()
    assert objective.counters() == {
        "evaluations": 2,
        "gradients": 1,
        "circuits": circuits,
        "shots": 100 * circuits,
    }
    assert circuit.sample_counts(THETA, 777, seed=0).sum() == 777
    # SPSA: two estimates per iteration, nothing else.
    spsa = NoisyObjective(circuit, shots=64, seed=1)
    result = optimize_noisy(make_optimizer("spsa", max_iter=3), spsa, THETA, seed=0)
    assert result.shots == spsa.shots_used == 3 * 2 * 64
    assert result.n_evaluations == 6


def test_first_order_optimiser_on_noisy_gradients(problem):
    circuit = NoisyQAOA(problem, 1, NoisySetup(device="grid:3x3", gateset="cz", noise="none"))
    objective = NoisyObjective(circuit, shots=4000, seed=0)
    start = np.array([0.1, 0.1])
    result = optimize_noisy(make_optimizer("adam", lr=0.05, max_iter=15, tol=0.0), objective, start)
    assert result.n_gradients == 15
    assert objective.n_circuits == 15 * (1 + circuit.circuits_per_gradient())
    assert result.value > objective.exact(start) + 0.5


def test_qvm_example_reduced():
    import importlib.util
    import json
    import pathlib

    path = pathlib.Path(__file__).parents[1] / "examples" / "qvm_job.py"
    spec = importlib.util.spec_from_file_location("qvm_job", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    problem = generate("random_regular", 4, 0, d=3)
    model = example.quick_model(epochs=2)
    theta = example.learned_theta(problem, model)
    assert theta.shape == (2,)
    record = example.run_job(problem, theta, shots=1000, calibration_shots=500, seed=0)
    json.dumps(record)
    assert record["compiled"]["device"] == "weber"
    assert record["max_cut"] >= record["best_sampled_cut"] > 0
    # Weber's noise lowers <C> a little but the job is far from random output.
    assert abs(record["qvm_energy"] - record["exact_energy"]) < 0.25 * record["exact_energy"]
    assert record["qvm_energy_stderr"] > 0


@pytest.mark.parametrize("p", [1, 2])
def test_statevector_energy_matches_tensorflow_energy(problem, p):
    """The NumPy trace energy of NoisyObjective.exact against the TF state-vector Energy."""
    from qaoa_meta.noisy import statevector_energy

    theta = np.random.default_rng(p).uniform(-1.5, 1.5, 2 * p)
    got = statevector_energy(cost_diagonal(problem), theta)
    assert got == pytest.approx(exact_energy(problem, theta), abs=1e-5)
    circuit = NoisyQAOA(problem, p, NoisySetup(device="grid:3x3", gateset="cz", noise="none"))
    assert NoisyObjective(circuit).exact(theta) == got
