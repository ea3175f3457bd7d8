"""Reference optima of QAOA: the best θ and ⟨C⟩ per instance, the yardstick of every study.

For p = 1 on unweighted graphs the global optimum comes from the closed form
(:func:`qaoa_meta.energy.analytic_p1_expectation`) on a grid over the fundamental domain,
refined by zoomed grids; otherwise the best L-BFGS-B optimum of the exact energy from the
INTERP chain and a linear ramp (a local optimum, the usual reference at p > 1).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import scipy.optimize

from qaoa_meta.energy import ExactEvaluator, analytic_p1_expectation, edge_statistics
from qaoa_meta.problems import MaxCutProblem, cost_diagonal
from qaoa_meta.qaoa import check_depth, interp_extend, linear_ramp


def canonical_p1(theta: Sequence[float] | np.ndarray) -> np.ndarray:
    """The p=1 point equivalent to ``theta`` with γ in [0, π) and β in (−π/4, π/4].

    Uses the symmetries of unweighted graphs: (γ, β) → (−γ, −β), β → β + π/2, γ → γ + 2π.

    Args:
        theta: ``(2,)`` (γ, β).

    Returns:
        ``(2,)`` canonical (γ, β).
    """
    gamma, beta = float(theta[0]), float(theta[1])
    gamma = (gamma + math.pi) % (2 * math.pi) - math.pi
    if gamma < 0:
        gamma, beta = -gamma, -beta
    beta = (beta + math.pi / 4) % (math.pi / 2) - math.pi / 4
    if beta <= -math.pi / 4 + 1e-12:
        beta += math.pi / 2
    return np.array([gamma, beta])


def p1_grid_argmax(
    function: Callable[[np.ndarray, np.ndarray], np.ndarray], grid: int
) -> np.ndarray:
    """argmax of a vectorised f(γ, β) over γ ∈ [0, π], β ∈ [−π/4, π/4].

    A coarse grid (``2 grid + 1`` × ``grid + 1`` points), then zoomed 21×21 grids around the
    best point (the step shrinks 10× per round, to ~1e-9 in the angles).

    Args:
        function: f(γ, β) broadcasting over a ``(G, 1)`` γ column and a ``(1, B)`` β row.
        grid: coarse resolution.

    Returns:
        ``(2,)`` the best (γ, β).
    """
    gammas = np.linspace(0, math.pi, 2 * grid + 1)
    betas = np.linspace(-math.pi / 4, math.pi / 4, grid + 1)
    values = function(gammas[:, None], betas[None, :])
    i, j = np.unravel_index(np.argmax(values), values.shape)
    center = np.array([gammas[i], betas[j]])
    step = np.array([gammas[1] - gammas[0], betas[1] - betas[0]])
    offsets = np.linspace(-1.0, 1.0, 21)
    for _ in range(8):
        local_g = center[0] + step[0] * offsets
        local_b = center[1] + step[1] * offsets
        local = function(local_g[:, None], local_b[None, :])
        i, j = np.unravel_index(np.argmax(local), local.shape)
        center = np.array([local_g[i], local_b[j]])
        step = step / 10
    return center


def p1_optimum(problem: MaxCutProblem, grid: int = 64) -> tuple[np.ndarray, float]:
    """Global p=1 optimum (θ*, ⟨C⟩*) of an unweighted graph.

    Args:
        problem: an unweighted problem.
        grid: coarse resolution of :func:`p1_grid_argmax`.

    Returns:
        θ* (canonical, :func:`canonical_p1`) and ⟨C⟩* from the closed form.

    Raises:
        ValueError: for a weighted problem.
    """
    stats = edge_statistics(problem)
    center = p1_grid_argmax(lambda g, b: analytic_p1_expectation(problem, g, b, stats), grid)
    theta = canonical_p1(center)
    return theta, analytic_p1_expectation(problem, theta[0], theta[1], stats)


def lbfgs_optimum(
    problem: MaxCutProblem,
    starts: Sequence[np.ndarray],
    evaluator: ExactEvaluator | None = None,
    transform: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Best L-BFGS-B local optimum of ⟨C⟩ (exact, float64) over several starting points.

    Args:
        problem: the problem.
        starts: starting points, in the optimisation variables x.
        evaluator: shared exact evaluator (default: a new one).
        transform: optional matrix M with θ = M x (e.g. the FOURIER basis).

    Returns:
        (x*, ⟨C⟩*) in the optimisation variables.
    """
    evaluator = evaluator or ExactEvaluator()
    diagonal = cost_diagonal(problem)[None, :]
    matrix = np.eye(len(starts[0])) if transform is None else np.asarray(transform)

    def fun(x):
        values, grads = evaluator.value_and_gradient(diagonal, (matrix @ x)[None, :])
        return -float(values[0]), -(matrix.T @ grads[0])

    best = (None, -np.inf)
    for start in starts:
        result = scipy.optimize.minimize(
            fun, np.asarray(start, float), jac=True, method="L-BFGS-B", options={"maxiter": 500}
        )
        if -result.fun > best[1]:
            best = (result.x, -float(result.fun))
    return best


def instance_optimum(
    problem: MaxCutProblem, p: int, evaluator: ExactEvaluator | None = None
) -> tuple[np.ndarray, float]:
    """The (best found) optimum θ*, ⟨C⟩* at depth p.

    p = 1 on unweighted graphs is the global optimum (:func:`p1_optimum`); otherwise the best
    of L-BFGS-B from the INTERP chain and a linear ramp (a local optimum).

    Args:
        problem: the problem.
        p: depth, at least 1.
        evaluator: shared exact evaluator (default: a new one).

    Returns:
        (θ*, ⟨C⟩*).
    """
    p = check_depth(p)
    if p == 1 and not problem.is_weighted:
        return p1_optimum(problem)
    evaluator = evaluator or ExactEvaluator()
    if p == 1:
        grid = [np.array([g, b]) for g in np.linspace(0.1, 3.0, 8) for b in (-0.5, -0.2, 0.2, 0.5)]
        return lbfgs_optimum(problem, grid, evaluator)
    previous, _ = instance_optimum(problem, p - 1, evaluator)
    starts = [interp_extend(previous), linear_ramp(p)]
    return lbfgs_optimum(problem, starts, evaluator)


__all__ = ["canonical_p1", "instance_optimum", "lbfgs_optimum", "p1_grid_argmax", "p1_optimum"]
