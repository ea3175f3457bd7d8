"""Benchmark: QAOA energy (and energy + gradient) evaluations per second, exact TF vs TFQ.

Usage:
    python scripts/bench_energy.py [--n 8 10 12 14 16 20] [--p 1 4] [--batch 1 32]
                                   [--seconds 1.0] [--out docs/bench/energy.json]

Each cell times repeated calls (after a warm-up call that traces/compiles) for at least
``--seconds`` and reports circuits evaluated per second (batch size x calls / time).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import time

import numpy as np

from qaoa_meta._tf import tf, tfq
from qaoa_meta.energy import Energy
from qaoa_meta.problems import erdos_renyi


def _rate(function, batch: int, seconds: float) -> float:
    function()  # warm-up: tracing, TFQ circuit parsing
    calls, start = 0, time.perf_counter()
    while True:
        function()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 3:
            return batch * calls / elapsed


def bench_cell(n: int, p: int, batch: int, backend: str, seconds: float, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    problems = [erdos_renyi(n, 0.5, rng) for _ in range(batch)]
    energy = Energy(problems, p, backend=backend)
    params = tf.Variable(rng.uniform(0, np.pi / 2, size=(batch, 2 * p)).astype(np.float32))

    def value():
        return energy(params).numpy()

    def value_and_grad():
        with tf.GradientTape() as tape:
            values = energy(params)
        return tape.gradient(values, params).numpy()

    if backend == "exact":  # compile the whole value+gradient step, as the trainers do
        compiled = tf.function(lambda: _tape_grad(energy, params))

        def value_and_grad():  # noqa: F811
            return compiled().numpy()

    return {
        "n": n,
        "p": p,
        "batch": batch,
        "backend": backend,
        "energy_per_s": _rate(value, batch, seconds),
        "energy_grad_per_s": _rate(value_and_grad, batch, seconds),
    }


def _tape_grad(energy: Energy, params: tf.Variable) -> tf.Tensor:
    with tf.GradientTape() as tape:
        values = energy(params)
    return tape.gradient(values, params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[8, 10, 12, 14, 16, 20])
    parser.add_argument("--p", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="docs/bench/energy.json")
    args = parser.parse_args()

    rows = []
    header = (
        f"{'n':>3} {'p':>2} {'batch':>5} | {'exact E/s':>10} {'tfq E/s':>10} {'x':>6} | "
        f"{'exact E+g/s':>11} {'tfq E+g/s':>10} {'x':>6}"
    )
    print(header)
    print("-" * len(header))
    for n in args.n:
        for p in args.p:
            for batch in args.batch:
                exact = bench_cell(n, p, batch, "exact", args.seconds, args.seed)
                tfq_row = bench_cell(n, p, batch, "tfq", args.seconds, args.seed)
                rows += [exact, tfq_row]
                print(
                    f"{n:>3} {p:>2} {batch:>5} | {exact['energy_per_s']:>10.0f} "
                    f"{tfq_row['energy_per_s']:>10.0f} "
                    f"{exact['energy_per_s'] / tfq_row['energy_per_s']:>6.1f} | "
                    f"{exact['energy_grad_per_s']:>11.0f} {tfq_row['energy_grad_per_s']:>10.0f} "
                    f"{exact['energy_grad_per_s'] / tfq_row['energy_grad_per_s']:>6.1f}",
                    flush=True,
                )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "energy",
                "schema_version": 1,
                "units": "circuits per second",
                "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                "versions": {"tensorflow": tf.__version__, "tensorflow_quantum": tfq.__version__},
                "config": vars(args),
                "rows": rows,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
