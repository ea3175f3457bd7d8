"""``qaoa-meta sweep`` (a grid of cells, local or Ray, resumable) and ``qaoa-meta tune``
(meta-learner hyperparameter search with Ray Tune)."""

from __future__ import annotations

import argparse
import collections
import json
import sys
from typing import Any

from qaoa_meta.cli.errors import UserError, user_input
from qaoa_meta.problems import load_paper_dataset
from qaoa_meta.sweep import (
    BACKENDS,
    RayUnavailableError,
    SweepConfig,
    load_records,
    pending_cells,
    run_sweep,
    yaml_error_line,
)

# yaml and qaoa_meta.tune (~50 ms together) are imported in the one command that uses them:
# `qaoa-meta --help` imports every sub-command module, and it must stay fast.


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the ``sweep`` and ``tune`` sub-commands.

    Args: as :meth:`CommandModule.add_parser`.
    """
    parser = subparsers.add_parser(
        "sweep",
        help="run a sweep configuration (YAML) locally or on Ray",
        description="Runs every cell of a sweep that has no result yet; re-run to resume.",
    )
    parser.add_argument("config", help="sweep configuration file (YAML or JSON)")
    parser.add_argument("--output", default=None, help="override the configuration's output")
    parser.add_argument("--retry-failed", action="store_true", help="re-run failed cells too")
    parser.add_argument(
        "--address",
        default=None,
        help="ray: address of an existing cluster, e.g. auto (started with 'ray start') or "
        "ray://host:10001; --workers then only caps the cells running at once (default: the "
        "whole cluster)",
    )
    add_sweep_options(parser)
    parser.set_defaults(func=_main)

    tune_parser = subparsers.add_parser(
        "tune",
        help="search meta-learner hyperparameters with Ray Tune",
        description="Trains one meta-learner per sampled configuration for a few epochs and "
        "writes the best configuration (by validation final cost) to OUTPUT/best_config.json.",
    )
    tune_parser.add_argument(
        "--dataset", required=True, help="problems in the paper's datasets.json format"
    )
    tune_parser.add_argument("--model", default="qk-lstm")
    tune_parser.add_argument("--variant", default="fixed")
    tune_parser.add_argument("--p", type=int, default=1)
    tune_parser.add_argument(
        "--space",
        default=None,
        help="YAML search space, e.g. {steps: {choice: [5, 10]}} "
        "(default: learning rates, hidden size, rollout length, loss)",
    )
    tune_parser.add_argument("--samples", type=int, default=8, help="number of trials (8)")
    tune_parser.add_argument("--epochs", type=int, default=3, help="epochs per trial (3)")
    tune_parser.add_argument("--batch-size", type=int, default=8)
    tune_parser.add_argument(
        "--train-limit", type=int, default=None, help="use only the first N training graphs"
    )
    tune_parser.add_argument(
        "--threads", type=int, default=1, help="CPU threads (and Ray CPUs) per trial (1)"
    )
    tune_parser.add_argument(
        "--workers", type=int, default=None, help="CPUs of the Ray instance started here"
    )
    tune_parser.add_argument(
        "--address", default=None, help="address of an existing Ray cluster, e.g. auto"
    )
    tune_parser.add_argument("--seed", type=int, default=0)
    tune_parser.add_argument("--output", default="runs/tune")
    tune_parser.set_defaults(func=_tune)


def add_sweep_options(parser: argparse.ArgumentParser) -> None:
    """Adds the options that :func:`sweep_options` reads (``--backend``, ``--workers``,
    ``--no-progress``), so that every command running a sweep (``sweep``, ``noise-study``)
    offers them with the same meaning and help.

    Args:
        parser: the command's parser.
    """
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="local",
        help="local: one cell at a time in this process (default); ray: Ray workers",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="ray: the most cells running at once, and the CPUs of the Ray instance started "
        "here (default: all cores)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def sweep_options(args: argparse.Namespace) -> dict[str, Any]:
    """The keywords of :func:`qaoa_meta.sweep.run_sweep` that the options of every command
    running a sweep (``sweep``, ``noise-study``) set: ``--backend``, ``--workers`` and
    ``--no-progress`` (added by :func:`add_sweep_options`).

    Args:
        args: the parsed arguments of such a command.

    Returns:
        ``backend``, ``workers`` and ``progress``.
    """
    return {"backend": args.backend, "workers": args.workers, "progress": not args.no_progress}


def _tune(args: argparse.Namespace) -> int:
    import yaml

    from qaoa_meta.tune import tune_meta

    for name in ("samples", "epochs", "batch_size", "threads"):
        if getattr(args, name) < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 1.")
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}.")
    with user_input():
        data = load_paper_dataset(args.dataset)
    train = data.train[: args.train_limit] if args.train_limit else data.train
    space = None
    if args.space:
        try:
            with open(args.space) as stream:
                space = yaml.safe_load(stream)
        except (OSError, yaml.YAMLError) as error:
            reason = yaml_error_line(error) if isinstance(error, yaml.YAMLError) else error
            raise UserError(
                f"Cannot read the search space {args.space!r} ({reason}); pass a YAML file "
                "such as {steps: {choice: [5, 10]}, lr_sequence: {loguniform: [1e-4, 1e-2]}}."
            ) from None
        if not isinstance(space, dict):
            raise UserError(
                f"The search space {args.space!r} must be a mapping of keys to samplers, e.g. "
                "{steps: {choice: [5, 10]}}."
            )
    try:
        result = tune_meta(
            train,
            data.val,
            {"model": args.model, "variant": args.variant, "p": args.p},
            args.output,
            space=space,
            samples=args.samples,
            epochs=args.epochs,
            batch_size=args.batch_size,
            threads_per_trial=args.threads,
            workers=args.workers,
            address=args.address,
            seed=args.seed,
        )
    except RayUnavailableError as error:
        raise UserError(str(error)) from error
    except RuntimeError as error:  # every trial failed
        print(
            f"qaoa-meta tune: {error}; see {args.output}/ray for each trial's log.", file=sys.stderr
        )
        return 1
    print(
        f"best of {len(result.trials)} trials: val final cost "
        f"{result.best_val_final_cost:.4f} (meta-loss {result.best_val_meta_loss:.4f})"
    )
    print(json.dumps(result.best_params, indent=1))
    print(f"written: {args.output}/best_config.json, {args.output}/trials.json")
    return 0


def _main(args: argparse.Namespace) -> int:
    with user_input():
        config = SweepConfig.load(args.config)
        if args.output:
            config = SweepConfig.from_dict({**config.to_dict(), "output": args.output})
    if args.workers is not None and args.workers < 1:
        raise UserError(f"--workers must be at least 1, got {args.workers}.")
    try:
        summary = run_sweep(
            config, address=args.address, retry_failed=args.retry_failed, **sweep_options(args)
        )
    except RayUnavailableError as error:
        raise UserError(str(error)) from error
    except KeyboardInterrupt:
        left, done = pending_cells(config)
        print(
            f"\nsweep {config.name!r} interrupted: {done} of {done + len(left)} cells are saved "
            f"in {config.output}/cells; run the same command again to finish the other "
            f"{len(left)}.",
            file=sys.stderr,
        )
        return 130
    records = load_records(config.output, config)
    statuses = collections.Counter(r["status"] for r in records)
    startup = f", {summary.startup_s:.1f} s of it starting Ray" if summary.startup_s >= 0.1 else ""
    print(
        f"sweep {config.name!r}: {summary.ran} cells run ({summary.failed} failed), "
        f"{summary.skipped} already done, in {summary.wall_s:.1f} s{startup} on "
        f"{summary.workers} {summary.backend} worker(s) ({summary.cells_per_minute:.1f} "
        f"cells/min); {config.output}/cells: {statuses.get('ok', 0)} ok, "
        f"{statuses.get('failed', 0)} failed"
    )
    for record in records:
        if record["status"] == "failed":
            print(f"  failed {record['cell_id']} {record['cell']['params']}: {record['error']}")
    if statuses.get("failed"):
        print(
            f"  tracebacks: {config.output}/cells/<cell_id>.json; re-run failed cells with "
            "--retry-failed"
        )
    return 1 if summary.failed else 0
