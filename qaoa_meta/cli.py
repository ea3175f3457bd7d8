"""The ``qaoa-meta`` command line.

Each sub-command lives in its own module exposing ``add_parser(subparsers)``, which registers
the sub-command and sets ``func`` (a callable taking the parsed ``argparse.Namespace`` and
returning an exit code). Sub-command modules are imported lazily so ``qaoa-meta --help`` is fast.

Every argument or input-file error is one line on stderr with exit code 2, and arrives before
TensorFlow or Cirq load: argparse errors through :class:`Parser`, everything else through
:func:`qaoa_meta.cli_checks.check`, which runs before the sub-command.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules providing sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "qaoa_meta.demo",
    "qaoa_meta.cli_data",
    "qaoa_meta.cli_sweep",
    "qaoa_meta.cli_hardware",
    "qaoa_meta.cli_train",
    "qaoa_meta.cli_eval",
    "qaoa_meta.cli_noise",
)


class UserError(ValueError):
    """An error caused by the user's input: printed as one clean line, no traceback."""


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: what was wrong and where help is."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Returns the top-level parser with every sub-command registered."""
    parser = Parser(
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
    from qaoa_meta.cli_checks import check, one_line

    try:
        check(args)  # arguments and input files, before TensorFlow or Cirq load
        return int(args.func(args) or 0)
    except (UserError, ValueError, TypeError, FileNotFoundError) as error:
        print(f"qaoa-meta {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
