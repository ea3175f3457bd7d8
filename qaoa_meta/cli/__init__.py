"""The ``qaoa-meta`` command line.

Each group of sub-commands lives in its own module, a :class:`CommandModule`: its
``add_parser(subparsers)`` registers the sub-commands, each with a ``func`` (a ``run_*``
function) that takes the parsed ``argparse.Namespace`` and returns the exit status. The
modules import their heavy dependencies lazily, inside the ``run_*`` functions, so
``qaoa-meta --help`` (which imports them all) is fast.

Every argument or input-file error is one line on stderr with exit code 2, and arrives before
TensorFlow or Cirq load: argparse errors through :class:`Parser`, everything else through
:func:`qaoa_meta.cli.checks.check`, which runs before the sub-command. Only
:class:`~qaoa_meta.cli.errors.UserError` becomes such a line; sub-commands convert library
errors into it only where they read input (:func:`~qaoa_meta.cli.errors.user_input`), so a
library bug keeps its traceback.

The wing: ``names`` (TF-free name tables), ``errors``, ``checks`` and one module per group of
sub-commands (``demo``, ``data``, ``sweep``, ``hardware``, ``train``, ``evaluate``,
``noise_study``).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol

from qaoa_meta.cli.errors import UserError, one_line

# Modules providing sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "qaoa_meta.cli.demo",
    "qaoa_meta.cli.data",
    "qaoa_meta.cli.sweep",
    "qaoa_meta.cli.hardware",
    "qaoa_meta.cli.train",
    "qaoa_meta.cli.evaluate",
    "qaoa_meta.cli.noise_study",
)


class CommandModule(Protocol):
    """What each module of :data:`COMMAND_MODULES` provides: the protocol of its
    ``add_parser`` and of the ``run_*`` functions it registers, documented here once.

    A module's functions document their arguments by reference to these methods
    (``Args: as :meth:`CommandModule.run```), adding only what is their own: the sub-commands
    they register, what the command does and the input it refuses (each a :class:`UserError`).
    """

    def add_parser(self, subparsers: argparse._SubParsersAction) -> None:
        """Registers the module's sub-commands.

        Args:
            subparsers: the top-level parser's sub-parser action (``add_subparsers()``); each
                sub-command's ``func`` default is the function that runs it (:meth:`run`).
        """

    def run(self, args: argparse.Namespace) -> int:
        """Runs one sub-command: the ``func`` its parser sets (``run_*``, or a private
        ``_main``).

        Called by :func:`main` after :func:`qaoa_meta.cli.checks.check` accepted ``args``.

        Args:
            args: the parsed arguments of the sub-command (its options as attributes).

        Returns:
            The exit status: 0 when the command did all it was asked; 1 when part of the
            work failed (cells of a sweep or study, every trial of a tune), as it reports;
            130 when interrupted after saving what was done (``sweep``).

        Raises:
            UserError: for arguments or input the command cannot use, raised before the
                work starts where possible; :func:`main` prints it as one line and returns 2.
        """


class Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line: what was wrong and where help is."""

    def error(self, message: str):
        """Prints a one-line usage error and exits (``argparse.ArgumentParser.error``).

        Args:
            message: argparse's description of what was wrong.

        Raises:
            SystemExit: always, with status 2.
        """
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
    """Entry point of the ``qaoa-meta`` console script.

    Runs :func:`qaoa_meta.cli.checks.check` on the parsed arguments, then the sub-command.

    Args:
        argv: the arguments after the program name; None for ``sys.argv[1:]``.

    Returns:
        The exit status: the sub-command's (0 when it returns None), 2 when no sub-command
        is given (after printing the help) or for a :class:`UserError` (printed as one line
        on stderr).

    Raises:
        SystemExit: from argparse, for unparseable arguments or ``--help``.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from qaoa_meta.cli.checks import check  # lazy: ~10 ms that --help need not pay

    try:
        check(args)  # arguments and input files, before TensorFlow or Cirq load
        return int(args.func(args) or 0)
    except UserError as error:
        print(f"qaoa-meta {args.command}: error: {one_line(error)}", file=sys.stderr)
        return 2


__all__ = ("COMMAND_MODULES", "CommandModule", "Parser", "UserError", "build_parser", "main")
