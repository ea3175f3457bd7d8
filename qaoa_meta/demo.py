"""``qaoa-meta demo``: a small end-to-end tour on embedded default problems.

Generates a few seeded problems, builds their QAOA circuits, evaluates p=1 energies on a
parameter grid with both energy backends (exact TF and TFQ), and prints a table of the best
approximation ratio found, with the largest disagreement between the backends.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import time

import numpy as np

from qaoa_meta.problems import (
    MaxCutProblem,
    erdos_renyi,
    max_cut,
    paper_family,
    random_regular,
    sherrington_kirkpatrick,
)


@dataclasses.dataclass(frozen=True)
class GridResult:
    """Best p=1 point of a grid scan of one problem with one backend."""

    problem: str
    n: int
    edges: int
    max_cut: float
    backend: str
    best_gamma: float
    best_beta: float
    best_energy: float
    approximation_ratio: float


def default_problems(seed: int = 7) -> list[MaxCutProblem]:
    """The demo's embedded problems: a mix of generator families, n = 6..10."""
    rng = np.random.default_rng(seed)
    return [
        erdos_renyi(6, 0.5, rng, name="erdos_renyi_n6"),
        random_regular(8, 3, rng, name="3_regular_n8"),
        sherrington_kirkpatrick(7, "pm1", rng, name="sk_pm1_n7"),
        paper_family([10], 1, rng)[2],
    ]


def parameter_grid(points: int) -> np.ndarray:
    """A ``points x points`` grid over γ ∈ [0, π], β ∈ [0, π/2) as ``(points², 2)``.

    For integer edge weights this covers the whole p=1 landscape: β has period π/2 and
    (γ, β) → (−γ, −β) leaves ⟨C⟩ unchanged.
    """
    gammas = np.linspace(0.0, np.pi, points)
    betas = np.linspace(0.0, np.pi / 2, points, endpoint=False)
    gamma_grid, beta_grid = np.meshgrid(gammas, betas, indexing="ij")
    return np.stack([gamma_grid.ravel(), beta_grid.ravel()], axis=1)


def scan(
    problem: MaxCutProblem, grid: np.ndarray, backend: str, optimum: float
) -> tuple[GridResult, np.ndarray]:
    """Evaluates ⟨C⟩ on every grid point with one backend; returns the best and all values."""
    from qaoa_meta.energy import Energy  # TensorFlow loads only when energies are needed

    values = Energy([problem], p=1, backend=backend)(grid.astype(np.float32)).numpy()
    best = int(np.argmax(values))
    result = GridResult(
        problem=problem.name,
        n=problem.n,
        edges=problem.num_edges,
        max_cut=optimum,
        backend=backend,
        best_gamma=float(grid[best, 0]),
        best_beta=float(grid[best, 1]),
        best_energy=float(values[best]),
        approximation_ratio=float(values[best] / optimum),
    )
    return result, values


def run_demo(points: int = 24, seed: int = 7, out: str | None = None) -> list[GridResult]:
    """Runs the demo and prints its table; optionally writes the results as JSON."""
    from qaoa_meta.qaoa import qaoa_circuit

    problems = default_problems(seed)
    grid = parameter_grid(points)
    print(f"p=1 QAOA grid scan ({points}x{points} points) on {len(problems)} embedded problems")
    header = (
        f"{'problem':<18} {'n':>3} {'edges':>5} {'max-cut':>8} {'depth':>5} "
        f"{'best AR exact':>13} {'best AR tfq':>11} {'grid |Δ|':>9} {'γ*':>6} {'β*':>6}"
    )
    print(header)
    print("-" * len(header))
    results = []
    for problem in problems:
        circuit = qaoa_circuit(problem, p=1)
        optimum = max_cut(problem).value
        exact, exact_values = scan(problem, grid, "exact", optimum)
        tfq, tfq_values = scan(problem, grid, "tfq", optimum)
        disagreement = float(np.max(np.abs(exact_values - tfq_values)))
        results += [exact, tfq]
        print(
            f"{problem.name:<18} {problem.n:>3} {problem.num_edges:>5} {optimum:>8.1f} "
            f"{len(circuit):>5} {exact.approximation_ratio:>13.4f} "
            f"{tfq.approximation_ratio:>11.4f} {disagreement:>9.1e} "
            f"{exact.best_gamma:>6.3f} {exact.best_beta:>6.3f}"
        )
    if out:
        path = pathlib.Path(out)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps([dataclasses.asdict(r) for r in results], indent=1))
        print(f"results written to {path}")
    return results


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the ``demo`` sub-command."""
    parser = subparsers.add_parser("demo", help="run the small end-to-end demo")
    parser.add_argument("--points", type=int, default=24, help="grid points per axis (24)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the embedded problems")
    parser.add_argument("--out", default=None, help="optional JSON file for the results")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    if args.points < 2:
        raise ValueError(f"--points must be at least 2, got {args.points}.")
    start = time.perf_counter()
    run_demo(points=args.points, seed=args.seed, out=args.out)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0
