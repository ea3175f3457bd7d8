"""Benchmark: sweep throughput (cells/min) on the local backend and on Ray with 1 and 2 workers.

Usage:
    python scripts/bench_sweep.py [--cells 16] [--n 10] [--points 16] [--out docs/bench/sweep.json]

Runs the same landscape sweep (p=1 grid scan + L-BFGS-B per generated G(n, 0.5) graph) three
times into fresh folders and reports wall time, cells/min and the mean time per cell measured
inside the workers; then projects the throughput of N nodes with C cores each from the
per-cell cost and the measured parallel efficiency.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import statistics
import tempfile

from qaoa_meta.sweep import SweepConfig, load_records, run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=16, help="number of cells (seeds)")
    parser.add_argument("--n", type=int, default=10, help="graph size of every cell")
    parser.add_argument("--points", type=int, default=16, help="grid points per axis")
    parser.add_argument("--out", default="docs/bench/sweep.json")
    args = parser.parse_args()

    rows = []
    print(
        f"{'backend':<8} {'workers':>7} | {'wall s':>7} {'cells/min':>9} {'s/cell (in worker)':>18}"
    )
    print("-" * 58)
    for backend, workers in (("local", 1), ("ray", 1), ("ray", 2)):
        with tempfile.TemporaryDirectory() as folder:
            config = SweepConfig.from_dict(
                {
                    "name": "bench",
                    "task": "landscape",
                    "output": folder,
                    "seeds": list(range(args.cells)),
                    "fixed": {
                        "family": "erdos_renyi",
                        "p": 0.5,
                        "n": args.n,
                        "points": args.points,
                    },
                }
            )
            summary = run_sweep(config, backend, workers=workers, progress=False)
            per_cell = statistics.mean(r["wall_s"] for r in load_records(folder))
        row = {
            "backend": backend,
            "workers": workers,
            "wall_s": summary.wall_s,
            "cells_per_minute": summary.cells_per_minute,
            "mean_cell_s": per_cell,
            "failed": summary.failed,
        }
        rows.append(row)
        print(
            f"{backend:<8} {workers:>7} | {summary.wall_s:>7.1f} "
            f"{summary.cells_per_minute:>9.1f} {per_cell:>18.2f}",
            flush=True,
        )

    one, two = rows[1], rows[2]
    efficiency = two["cells_per_minute"] / (2 * one["cells_per_minute"])
    per_cell_s = one["mean_cell_s"]
    projection = {
        f"{nodes}x{cores}": 60.0 * nodes * cores / per_cell_s * efficiency
        for nodes, cores in ((1, 2), (4, 16), (16, 16), (64, 32))
    }
    print(f"parallel efficiency at 2 workers: {efficiency:.2f}")
    print(
        "projected cells/min (nodes x cores): "
        + ", ".join(f"{k}: {v:,.0f}" for k, v in projection.items())
    )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "sweep",
                "schema_version": 1,
                "config": vars(args),
                "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
                "rows": rows,
                "parallel_efficiency_2_workers": efficiency,
                "projected_cells_per_minute": projection,
            },
            indent=1,
        )
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
