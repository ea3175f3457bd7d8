"""``qaoa-meta demo``: a small end-to-end tour on embedded default problems.

Three stages, each printing a short table and saving what it made under ``--out``:

1. energies: a few seeded problems, their QAOA circuits and p=1 energies on a parameter grid
   with both energy backends (exact TF and TFQ), with the largest disagreement between them;
2. meta-learning: a QK-LSTM meta-learner (the default, genuine-kernel variant) trained on
   small G(n, j/n) graphs, then Phase I + L-BFGS-B on unseen n = 10 graphs beside a random
   start and a fixed angle fitted on the same training graphs;
3. hardware: the learned angles on a 3-regular graph compiled for Google's ``weber``
   (√iSWAP gate set) and sampled with qsim under weber's calibrated noise, with and without
   readout-error mitigation.
"""

from __future__ import annotations

import dataclasses
import json
import pathlib

import numpy as np

import hardware
from qaoa_meta.fileio import write_atomic
from qaoa_meta.problems import (
    MaxCutProblem,
    erdos_renyi,
    max_cut,
    paper_family,
    random_regular,
    save_dataset,
    sherrington_kirkpatrick,
)

# Cirq and TensorFlow are imported in the stages that use them: the CLI imports this module for
# `qaoa-meta --help` (qaoa_meta.cli.demo reads STAGES), which must stay fast and TensorFlow-free.


def _print_header(header: str) -> None:
    """Prints a table's column header (formatted to the rows' widths) and a rule of dashes
    under it, indented like it."""
    indent = header[: len(header) - len(header.lstrip())]
    print(header)
    print(indent + "-" * (len(header) - len(indent)))


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
    """The demo's embedded problems: a mix of generator families, n = 6..10.

    Args:
        seed: seed of the generators.

    Returns:
        An Erdős–Rényi graph (n = 6), a 3-regular graph (n = 8), an SK instance with ±1
        weights (n = 7) and a G(10, j/10) graph of the paper's family.
    """
    rng = np.random.default_rng(seed)
    return [
        erdos_renyi(6, 0.5, rng, name="erdos_renyi_n6"),
        random_regular(8, 3, rng, name="3_regular_n8"),
        sherrington_kirkpatrick(7, "pm1", rng, name="sk_pm1_n7"),
        paper_family([10], 1, rng)[2],
    ]


def scan(
    problem: MaxCutProblem, grid: np.ndarray, backend: str, optimum: float
) -> tuple[GridResult, np.ndarray]:
    """Evaluates ⟨C⟩ on every grid point with one backend; returns the best and all values.

    Args:
        problem: the problem.
        grid: ``(points², 2)`` rows (γ, β), as :func:`qaoa_meta.qaoa.parameter_grid`.
        backend: an :class:`qaoa_meta.energy.Energy` backend (``"exact"``, ``"tfq"``, ...).
        optimum: the max-cut value, for the approximation ratio.

    Returns:
        ``(best, values)``: the :class:`GridResult` of the best point and the energies at
        every grid point.
    """
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


def run_energy_stage(points: int = 24, seed: int = 7, out: str | None = None) -> list[GridResult]:
    """Stage 1: grid scans with both backends; prints a table, optionally writes JSON.

    Args:
        points: grid points per axis.
        seed: seed of :func:`default_problems`.
        out: JSON file for the results, or None.

    Returns:
        Two :class:`GridResult` per problem (exact, then TFQ).
    """
    from qaoa_meta.qaoa import parameter_grid, qaoa_circuit  # Cirq loads only when a stage runs

    problems = default_problems(seed)

    grid = parameter_grid(points)
    print(f"[1/3] p=1 QAOA grid scan ({points}x{points} points) on {len(problems)} problems")
    header = (
        f"{'problem':<18} {'n':>3} {'edges':>5} {'max-cut':>8} {'depth':>5} "
        f"{'best AR exact':>13} {'best AR tfq':>11} {'grid |Δ|':>9} {'γ*':>6} {'β*':>6}"
    )
    _print_header(header)
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
        _write_json(out, [dataclasses.asdict(r) for r in results])
    return results


def _write_json(path: str | pathlib.Path, data) -> None:
    path = pathlib.Path(path)
    write_atomic(path, json.dumps(data, indent=1))
    print(f"  wrote {path}")


@dataclasses.dataclass(frozen=True)
class MethodSummary:
    """Mean approximation ratios of one initialiser on the demo's test graphs."""

    method: str
    ar_init: float
    ar_final: float
    evaluations: float  # optimiser calls: energy evaluations + gradient evaluations


def demo_graphs(seed: int = 7) -> tuple[list[MaxCutProblem], list[MaxCutProblem]]:
    """Training graphs (paper family, n = 6..8) and unseen test graphs (n = 10).

    Args:
        seed: seed of the graphs (offset by 1000 from the other demo graphs).

    Returns:
        ``(train, test)``; edgeless training graphs are dropped.
    """
    rng = np.random.default_rng(seed + 1000)
    train = [pr for pr in paper_family([6, 7, 8], 4, rng) if pr.num_edges > 0]
    test = paper_family([10], 1, rng)
    return train, test


def run_meta_stage(
    epochs: int = 8, seed: int = 7, out: str | pathlib.Path | None = None
) -> tuple[list[MethodSummary], np.ndarray]:
    """Stage 2: trains a QK-LSTM on small graphs and compares initialisers on unseen ones.

    Args:
        epochs: training epochs.
        seed: seed of the graphs, the model and the evaluation.
        out: directory for the graphs, the trained model and the evaluation record, or None.

    Returns:
        ``(summaries, theta)``: one :class:`MethodSummary` per initialiser and the learned
        ``(2,)`` θ for the demo's 3-regular graph.
    """
    from qaoa_meta import training
    from qaoa_meta.evaluate import evaluate
    from qaoa_meta.initializers import FittedFixedAngle, LearnedInitializer, RandomInitializer
    from qaoa_meta.meta import MetaConfig, MetaOptimizer, make_dataset
    from qaoa_meta.optimize import make_optimizer

    train, test = demo_graphs(seed)
    config = MetaConfig(model="qk-lstm", variant="fixed", seed=seed)
    model = MetaOptimizer(config)
    print(
        f"\n[2/3] meta-learning: QK-LSTM (fixed variant, {model.count_params()} parameters), "
        f"{epochs} epochs on {len(train)} G(n, j/n) graphs, n = 6..8, batch 8"
    )
    # Far above the published 6e-6: the demo has seconds, not 50 epochs of 1008 graphs.
    model.compile(lr_sequence=3e-3, lr_mapping=3e-3)
    result = training.train(
        model, make_dataset(train, config, batch_size=8, shuffle=True, seed=seed), epochs=epochs
    )
    losses = result.history["loss"]
    print(f"  meta-loss {losses[0]:.3f} (epoch 1) -> {losses[-1]:.3f} (epoch {len(losses)})")
    methods = {
        "random": RandomInitializer(seed),
        "fitted-fixed-angle": FittedFixedAngle.fit(train, 1),
        "qk-lstm (learned)": LearnedInitializer(model, name="qk-lstm"),
    }
    record = evaluate(test, methods, make_optimizer("l-bfgs-b"), p=1, seed=seed, optima=False)
    print(f"  Phase I + L-BFGS-B on {len(test)} unseen G(10, j/10) graphs (mean over graphs):")
    # The same meaning and header as the report tables (qaoa_meta.report.HEADERS).
    header = f"  {'method':<20} {'AR init':>8} {'AR final':>8}  evaluations (energy+gradient calls)"
    _print_header(header)
    summaries = []
    for method in record.methods:
        summary = MethodSummary(
            method=method.name,
            ar_init=float(np.mean([i.ar_init for i in method.instances])),
            ar_final=float(np.mean([i.ar_final for i in method.instances])),
            evaluations=float(
                np.mean([i.result.n_evaluations + i.result.n_gradients for i in method.instances])
            ),
        )
        summaries.append(summary)
        print(
            f"  {summary.method:<20} {summary.ar_init:>8.4f} {summary.ar_final:>8.4f} "
            f"{summary.evaluations:>11.1f}"
        )
    # Padded to the test graphs' register: the rollout traced for them is reused.
    hardware_graph = default_problems(seed)[1]
    theta = model.rollout([hardware_graph], n_qubits=max(pr.n for pr in test)).final_theta[0]
    if out:
        folder = pathlib.Path(out)
        graphs = folder / "graphs.json"
        save_dataset(graphs, train, test[:1], test, source=f"qaoa-meta demo graphs, seed {seed}")
        print(f"  wrote {graphs} (the demo's graphs: --dataset {graphs} for train/evaluate)")
        model.save_model(folder / "qk_lstm")
        print(f"  wrote {folder / 'qk_lstm'} (reload: MetaOptimizer.load_model)")
        path = record.save(folder / "evaluation.json")
        print(f"  wrote {path} (tables and plots: qaoa-meta report {path})")
    return summaries, theta


def run_hardware_stage(
    theta: np.ndarray, seed: int = 7, shots: int = 2000, out: str | pathlib.Path | None = None
) -> dict:
    """Stage 3: compiles the 3-regular demo graph for weber and samples it under noise.

    Args:
        theta: ``(2,)`` p = 1 textbook θ.
        seed: seed of the graphs, the compilation and the shots.
        shots: shots per estimate.
        out: directory for the compiled circuit and ``hardware.json``, or None.

    Returns:
        ``{"problem", "max_cut", "theta", "shots", "rows"}``; ``rows`` holds the noiseless,
        noisy and readout-mitigated energies and approximation ratios.
    """
    from qaoa_meta.noisy import NoisyQAOA, NoisySetup

    problem = default_problems(seed)[1]
    optimum = max_cut(problem).value
    print(
        f"\n[3/3] hardware: {problem.name} at the learned θ = ({theta[0]:.3f}, {theta[1]:.3f}) "
        f"on weber, √iSWAP gate set, {shots} shots"
    )
    settings = (
        ("noiseless", "none", False),
        ("weber calibration noise", "weber", False),
        ("  + readout mitigation", "weber", True),
    )
    ideal = NoisyQAOA(problem, 1, NoisySetup(noise="none", shots=shots), seed=seed)
    setup = NoisySetup(noise="weber", shots=shots, mitigate_readout=True, trajectories=32)
    circuit = NoisyQAOA(problem, 1, setup, seed=seed)
    # One compile and one set of noisy shots serve both the raw and the mitigated estimate.
    counts = circuit.sample_counts(theta, shots, seed)
    values = (
        ideal.estimate(theta, seed=seed),
        float(counts @ circuit.diagonal / shots),
        circuit.energy_from_counts(counts),
    )
    rows = [
        {
            "setting": label.strip(" +"),
            "noise": noise,
            "mitigated": mitigate,
            "energy": value,
            "approximation_ratio": value / optimum,
        }
        for (label, noise, mitigate), value in zip(settings, values, strict=True)
    ]
    compiled = circuit.compiled  # the saved, TFQ-readable form keeps the symbols
    ran = circuit.summary()
    print(
        f"  compiled: {ran['n_logical']} qubits, {ran['two_qubit_count']} two-qubit gates at "
        f"every θ (routing {ran['routing']}, routed once, resolved per θ); the saved form "
        f"keeps the symbols: depth {compiled.depth}, {compiled.two_qubit_count} two-qubit gates"
    )
    header = f"  {'setting':<26} {'<C> sampled':>11} {'AR':>7}"
    _print_header(header)
    for row, (label, _, _) in zip(rows, settings, strict=True):
        print(f"  {label:<26} {row['energy']:>11.3f} {row['approximation_ratio']:>7.4f}")
    result = {
        "problem": problem.name,
        "max_cut": optimum,
        "theta": [float(t) for t in theta],
        "shots": shots,
        "rows": rows,
    }
    if out:
        folder = pathlib.Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        hardware.save_compiled(compiled, folder / "compiled_weber.json")
        print(f"  wrote {folder / 'compiled_weber.json'} (reload: hardware.load_compiled)")
        _write_json(folder / "hardware.json", result)
    return result


STAGES = ("energies", "meta", "hardware")


def run_demo(
    points: int = 24,
    seed: int = 7,
    out: str | pathlib.Path | None = "runs/demo",
    stages: tuple[str, ...] = STAGES,
    epochs: int = 8,
    shots: int = 2000,
) -> dict:
    """Runs the chosen demo stages, printing a table for each and saving results in ``out``.

    Args:
        points: grid points per axis of stage 1.
        seed: seed of every stage.
        out: output directory, or None to write nothing.
        stages: any of :data:`STAGES`; without ``"meta"``, stage 3 uses θ = (0.6, 0.4).
        epochs: training epochs of stage 2.
        shots: shots per estimate of stage 3.

    Returns:
        ``{stage: result}`` for the stages run (``"meta"``: the method summaries).
    """
    results: dict = {}
    folder = pathlib.Path(out) if out else None
    if "energies" in stages:
        results["energies"] = run_energy_stage(
            points, seed, folder / "energies.json" if folder else None
        )
    theta = np.array([0.6, 0.4])  # a good generic p=1 point, used when stage 2 is skipped
    if "meta" in stages:
        results["meta"], theta = run_meta_stage(epochs, seed, folder)
    if "hardware" in stages:
        results["hardware"] = run_hardware_stage(theta, seed, shots, folder)
    return results
