"""``qaoa-meta train`` (meta-train a sequence model) and ``qaoa-meta models`` (sizes)."""

from __future__ import annotations

import argparse
import json
import pathlib
import platform
import time

# Literal copies of qaoa_meta.cells.MODELS and VARIANTS, so that ``qaoa-meta --help`` does
# not import TensorFlow; tests/test_cli.py keeps them equal.
MODELS = ("lstm", "qlstm", "qk-lstm", "qfwp")
VARIANTS = ("paper", "fixed")


def add_parser(subparsers) -> None:
    """Registers the ``train`` and ``models`` sub-commands."""
    train = subparsers.add_parser(
        "train",
        help="meta-train a sequence model on a dataset of Max-Cut problems",
        description="Learning to learn QAOA angles (arXiv 2512.05058); defaults are the paper's.",
    )
    add_train_arguments(train)
    train.set_defaults(func=run_train)
    models = subparsers.add_parser("models", help="parameter counts beside the paper's")
    models.add_argument("--p", type=int, default=1, help="QAOA depth (default 1)")
    models.set_defaults(func=run_models)


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """The training options, shared with ``scripts/train.py``."""
    parser.add_argument("--model", choices=MODELS, default="qk-lstm")
    parser.add_argument("--variant", choices=VARIANTS, default="fixed")
    parser.add_argument("--dataset", required=True, help="paper-format datasets.json")
    parser.add_argument("--output", default="runs/train", help="directory for checkpoints and log")
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=1, help="graphs per update (paper: 1)")
    parser.add_argument("--p", type=int, default=1, help="QAOA depth")
    parser.add_argument("--steps", type=int, default=10, help="rollout length T")
    parser.add_argument(
        "--loss", choices=("weighted", "observed_improvement", "final"), default="weighted"
    )
    parser.add_argument("--mapping", choices=("auto", "linear", "identity"), default="auto")
    parser.add_argument(
        "--hidden",
        type=int,
        default=None,
        help="cell hidden size (default: the paper's, 2p or 2p+1); e.g. from qaoa-meta tune",
    )
    parser.add_argument("--graph-features", action="store_true", help="add (y/W, degree, density)")
    parser.add_argument("--backend", choices=("exact", "tfq"), default="exact")
    parser.add_argument("--lr-sequence", type=float, default=6e-6)
    parser.add_argument("--lr-mapping", type=float, default=1e-4)
    parser.add_argument("--patience", type=int, default=6, help="early-stopping patience")
    parser.add_argument("--plateau-patience", type=int, default=3)
    parser.add_argument("--shuffle", action="store_true", help="shuffle (paper: fixed order)")
    parser.add_argument("--limit", type=int, default=None, help="use the first N training graphs")
    parser.add_argument("--steps-per-execution", type=int, default=32)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tensorboard", action="store_true")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))


def train_from_args(args: argparse.Namespace) -> dict:
    """Runs training as configured by ``args``; returns the summary written to the log."""
    from qaoa_meta.cli_checks import check_train

    check_train(args)  # numbers and the dataset file, before TensorFlow loads
    from qaoa_meta._tf import keras, tf
    from qaoa_meta.meta import (
        ConvergenceStop,
        JsonHistory,
        MetaConfig,
        MetaOptimizer,
        PlateauScheduler,
        make_dataset,
    )
    from qaoa_meta.problems import load_paper_dataset

    for name in ("epochs", "batch_size", "steps_per_execution"):
        if getattr(args, name) < 1:
            raise ValueError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}.")
    dataset_path = pathlib.Path(args.dataset)
    data = load_paper_dataset(dataset_path)
    train = data.train[: args.limit] if args.limit else data.train
    keras.utils.set_random_seed(args.seed)
    config = MetaConfig(
        model=args.model,
        variant=args.variant,
        p=args.p,
        steps=args.steps,
        loss=args.loss,
        mapping=args.mapping,
        graph_features=args.graph_features,
        backend=args.backend,
        hidden=args.hidden,
        seed=args.seed,
    )
    output = pathlib.Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    (output / "config.json").write_text(config.to_json())
    model = MetaOptimizer(config)
    model.compile(
        lr_sequence=args.lr_sequence,
        lr_mapping=args.lr_mapping,
        steps_per_execution=args.steps_per_execution,
    )
    train_ds = make_dataset(train, config, args.batch_size, shuffle=args.shuffle, seed=args.seed)
    val_ds = make_dataset(data.val, config, batch_size=len(data.val))
    run_info = {
        "command": "train",
        "config": json.loads(config.to_json()),
        "dataset": str(dataset_path),
        "train_graphs": len(train),
        "val_graphs": len(data.val),
        "batch_size": args.batch_size,
        "lr_sequence": args.lr_sequence,
        "lr_mapping": args.lr_mapping,
        "versions": {"tensorflow": tf.__version__, "python": platform.python_version()},
    }
    callbacks = [
        keras.callbacks.BackupAndRestore(str(output / "backup")),
        PlateauScheduler(patience=args.plateau_patience, verbose=args.verbose),
        keras.callbacks.ModelCheckpoint(
            str(output / "best" / "weights"), save_weights_only=True, save_best_only=True
        ),
        keras.callbacks.EarlyStopping(patience=args.patience, restore_best_weights=True),
        ConvergenceStop("loss", 1e-5),
        JsonHistory(output / "log.json", run_info),
    ]
    if args.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(output / "tensorboard")))
    start = time.perf_counter()
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=args.epochs,
        callbacks=callbacks,
        verbose=args.verbose,
    )
    seconds = time.perf_counter() - start
    model.save_model(output / "final")  # best weights (EarlyStopping restores them)
    (output / "best" / "config.json").write_text(config.to_json())
    log_path = output / "log.json"
    log = json.loads(log_path.read_text()) if log_path.exists() else {"epochs": []}
    val = history.history.get("val_loss", [])
    log["summary"] = {
        "epochs_run": len(history.history.get("loss", [])),
        "train_seconds": seconds,
        "best_val_loss": min(val) if val else None,
        "final_model": str(output / "final"),
    }
    log_path.write_text(json.dumps(log, indent=2))
    return log


def run_train(args: argparse.Namespace) -> int:
    summary = train_from_args(args)["summary"]
    print(json.dumps(summary, indent=2))
    return 0


def run_models(args: argparse.Namespace) -> int:
    """Prints count_params() of every model and variant beside the paper's counts."""
    from qaoa_meta.cells import model_spec
    from qaoa_meta.meta import MetaConfig, MetaOptimizer

    print(
        f"{'model':8} {'variant':7} {'sequence':>8} {'trainable':>9} {'mapping':>7} {'total':>6}  paper (p=1)"
    )
    for name in MODELS:
        spec = model_spec(name)
        for variant in VARIANTS:
            model = MetaOptimizer(MetaConfig(model=name, variant=variant, p=args.p))
            cell = model.cell.count_params()
            trainable = sum(int(w.shape.num_elements()) for w in model.cell.trainable_weights)
            head = model.mapping.count_params()
            paper = f"{spec.paper_sequence_params} + {spec.paper_mapping_params} mapping"
            print(
                f"{name:8} {variant:7} {cell:8d} {trainable:9d} {head:7d} {model.count_params():6d}  {paper}"
            )
    return 0
