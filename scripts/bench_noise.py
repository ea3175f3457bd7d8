"""Noisy-evaluation throughput: one noise-study cell per size, old engine against new.

``symbolic`` is the engine the study used before (qsim on the symbolic compile, one qsim call
per trajectory, readout drawn per trajectory group); ``template`` is the route-once template
with numba trajectories. Both run the same cell: a 3-regular instance, weber noise at scale 1,
1024 shots and 16 trajectories per evaluation, SPSA for 20 iterations (40 evaluations) from a
random start, then the noisy AR at start and end, raw and readout-mitigated (64 trajectories
each; trees without ``NoisyQAOA.expectations`` run them as two seeded calls, as their
``noise_cell`` did, and ``trajectories`` still counts the 768 a cell needs). Setup (compile
and noise) is shared by the 27 cells of an instance and noise level (nine initialisers × three
shot budgets), so cells/min counts setup / 27 + the evaluation time. ``--label`` names the
tree in the record (before/after comparisons run the same script in two checkouts).

    python scripts/bench_noise.py --out docs/bench/noise.json            # all sizes
    python scripts/bench_noise.py --n 8 --p 1 --engines template          # one quick row
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

CELLS_PER_SETUP = 27  # nine initialisers x three shot budgets share one compiled noisy circuit


def run_cell(n: int, p: int, engine: str, iterations: int = 20, seed: int = 0) -> dict:
    from qaoa_meta.noisy import NoisyObjective, NoisyQAOA, NoisySetup, optimize_noisy
    from qaoa_meta.optimize import SPSA
    from qaoa_meta.problems import generate

    problem = generate("random_regular", n, seed, d=3)
    setup = NoisySetup(noise="weber", shots=1024, trajectories=16, engine=engine)
    t0 = time.perf_counter()
    circuit = NoisyQAOA(problem, p, setup, seed)
    setup_s = time.perf_counter() - t0
    objective = NoisyObjective(circuit, seed=seed + 1)
    theta0 = np.random.default_rng(seed).uniform(0, np.pi / 2, 2 * p)
    t1 = time.perf_counter()
    result = optimize_noisy(SPSA(max_iter=iterations, a=0.1, c=0.1), objective, theta0, seed)
    for theta in (theta0, result.params):  # raw and readout-mitigated, as noise_cell records
        if hasattr(circuit, "expectations"):
            circuit.expectations(theta, 64)
        else:  # trees before NoisyQAOA.expectations: the two seeded calls noise_cell made
            circuit.expectation(theta, 64, mitigate=False)
            circuit.expectation(theta, 64, mitigate=True)
    evaluate_s = time.perf_counter() - t1
    trajectories = objective.n_circuits * setup.trajectories + 2 * 64
    return {
        "n": n,
        "p": p,
        "engine": engine,
        "two_qubit_count": circuit.summary()["two_qubit_count"],
        "setup_s": setup_s,
        "evaluate_s": evaluate_s,
        "evaluations": objective.n_circuits,
        "trajectories": trajectories,
        "trajectories_per_s": trajectories / evaluate_s,
        "cell_s": setup_s / CELLS_PER_SETUP + evaluate_s,
        "cells_per_min": 60.0 / (setup_s / CELLS_PER_SETUP + evaluate_s),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="8,10,12")
    parser.add_argument("--p", default="1,2")
    parser.add_argument("--engines", default="symbolic,template")
    parser.add_argument(
        "--before-n",
        default="8",
        help="sizes at which the slow symbolic engine also runs (it takes minutes per cell)",
    )
    parser.add_argument("--out", default=None, help="JSON record (e.g. docs/bench/noise.json)")
    parser.add_argument("--label", default="", help="free text stored in the record (the tree)")
    args = parser.parse_args(argv)
    ns = [int(x) for x in args.n.split(",")]
    ps = [int(x) for x in args.p.split(",")]
    engines = args.engines.split(",")
    before = {int(x) for x in args.before_n.split(",") if x}
    # compile numba and import TF/cirq outside the timings
    run_cell(6, 1, "template", iterations=1)
    rows = []
    load_before = os.getloadavg()
    print(
        f"{'n':>3} {'p':>2} {'engine':>9} {'2q':>4} {'setup s':>8} {'eval s':>7} "
        f"{'traj/s':>8} {'cell s':>7} {'cells/min':>9}"
    )
    for n in ns:
        for p in ps:
            for engine in engines:
                if engine == "symbolic" and n not in before:
                    continue
                row = run_cell(n, p, engine)
                rows.append(row)
                print(
                    f"{n:>3} {p:>2} {engine:>9} {row['two_qubit_count']:>4} "
                    f"{row['setup_s']:>8.2f} {row['evaluate_s']:>7.2f} "
                    f"{row['trajectories_per_s']:>8.0f} {row['cell_s']:>7.2f} "
                    f"{row['cells_per_min']:>9.1f}",
                    flush=True,
                )
    record = {
        "benchmark": "noise-study cell: setup and evaluation time per engine",
        "command": "python scripts/bench_noise.py " + " ".join(argv or sys.argv[1:]),
        "cells_per_setup": CELLS_PER_SETUP,
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
        "cpu_count": os.cpu_count(),
        "label": args.label,
        "rows": rows,
    }
    if args.out:
        from qaoa_meta.fileio import write_atomic

        print(f"wrote {write_atomic(args.out, json.dumps(record, indent=1))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
