"""The ``qaoa-meta`` command line.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``, which registers
the sub-command and sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and
returning an exit code). Sub-command modules are imported lazily so ``qaoa-meta --help`` is fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules providing sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "qaoa_meta.demo",
    "qaoa_meta.cli_sweep",
    "qaoa_meta.cli_hardware",
    "qaoa_meta.cli_train",
    "qaoa_meta.cli_eval",
    "qaoa_meta.cli_noise",
)


class UserError(Exception):
    """An error caused by the user's input: printed as one clean line, no traceback."""


def build_parser() -> argparse.ArgumentParser:
    """Returns the top-level parser with every sub-command registered."""
    parser = argparse.ArgumentParser(
        prog="qaoa-meta",
        description="QAOA for noisy hardware: problems, circuits, devices, noise, meta-learning.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``qaoa-meta`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (UserError, ValueError, TypeError, FileNotFoundError) as error:
        print(f"qaoa-meta {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
