"""``qaoa-meta sweep``: run a grid of cells locally or on Ray, resumable, one file per cell."""

from __future__ import annotations

import argparse
import collections

from qaoa_meta.sweep import BACKENDS, SweepConfig, load_records, run_sweep


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the ``sweep`` sub-command."""
    parser = subparsers.add_parser(
        "sweep",
        help="run a sweep configuration (YAML) locally or on Ray",
        description="Runs every cell of a sweep that has no result yet; re-run to resume.",
    )
    parser.add_argument("config", help="sweep configuration file (YAML or JSON)")
    parser.add_argument("--backend", choices=BACKENDS, default="local")
    parser.add_argument(
        "--workers", type=int, default=None, help="ray: local worker CPUs (default: all cores)"
    )
    parser.add_argument(
        "--address",
        default=None,
        help="ray: address of an existing cluster, e.g. auto or ray://host:10001",
    )
    parser.add_argument("--output", default=None, help="override the configuration's output")
    parser.add_argument("--retry-failed", action="store_true", help="re-run failed cells too")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    config = SweepConfig.load(args.config)
    if args.output:
        config = SweepConfig.from_dict({**config.to_dict(), "output": args.output})
    if args.workers is not None and args.workers < 1:
        raise ValueError(f"--workers must be at least 1, got {args.workers}.")
    summary = run_sweep(
        config,
        args.backend,
        workers=args.workers,
        address=args.address,
        retry_failed=args.retry_failed,
        progress=not args.no_progress,
    )
    statuses = collections.Counter(r["status"] for r in load_records(config.output))
    print(
        f"sweep {config.name!r}: {summary.ran} cells run ({summary.failed} failed), "
        f"{summary.skipped} already done, in {summary.wall_s:.1f} s on {summary.workers} "
        f"{summary.backend} worker(s) ({summary.cells_per_minute:.1f} cells/min); "
        f"{config.output}: {statuses.get('ok', 0)} ok, {statuses.get('failed', 0)} failed"
    )
    for record in load_records(config.output):
        if record["status"] == "failed":
            print(f"  failed {record['cell_id']} {record['cell']['params']}: {record['error']}")
    return 1 if summary.failed else 0
