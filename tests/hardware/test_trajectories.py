"""Noisy trajectories of templates against cirq's state-vector and density-matrix simulators."""

from __future__ import annotations

import cirq
import networkx as nx
import numpy as np
import pytest
from hw_helpers import cut_diagonal, qaoa_like, random_resolver

import hardware
from hardware import simulate
from hardware.template import compile_template
from hardware.trajectories import NoisyTemplate


@pytest.fixture(scope="module")
def template():
    graph = nx.random_regular_graph(3, 6, seed=2)
    return graph, compile_template(qaoa_like(graph, 1), "weber", "sqrt_iswap", seed=0)


def _read(template, graph):
    logical = sorted(qaoa_like(graph, 1).all_qubits())
    return [template.final_map[q] for q in logical]


def test_noiseless_trajectory_is_the_exact_distribution(template, rng):
    graph, tpl = template
    read = _read(tpl, graph)
    values = random_resolver(1, rng)
    probs = NoisyTemplate(tpl, None, read).probabilities(values, 3)
    state = cirq.Simulator(dtype=np.complex128).simulate(
        tpl.resolve(values), qubit_order=read + sorted(set(tpl.qubits) - set(read))
    )
    exact = np.abs(state.final_state_vector) ** 2
    exact = exact.reshape(2 ** len(read), -1).sum(axis=1)
    assert probs.shape == (3, 2 ** len(read))
    np.testing.assert_allclose(probs, np.broadcast_to(exact, probs.shape), atol=1e-10)


@pytest.mark.parametrize(
    "spec", ["weber", "depolarizing:0.01,0.03+readout:0.02,0.05", "thermal:5,4"]
)
def test_trajectory_mean_matches_density_matrix(template, spec):
    """Seeded, so deterministic; the bound is 4 standard errors of the trajectory mean."""
    graph, tpl = template
    read = _read(tpl, graph)
    values = {"gamma_1": 0.4, "beta_1": 0.35}
    model = hardware.noise_from_spec(spec)
    edges = [(u, v, 1.0) for u, v in graph.edges]
    diagonal = cut_diagonal(len(read), edges)
    probs = NoisyTemplate(tpl, model, read).probabilities(values, 3000, seed=11)
    energies = probs @ diagonal
    reference = simulate.density_matrix_probabilities(tpl.resolve(values), noise=model, qubits=read)
    error = energies.std(ddof=1) / np.sqrt(energies.size)
    assert abs(energies.mean() - reference @ diagonal) <= 4 * error + 1e-9
    np.testing.assert_allclose(probs.mean(axis=0), reference, atol=0.01)
    ideal = simulate.probabilities(tpl.resolve(values), qubits=read) @ diagonal
    assert abs(reference @ diagonal - ideal) > 4 * error  # the noise is visible at this precision


def test_trajectories_are_reproducible_per_seed(template):
    graph, tpl = template
    noisy = NoisyTemplate(tpl, hardware.noise_from_spec("weber"), _read(tpl, graph))
    values = {"gamma_1": 0.2, "beta_1": 0.9}
    a = noisy.probabilities(values, 5, seed=3)
    np.testing.assert_array_equal(a, noisy.probabilities(values, 5, seed=3))
    assert not np.array_equal(a, noisy.probabilities(values, 5, seed=4))
    with pytest.raises(ValueError, match="trajectories must be >= 1"):
        noisy.probabilities(values, 0)


def test_trajectories_run_together_equal_trajectories_run_alone(template):
    """The kernel advances all rows together (row-vectorised state passes from 16 rows on);
    every row must still be exactly the trajectory its own random numbers give alone."""
    graph, tpl = template
    noisy = NoisyTemplate(tpl, hardware.noise_from_spec("weber*3"), _read(tpl, graph))
    gates = noisy.gate_matrices({"gamma_1": 0.7, "beta_1": 0.3})
    uniforms = np.random.default_rng(5).random((20, 2 * noisy.n_channels + 2))
    together = noisy._kernel(gates, uniforms)
    alone = np.concatenate([noisy._kernel(gates, uniforms[r : r + 1]) for r in range(20)])
    np.testing.assert_allclose(together, alone, atol=1e-12)
    assert len({row.round(6).tobytes() for row in together}) > 10  # the rows jumped apart
