#!/usr/bin/env python
"""Merges parts of the noise-study grid, writes the record and figures, prints the doc tables.

    python scripts/noise_study_report.py runs/grid_n8_p1 runs/grid_n10_p1 runs/grid_n8_p2 \\
        --output runs/noise_study_grid --figures docs/figures \\
        --record docs/records/noise_study_grid.json.gz

The printed markdown is what docs/noise_study.md quotes (compact tables at 1024 shots per
evaluation; the full tables are in OUTPUT/summary.md and the record).
"""

from __future__ import annotations

import argparse
import gzip
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))


def compact_tables(record: dict, shots: int = 1024) -> str:
    from qaoa_meta.studies.noise_study import initializer_order

    rows = [r for r in record["summary"] if r["shots"] == shots]
    out = []
    for n, p in sorted({(r["n"], r["p"]) for r in rows}):
        chosen = [r for r in rows if r["n"] == n and r["p"] == p]
        scales = sorted({r["noise_scale"] for r in chosen})
        names = initializer_order(r["initializer"] for r in chosen)
        runs = max(r["runs"] for r in chosen)
        out.append(
            f"\n**n = {n}, p = {p}, {shots} shots per evaluation, {runs} instances** — noisy AR "
            "after Phase II (raw / readout-mitigated), mean ± s.e.; last column: noiseless AR "
            "of the final θ at the highest noise\n"
        )
        head = "| initialiser | " + " | ".join(f"noise {s:g}×" for s in scales)
        head += f" | ideal AR at {scales[-1]:g}× |"
        out.append(head)
        out.append("|---" * (len(scales) + 2) + "|")
        for name in names:
            cells = []
            for s in scales:
                r = next(
                    (x for x in chosen if x["initializer"] == name and x["noise_scale"] == s), None
                )
                if r is None:
                    cells.append("—")
                    continue
                cells.append(
                    f"{r['ar_noisy_final']:.3f} ± {r['ar_noisy_final_se']:.3f} / "
                    f"{r['ar_noisy_final_mitigated']:.3f}"
                )
            top = next(
                (x for x in chosen if x["initializer"] == name and x["noise_scale"] == scales[-1]),
                None,
            )
            ideal = f"{top['ar_ideal_final']:.3f}" if top else "—"
            out.append(f"| {name} | " + " | ".join(cells) + f" | {ideal} |")
    return "\n".join(out) + "\n"


def paired_table(record: dict, shots: int = 1024) -> str:
    rows = [r for r in record.get("paired", []) if r["shots"] == shots]
    out = [
        f"\n| comparison ({shots} shots) | n | p | noise | pairs | Δ noisy AR start (p) | "
        "Δ noisy AR final (p) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['first']} − {r['second']} | {r['n']} | {r['p']} | {r['noise_scale']:g} | "
            f"{r['pairs']} | {r['ar_noisy_init']:+.3f} ± {r['ar_noisy_init_se']:.3f} "
            f"({r['ar_noisy_init_p']:.2g}) | {r['ar_noisy_final']:+.3f} ± "
            f"{r['ar_noisy_final_se']:.3f} ({r['ar_noisy_final_p']:.2g}) |"
        )
    return "\n".join(out) + "\n"


def budget_table(record: dict, noise: float = 1.0) -> str:
    rows = [r for r in record.get("shots_to_target", []) if r["noise_scale"] == noise]
    out = [
        f"\n| n | p | shots/eval | initialiser | target AR | reached | mean shots (noise {noise:g}×) |",
        "|---|---|---|---|---|---|---|",
    ]
    from qaoa_meta.studies.noise_study import shots_cell

    for r in rows:
        shots = shots_cell(r["mean_shots"])
        out.append(
            f"| {r['n']} | {r['p']} | {r['shots']} | {r['initializer']} | {r['target_ar']:.3f} | "
            f"{r['reached']}/{r['runs']} | {shots} |"
        )
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    from qaoa_meta.studies.noise_study import merge_studies

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--output", default="runs/noise_study_grid")
    parser.add_argument("--figures", default=None)
    parser.add_argument("--record", default=None, help="gzipped copy of the merged record")
    args = parser.parse_args(argv)
    paths = merge_studies(args.runs, args.output, args.figures)
    record = json.loads(pathlib.Path(paths["run_record"]).read_text())
    if args.record:
        from qaoa_meta.fileio import write_atomic

        write_atomic(args.record, gzip.compress(json.dumps(record).encode()))
    print(
        f"cells {record['cells_total']} (failed {record['cells_failed']}), grid wall "
        f"{record['grid_wall_s'] / 60:.1f} min, cell time summed {record['cell_seconds'] / 60:.1f} min"
    )
    print(compact_tables(record))
    print(paired_table(record))
    print(budget_table(record))
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
