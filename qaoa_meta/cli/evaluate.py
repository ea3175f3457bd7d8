"""``qaoa-meta evaluate``, ``qaoa-meta report`` and ``qaoa-meta reproduce``.

* ``evaluate``: run initialisers through one Phase-II optimiser on the paper's test graphs (or
  problem JSON files) and write a run record.
* ``report``: turn a run record into Markdown/CSV tables and PNG plots.
* ``reproduce``: the paper reproduction (:mod:`qaoa_meta.studies.reproduce`), writing
  ``docs/reproduction.md``.
"""

from __future__ import annotations

import argparse
import pathlib
import time

from qaoa_meta import initializer_names
from qaoa_meta.cli.errors import UserError, user_input
from qaoa_meta.cli.names import EVALUATE_METHODS, FITTED, OPTIMIZER_NAMES
from qaoa_meta.problems import MaxCutProblem, load_paper_dataset

# The library (SciPy, Cirq, TensorFlow) is imported in the commands that use it:
# `qaoa-meta --help` imports every sub-command module, and it must stay fast and TF-free.


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers ``evaluate``, ``report`` and ``reproduce``.

    Args: as :meth:`CommandModule.add_parser`.
    """
    evaluate = subparsers.add_parser(
        "evaluate", help="Run initialisers + a Phase-II optimiser and write a run record (JSON)."
    )
    source = evaluate.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="the paper's datasets.json (test split is used)")
    source.add_argument("--problems", nargs="+", help="problem JSON files (MaxCutProblem.save)")
    evaluate.add_argument("--sizes", type=int, nargs="*", help="keep only these n")
    evaluate.add_argument("--max-graphs", type=int, help="at most this many graphs per n")
    evaluate.add_argument(
        "--methods",
        nargs="+",
        default=["paper-fixed-1", "paper-fixed-2"],
        help=f"initialisers: {initializer_names.listing(EVALUATE_METHODS)} (fitted ones: "
        f"{', '.join(FITTED)}, need --dataset)",
    )
    evaluate.add_argument("--model", nargs="*", default=[], help="trained MetaOptimizer dirs")
    evaluate.add_argument("--optimizer", default="sgd", choices=OPTIMIZER_NAMES)
    evaluate.add_argument("--lr", type=float, help="learning rate (sgd/adam)")
    evaluate.add_argument("--max-iter", type=int, default=300)
    evaluate.add_argument("--shots", type=int, help="shots per energy (cobyla/nelder-mead/spsa)")
    evaluate.add_argument("--p", type=int, default=1)
    evaluate.add_argument("--seed", type=int, default=0)
    evaluate.add_argument("--out", default="runs/record.json")
    evaluate.set_defaults(func=run_evaluate)

    report = subparsers.add_parser("report", help="Tables and plots from a run record.")
    report.add_argument("record", help="run record JSON written by evaluate/reproduce")
    report.add_argument("--out", help="output directory (default: beside the record)")
    report.add_argument("--eps", type=float, default=1e-3, help="target: within eps of optimum")
    report.set_defaults(func=run_report)

    reproduce = subparsers.add_parser(
        "reproduce", help="Reproduce arXiv 2512.05058 (train, evaluate, write the document)."
    )
    reproduce.add_argument("--dataset", required=True, help="the paper's datasets.json")
    reproduce.add_argument("--out", default="runs/reproduction", help="records and models")
    reproduce.add_argument("--doc", default="docs/reproduction.md", help="document to write")
    reproduce.add_argument(
        "--epochs", type=int, default=50, help="epoch cap per model (published: 50)"
    )
    reproduce.add_argument(
        "--train-budget",
        type=float,
        default=None,
        help="wall-time cap per trained model in seconds (default: none, as published; "
        "stacked training runs the full schedule well inside an hour on 2 cores)",
    )
    reproduce.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    reproduce.add_argument("--fixed-seeds", type=int, nargs="*", default=[0])
    reproduce.add_argument("--models", nargs="+", default=["qk-lstm", "qlstm", "lstm", "qfwp"])
    reproduce.add_argument("--sizes", type=int, nargs="+", default=[10, 11, 12, 13, 14])
    reproduce.add_argument("--max-graphs", type=int, help="at most this many test graphs per n")
    reproduce.add_argument("--max-train", type=int, help="at most this many training graphs")
    reproduce.add_argument("--no-extra-optimizers", action="store_true")
    reproduce.set_defaults(func=run_reproduce)


def _optimizer(args):
    from qaoa_meta.optimize import make_optimizer

    kwargs = {"max_iter": args.max_iter}
    if args.lr is not None:
        if args.optimizer not in ("sgd", "adam"):
            raise UserError(f"--lr applies to sgd/adam, not {args.optimizer}.")
        kwargs["lr"] = args.lr
    if args.shots is not None:
        if args.optimizer not in ("cobyla", "nelder-mead", "spsa"):
            raise UserError("--shots needs a gradient-free optimizer (cobyla, nelder-mead, spsa).")
        kwargs["shots"] = args.shots
    return make_optimizer(args.optimizer, **kwargs)


def run_evaluate(args: argparse.Namespace) -> int:
    """``qaoa-meta evaluate``: runs the initialisers and the Phase-II optimiser, prints the summary table and saves the run record.

    Refuses unreadable problems or dataset, no problem left after ``--sizes``/``--max-graphs``,
    a fitted method without ``--dataset``, an unknown method, an unloadable ``--model``
    directory and bad optimiser settings.

    Args: as :meth:`CommandModule.run`.
    """
    from qaoa_meta import initializers as inits
    from qaoa_meta.evaluate import evaluate
    from qaoa_meta.report import markdown_table, summary_rows

    train = None
    with user_input():
        if args.dataset:
            data = load_paper_dataset(args.dataset)
            problems, train = data.test, [pr for pr in data.train if pr.num_edges > 0]
        else:
            problems = [MaxCutProblem.load(path) for path in args.problems]
    if args.sizes:
        problems = [pr for pr in problems if pr.n in args.sizes]
    if args.max_graphs:
        kept, counts = [], {}
        for pr in problems:
            counts[pr.n] = counts.get(pr.n, 0) + 1
            if counts[pr.n] <= args.max_graphs:
                kept.append(pr)
        problems = kept
    if not problems:
        raise UserError("No problems left after --sizes/--max-graphs; widen the selection.")
    methods = {}
    for given in args.methods:
        with user_input():  # an alias (e.g. fixed-angle-table) records its canonical name
            name = initializer_names.canonical(given, EVALUATE_METHODS, "--methods")
        if name in FITTED:
            if train is None:
                raise UserError(f"{given} is fitted on the training split; pass --dataset.")
            methods[name] = inits.fit_initializer(name, train, args.p)
        elif name == "random":
            methods[name] = inits.RandomInitializer(args.seed)
        else:
            methods[name] = inits.make_initializer(name)
    for directory in args.model:
        with user_input(f"--model {directory}"):
            learned = inits.LearnedInitializer(directory)
        methods[learned.name] = learned
    with user_input():
        optimizer = _optimizer(args)
    start = time.perf_counter()
    record = evaluate(
        problems,
        methods,
        optimizer,
        args.p,
        seed=args.seed,
        progress=True,
        config={"command": "evaluate", "optimizer": args.optimizer},
    )
    record.config["wall_time_s"] = time.perf_counter() - start
    path = record.save(args.out)
    print(markdown_table(summary_rows(record, by_size=False)))
    print(f"Wrote {path} ({record.config['wall_time_s']:.1f} s).")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """``qaoa-meta report``: writes :func:`qaoa_meta.report.write_report` for a run record.

    The options are ``record``, ``out`` (default: the record's path without its suffix) and
    ``eps``; refuses a missing or malformed record.

    Args: as :meth:`CommandModule.run`.
    """
    from qaoa_meta.evaluate import RunRecord
    from qaoa_meta.report import write_report

    with user_input():
        record = RunRecord.load(args.record)
    out = pathlib.Path(args.out) if args.out else pathlib.Path(args.record).with_suffix("")
    path = write_report(record, out, eps=args.eps, title=f"Report: {args.record}")
    print(f"Wrote {path} (+ summary.csv and PNG figures in {out}).")
    return 0


def run_reproduce(args: argparse.Namespace) -> int:
    """``qaoa-meta reproduce``: runs :func:`qaoa_meta.studies.reproduce.run` and writes the comparison document.

    Refuses settings :class:`~qaoa_meta.studies.reproduce.ReproductionConfig` refuses,
    ``--epochs`` < 1, ``--train-budget`` <= 0 and an unknown model.

    Args: as :meth:`CommandModule.run`.
    """
    from qaoa_meta.studies import reproduce

    with user_input():
        config = reproduce.ReproductionConfig(
            epochs=args.epochs,
            seeds=tuple(args.seeds),
            fixed_seeds=tuple(args.fixed_seeds),
            models=tuple(args.models),
            test_sizes=tuple(args.sizes),
            max_test_per_size=args.max_graphs,
            max_train=args.max_train,
            extra_optimizers=not args.no_extra_optimizers,
            train_budget_s=args.train_budget,
        )
    if args.epochs < 1 or (args.train_budget is not None and args.train_budget <= 0):
        raise UserError(
            f"--epochs must be >= 1 and --train-budget > 0 seconds, got {args.epochs} and "
            f"{args.train_budget}."
        )
    unknown = set(config.models) - set(reproduce.MODELS)
    if unknown:
        raise UserError(f"Unknown models {sorted(unknown)}; expected some of {reproduce.MODELS}.")
    record = reproduce.run(args.dataset, args.out, config)
    reproduce.write_document(record, args.doc)
    print(
        f"Wrote {args.doc} and {args.out}/record.json in "
        f"{record.config['wall_time_s'] / 60:.1f} min."
    )
    return 0
