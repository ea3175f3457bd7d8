"""Benchmark: sweep throughput (cells/min) on the local backend and on Ray with 1 and 2 workers.

Usage:
    python scripts/bench_sweep.py [--cells 24] [--n 14] [--points 16] [--repeat 2]
                                  [--smoke-cells 300] [--out docs/bench/sweep.json]

Runs the same landscape sweep (p=1 grid scan + L-BFGS-B per generated G(n, 0.5) graph, one
thread per cell) into fresh folders, each in a fresh Python process, with: the local backend, Ray with 1 worker, Ray with 2
workers (``--repeat`` rounds, alternating the order; the summary takes medians); then a sweep of no-op "smoke" cells on Ray (the runner's own ceiling: dispatch and
one JSON file per cell). For each it reports

* end-to-end wall time and cells/min, including starting Ray and each worker's first cell
  (which loads TensorFlow);
* steady-state cells/min: cells after every worker's first one, over the time they took;
* busy cells/min: all cells over the time from the first cell's start to the last one's end
  (the no-op cells' steady rate is the runner's ceiling);
* the median time of one cell measured inside the worker, and the first (warm-up) cell;
* the load average before and after, as other jobs may share the machine.

Then it projects the steady throughput of N nodes with C cores each from the per-cell cost
and the parallel efficiency measured at 2 workers, and the time a sweep of 10,000 cells would
take. Writes everything to ``--out`` (JSON); ``docs/scaling.md`` quotes it.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile

from qaoa_meta.sweep import SweepConfig, load_records, run_sweep

PROJECTED = ((1, 2), (1, 16), (4, 16), (16, 16), (64, 32))
PROJECTED_CELLS = 10_000


def steady_rate(records: list[dict]) -> float:
    """Cells/min after every worker's first cell: (cells - workers) / (last end - warm end)."""
    by_worker: dict[tuple[str, int], list[dict]] = {}
    for record in records:
        by_worker.setdefault((record["host"], record["pid"]), []).append(record)
    firsts = [min(rs, key=lambda r: r["started_unix"]) for rs in by_worker.values()]
    warm_end = max(r["finished_unix"] for r in firsts)
    later = [r for r in records if r["started_unix"] >= warm_end - 1e-6 and r not in firsts]
    if not later:
        return float("nan")
    span = max(r["finished_unix"] for r in later) - warm_end
    return 60.0 * len(later) / span if span > 0 else float("nan")


def run_row(backend: str, workers: int, task: str, cells: int, fixed: dict) -> dict:
    """Runs one set-up in a fresh Python process (as ``qaoa-meta sweep`` would) and returns
    its measurements."""
    spec = json.dumps([backend, workers, task, cells, fixed])
    done = subprocess.run(
        [sys.executable, __file__, "--row", spec], capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise RuntimeError(f"benchmark row {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(backend: str, workers: int, task: str, cells: int, fixed: dict) -> dict:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as folder:
        config = SweepConfig.from_dict(
            {
                "name": "bench",
                "task": task,
                "output": folder,
                "seeds": list(range(cells)),
                "fixed": fixed,
            }
        )
        summary = run_sweep(config, backend, workers=workers, progress=False)
        records = load_records(folder)
    walls = sorted(r["wall_s"] for r in records)
    firsts = {}
    for record in sorted(records, key=lambda r: r["started_unix"]):
        firsts.setdefault(record["pid"], record["wall_s"])
    return {
        "backend": backend,
        "workers": workers,
        "task": task,
        "cells": summary.ran,
        "failed": summary.failed,
        "wall_s": summary.wall_s,
        "startup_s": summary.startup_s,
        "cells_per_minute": summary.cells_per_minute,
        "steady_cells_per_minute": steady_rate(records),
        "busy_cells_per_minute": 60.0
        * len(records)
        / (max(r["finished_unix"] for r in records) - min(r["started_unix"] for r in records)),
        "median_cell_s": statistics.median(walls),
        "first_cell_s": statistics.mean(firsts.values()),
        "worker_processes": len(firsts),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def markdown(path: str) -> str:
    """The tables of ``docs/scaling.md``, generated from a benchmark JSON file."""
    data = json.loads(pathlib.Path(path).read_text())
    config = data["config"]
    lines = [
        f"Measured {data['date']} on {data['machine']['cpus']} cores "
        f"({data['machine']['platform']}), landscape cells n = {config['n']}, "
        f"{config['points']}x{config['points']} grid, {config['cells']} cells per run, "
        f"{config['repeat']} rounds (medians), each run in a fresh process.",
        "",
        "| set-up | end-to-end cells/min | steady cells/min | wall s | Ray start s "
        "| median s/cell | first cell s | load (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in data["summary"].values():
        loads = row["load_average_1min"]
        lines.append(
            f"| {row['backend']}, {row['workers']} worker{'s' if row['workers'] > 1 else ''} "
            f"| {row['cells_per_minute']:.1f} | {row['steady_cells_per_minute']:.1f} "
            f"| {row['wall_s']:.1f} | {row['startup_s']:.1f} | {row['median_cell_s']:.2f} "
            f"| {row['first_cell_s']:.1f} | {min(loads):.1f} to {max(loads):.1f} |"
        )
    smoke = next(r for r in data["rows"] if r["task"] == "smoke")
    lines += [
        "",
        f"Runner ceiling (no-op `smoke` cells, Ray, 2 workers, {smoke['cells']} cells): "
        f"{data['runner_ceiling_cells_per_minute']:,.0f} cells/min steady. Parallel efficiency "
        f"at 2 workers (steady, ray-2 / 2 x ray-1): {data['parallel_efficiency_2_workers']:.2f}. "
        f"Per-cell cost used below: {data['per_cell_s']:.2f} s; fixed start-up "
        f"(Ray start + a worker's first cell): {data['fixed_startup_s']:.0f} s.",
        "",
        "| nodes x cores | ideal cells/min | at measured efficiency | "
        f"minutes for {data['projection']['cells']:,} cells (ideal / measured eff.) |",
        "|---|---:|---:|---:|",
    ]
    cells = data["projection"]["cells"]
    for row in data["projection"]["by_size"].values():
        lines.append(
            f"| {row['nodes']} x {row['cores_per_node']} | {row['ideal_cells_per_minute']:,.0f} "
            f"| {row['cells_per_minute_at_measured_efficiency']:,.0f} "
            f"| {row[f'ideal_minutes_for_{cells}_cells']:,.1f} / "
            f"{row[f'minutes_for_{cells}_cells_at_measured_efficiency']:,.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=24, help="landscape cells (seeds)")
    parser.add_argument("--n", type=int, default=14, help="graph size of every cell")
    parser.add_argument("--points", type=int, default=16, help="grid points per axis")
    parser.add_argument("--smoke-cells", type=int, default=300, help="no-op cells on Ray")
    parser.add_argument("--repeat", type=int, default=2, help="rounds of the three set-ups")
    parser.add_argument("--out", default="docs/bench/sweep.json")
    parser.add_argument("--row", default=None, help=argparse.SUPPRESS)  # internal: one set-up
    parser.add_argument(
        "--markdown", metavar="JSON", default=None, help="print the tables of a result and exit"
    )
    args = parser.parse_args()
    if args.markdown:
        print(markdown(args.markdown))
        return
    if args.row:
        print(json.dumps(measure(*json.loads(args.row))))
        return

    landscape = {"family": "erdos_renyi", "p": 0.5, "n": args.n, "points": args.points}
    setups = [("local", 1), ("ray", 1), ("ray", 2)]
    header = (
        f"{'backend':<6} {'workers':>7} {'task':<9} | {'wall s':>7} {'start s':>7} "
        f"{'cells/min':>9} {'steady':>7} {'s/cell':>7} {'1st s':>6} | load before/after"
    )
    print(header)
    print("-" * len(header))
    rows = []

    def run_and_print(backend, workers, task, cells, fixed, round_):
        row = {"round": round_, **run_row(backend, workers, task, cells, fixed)}
        rows.append(row)
        print(
            f"{backend:<6} {workers:>7} {task:<9} | {row['wall_s']:>7.1f} "
            f"{row['startup_s']:>7.1f} {row['cells_per_minute']:>9.1f} "
            f"{row['steady_cells_per_minute']:>7.1f} {row['median_cell_s']:>7.2f} "
            f"{row['first_cell_s']:>6.1f} | {row['load_average_before'][0]:.2f} / "
            f"{row['load_average_after'][0]:.2f}",
            flush=True,
        )
        return row

    # Rounds alternate the order (local, ray 1, ray 2 / ray 2, ray 1, local) so that a
    # change in the machine's load does not favour one set-up.
    for round_ in range(args.repeat):
        for backend, workers in setups if round_ % 2 == 0 else setups[::-1]:
            run_and_print(backend, workers, "landscape", args.cells, landscape, round_)
    smoke = run_and_print("ray", 2, "smoke", args.smoke_cells, {}, 0)

    keys = (
        "wall_s",
        "startup_s",
        "cells_per_minute",
        "steady_cells_per_minute",
        "busy_cells_per_minute",
        "median_cell_s",
        "first_cell_s",
    )
    summary = {}
    for backend, workers in setups:
        mine = [
            r
            for r in rows
            if (r["backend"], r["workers"], r["task"]) == (backend, workers, "landscape")
        ]
        summary[f"{backend}-{workers}"] = {
            "backend": backend,
            "workers": workers,
            "rounds": len(mine),
            **{key: statistics.median(r[key] for r in mine) for key in keys},
            "load_average_1min": [r["load_average_before"][0] for r in mine]
            + [r["load_average_after"][0] for r in mine],
        }
    one, two = summary["ray-1"], summary["ray-2"]
    efficiency = two["steady_cells_per_minute"] / (2 * one["steady_cells_per_minute"])
    per_cell_s = one["median_cell_s"]
    fixed_s = two["startup_s"] + two["first_cell_s"]  # Ray start + worker warm-up
    ceiling = smoke["steady_cells_per_minute"]  # the runner itself: dispatch + one file per cell
    if ceiling != ceiling:  # NaN: too few no-op cells after the warm-up
        ceiling = smoke["busy_cells_per_minute"]
    projection = {}
    for nodes, cores in PROJECTED:
        ideal = min(60.0 * nodes * cores / per_cell_s, ceiling)
        measured = min(60.0 * nodes * cores / per_cell_s * efficiency, ceiling)
        projection[f"{nodes}x{cores}"] = {
            "nodes": nodes,
            "cores_per_node": cores,
            "ideal_cells_per_minute": ideal,
            "cells_per_minute_at_measured_efficiency": measured,
            f"ideal_minutes_for_{PROJECTED_CELLS}_cells": fixed_s / 60.0 + PROJECTED_CELLS / ideal,
            f"minutes_for_{PROJECTED_CELLS}_cells_at_measured_efficiency": fixed_s / 60.0
            + PROJECTED_CELLS / measured,
        }
    print(f"parallel efficiency at 2 workers (steady): {efficiency:.2f}")
    print(f"runner ceiling (no-op cells, 2 workers): {ceiling:,.0f}/min")
    print(
        "projected cells/min (nodes x cores), ideal / at measured efficiency: "
        + ", ".join(
            f"{k}: {v['ideal_cells_per_minute']:,.0f} / "
            f"{v['cells_per_minute_at_measured_efficiency']:,.0f}"
            for k, v in projection.items()
        )
    )
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "sweep",
                "schema_version": 2,
                "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "config": vars(args),
                "machine": {
                    "platform": platform.platform(),
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                },
                "rows": rows,
                "summary": summary,
                "per_cell_s": per_cell_s,
                "fixed_startup_s": fixed_s,
                "parallel_efficiency_2_workers": efficiency,
                "runner_ceiling_cells_per_minute": ceiling,
                "projection": {
                    "model": "cells/min = min(60 * nodes * cores / per_cell_s [* efficiency], "
                    "runner ceiling); minutes = (Ray start + first cell) / 60 + cells / rate; "
                    "per_cell_s = median in-worker cell time with 1 Ray worker",
                    "cells": PROJECTED_CELLS,
                    "by_size": projection,
                },
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
