"""``qaoa-meta demo``: the small end-to-end tour (:mod:`qaoa_meta.demo` holds its stages)."""

from __future__ import annotations

import argparse
import time

from qaoa_meta import demo  # NumPy only: its stages import TensorFlow and Cirq when they run
from qaoa_meta.cli.errors import UserError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the ``demo`` sub-command.

    Args: as :meth:`CommandModule.add_parser`.
    """
    parser = subparsers.add_parser("demo", help="run the small end-to-end demo")
    parser.add_argument("--points", type=int, default=24, help="grid points per axis (24)")
    parser.add_argument("--seed", type=int, default=7, help="seed of every random choice (7)")
    parser.add_argument("--epochs", type=int, default=8, help="meta-training epochs (8)")
    parser.add_argument("--shots", type=int, default=2000, help="shots in stage 3 (2000)")
    parser.add_argument(
        "--stages",
        default=",".join(demo.STAGES),
        help=f"comma-separated stages to run, from {','.join(demo.STAGES)} (all)",
    )
    parser.add_argument(
        "--out", default="runs/demo", help="folder for the results (runs/demo); '' saves nothing"
    )
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    if args.points < 2:
        raise UserError(f"--points must be at least 2, got {args.points}.")
    if args.epochs < 1 or args.shots < 1:
        raise UserError(f"--epochs and --shots must be positive, got {args.epochs}, {args.shots}.")
    stages = tuple(s.strip() for s in args.stages.split(",") if s.strip())
    unknown = sorted(set(stages) - set(demo.STAGES))
    if unknown or not stages:
        raise UserError(
            f"--stages got {args.stages!r}; expected a comma-separated subset of {','.join(demo.STAGES)}."
        )
    start = time.perf_counter()
    demo.run_demo(args.points, args.seed, args.out or None, stages, args.epochs, args.shots)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0
