"""``qaoa-meta sweep`` (a grid of cells, local or Ray, resumable) and ``qaoa-meta tune``
(meta-learner hyperparameter search with Ray Tune)."""

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
    tune_parser.add_argument("--workers", type=int, default=None)
    tune_parser.add_argument("--address", default=None)
    tune_parser.add_argument("--seed", type=int, default=0)
    tune_parser.add_argument("--output", default="runs/tune")
    tune_parser.set_defaults(func=_tune)


def _tune(args: argparse.Namespace) -> int:
    import json

    import yaml

    from qaoa_meta.problems import load_paper_dataset
    from qaoa_meta.tune import tune_meta

    for name in ("samples", "epochs", "batch_size"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be at least 1.")
    data = load_paper_dataset(args.dataset)
    train = data.train[: args.train_limit] if args.train_limit else data.train
    space = yaml.safe_load(open(args.space).read()) if args.space else None
    result = tune_meta(
        train,
        data.val,
        {"model": args.model, "variant": args.variant, "p": args.p},
        args.output,
        space=space,
        samples=args.samples,
        epochs=args.epochs,
        batch_size=args.batch_size,
        workers=args.workers,
        address=args.address,
        seed=args.seed,
    )
    print(
        f"best of {len(result.trials)} trials: val final cost "
        f"{result.best_val_final_cost:.4f} (meta-loss {result.best_val_meta_loss:.4f})"
    )
    print(json.dumps(result.best_params, indent=1))
    print(f"written: {args.output}/best_config.json, {args.output}/trials.json")
    return 0


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
