"""``qaoa-meta noise-study``: learned and classical initialisations under scaled device noise."""

from __future__ import annotations

import argparse
import dataclasses
import json

from qaoa_meta import initializer_names
from qaoa_meta.cli.errors import UserError, user_input
from qaoa_meta.cli.sweep import add_sweep_options, sweep_options

# qaoa_meta.studies.noise_study (TensorFlow) is imported in the functions that use it:
# `qaoa-meta --help` imports every sub-command module, and it must stay fast and TF-free.


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x.strip())


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x.strip())


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Registers the ``noise-study`` sub-command.

    Args: as :meth:`CommandModule.add_parser`.
    """
    parser = subparsers.add_parser(
        "noise-study",
        help="AR vs shots of initialisers under scaled weber noise (resumable sweep)",
        description="Fits the classical initialisers and loads (or trains) the paper's four "
        "meta-learners, then runs the grid n x p x noise scale x shots x initialiser x seed on "
        "a compiled, noisy, shot-sampled device; writes summary.md/csv, PNG plots and "
        "run_record.json. Defaults: the reduced study; --full for the full grid (6,480 cells). "
        "Lists are comma-separated.",
    )
    parser.add_argument("--output", default="runs/noise_study")
    parser.add_argument("--full", action="store_true", help="start from the full grid")
    parser.add_argument("--n", type=_ints, default=None, help="problem sizes, e.g. 8,10,12")
    parser.add_argument("--p", type=_ints, default=None, help="QAOA depths, e.g. 1,2,3")
    parser.add_argument("--noise-scales", type=_floats, default=None, help="e.g. 0,0.25,0.5,1,2")
    parser.add_argument("--shots", type=_ints, default=None, help="shots per evaluation")
    parser.add_argument(
        "--initializers",
        default=None,
        help=f"subset of {initializer_names.listing(initializer_names.STUDY)}; a learned name "
        f"+ {initializer_names.NOISE_AWARE_SUFFIX!r} adds its noise-aware copy",
    )
    parser.add_argument(
        "--trajectories", type=int, default=None, help="noise groups per evaluation"
    )
    parser.add_argument("--models", default=None, help="directory of trained meta-learners")
    parser.add_argument(
        "--no-train",
        action="store_true",
        help="use the meta-learners already in --models instead of training missing ones",
    )
    parser.add_argument("--seeds", type=int, default=None, help="instances (seeds 0..N-1)")
    parser.add_argument("--iterations", type=int, default=None, help="SPSA iterations")
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--noise", default=None, help="base noise model scaled by --noise-scales (default weber)"
    )
    parser.add_argument("--mitigate-readout", action="store_true")
    parser.add_argument("--figures", default=None, help="where PNGs go (default: --output)")
    add_sweep_options(parser)
    parser.set_defaults(func=_main)


def study_from_args(args: argparse.Namespace):
    """The :class:`StudyConfig` the arguments describe.

    Starts from the reduced (or, with ``--full``, the full) study and replaces every field
    whose option was given.

    Args:
        args: the parsed ``noise-study`` arguments.

    Returns:
        The study configuration.

    Raises:
        UserError: for ``--seeds`` < 1 or values :class:`StudyConfig` refuses.
    """
    from qaoa_meta.studies.noise_study import FULL_STUDY, REDUCED_STUDY

    study = FULL_STUDY if args.full else REDUCED_STUDY
    changes = {
        "ns": args.n,
        "ps": args.p,
        "noise_scales": args.noise_scales,
        "shots": args.shots,
        "iterations": args.iterations,
        "device": args.device,
        "noise": args.noise,
        "trajectories": args.trajectories,
        "models": args.models,
    }
    if args.initializers:
        changes["initializers"] = tuple(x.strip() for x in args.initializers.split(","))
    if args.seeds is not None:
        if args.seeds < 1:
            raise UserError(f"--seeds must be >= 1, got {args.seeds}.")
        changes["seeds"] = tuple(range(args.seeds))
    if args.mitigate_readout:
        changes["mitigate_readout"] = True
    if args.no_train:
        changes["train_models"] = False
    with user_input():
        return dataclasses.replace(study, **{k: v for k, v in changes.items() if v is not None})


def _main(args: argparse.Namespace) -> int:
    from qaoa_meta.studies.noise_study import check_saved_models, run_study

    study = study_from_args(args)
    if not study.train_models:
        with user_input("--no-train"):  # before minutes of fitting, not in every cell
            check_saved_models(study)
    result = run_study(study, args.output, figures=args.figures, **sweep_options(args))
    print(json.dumps({"sweep": result["sweep"], "paths": result["paths"]}, indent=1))
    print(open(result["paths"]["table"]).read())
    return 0 if result["cells_failed"] == 0 else 1
