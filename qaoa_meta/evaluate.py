"""The evaluation protocol (init → optimise → record), its metrics and run records.

:func:`evaluate` runs every initialiser through the same Phase-II optimiser on the same problems
and returns a :class:`RunRecord` (JSON, with the config, package versions, seeds and the full
per-instance traces) that :mod:`qaoa_meta.report` turns into tables and plots.

Metrics:

* approximation ratio AR = ⟨C⟩ / max-cut after the initialiser and after Phase II;
* iterations and optimiser evaluations until ⟨C⟩ is within ε (relative) of the instance's
  depth-p optimum ⟨C⟩*;
* means with Student-t confidence intervals across instances (:func:`mean_ci`);
* the paper's convergence iteration (:func:`convergence_iteration` on :func:`paper_curve`).
"""

from __future__ import annotations

import dataclasses
import datetime
import gzip
import json
import math
import pathlib
import platform
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.stats

from hardware import serialization
from qaoa_meta.fileio import write_atomic
from qaoa_meta.optimize import Optimizer, OptimizeResult
from qaoa_meta.problems import MaxCutProblem, max_cut

if TYPE_CHECKING:  # initializers loads Cirq and TensorFlow; reading records must not
    from qaoa_meta.initializers import Initializer

SCHEMA_VERSION = 1
PAPER_CONVERGENCE_START = 11
PAPER_CONVERGENCE_TOL = 1e-4


# --- records ------------------------------------------------------------------------------
@dataclasses.dataclass
class InstanceRecord(serialization.Serializable):
    """One problem run through one method.

    Saved inside a run record (:class:`hardware.serialization.Serializable`).

    Attributes:
        problem: the problem.
        max_cut: exact max-cut value.
        optimum: best known depth-p ⟨C⟩* (global for p = 1 unweighted), or None.
        init_params: ``(2p,)`` initial point (textbook convention).
        init_value: ⟨C⟩ at the initial point.
        result: the Phase-II :class:`OptimizeResult` (full trace).
        phase1_values: ⟨C⟩ along the Phase-I trajectory (learned methods), else None; its last
            entry is ⟨C⟩ at ``init_params``.
        phase1_params: ``(T, 2p)`` Phase-I trajectory, else None.
    """

    problem: MaxCutProblem
    max_cut: float
    optimum: float | None
    init_params: np.ndarray
    init_value: float
    result: OptimizeResult
    phase1_values: np.ndarray | None = None
    phase1_params: np.ndarray | None = None

    # Part of a run record (which carries the schema version); arrays read back as float.
    _schema = serialization.Schema(
        write_version=False,
        decode={
            name: serialization.array(float)
            for name in ("init_params", "phase1_values", "phase1_params")
        },
    )

    @property
    def ar_init(self) -> float:
        """Approximation ratio at the initial point: ``init_value / max_cut``."""
        return self.init_value / self.max_cut

    @property
    def ar_final(self) -> float:
        """Approximation ratio after Phase II: ``result.value / max_cut``."""
        return self.result.value / self.max_cut

    def _first_within(self, eps: float) -> int | None:
        if self.optimum is None:
            return None
        gap = (self.optimum - np.asarray(self.result.trace_values)) / abs(self.optimum)
        hits = np.flatnonzero(gap <= eps)
        return int(hits[0]) if hits.size else None

    def iterations_to_target(self, eps: float = 1e-3) -> int | None:
        """Phase-II iterations until ⟨C⟩ ≥ (1 − ε)⟨C⟩* (0: the initial point); None if never.

        Args:
            eps: relative tolerance ε.

        Returns:
            The index of the first trace entry within ε of :attr:`optimum`, or None (also
            when the optimum is unknown).
        """
        return self._first_within(eps)

    def evaluations_to_target(self, eps: float = 1e-3) -> int | None:
        """Optimiser evaluations (energies + gradients) spent until within ε; None if never.

        Args:
            eps: relative tolerance ε.

        Returns:
            The cumulative cost at the first trace entry within ε (0 for the initial point),
            or None when never reached, the optimum is unknown or the result has no
            ``trace_evaluations``.
        """
        k = self._first_within(eps)
        if k is None:
            return None
        costs = self.result.trace_evaluations
        if costs is None:
            return None
        return int(costs[k]) if k > 0 else 0


@dataclasses.dataclass
class MethodRecord(serialization.Serializable):
    """All instances of one method (initialiser + optimiser).

    Saved inside a run record (:class:`hardware.serialization.Serializable`).

    Attributes:
        name: the method's label.
        initializer: the initialiser's :meth:`~qaoa_meta.initializers.Initializer.config`.
        optimizer: the optimiser's :meth:`~qaoa_meta.optimize.Optimizer.config`.
        instances: one :class:`InstanceRecord` per problem, in problem order.
        wall_time_s: wall time of the method (initialisation and Phase II).
        group: optional label shared by methods of one group (e.g. a training seed).
    """

    name: str
    initializer: dict[str, Any]
    optimizer: dict[str, Any]
    instances: list[InstanceRecord]
    wall_time_s: float = 0.0
    group: str | None = None

    _schema = serialization.Schema(write_version=False)


def package_versions() -> dict[str, str]:
    """Versions of Python and the numerical packages a record depends on.

    Returns:
        ``{package: version}``; packages that are not installed are left out.
    """
    versions = {"python": platform.python_version()}
    for package in ("qaoa-meta", "numpy", "scipy", "tensorflow", "tensorflow-quantum", "cirq"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


@dataclasses.dataclass
class RunRecord(serialization.Serializable):
    """A full evaluation: config, versions, seeds and one :class:`MethodRecord` per method.

    Saved with its ``type`` and ``schema_version``
    (:class:`hardware.serialization.Serializable`); a record without ``schema_version`` is
    version 1, and one without ``seeds``, ``versions`` or ``created`` reads them as empty.

    Attributes:
        config: the run's settings (``p``, ``n_problems`` and any extra entries).
        methods: one :class:`MethodRecord` per method.
        seeds: the seeds used (``optimizer``).
        versions: :func:`package_versions` at creation.
        created: UTC creation time, ISO 8601.
        schema_version: the record schema (:data:`SCHEMA_VERSION`).
    """

    config: dict[str, Any]
    methods: list[MethodRecord]
    seeds: dict[str, Any] = dataclasses.field(default_factory=dict)
    versions: dict[str, str] = dataclasses.field(default_factory=package_versions)
    created: str = dataclasses.field(
        default_factory=lambda: datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    )
    schema_version: int = SCHEMA_VERSION

    # A loaded record keeps what it says: missing versions and creation time stay empty
    # instead of taking the reader's (the dataclass defaults describe a new record).
    _schema = serialization.Schema(
        version=SCHEMA_VERSION,
        tag=("type", "RunRecord"),
        defaults={"versions": dict, "created": str},
    )

    def method(self, name: str) -> MethodRecord:
        """The method record called ``name``.

        Args:
            name: the method's label.

        Returns:
            The first :class:`MethodRecord` with that name.

        Raises:
            KeyError: when there is none (the message lists the names).
        """
        for method in self.methods:
            if method.name == name:
                return method
        raise KeyError(f"No method {name!r} in this record; have {[m.name for m in self.methods]}.")

    def extend(self, other: RunRecord) -> None:
        """Appends the methods of another record (same problems and depth).

        Nothing is checked: the caller makes sure the records match.

        Args:
            other: the record whose methods to append.
        """
        self.methods.extend(other.methods)

    def save(self, path: str | pathlib.Path) -> pathlib.Path:
        """Writes the record as JSON (gzip-compressed when ``path`` ends in ``.gz``).

        The file is written atomically.

        Args:
            path: destination file.

        Returns:
            The path written.
        """
        text = self.to_json()
        if str(path).endswith(".gz"):
            return write_atomic(path, gzip.compress(text.encode(), mtime=0))
        return write_atomic(path, text)

    @classmethod
    def load(cls, path: str | pathlib.Path) -> RunRecord:
        """Reads a record written by :meth:`save` (``.json`` or ``.json.gz``).

        Args:
            path: the file; a ``.gz`` suffix means gzip.

        Returns:
            The run record.

        Raises:
            FileNotFoundError: when the file does not exist.
            ValueError: when it is not a (gzipped) JSON run record, or has another schema
                version.
        """
        path = pathlib.Path(path)
        if not path.exists():
            raise FileNotFoundError(f"Run record {str(path)!r} does not exist.")
        try:
            if path.suffix == ".gz":
                return cls.from_json(gzip.decompress(path.read_bytes()).decode())
            return cls.from_json(path.read_text())
        except (json.JSONDecodeError, gzip.BadGzipFile, EOFError) as error:
            raise ValueError(f"{str(path)!r} is not a JSON run record: {error}.") from None


# --- the protocol -------------------------------------------------------------------------
def reference_values(
    problems: Sequence[MaxCutProblem], p: int, optima: bool = True
) -> tuple[list[float], list[float | None]]:
    """Exact max-cut values and (if ``optima``) depth-p optima ⟨C⟩* of the problems.

    Args:
        problems: the problems.
        p: QAOA depth.
        optima: compute the optima (slow); else they are None.

    Returns:
        ``(cuts, optima)``, one entry per problem.

    Raises:
        ValueError: for a problem too large for brute-force max-cut.
    """
    # Imported here: optima loads Cirq, and records are read (reports) without Cirq or TF.
    from qaoa_meta.optima import instance_optimum

    cuts = [max_cut(problem).value for problem in problems]
    best = [instance_optimum(problem, p)[1] if optima else None for problem in problems]
    return cuts, best


def evaluate(
    problems: Sequence[MaxCutProblem],
    methods: Mapping[str, Initializer],
    optimizer: Optimizer,
    p: int = 1,
    *,
    seed: int = 0,
    optima: bool = True,
    references: tuple[Sequence[float], Sequence[float | None]] | None = None,
    config: Mapping[str, Any] | None = None,
    group: str | None = None,
    progress: bool = False,
) -> RunRecord:
    """Runs each initialiser through ``optimizer`` on ``problems`` and records everything.

    Args:
        problems: the problems (unweighted or weighted, n ≤ 26).
        methods: label → initialiser.
        optimizer: the Phase-II optimiser (shared by all methods).
        p: QAOA depth.
        seed: seed of stochastic optimisers (shots, SPSA).
        optima: compute each instance's depth-p optimum (for ε-targets).
        references: precomputed (max-cuts, optima) to skip recomputing them.
        config: extra entries stored in the record's config.
        group: optional label stored with every method (e.g. the training seed).
        progress: tqdm progress bars.

    Returns:
        The :class:`RunRecord`, one :class:`MethodRecord` per method in ``methods`` order.

    Raises:
        ValueError: for no problems, a problem with a non-positive max cut (edgeless), or
            what the initialisers and the optimiser refuse.
    """
    problems = list(problems)
    if not problems:
        raise ValueError("evaluate() needs at least one problem.")
    cuts, best = references or reference_values(problems, p, optima)
    if any(cut <= 0 for cut in cuts):
        raise ValueError("Every problem needs a positive max-cut (drop edgeless graphs).")
    records = []
    for name, initializer in methods.items():
        start = time.perf_counter()
        init = initializer.batch(problems, p)
        phase1 = initializer.phase1(problems, p)
        results = optimizer.run(problems, init, seed=seed, progress=progress)
        instances = []
        for i, (problem, result) in enumerate(zip(problems, results, strict=True)):
            instances.append(
                InstanceRecord(
                    problem=problem,
                    max_cut=float(cuts[i]),
                    optimum=None if best[i] is None else float(best[i]),
                    init_params=np.asarray(init[i], float),
                    init_value=float(result.trace_values[0]),
                    result=result,
                    phase1_values=None if phase1 is None else np.asarray(phase1.values[i]),
                    phase1_params=None if phase1 is None else np.asarray(phase1.theta[i]),
                )
            )
        records.append(
            MethodRecord(
                name=name,
                group=group,
                initializer=initializer.config(),
                optimizer=optimizer.config(),
                instances=instances,
                wall_time_s=time.perf_counter() - start,
            )
        )
    run_config = {"p": p, "n_problems": len(problems), **dict(config or {})}
    return RunRecord(config=run_config, methods=records, seeds={"optimizer": seed})


# --- metrics ------------------------------------------------------------------------------
def approximation_ratio(value: float | np.ndarray, cut: float | np.ndarray) -> np.ndarray:
    """⟨C⟩ / max-cut.

    Args:
        value: ⟨C⟩ (scalar or array).
        cut: the max-cut value(s), broadcast against ``value``.

    Returns:
        The ratio as a float array.
    """
    return np.asarray(value, float) / np.asarray(cut, float)


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> tuple[float, float]:
    """Mean and the half-width of its Student-t confidence interval (0 for one value).

    Args:
        values: the values; None and non-finite entries are dropped.
        confidence: the confidence level.

    Returns:
        ``(mean, half_width)``; both NaN when no value is left.
    """
    data = np.asarray([v for v in values if v is not None and np.isfinite(v)], float)
    if data.size == 0:
        return math.nan, math.nan
    if data.size == 1:
        return float(data[0]), 0.0
    sem = data.std(ddof=1) / math.sqrt(data.size)
    return float(data.mean()), float(sem * scipy.stats.t.ppf(0.5 + confidence / 2, data.size - 1))


def paper_curve(instance: InstanceRecord) -> np.ndarray:
    """The instance's relative-error curve as the paper's evaluation builds it.

    Relative error of the PennyLane cost y = −⟨C⟩ to the optimal cut: |y − y*| / |y*| with
    y* = −max-cut (i.e. 1 − AR). Without Phase I it is the paper's Phase-II ``cost_history``
    (:meth:`OptimizeResult.paper_history`, the initial cost listed twice) from t = 0. With a
    Phase I of T steps, steps 1..T−1 come first and the Phase-II history starts at t = T−1
    (its first entry is the cost of the last Phase-I point), so Phase II's first move is t = T+1.

    Args:
        instance: the instance record.

    Returns:
        The relative errors, one per step.
    """
    history = instance.result.paper_history()
    if instance.phase1_values is not None:
        history = np.concatenate([-np.asarray(instance.phase1_values[:-1], float), history])
    target = -instance.max_cut
    return np.abs(history - target) / abs(target)


def mean_curve(curves: Sequence[np.ndarray], length: int | None = None) -> np.ndarray:
    """Mean of curves of different lengths, each held at its final value after it ends.

    Args:
        curves: the curves (at least one, none empty).
        length: output length (default: the longest curve); longer curves are cut.

    Returns:
        ``(length,)`` mean curve.
    """
    length = length or max(len(curve) for curve in curves)
    padded = np.stack(
        [
            np.concatenate([c, np.full(length - len(c), c[-1])]) if len(c) < length else c[:length]
            for c in curves
        ]
    )
    return padded.mean(axis=0)


def convergence_iteration(
    curves: Sequence[np.ndarray],
    start: int = PAPER_CONVERGENCE_START,
    tol: float = PAPER_CONVERGENCE_TOL,
) -> int | None:
    """The paper's convergence iteration of a set of runs.

    The first t ≥ ``start`` at which the mean curve (finished runs held at their final value)
    changes by less than ``tol``: |m_t − m_{t−1}| < tol. None if it never does.

    Args:
        curves: the runs' curves (:func:`paper_curve`).
        start: first t considered.
        tol: change threshold.

    Returns:
        The iteration t, or None.
    """
    mean = mean_curve(curves, max(len(c) for c in curves) + 1)
    change = np.abs(np.diff(mean))  # change[t - 1] = |m_t − m_{t−1}|
    for t in range(max(start, 1), len(mean)):
        if change[t - 1] < tol:
            return t
    return None


def summarize(
    instances: Sequence[InstanceRecord], eps: float = 1e-3, confidence: float = 0.95
) -> dict[str, Any]:
    """Across-instance summary: AR means ± CI, iterations/evaluations (to target), etc.

    Args:
        instances: the instance records (of one method).
        eps: relative tolerance of the targets.
        confidence: confidence level of the intervals.

    Returns:
        A dict of ``{"mean", "ci"}`` statistics (``ar_init``, ``ar_final``, ``ar_optimum``,
        ``iterations``, ``evaluations``, ``circuit_evaluations``, ``iterations_to_target``,
        ``evaluations_to_target``) plus ``count``, ``reached_target`` (fraction) and
        ``convergence_iteration``.
    """

    def stat(values):
        mean, half = mean_ci(values, confidence)
        return {"mean": mean, "ci": half}

    to_target_it = [inst.iterations_to_target(eps) for inst in instances]
    to_target_ev = [inst.evaluations_to_target(eps) for inst in instances]
    return {
        "count": len(instances),
        "ar_init": stat([inst.ar_init for inst in instances]),
        "ar_final": stat([inst.ar_final for inst in instances]),
        "ar_optimum": stat(
            [inst.optimum / inst.max_cut for inst in instances if inst.optimum is not None]
        ),
        "iterations": stat([inst.result.iterations for inst in instances]),
        "evaluations": stat(
            [inst.result.n_evaluations + inst.result.n_gradients for inst in instances]
        ),
        "circuit_evaluations": stat([inst.result.circuit_evaluations() for inst in instances]),
        "reached_target": float(np.mean([k is not None for k in to_target_it])),
        "iterations_to_target": stat([k for k in to_target_it if k is not None]),
        "evaluations_to_target": stat([k for k in to_target_ev if k is not None]),
        "convergence_iteration": convergence_iteration([paper_curve(i) for i in instances]),
    }
