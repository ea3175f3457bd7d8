"""``qaoa-meta train`` (meta-train a sequence model) and ``qaoa-meta models`` (sizes)."""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import platform
import shutil
import signal
import sys

import numpy as np

from qaoa_meta.cli.errors import UserError, user_input
from qaoa_meta.cli.names import MODELS, VARIANTS
from qaoa_meta.fileio import read_json, write_atomic
from qaoa_meta.problems import load_paper_dataset

# TensorFlow and the modules that load it (meta, training, cells) are imported in the commands
# that use them: `qaoa-meta --help` imports every sub-command module, and it must stay fast
# and TensorFlow-free.


def add_parser(subparsers) -> None:
    """Registers the ``train`` and ``models`` sub-commands.

    Args: as :meth:`CommandModule.add_parser`.
    """
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
    """The training options, shared with ``scripts/train.py``.

    Args:
        parser: the parser to add the options to.
    """
    parser.add_argument("--model", choices=MODELS, default="qk-lstm")
    parser.add_argument("--variant", choices=VARIANTS, default="fixed")
    parser.add_argument("--dataset", required=True, help="paper-format datasets.json")
    parser.add_argument(
        "--output",
        default="runs/train",
        help="directory for checkpoints and log; re-running the same command resumes there",
    )
    parser.add_argument(
        "--restart",
        action="store_true",
        help="discard the checkpoint, log and models in --output and train from scratch",
    )
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
    parser.add_argument("--lr-sequence", type=float, default=6e-6, help="cell learning rate")
    parser.add_argument("--lr-mapping", type=float, default=1e-4, help="mapping-head learning rate")
    parser.add_argument("--patience", type=int, default=6, help="early-stopping patience")
    parser.add_argument("--plateau-patience", type=int, default=3)
    parser.add_argument("--shuffle", action="store_true", help="shuffle (paper: fixed order)")
    parser.add_argument("--limit", type=int, default=None, help="use the first N training graphs")
    parser.add_argument("--steps-per-execution", type=int, default=32)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--tensorboard", action="store_true")
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2))


# Learning rates above this warn before training: RMSprop moves every weight by about the
# learning rate per step, and the angles live on a scale of 1 rad.
LARGE_LR = 1.0
KILL_ENV = "QAOA_META_TEST_KILL"  # test hook: "batch:E", "history:E", "checkpoint:E" or "end"


def check_train_args(args: argparse.Namespace) -> None:
    """Argument checks that need no TensorFlow (a bad value fails in well under a second).

    Prints a warning on stderr for a learning rate above ``LARGE_LR``.

    Args:
        args: the parsed ``train`` arguments.

    Raises:
        UserError: for a negative patience, a learning rate that is not a positive finite
            number, or as :func:`qaoa_meta.cli.checks.check_train`.
    """
    for name in ("patience", "plateau_patience"):
        if getattr(args, name) < 0:
            raise UserError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}.")
    for name in ("lr_sequence", "lr_mapping"):
        value = getattr(args, name)
        if not (math.isfinite(value) and value > 0):
            raise UserError(
                f"--{name.replace('_', '-')} must be a positive finite number, got {value}."
            )
        if value > LARGE_LR:
            print(
                f"qaoa-meta train: warning: --{name.replace('_', '-')} {value:g} is far above the "
                f"useful range (<= 0.1): training will likely diverge.",
                file=sys.stderr,
            )
    from qaoa_meta.cli.checks import check_train  # lazy: ~10 ms that --help need not pay

    check_train(args)  # the dataset file: exists, valid, a validation split; says how to make one


def _kill_hook(point: str, epoch: int | None = None) -> None:
    """Test hook: SIGKILLs this process at ``point`` when ``$QAOA_META_TEST_KILL`` names it."""
    wanted = os.environ.get(KILL_ENV)
    if wanted and wanted == (point if epoch is None else f"{point}:{epoch}"):
        os.kill(os.getpid(), signal.SIGKILL)


def _train_dataset(train, config, args, initial_epoch: int):
    """The training batches from ``initial_epoch`` on, and the steps per epoch.

    With ``--shuffle`` the order of epoch e is a pure function of (seed, e), so a resumed run
    sees the same batches as an uninterrupted one (tf.data's reshuffling restarts with the
    process).
    """
    from qaoa_meta._tf import tf
    from qaoa_meta.meta import encode_problems, make_dataset

    if not args.shuffle:
        return make_dataset(train, config, args.batch_size), None
    tensors = {k: tf.constant(v) for k, v in encode_problems(train, config).items()}
    orders = np.stack(
        [
            np.random.default_rng([args.seed, epoch]).permutation(len(train))
            for epoch in range(initial_epoch, max(args.epochs, initial_epoch + 1))
        ]
    )
    batches = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(args.batch_size)
    )
    dataset = batches.map(lambda rows: {k: tf.gather(t, rows) for k, t in tensors.items()})
    return dataset.prefetch(tf.data.AUTOTUNE), math.ceil(len(train) / args.batch_size)


def train_from_args(args: argparse.Namespace) -> dict:
    """Runs (or resumes) training as configured by ``args``; returns the log with its summary.

    Re-running the same command after a crash or a kill resumes from the last completed epoch
    and ends bit-identical to an uninterrupted run (see :func:`qaoa_meta.training.train` and
    :class:`qaoa_meta.training.TrainingCheckpoint`);
    re-running a finished run only reports it. ``--restart`` starts over.

    Args:
        args: the parsed ``train`` arguments (:func:`add_train_arguments`).

    Returns:
        The JSON log written to ``<output>/log.json``, with a ``summary`` entry (epochs run,
        stop reason, best epoch and validation loss, final learning rates, resumed-from
        epoch, training seconds, the ``final`` model directory, and ``diverged`` when the
        training loss rose).

    Raises:
        UserError: for bad arguments, a damaged or mismatched checkpoint or log, a NaN/inf
            meta-loss or gradient, or when no epoch completed.
    """
    check_train_args(args)
    output = pathlib.Path(args.output)
    if args.restart:
        for name in ("checkpoint", "best", "final", "backup"):
            shutil.rmtree(output / name, ignore_errors=True)
        (output / "log.json").unlink(missing_ok=True)

    from qaoa_meta import training
    from qaoa_meta._tf import keras, tf
    from qaoa_meta.meta import MetaConfig, MetaOptimizer, make_dataset
    from qaoa_meta.training import (
        ConvergenceStop,
        JsonHistory,
        PlateauScheduler,
        TrainingCheckpoint,
    )

    with user_input():  # the dataset and the options
        dataset_path = pathlib.Path(args.dataset)
        data = load_paper_dataset(dataset_path)
        train = data.train[: args.limit] if args.limit else data.train
        keras.utils.set_random_seed(args.seed)
        config = MetaConfig.from_options(vars(args))  # --model, --steps, ... --seed
    output.mkdir(parents=True, exist_ok=True)
    write_atomic(output / "config.json", config.to_json())
    model = MetaOptimizer(config)
    model.compile(
        lr_sequence=args.lr_sequence,
        lr_mapping=args.lr_mapping,
        steps_per_execution=args.steps_per_execution,
    )
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
    # What must match for a checkpoint to be resumed (--epochs may grow on a re-run).
    resume_key = {
        **{k: v for k, v in run_info.items() if k != "versions"},
        "shuffle": args.shuffle,
        "limit": args.limit,
        "patience": args.patience,
        "plateau_patience": args.plateau_patience,
        "steps_per_execution": args.steps_per_execution,
    }
    plateau = PlateauScheduler(patience=args.plateau_patience, verbose=args.verbose)
    convergence = ConvergenceStop("loss", 1e-5)
    with user_input():  # a damaged log or checkpoint is one line
        if (output / "log.json").exists():  # read again when training begins; checked here
            read_json(output / "log.json", "delete it or pass --restart")
        history = JsonHistory(output / "log.json", run_info)
        checkpoint = TrainingCheckpoint(
            output / "checkpoint",
            best_dir=output / "best",
            patience=args.patience,
            stateful=[plateau, convergence],
            history=history,
            run_info=resume_key,
            on_commit=lambda epoch: _kill_hook("checkpoint", epoch),
        )
        initial_epoch = checkpoint.restore(model)

    # Test hook, inert unless $QAOA_META_TEST_KILL: mid-epoch, and after the log entry but
    # before the checkpoint commits (the commit's own is on_commit above).
    epoch_now = [0]
    kill_hook = keras.callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: epoch_now.__setitem__(0, epoch + 1),
        on_train_batch_end=lambda batch, logs: _kill_hook("batch", epoch_now[0]),
        on_epoch_end=lambda epoch, logs: _kill_hook("history", epoch + 1),
    )
    callbacks = [kill_hook]
    if args.tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(output / "tensorboard")))
    train_ds = val_ds = steps = None
    if initial_epoch < args.epochs and not checkpoint.stopped:
        train_ds, steps = _train_dataset(train, config, args, initial_epoch)
        val_ds = make_dataset(data.val, config, batch_size=len(data.val))
    try:
        result = training.train(
            model,
            train_ds,
            val_ds,
            epochs=args.epochs,
            plateau=plateau,
            convergence=convergence,
            history=history,
            checkpoint=checkpoint,
            callbacks=callbacks,
            initial_epoch=initial_epoch,
            steps_per_epoch=steps,
            verbose=args.verbose,
        )
    except tf.errors.InvalidArgumentError as error:
        if "NaN" not in str(error):
            raise
        raise UserError(
            f"training diverged in epoch {checkpoint.epochs_done + 1} (NaN/inf meta-loss or "
            f"gradient); lower --lr-sequence/--lr-mapping and pass --restart, or re-run to "
            f"resume from epoch {checkpoint.epochs_done}."
        ) from None
    _kill_hook("end")
    if checkpoint.best_epoch is None:
        raise UserError(f"No epoch completed in {output}; pass --restart.")
    # final/ holds the best weights (the lowest validation loss), as EarlyStopping would.
    best = MetaOptimizer.load_model(output / "best")
    best.save_model(output / "final")
    log_path = output / "log.json"
    with user_input():
        log = read_json(log_path, "delete it or pass --restart") if log_path.exists() else {}
    epochs = log.get("epochs", [])
    reason = "epochs" if result.stopped_by == "epoch cap" else result.stopped_by
    log["summary"] = {
        "epochs_run": checkpoint.epochs_done,
        "stopped_by": reason,
        "best_epoch": checkpoint.best_epoch,
        "best_val_loss": checkpoint.best,
        "final_lr": {k: epochs[-1][k] for k in ("lr_sequence", "lr_mapping") if k in epochs[-1]}
        if epochs
        else {},
        "resumed_from_epoch": initial_epoch,
        "train_seconds": result.train_time_s,
        "final_model": str(output / "final"),
    }
    losses = [e["loss"] for e in epochs if "loss" in e]
    if len(losses) >= 2 and losses[-1] > losses[0] + 0.1 * abs(losses[0]) + 1e-3:
        log["summary"]["diverged"] = True
        print(
            f"qaoa-meta train: warning: training diverged: the training loss rose from "
            f"{losses[0]:.4g} (epoch 1) to {losses[-1]:.4g} (epoch {len(losses)}); lower "
            f"--lr-sequence/--lr-mapping and pass --restart. final/ keeps epoch "
            f"{checkpoint.best_epoch}, the best on validation.",
            file=sys.stderr,
        )
    write_atomic(log_path, json.dumps(log, indent=2))
    return log


def run_train(args: argparse.Namespace) -> int:
    """``qaoa-meta train``: :func:`train_from_args`, then prints the summary as JSON.

    Refuses what :func:`train_from_args` refuses.

    Args: as :meth:`CommandModule.run`.
    """
    summary = train_from_args(args)["summary"]
    print(json.dumps(summary, indent=2))
    return 0


def run_models(args: argparse.Namespace) -> int:
    """Prints count_params() of every model and variant beside the paper's counts.

    The one option is ``--p``.

    Args: as :meth:`CommandModule.run`.
    """
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
