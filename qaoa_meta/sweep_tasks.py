"""Built-in sweep tasks: pure functions ``task(params, seed) -> JSON-serialisable dict``."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import scipy.optimize

from qaoa_meta.problems import generate, max_cut


def landscape_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """p=1 landscape of one generated problem: grid scan, then L-BFGS-B from the best point.

    Args:
        params: ``family``, ``n`` and the family's options (see :func:`problems.generate`),
            and ``points`` (grid points per axis, default 16).
        seed: seed of the generated problem.

    Returns:
        A JSON-ready record: ``problem`` (its dict), ``max_cut``, ``grid_best_ar`` (best
        grid AR), ``optimum_gamma``, ``optimum_beta`` and ``optimum_ar`` (the L-BFGS-B
        result), and ``evaluations`` (grid points plus L-BFGS-B function evaluations).

    Raises:
        KeyError: when ``family`` or ``n`` is missing.
        ValueError: for option values :func:`problems.generate` refuses.
        TypeError: for an option the family's generator does not take.
    """
    # Lazy: Cirq loads only for this task, so a Ray worker running smoke cells starts light.
    from qaoa_meta.energy import Energy
    from qaoa_meta.qaoa import parameter_grid

    options = dict(params)
    points = int(options.pop("points", 16))
    problem = generate(options.pop("family"), int(options.pop("n")), seed, **options)
    optimum = max_cut(problem).value
    energy = Energy([problem], p=1)
    grid = parameter_grid(points)
    values = energy(grid.astype(np.float32)).numpy()
    start = grid[int(np.argmax(values))]

    def negative(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = energy.value_and_gradient(theta[None, :].astype(np.float32))
        return -float(value[0]), -gradient[0].astype(np.float64)

    refined = scipy.optimize.minimize(negative, start, jac=True, method="L-BFGS-B")
    return {
        "problem": problem.to_dict(),
        "max_cut": optimum,
        "grid_best_ar": float(values.max() / optimum),
        "optimum_gamma": float(refined.x[0]),
        "optimum_beta": float(refined.x[1]),
        "optimum_ar": float(-refined.fun / optimum),
        "evaluations": int(points * points + refined.nfev),
    }


def smoke_cell(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """A cell that needs no TensorFlow: checks a cluster's set-up and the sweep machinery.

    Args:
        params: ``seconds`` to sleep (default 0), ``fail`` (raise when true) and anything
            else, which is echoed back.
        seed: the cell's seed.

    Returns:
        ``{"seed": seed, "params": the other params, "value": a uniform draw from seed}``.

    Raises:
        RuntimeError: when ``params["fail"]`` is true (after sleeping).
    """
    options = dict(params)
    time.sleep(float(options.pop("seconds", 0.0)))
    if options.pop("fail", False):
        raise RuntimeError(f"smoke cell failed on purpose (seed {seed})")
    return {"seed": seed, "params": options, "value": float(np.random.default_rng(seed).random())}
