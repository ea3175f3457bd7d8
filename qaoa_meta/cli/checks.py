"""Checks of every sub-command's arguments and input files, run before anything heavy loads.

:func:`check` is called by :func:`qaoa_meta.cli.main` after argument parsing and before the
sub-command itself, so a bad number, a missing or malformed file, an impossible size or a bad
noise specification is reported in well under a second as one line (exit code 2), before
TensorFlow or Cirq are imported. This module imports only the standard library,
:mod:`qaoa_meta.cli.names` (the name tables), :mod:`qaoa_meta.initializer_names` (the
initialiser registry), :mod:`qaoa_meta.problems` (NumPy; networkx only when a graph is built
from or to networkx) and :mod:`qaoa_meta.sweep` (the sweep configuration, without Ray or
TensorFlow); tests/cli/test_cli_checks.py keeps the tables and the simulators' memory
estimates equal to the library's.
"""

from __future__ import annotations

import argparse
import json
import math
import pathlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from qaoa_meta import initializer_names
from qaoa_meta.cli.errors import UserError, one_line, user_input
from qaoa_meta.cli.names import (
    DEVICE_GATESETS,
    DEVICE_QUBITS,
    EVALUATE_METHODS,
    FITTED,
    MODELS,
    NOISE_AWARE_SUFFIX,
    NOISE_PARTS,
    NOISE_STUDY_INITIALIZERS,
    VARIANTS,
)
from qaoa_meta.problems import MAX_BRUTE_FORCE_NODES, MaxCutProblem, load_paper_dataset
from qaoa_meta.sweep import SweepConfig
from qaoa_meta.system import available_memory

NOISE_EXAMPLE = "e.g. 'weber', 'depolarizing:0.001,0.01+readout:0.02,0.05*2' or 'thermal:20,30'"

PROBLEM_HINT = (
    "make one with e.g. `qaoa-meta problem regular --n 8 --d 3 --seed 1 --out graph.json`"
)
RECORD_HINT = "pass a run record written by `qaoa-meta evaluate --out runs/record.json`"


# --- building blocks ----------------------------------------------------------------------
def finite(value: float, option: str) -> float:
    """Refuses NaN and ±inf.

    Args:
        value: the option's value.
        option: the option's name, for the message (e.g. ``"--lr"``).

    Returns:
        ``value`` unchanged.

    Raises:
        UserError: when ``value`` is not finite.
    """
    if not math.isfinite(value):
        raise UserError(f"{option} must be a finite number, got {value}.")
    return value


def at_least(value: int | float | None, option: str, low: float, unit: str = "") -> None:
    """Refuses ``value < low`` (and NaN); ``None`` (option not given) passes.

    Args:
        value: the option's value, or None.
        option: the option's name, for the message.
        low: the smallest allowed value.
        unit: appended to ``low`` in the message (e.g. ``" s"``).

    Raises:
        UserError: when ``value < low``, or a float ``value`` is not finite.
    """
    if value is None:
        return
    if isinstance(value, float):
        finite(value, option)
    if value < low:
        raise UserError(f"{option} must be >= {low:g}{unit}, got {value:g}.")


def positive(value: float | None, option: str) -> None:
    """Refuses ``value <= 0``, NaN and inf; ``None`` passes.

    Args:
        value: the option's value, or None.
        option: the option's name, for the message.

    Raises:
        UserError: when ``value`` is not finite or not positive.
    """
    if value is None:
        return
    finite(value, option)
    if value <= 0:
        raise UserError(f"{option} must be > 0, got {value:g}.")


def existing_file(path: str, what: str, hint: str) -> pathlib.Path:
    """The path of an existing regular file; otherwise an error saying how to make one.

    Args:
        path: the file's path as given.
        what: what the file is, starting the message (e.g. ``"Problem file"``).
        hint: how to make one, ending the message.

    Returns:
        ``path`` as a :class:`pathlib.Path`.

    Raises:
        UserError: when ``path`` is a directory or does not exist.
    """
    file = pathlib.Path(path)
    if file.is_dir():
        raise UserError(f"{what} {path!r} is a directory, not a file; {hint}.")
    if not file.is_file():
        raise UserError(f"{what} {path!r} does not exist; {hint}.")
    return file


def read_json(path: str, what: str, hint: str) -> Any:
    """Parsed JSON of an existing file; a truncated or non-JSON file names itself.

    Args:
        path: the file's path as given.
        what: what the file is, starting the message.
        hint: how to make a good one, ending the message.

    Returns:
        The parsed JSON value.

    Raises:
        UserError: as :func:`existing_file`, or when the file is not valid UTF-8 JSON.
    """
    file = existing_file(path, what, hint)
    try:
        return json.loads(file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UserError(
            f"{what} {path!r} is not valid JSON ({error}); it may be truncated; {hint}."
        ) from None


def problem_file(path: str):
    """A :class:`MaxCutProblem` from a file (clear errors for every malformed one).

    Args:
        path: the problem JSON file.

    Returns:
        The problem.

    Raises:
        UserError: as :func:`read_json`, for JSON that is not an object with ``n`` and
            ``edges``, or for anything :meth:`MaxCutProblem.from_dict` refuses.
    """
    data = read_json(path, "Problem file", PROBLEM_HINT)
    if not isinstance(data, dict) or "n" not in data or "edges" not in data:
        kind = _json_kind(data)
        raise UserError(
            f"Problem file {path!r} is {kind}, not a Max-Cut problem "
            f'{{"n": int, "edges": [[u, v, w], ...]}}; {PROBLEM_HINT}.'
        )
    try:
        return MaxCutProblem.from_dict(data)
    except (TypeError, ValueError) as error:
        raise UserError(f"Problem file {path!r}: {error}") from None


def dataset_file(path: str, need_val: bool = False):
    """A :class:`PaperDataset` from a file; ``need_val`` refuses an empty validation split.

    Args:
        path: the dataset JSON file.
        need_val: also require a validation graph and a training graph with an edge (what
            training needs).

    Returns:
        The dataset.

    Raises:
        UserError: for a missing or malformed file, or (with ``need_val``) an empty
            validation split or no training graph with an edge.
    """
    with user_input():
        data = load_paper_dataset(path)
    if need_val and not data.val:
        raise UserError(
            f"Dataset {path!r} has an empty 'val_data' split; training needs at least one "
            "validation graph: rebuild it with `qaoa-meta dataset --val-graphs 5 --out ...`."
        )
    if need_val and not any(pr.num_edges for pr in data.train):
        raise UserError(
            f"Dataset {path!r} has no training graph with an edge in 'train_data'; "
            "rebuild it with `qaoa-meta dataset --out ...`."
        )
    return data


def _json_kind(data: Any) -> str:
    if isinstance(data, dict):
        kind = data.get("type")
        if kind:
            return f"a {kind} file"
        return f"a JSON object with keys {sorted(data)[:6]}"
    return f"a JSON {type(data).__name__}"


def device_qubits(spec: str, gateset: str | None = None) -> int:
    """Qubits of a device specification (named, ``grid:RxC``, ``line:N``), checked cheaply.

    Args:
        spec: the ``--device`` value (case and surrounding spaces ignored).
        gateset: the ``--gateset`` value, checked against a named device's gate sets; None
            to skip (it is not checked for grids and lines).

    Returns:
        The device's qubit count.

    Raises:
        UserError: for a malformed grid (a side < 1) or line (N < 2), an unknown device
            name, or a gate set the named device lacks.
    """
    key = spec.strip().lower()
    if key.startswith("grid:"):
        match = re.fullmatch(r"grid:(\d+)x(\d+)", key)
        if not match or min(int(match[1]), int(match[2])) < 1:
            raise UserError(f"--device grid must look like 'grid:3x4', got {spec!r}.")
        return int(match[1]) * int(match[2])
    if key.startswith("line:"):
        match = re.fullmatch(r"line:(\d+)", key)
        if not match or int(match[1]) < 2:
            raise UserError(f"--device line must look like 'line:8' (N >= 2), got {spec!r}.")
        return int(match[1])
    if key not in DEVICE_QUBITS:
        raise UserError(
            f"--device: unknown device {spec!r}; expected one of {', '.join(DEVICE_QUBITS)}, "
            "'grid:RxC' or 'line:N'."
        )
    if gateset is not None and gateset not in DEVICE_GATESETS[key]:
        raise UserError(
            f"--device {key} has no {gateset!r} gate set; choose --gateset from "
            f"{', '.join(DEVICE_GATESETS[key])}."
        )
    return DEVICE_QUBITS[key]


def noise_spec(spec: str | None, option: str = "--noise") -> None:
    """Checks a noise specification's grammar and numbers (finite) without importing Cirq.

    Args:
        spec: the noise specification (e.g. ``"depolarizing:0.001,0.01+readout:0.02,0.03*2"``);
            None, empty or ``"none"`` passes.
        option: the option's name, for the messages.

    Raises:
        UserError: for a scale after ``*`` that is not a finite number >= 0, an unknown part
            or wrong number of arguments, a non-finite or non-numeric argument, or a Google
            calibration model (``rainbow``, ``weber``) joined with other parts.
    """
    if spec is None or spec.strip().lower() in ("", "none"):
        return
    text = spec.strip().lower()
    if "*" in text:
        text, _, factor = text.rpartition("*")
        try:
            value = float(factor)
        except ValueError:
            raise UserError(
                f"{option}: the scale after '*' must be a number, got {factor!r}; {NOISE_EXAMPLE}."
            ) from None
        if not math.isfinite(value) or value < 0:
            raise UserError(
                f"{option}: the scale after '*' must be a finite number >= 0, got {factor!r}."
            )
    parts = [part.strip() for part in text.split("+") if part.strip()]
    if not parts:
        raise UserError(f"{option} {spec!r} names no noise; {NOISE_EXAMPLE}.")
    for part in parts:
        name, _, args = part.partition(":")
        if name not in NOISE_PARTS or len(args.split(",") if args else []) != NOISE_PARTS[name]:
            raise UserError(
                f"{option}: unknown noise part {part!r}; expected 'none', 'rainbow', 'weber', "
                "'depolarizing:P1,P2', 'thermal:T1_US,T2_US' or 'readout:P01,P10' joined by "
                f"'+'; {NOISE_EXAMPLE}."
            )
        for number in args.split(",") if args else []:
            try:
                value = float(number)
            except ValueError:
                raise UserError(
                    f"{option}: noise part {part!r} needs numbers, got {number!r}."
                ) from None
            if not math.isfinite(value):
                raise UserError(
                    f"{option}: noise part {part!r} has {number.strip()!r}; every number must "
                    "be finite."
                )
    if len(parts) > 1 and any(NOISE_PARTS[p.partition(":")[0]] == 0 for p in parts):
        raise UserError(f"{option}: the Google calibration model cannot be combined with others.")


def angles(text: str | None, p: int) -> None:
    """``--params``: 2p finite comma-separated numbers.

    Args:
        text: the ``--params`` value, or None (not given; passes).
        p: QAOA depth.

    Raises:
        UserError: for a non-number, a count other than 2p, or a non-finite number.
    """
    if text is None:
        return
    try:
        values = [float(x) for x in text.split(",")]
    except ValueError:
        raise UserError(f"--params must be comma-separated numbers, got {text!r}.") from None
    if len(values) != 2 * p:
        raise UserError(
            f"--params needs 2p = {2 * p} numbers (gamma_1..gamma_p, beta_1..beta_p), "
            f"got {len(values)}."
        )
    bad = [x for x in values if not math.isfinite(x)]
    if bad:
        raise UserError(f"--params must be finite numbers, got {bad[0]} in {text!r}.")


def simulation_bytes(n_qubits: int, method: str) -> int:
    """Literal copy of :func:`hardware.simulate.memory_estimate` (all qubits read out).

    Args:
        n_qubits: qubits simulated.
        method: ``"density_matrix"``, ``"sampling"``, or another simulation method
            (state vector plus per-outcome tables).

    Returns:
        The estimated bytes.
    """
    if method == "density_matrix":
        return 2 * 16 * 4**n_qubits
    state = 16 * 2**n_qubits
    return state if method == "sampling" else state + (8 * n_qubits + 16) * 2**n_qubits


def _size(n_bytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n_bytes < 1024:
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.3g} PiB"


# --- per command --------------------------------------------------------------------------
def _hardware(args: argparse.Namespace, simulate: bool) -> None:
    at_least(args.p, "--p", 1)
    angles(args.params, args.p)
    qubits = device_qubits(args.device, args.gateset)
    problem = problem_file(args.problem)
    if problem.n > qubits:
        raise UserError(
            f"the circuit needs {problem.n} qubits (one per node) but device {args.device!r} "
            f"has only {qubits}; choose a larger device (e.g. line:{problem.n}) or a smaller "
            "problem."
        )
    if not simulate:
        return

    if args.params is None:
        raise UserError(
            f"simulate needs numbers for the angles: pass --params with 2p = {2 * args.p} values."
        )
    noise_spec(args.noise)
    if args.method == "exact" and args.noise.strip().lower() not in ("", "none"):
        raise UserError("--method exact is noiseless; drop --noise or choose another method.")
    at_least(args.shots, "--shots", 1)
    at_least(args.repetitions, "--repetitions", 1)
    if all(w <= 0 for _, _, w in problem.edges):
        what = "has no edges" if problem.num_edges == 0 else "has no positive edge weight"
        raise UserError(
            f"Problem file {args.problem!r} {what}: its max cut is 0, so the approximation "
            "ratio (energy / max cut) is undefined; add edges with positive weights."
        )
    need = simulation_bytes(problem.n, args.method)
    available = available_memory()
    if available is not None and need > available:
        raise UserError(
            f"Simulating n = {problem.n} qubits with --method {args.method} needs about "
            f"{_size(need)} of memory but {_size(available)} is available; "
            "simulate a smaller problem"
            + ("" if args.method == "sampling" else " or use --method sampling")
            + "."
        )
    if problem.n > MAX_BRUTE_FORCE_NODES:
        raise UserError(
            f"simulate reports the approximation ratio against the exact max cut, limited to "
            f"n <= {MAX_BRUTE_FORCE_NODES} nodes; got n = {problem.n}."
        )


def check_train(args: argparse.Namespace) -> None:
    """``train`` (and scripts/train.py): run by :func:`cli_train.train_from_args` itself.

    Args:
        args: the parsed ``train`` arguments.

    Raises:
        UserError: for a count option below 1, or a dataset :func:`dataset_file` refuses
            with ``need_val=True``.
    """
    for name in ("epochs", "batch_size", "p", "steps", "steps_per_execution", "limit", "hidden"):
        at_least(getattr(args, name, None), f"--{name.replace('_', '-')}", 1)
    dataset_file(args.dataset, need_val=True)


def _evaluate(args: argparse.Namespace) -> None:

    def resolved(name: str) -> str:
        return initializer_names.ALIASES.get(name, name)

    unknown = [name for name in args.methods if resolved(name) not in EVALUATE_METHODS]
    if unknown:
        raise UserError(
            f"Unknown --methods {unknown}; expected some of "
            f"{initializer_names.listing(EVALUATE_METHODS)} (trained meta-learners go in --model)."
        )
    fitted = [name for name in args.methods if resolved(name) in FITTED]
    if fitted and not args.dataset:
        raise UserError(f"{', '.join(fitted)} is fitted on a training split; pass --dataset.")
    for name in ("p", "max_iter", "max_graphs", "shots"):
        at_least(getattr(args, name), f"--{name.replace('_', '-')}", 1)
    positive(args.lr, "--lr")
    if args.lr is not None and args.optimizer not in ("sgd", "adam"):
        raise UserError(f"--lr applies to sgd/adam, not {args.optimizer}.")
    if args.shots is not None and args.optimizer not in ("cobyla", "nelder-mead", "spsa"):
        raise UserError("--shots needs a gradient-free optimizer (cobyla, nelder-mead, spsa).")
    problems = dataset_file(args.dataset).test if args.dataset else []
    for path in args.problems or []:
        problem = problem_file(path)
        if all(w <= 0 for _, _, w in problem.edges):
            raise UserError(
                f"Problem file {path!r} has no edge with a positive weight: its max cut is 0, so "
                "the approximation ratio is undefined; add edges."
            )
        problems.append(problem)
    if args.sizes and not any(pr.n in args.sizes for pr in problems):
        have = sorted({pr.n for pr in problems})
        raise UserError(f"No problem has n in --sizes {args.sizes}; the problems have n = {have}.")
    for directory in args.model:
        if not pathlib.Path(directory).is_dir():
            raise UserError(
                f"--model {directory!r} is not a directory; pass a trained model directory "
                "such as runs/train/final (written by `qaoa-meta train --output runs/train`)."
            )


def _report(args: argparse.Namespace) -> None:
    positive(args.eps, "--eps")
    data = read_json(args.record, "Run record", RECORD_HINT)
    if (
        not isinstance(data, dict)
        or data.get("type", "RunRecord") != "RunRecord"
        or not isinstance(data.get("config"), dict)
        or not isinstance(data.get("methods"), list)
    ):
        raise UserError(
            f"{args.record!r} is {_json_kind(data)}, not a run record (needs 'config' and "
            f"'methods'); {RECORD_HINT}."
        )
    if not data["methods"] or not all(
        isinstance(m, dict) and m.get("instances") for m in data["methods"]
    ):
        raise UserError(f"Run record {args.record!r} has no instances to report; {RECORD_HINT}.")


def _models(names: Sequence[str], option: str) -> None:

    unknown = [name for name in names if name not in MODELS]
    if unknown:
        raise UserError(f"Unknown {option} {unknown}; expected some of {', '.join(MODELS)}.")


def _reproduce(args: argparse.Namespace) -> None:
    _models(args.models, "--models")
    at_least(args.epochs, "--epochs", 1)
    positive(args.train_budget, "--train-budget")
    at_least(args.max_graphs, "--max-graphs", 1)
    at_least(args.max_train, "--max-train", 1)
    dataset_file(args.dataset, need_val=True)


def _tune(args: argparse.Namespace) -> None:

    _models([args.model], "--model")
    if args.variant not in VARIANTS:
        raise UserError(f"Unknown --variant {args.variant!r}; expected {', '.join(VARIANTS)}.")
    for name in ("samples", "epochs", "batch_size", "threads", "workers", "train_limit", "p"):
        at_least(getattr(args, name), f"--{name.replace('_', '-')}", 1)
    if args.space is not None:
        existing_file(
            args.space, "Search space", "pass a YAML file such as {steps: {choice: [5, 10]}}"
        )
    dataset_file(args.dataset, need_val=True)


def _sweep(args: argparse.Namespace) -> None:
    at_least(args.workers, "--workers", 1)

    with user_input():
        SweepConfig.load(args.config)


def _noise_study(args: argparse.Namespace) -> None:
    for name in ("seeds", "iterations", "workers", "trajectories"):
        at_least(getattr(args, name), f"--{name.replace('_', '-')}", 1)
    for name in ("n", "p", "shots"):
        for value in getattr(args, name) or ():
            at_least(value, f"--{name.replace('_', '-')}", 1)
    for value in args.noise_scales or ():
        at_least(value, "--noise-scales", 0)
    if args.initializers:
        chosen = [x.strip() for x in args.initializers.split(",")]
        unknown = []
        for x in chosen:
            try:
                initializer_names.study_name(x)
            except ValueError:
                unknown.append(x)
        if unknown:
            raise UserError(
                f"Unknown --initializers {unknown}; expected some of "
                f"{initializer_names.listing(NOISE_STUDY_INITIALIZERS)} (a learned one may end "
                f"in {NOISE_AWARE_SUFFIX!r})."
            )
    odd = [n for n in args.n or () if n % 2]
    if odd:
        raise UserError(f"--n: 3-regular instances need even n, got {odd}; use e.g. 8,10,12.")
    if args.device is not None:
        device_qubits(args.device)
    if getattr(args, "noise", None) is not None:
        noise_spec(args.noise)


def _models_command(args: argparse.Namespace) -> None:
    at_least(args.p, "--p", 1)


CHECKS: dict[str, Callable[[argparse.Namespace], None]] = {
    "compile": lambda args: _hardware(args, simulate=False),
    "simulate": lambda args: _hardware(args, simulate=True),
    "models": _models_command,
    "evaluate": _evaluate,
    "report": _report,
    "reproduce": _reproduce,
    "tune": _tune,
    "sweep": _sweep,
    "noise-study": _noise_study,
}


def check(args: argparse.Namespace) -> None:
    """Runs the checks of ``args.command`` (if it has any); raises :class:`UserError`.

    Args:
        args: the parsed command line; ``args.command`` selects the checks in ``CHECKS``.

    Raises:
        UserError: for the first bad option or input file found.
    """
    checker = CHECKS.get(getattr(args, "command", None) or "")
    if checker is not None:
        checker(args)


__all__: Sequence[str] = ("CHECKS", "check", "one_line")
