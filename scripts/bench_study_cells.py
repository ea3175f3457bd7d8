"""Real noise-study cells, timed as the grid runs them: per (n, p), one group of cells.

A group is what one worker runs in one go in the full grid (``StudyConfig.sweep_config``'s
``group_by``): one instance, depth and noise level, the nine initialisers (learned ones
included) times the three shot budgets, 27 cells of ``qaoa_meta.studies.noise_study.noise_cell``
through ``qaoa_meta.sweep.run_cells`` with the grid's fixed settings (SPSA 20 iterations, 16
trajectories, 64 at the end points). A first group warms the process up (TensorFlow, numba,
the learned models' traced rollouts) and is recorded as ``cold``; then one group per
(n, p). Per group: the seconds of its first cell (which builds the template and noisy
circuit), the mean of the others (steady state) and the group's seconds per cell (setup
amortised over the group, what the grid pays). The full-grid estimate is the grid's cells
per (n, p) times that, over ``--workers`` workers. ``--replay RUN`` also re-runs one worker's
cells of an earlier, ungrouped grid run in that run's order (the "before").

    python scripts/bench_study_cells.py --scales 0,0.5,1,2 --replay runs/grid_full \
        --out docs/bench/noise_study_cells.json
    python scripts/bench_study_cells.py --n 8 --p 1 --scales 1        # one quick row
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


def group(n: int, p: int, scale: float, seed: int, artifacts: str) -> list[dict]:
    """The 27 cell dicts of one grid group, in the grid's order."""
    from qaoa_meta.studies.noise_study import FULL_STUDY
    from qaoa_meta.sweep import group_cells

    config = FULL_STUDY.sweep_config("unused", artifacts)
    cells = [
        c
        for c in config.cells()
        if c.params["n"] == n
        and c.params["p"] == p
        and c.params["noise_scale"] == scale
        and c.seed == seed
    ]
    (only,) = group_cells(cells, config.group_by)
    return [cell.to_dict() for cell in only]


def time_group(cells: list[dict]) -> dict:
    from qaoa_meta.sweep import run_cells

    t0 = time.perf_counter()
    records = run_cells(cells)
    wall = time.perf_counter() - t0
    failed = [r["error"] for r in records if r["status"] != "ok"]
    if failed:
        raise RuntimeError(failed[0])
    seconds = [r["wall_s"] for r in records]
    by_init: dict[str, list[float]] = {}
    for r in records:
        by_init.setdefault(r["cell"]["params"]["initializer"], []).append(r["wall_s"])
    return {
        "cells": len(records),
        "group_s": wall,
        "s_per_cell": wall / len(records),
        "first_cell_s": seconds[0],
        "setup_s": records[0]["result"]["setup_s"],
        "steady_s_per_cell": float(np.mean(seconds[1:])),
        "by_initializer_s": {k: float(np.mean(v)) for k, v in by_init.items()},
    }


def replay(run: str, initializer: str, ns: list[int]) -> list[dict]:
    """The "before" order: one worker's cells of ``initializer`` at ``ns`` from an earlier
    grid run (initialiser-outermost grid order, cells handed out one at a time to two
    workers), run again in that order with this tree's code; per n the mean seconds per cell
    and the mean setup_s (the template and noisy circuit a cell had to build)."""
    from qaoa_meta.sweep import run_cells

    records = [json.loads(p.read_text()) for p in pathlib.Path(run, "cells").glob("*.json")]
    pid = min(r["pid"] for r in records)
    mine = sorted((r for r in records if r["pid"] == pid), key=lambda r: r["started_unix"])
    rows = []
    for n in ns:
        cells = [
            r["cell"]
            for r in mine
            if r["cell"]["params"]["initializer"] == initializer and r["cell"]["params"]["n"] == n
        ]
        out = run_cells(cells)
        rows.append(
            {
                "n": n,
                "initializer": initializer,
                "cells": len(out),
                "s_per_cell": float(np.mean([r["wall_s"] for r in out])),
                "setup_s_per_cell": float(np.mean([r["result"]["setup_s"] for r in out])),
                "previous_run_s_per_cell": float(
                    np.mean([r["wall_s"] for r in mine if r["cell"] in cells])
                ),
            }
        )
        print(
            f"before order, {initializer}, n {n}: {rows[-1]['s_per_cell']:.2f} s/cell "
            f"(setup {rows[-1]['setup_s_per_cell']:.2f}; that run: "
            f"{rows[-1]['previous_run_s_per_cell']:.2f})",
            flush=True,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", default="8,10,12")
    parser.add_argument("--p", default="1,2")
    parser.add_argument("--scales", default="1", help="noise scales (one group each)")
    parser.add_argument("--seed", type=int, default=5)  # not in runs/grid_full (--replay)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--artifacts", default="runs/grid_full/artifacts")
    parser.add_argument("--label", default="")
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--replay",
        default=None,
        help="an earlier grid run (e.g. runs/grid_full): also replay one of its workers' "
        "cells of --replay-initializer in that run's order (the ungrouped 'before')",
    )
    parser.add_argument("--replay-initializer", default="lstm")
    args = parser.parse_args()
    from qaoa_meta.sweep import limit_threads

    limit_threads(1)  # as a Ray worker of the grid (threads_per_cell = 1)
    from qaoa_meta.studies.noise_study import FULL_STUDY

    ns = [int(x) for x in args.n.split(",")]
    ps = [int(x) for x in args.p.split(",")]
    scales = [float(x) for x in args.scales.split(",")]
    load = [os.getloadavg()]
    cold = time_group(group(8, 1, 1.0, args.seed + 1, args.artifacts))
    print(f"cold group (n 8, p 1): {cold['group_s']:.1f} s, {cold['s_per_cell']:.2f} s/cell")
    # a grid worker has traced every learned model's rollout at every (n, p) after its first
    # few groups: so has this process before the timed groups (other instance, one budget)
    from qaoa_meta.studies.noise_study import LEARNED
    from qaoa_meta.sweep import run_cells

    t0 = time.perf_counter()
    for n in ns:
        for p in ps:
            warm = group(n, p, 1.0, args.seed + 1, args.artifacts)
            run_cells([c for c in warm if c["params"]["initializer"] in LEARNED][::3])
    warm_s = time.perf_counter() - t0
    print(f"learned models traced at every (n, p): {warm_s:.1f} s")
    before = replay(args.replay, args.replay_initializer, ns) if args.replay else []
    rows = []
    print("| n | p | noise | first cell s | steady s/cell | s/cell (group) |")
    print("|---|---|---|---|---|---|")
    for n in ns:
        for p in ps:
            for scale in scales:
                row = {"n": n, "p": p, "noise_scale": scale}
                row.update(time_group(group(n, p, scale, args.seed, args.artifacts)))
                load.append(os.getloadavg())
                rows.append(row)
                print(
                    f"| {n} | {p} | {scale:g} | {row['first_cell_s']:.2f} | "
                    f"{row['steady_s_per_cell']:.2f} | {row['s_per_cell']:.2f} |",
                    flush=True,
                )
    # the full grid has the same number of cells for every (n, p)
    per_np: dict[tuple[int, int], float] = {}
    for row in rows:
        per_np.setdefault((row["n"], row["p"]), []).append(row["s_per_cell"])
    mean_cell = float(np.mean([np.mean(v) for v in per_np.values()]))
    estimate = mean_cell * FULL_STUDY.cells / args.workers
    print(
        f"mean s/cell over the mix {mean_cell:.2f}; full grid ({FULL_STUDY.cells} cells, "
        f"{args.workers} workers): {estimate / 60:.0f} min (+ the cold start per worker)"
    )
    record = {
        "label": args.label,
        "command": " ".join(sys.argv),
        "cpus": os.cpu_count(),
        "load_average": load,
        "cold": cold,
        "warm_up_s": warm_s,
        "rows": rows,
        "replayed_before": before,
        "mean_s_per_cell": mean_cell,
        "full_grid_cells": FULL_STUDY.cells,
        "workers": args.workers,
        "full_grid_estimate_min": estimate / 60,
        "unix_time": time.time(),
    }
    if args.out:
        pathlib.Path(args.out).write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
