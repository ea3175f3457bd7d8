"""Every way to start QAOA behind one interface: ``init(problem, p) -> θ``.

θ is always in the textbook convention (γ_1..γ_p, β_1..β_p) of :mod:`qaoa_meta.qaoa`.

* :class:`RandomInitializer`: per-instance random points (the published code's
  ``torch.rand(2)`` in PennyLane's convention by default), seeded per (seed, problem).
* :class:`FixedInitializer`: one point for every graph; :func:`paper_fixed_points` gives the
  paper's two "random" points (γ_PL, α) = (0.9969, 0.8899) and (0.0408, 0.3181).
* :class:`FixedAngleTable`: Wurtz & Lykov (2021) fixed angles for d-regular graphs.
* :class:`FittedFixedAngle`: one point maximising the mean approximation ratio on a training set.
* :class:`FeatureRegression`: (γ, β) as linear functions of (mean degree, density), fitted on
  per-instance optima of a training set.
* :class:`LinearRamp`: a discretised linear annealing schedule (TQA, Zhou et al. 2020).
* :class:`Interp` and :class:`Fourier`: Zhou et al. (2020) depth-by-depth heuristics.
* :class:`LearnedInitializer`: the Phase-I rollout of a trained
  :class:`qaoa_meta.meta.MetaOptimizer`.

Their names (kind, description, accepted aliases) are declared once, TF-free, in
:mod:`qaoa_meta.initializer_names`; :data:`INITIALIZERS` (data-free) and
:data:`FITTED_INITIALIZERS` map them to factories, :func:`make_initializer` and
:func:`fit_initializer` build them by name (aliases included).

Initialisers that look at many problems at once override :meth:`Initializer.batch`; the ones
with a Phase I (learned) also return its trajectory from :meth:`Initializer.phase1`.
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import math
import pathlib
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import scipy.optimize

from qaoa_meta import initializer_names as registry
from qaoa_meta import optima as _optima
from qaoa_meta import qaoa
from qaoa_meta.energy import ExactEvaluator, analytic_p1_expectation, edge_statistics, pad_diagonals
from qaoa_meta.optima import canonical_p1, lbfgs_optimum, p1_grid_argmax, p1_optimum
from qaoa_meta.problems import MaxCutProblem, max_cut
from qaoa_meta.qaoa import fourier_matrix, interp_extend, linear_ramp, resample_schedule

PAPER_FIXED_POINTS_PENNYLANE: dict[str, tuple[float, float]] = {
    "paper-fixed-1": (0.9969, 0.8899),
    "paper-fixed-2": (0.0408, 0.3181),
}

# Wurtz & Lykov, "The fixed angle conjecture for QAOA on regular MaxCut graphs",
# arXiv 2107.00677 (PRA 104, 052419): angles for 3-regular graphs in the textbook convention
# (γ_1..γ_p, β_1..β_p) and the guaranteed cut fraction ⟨C⟩/|E| on graphs of girth > 2p + 1.
# p = 1 is the closed form γ = arctan(1/√2), β = π/8; p = 2 is the paper's Table 1; p = 3, 4 are
# from the authors' data repository (danlkv/fixed-angle-QAOA, angles_regular_graphs.json).
# tests/test_initializers.py checks p = 1 and p = 2 by exact simulation of the tree light cone.
WURTZ_LYKOV_3REGULAR: dict[int, tuple[tuple[float, ...], float]] = {
    1: ((0.6155, 0.3927), 0.6925),
    2: ((0.488, 0.898, 0.555, 0.293), 0.7559),
    3: ((0.4179, 0.7921, 0.9323, 0.6003, 0.4524, 0.2351), 0.7923),
    4: ((0.4072, 0.7787, 0.9779, 1.1439, 0.5941, 0.4406, 0.3125, 0.1631), 0.8167),
}


def problem_fingerprint(problem: MaxCutProblem) -> int:
    """A stable 32-bit integer identifying a problem's graph (n and weighted edges).

    Args:
        problem: the problem.

    Returns:
        The first 4 bytes (little-endian) of a SHA-256 of n and the weighted edge list.
    """
    text = f"{problem.n}:" + ";".join(f"{u},{v},{w:.12g}" for u, v, w in problem.edges)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


@dataclasses.dataclass(frozen=True)
class Phase1:
    """A Phase-I trajectory: ``theta`` (B, T, 2p) textbook and ⟨C⟩ ``values`` (B, T).

    Attributes:
        theta: ``(B, T, 2p)`` points of each problem's trajectory; ``theta[:, -1]`` are the
            initial points.
        values: ``(B, T)`` ⟨C⟩ at those points.
    """

    theta: np.ndarray
    values: np.ndarray


class Initializer(abc.ABC):
    """Proposes an initial point θ (textbook convention) for a problem and a depth p.

    Subclasses implement :meth:`__call__` (one problem; the same problem and p must give the
    same θ whatever was asked before) and :meth:`config`, and set :attr:`name` (the label in
    run records). Initialisers that see a whole batch at once (a learned rollout) override
    :meth:`batch`; those with a Phase-I trajectory return it from :meth:`phase1` (the
    default: None). ``config()`` must hold a ``kind`` that :func:`initializer_from_config`
    rebuilds from. Depths that are not positive integers raise ``ValueError``
    (:func:`qaoa_meta.qaoa.check_depth`).

    Attributes:
        name: label of the initialiser in run records.
    """

    name: str = "initializer"

    @abc.abstractmethod
    def __call__(self, problem: MaxCutProblem, p: int) -> np.ndarray:
        """Returns θ of shape ``(2p,)``.

        Args:
            problem: the problem.
            p: QAOA depth.

        Returns:
            ``(2p,)`` textbook θ = (γ_1..γ_p, β_1..β_p).

        Raises:
            ValueError: for a depth that is not a positive integer, or a problem or depth
                the initialiser cannot serve.
        """

    def batch(self, problems: Sequence[MaxCutProblem], p: int) -> np.ndarray:
        """``(B, 2p)`` initial points, one per problem.

        Args:
            problems: the problems.
            p: QAOA depth.

        Returns:
            ``(B, 2p)`` float θ, one row per problem (by default :meth:`__call__` on each).

        Raises:
            ValueError: as :meth:`__call__`.
        """
        return np.stack([np.asarray(self(problem, p), float) for problem in problems])

    def phase1(self, problems: Sequence[MaxCutProblem], p: int) -> Phase1 | None:
        """The Phase-I trajectory that produced the initial points (None if there is none).

        Args:
            problems: the problems.
            p: QAOA depth.

        Returns:
            A :class:`Phase1`, or None (the default) for initialisers without a Phase I.
        """
        return None

    @abc.abstractmethod
    def config(self) -> dict[str, Any]:
        """JSON-serialisable description (``{"kind": ..., ...}``).

        Returns:
            The description; :func:`initializer_from_config` rebuilds data-free and fitted
            initialisers from it.
        """


# --- random and fixed ---------------------------------------------------------------------
class RandomInitializer(Initializer):
    """Uniform random points, independent per (seed, problem) and of the call order.

    Args:
        seed: base seed.
        low, high: bounds of the uniform distribution of each parameter.
        convention: ``"pennylane"`` draws (γ_PL, α) like the published code's ``torch.rand``
            (γ = −γ_PL); ``"textbook"`` draws (γ, β) directly.

    Raises:
        ValueError: for another convention, or ``high <= low``.
    """

    def __init__(
        self, seed: int = 0, low: float = 0.0, high: float = 1.0, convention: str = "pennylane"
    ):
        if convention not in ("pennylane", "textbook"):
            raise ValueError(f"convention must be 'pennylane' or 'textbook', got {convention!r}.")
        if not high > low:
            raise ValueError(f"Need high > low, got low={low}, high={high}.")
        self.seed, self.low, self.high, self.convention = int(seed), low, high, convention
        self.name = "random"

    def __call__(self, problem, p):
        p = qaoa.check_depth(p)
        rng = np.random.default_rng([self.seed, problem_fingerprint(problem), p])
        theta = rng.uniform(self.low, self.high, size=2 * p)
        return qaoa.pennylane_to_textbook(theta) if self.convention == "pennylane" else theta

    def config(self):
        return {
            "kind": "random",
            "seed": self.seed,
            "low": self.low,
            "high": self.high,
            "convention": self.convention,
        }


class FixedInitializer(Initializer):
    """The same θ for every graph. For p larger than the stored depth, the schedule is
    resampled by linear interpolation (a p=1 point is repeated in every layer).

    Args:
        theta: ``(2p,)`` textbook point.
        name: label in run records.

    Attributes:
        theta: the stored point.

    Raises:
        ValueError: when ``theta`` is not a non-empty flat vector of even length.
    """

    def __init__(self, theta: Sequence[float], name: str = "fixed"):
        theta = np.asarray(theta, float)
        if theta.ndim != 1 or theta.size % 2 or theta.size == 0:
            raise ValueError(f"theta must be a flat (2p,) vector, got shape {theta.shape}.")
        self.theta = theta
        self.name = name

    @classmethod
    def from_pennylane(cls, theta_pl: Sequence[float], name: str = "fixed") -> FixedInitializer:
        """From PennyLane ``(γ_PL.., α..)`` parameters.

        Args:
            theta_pl: ``(2p,)`` point in PennyLane's convention.
            name: label in run records.

        Returns:
            The initialiser, holding the textbook point.

        Raises:
            ValueError: as the constructor.
        """
        return cls(qaoa.pennylane_to_textbook(np.asarray(theta_pl, float)), name)

    def __call__(self, problem, p):
        return resample_schedule(self.theta, qaoa.check_depth(p))

    def config(self):
        return {"kind": "fixed", "name": self.name, "theta": self.theta.tolist()}


def paper_fixed_points() -> dict[str, FixedInitializer]:
    """The paper's two fixed "random" initial points as initialisers.

    Returns:
        ``{"paper-fixed-1": ..., "paper-fixed-2": ...}`` :class:`FixedInitializer` s.
    """
    return {
        name: FixedInitializer.from_pennylane(point, name)
        for name, point in PAPER_FIXED_POINTS_PENNYLANE.items()
    }


# --- fixed-angle tables -------------------------------------------------------------------
def fixed_angles(degree: int, p: int) -> tuple[np.ndarray, float]:
    """Fixed angles for ``degree``-regular graphs and their guaranteed cut fraction ⟨C⟩/|E|.

    For p = 1 and any degree d the angles are the exact optimum of the tree (girth > 3)
    expression ⟨C_e⟩ = 1/2 + 1/2 sin 4β sin γ cos^(d-1) γ: β = π/8, γ = arctan(1/√(d−1)).
    For d = 3 and p ≤ 4 they are Wurtz & Lykov's table.

    Args:
        degree: the graph degree d.
        p: QAOA depth.

    Returns:
        ``(theta, fraction)``: ``(2p,)`` textbook angles and the guaranteed ⟨C⟩/|E|.

    Raises:
        ValueError: if no angles are tabulated for (degree, p), or p is not a positive
            integer.
    """
    p = qaoa.check_depth(p)
    if degree == 3 and p in WURTZ_LYKOV_3REGULAR:
        angles, guarantee = WURTZ_LYKOV_3REGULAR[p]
        return np.array(angles, float), guarantee
    if p == 1 and degree >= 1:
        gamma = math.atan(1 / math.sqrt(degree - 1)) if degree > 1 else math.pi / 2
        value = 0.5 + 0.5 * math.sin(gamma) * math.cos(gamma) ** (degree - 1)
        return np.array([gamma, math.pi / 8]), value
    raise ValueError(
        f"No fixed angles tabulated for degree {degree} at p = {p}; available: any degree at "
        f"p = 1, degree 3 at p = {sorted(WURTZ_LYKOV_3REGULAR)}."
    )


class FixedAngleTable(Initializer):
    """Wurtz–Lykov fixed angles chosen by the graph's degree.

    Args:
        allow_irregular: use the rounded mean degree for graphs that are not regular (a
            heuristic baseline); otherwise irregular graphs raise ``ValueError``.

    Raises:
        ValueError: when called on an irregular graph without ``allow_irregular``, or for a
            (degree, p) :func:`fixed_angles` has no angles for.
    """

    def __init__(self, allow_irregular: bool = False):
        self.allow_irregular = allow_irregular
        self.name = "fixed-angle"

    def degree_of(self, problem: MaxCutProblem) -> int:
        """The degree whose angles the problem gets.

        Args:
            problem: the problem.

        Returns:
            The common degree of a regular graph, else (with ``allow_irregular``) the rounded
            mean degree, at least 1.

        Raises:
            ValueError: for an irregular graph without ``allow_irregular``.
        """
        degrees = problem.degrees()
        if np.all(degrees == degrees[0]):
            return int(degrees[0])
        if not self.allow_irregular:
            raise ValueError(
                f"{problem!r} is not regular (degrees {sorted(set(degrees.tolist()))}); fixed-"
                "angle tables are for d-regular graphs. Pass allow_irregular=True to use the "
                "rounded mean degree."
            )
        return max(1, int(round(problem.mean_degree)))

    def __call__(self, problem, p):
        return fixed_angles(self.degree_of(problem), p)[0]

    def config(self):
        return {"kind": "fixed-angle", "allow_irregular": self.allow_irregular}


# --- fitted on a training set -------------------------------------------------------------
class FittedFixedAngle(Initializer):
    """One θ maximising the mean approximation ratio ⟨C⟩/max-cut over a training set.

    Fit with :meth:`fit` (batched exact energies, L-BFGS-B from a grid of starts for p = 1 and
    from the linear ramp and the resampled p−1 fit for p > 1), or build from a stored θ.

    Args:
        theta: the fitted ``(2p,)`` point, or None (not fitted).
        train_score: the mean approximation ratio on the training set.

    Attributes:
        theta: the fitted point (resampled to other depths when called), or None.
        train_score: the mean training approximation ratio, or None.

    Raises:
        ValueError: when called before it is fitted.
    """

    def __init__(self, theta: Sequence[float] | None = None, train_score: float | None = None):
        self.theta = None if theta is None else np.asarray(theta, float)
        self.train_score = train_score
        self.name = "fitted-fixed-angle"

    @classmethod
    def fit(
        cls, problems: Sequence[MaxCutProblem], p: int = 1, max_cuts: Sequence[float] | None = None
    ) -> FittedFixedAngle:
        """Fits θ to maximise the mean ⟨C⟩/max-cut over ``problems``.

        Unweighted p = 1 uses the closed form on a grid; otherwise L-BFGS-B on exact
        energies.

        Args:
            problems: training problems.
            p: QAOA depth.
            max_cuts: each problem's max-cut value (default: computed by brute force).

        Returns:
            The fitted initialiser with its ``train_score``.

        Raises:
            ValueError: for a problem with a non-positive max cut (an edgeless graph), no
                problems, or a depth that is not a positive integer.
        """
        p = qaoa.check_depth(p)
        problems = list(problems)
        cuts = np.array(
            max_cuts if max_cuts is not None else [max_cut(pr).value for pr in problems]
        )
        if np.any(cuts <= 0):
            raise ValueError("Training problems need a positive max-cut (drop edgeless graphs).")
        diagonals = pad_diagonals(problems, dtype=np.float64)
        evaluator = ExactEvaluator()

        def fun(theta):
            values, grads = evaluator.value_and_gradient(diagonals, np.tile(theta, (len(cuts), 1)))
            return -float(np.mean(values / cuts)), -np.mean(grads / cuts[:, None], axis=0)

        if p == 1 and not any(pr.is_weighted for pr in problems):
            stats = [edge_statistics(pr) for pr in problems]
            theta = p1_grid_argmax(
                lambda g, b: (
                    sum(
                        analytic_p1_expectation(pr, g, b, st) / cut
                        for pr, st, cut in zip(problems, stats, cuts, strict=True)
                    )
                    / len(problems)
                ),
                grid=32,
            )
            return cls(theta, float(-fun(theta)[0]))
        if p == 1:
            starts = [np.array([g, b]) for g in np.linspace(0.1, 1.5, 8) for b in (0.2, 0.4, 0.6)]
        else:
            starts = [
                LinearRamp()(problems[0], p),
                resample_schedule(cls.fit(problems, p - 1, cuts).theta, p),
            ]
        best = None
        for start in starts:
            result = scipy.optimize.minimize(fun, start, jac=True, method="L-BFGS-B")
            if best is None or result.fun < best.fun:
                best = result
        return cls(best.x, -float(best.fun))

    def __call__(self, problem, p):
        if self.theta is None:
            raise ValueError("FittedFixedAngle is not fitted; use FittedFixedAngle.fit(train, p).")
        return resample_schedule(self.theta, qaoa.check_depth(p))

    def config(self):
        return {
            "kind": "fitted-fixed-angle",
            "theta": None if self.theta is None else self.theta.tolist(),
            "train_score": self.train_score,
        }


def graph_features(problem: MaxCutProblem) -> np.ndarray:
    """Regression features ``[1, mean degree, density]``.

    Args:
        problem: the problem.

    Returns:
        ``(3,)`` float features.
    """
    return np.array([1.0, problem.mean_degree, problem.density])


class FeatureRegression(Initializer):
    """θ = W·[1, mean degree, density], least squares on per-instance p=1 optima.

    Fit on unweighted training graphs with :meth:`fit`; optima are canonicalised (γ ≥ 0,
    |β| ≤ π/4) before fitting so symmetric copies don't average out. p = 1 only; deeper
    circuits repeat the p=1 point (use :class:`Interp` to grow from it).

    Args:
        coefficients: ``(3, 2)`` least-squares coefficients (features × (γ, β)), or None
            (not fitted).
        r2: the coefficient of determination of γ and β on the training set.

    Attributes:
        coefficients: the coefficients, or None.
        r2: ``[r2_gamma, r2_beta]``, or None.

    Raises:
        ValueError: when called before it is fitted.
    """

    def __init__(self, coefficients: np.ndarray | None = None, r2: Sequence[float] | None = None):
        self.coefficients = None if coefficients is None else np.asarray(coefficients, float)
        self.r2 = None if r2 is None else [float(v) for v in r2]
        self.name = "regression"

    @classmethod
    def fit(
        cls, problems: Sequence[MaxCutProblem], optima: Sequence[np.ndarray] | None = None
    ) -> FeatureRegression:
        """Least-squares fit of the canonical p=1 optima on :func:`graph_features`.

        Args:
            problems: training problems (edgeless ones are dropped).
            optima: each remaining problem's p=1 optimum (default: :func:`p1_optimum`).

        Returns:
            The fitted initialiser with its ``r2``.

        Raises:
            ValueError: when no training problem has an edge.
        """
        problems = [pr for pr in problems if pr.num_edges > 0]
        if optima is None:
            optima = [p1_optimum(pr)[0] for pr in problems]
        targets = np.stack([canonical_p1(np.asarray(t)) for t in optima])
        features = np.stack([graph_features(pr) for pr in problems])
        coefficients, *_ = np.linalg.lstsq(features, targets, rcond=None)
        predictions = features @ coefficients
        residual = ((targets - predictions) ** 2).sum(axis=0)
        total = ((targets - targets.mean(axis=0)) ** 2).sum(axis=0)
        return cls(coefficients, (1 - residual / np.maximum(total, 1e-300)).tolist())

    def __call__(self, problem, p):
        if self.coefficients is None:
            raise ValueError("FeatureRegression is not fitted; use FeatureRegression.fit(train).")
        return resample_schedule(graph_features(problem) @ self.coefficients, qaoa.check_depth(p))

    def config(self):
        return {
            "kind": "regression",
            "features": ["1", "mean_degree", "density"],
            "coefficients": None if self.coefficients is None else self.coefficients.tolist(),
            "r2": self.r2,
        }


# --- schedules and depth heuristics (Zhou et al. 2020) ------------------------------------
class LinearRamp(Initializer):
    """Linear annealing schedule (TQA): γ_i = (i − ½)/p·Δt, β_i = (1 − (i − ½)/p)·Δt.

    Args:
        dt: the time step Δt, > 0.

    Raises:
        ValueError: for ``dt <= 0``.
    """

    def __init__(self, dt: float = 0.75):
        if dt <= 0:
            raise ValueError(f"dt must be positive, got {dt}.")
        self.dt = float(dt)
        self.name = "linear-ramp"

    def __call__(self, problem, p):
        return linear_ramp(qaoa.check_depth(p), self.dt)

    def config(self):
        return {"kind": "linear-ramp", "dt": self.dt}


class _DepthHeuristic(Initializer):
    def __init__(self, base: Initializer | None = None):
        self.base = base or LinearRamp()
        self._evaluator: ExactEvaluator | None = None

    @property
    def evaluator(self) -> ExactEvaluator:
        if self._evaluator is None:
            self._evaluator = ExactEvaluator()
        return self._evaluator

    def config(self):
        return {"kind": self.name, "base": self.base.config()}


class Interp(_DepthHeuristic):
    """INTERP: optimise at depth 1..p−1 (L-BFGS-B, exact), interpolating to the next depth.

    At p = 1 it returns the base initialiser's point (default: linear ramp).

    Args:
        base: initialiser of the p = 1 point (default :class:`LinearRamp`).
    """

    name = "interp"

    def __call__(self, problem, p):
        p = qaoa.check_depth(p)
        theta = np.asarray(self.base(problem, 1), float)
        for _depth in range(1, p):
            theta, _ = lbfgs_optimum(problem, [theta], self.evaluator)
            theta = interp_extend(theta)
        return theta


class Fourier(_DepthHeuristic):
    """FOURIER[q=p, R=0]: optimise (u, v) at depth 1..p−1, append zero frequencies, map to θ.

    At p = 1, and in its argument ``base``, as :class:`Interp`.
    """

    name = "fourier"

    def __call__(self, problem, p):
        p = qaoa.check_depth(p)
        theta1 = np.asarray(self.base(problem, 1), float)
        uv = np.linalg.solve(fourier_matrix(1, 1), theta1)
        for depth in range(1, p):
            uv, _ = lbfgs_optimum(problem, [uv], self.evaluator, fourier_matrix(depth, depth))
            u, v = uv[:depth], uv[depth:]
            uv = np.concatenate([u, [0.0], v, [0.0]])
        return fourier_matrix(p, p) @ uv


# --- learned --------------------------------------------------------------------------------
class LearnedInitializer(Initializer):
    """The last Phase-I point θ_T of a trained :class:`qaoa_meta.meta.MetaOptimizer`.

    Phase I queries the model's own energy (the exact ⟨C⟩ it was configured with) unless an
    ``energy`` is given: then every rollout step asks that energy instead, e.g. a
    :class:`qaoa_meta.noisy.ShotEnergy` of counted shot estimates on a noisy device (the noise
    study), with the same interface the evaluation harness uses.

    Args:
        model: a MetaOptimizer, or the directory it was saved to with ``save_model``.
        name: label in run records (default: the model kind, e.g. ``"qk-lstm"``).
        source: where the model came from (recorded in the config).
        energy: ``energy(batch, theta) -> (B,)`` for the rollout
            (:meth:`qaoa_meta.meta.MetaOptimizer.set_energy`), or None for the model's own.
            As with the model's own energy, the rollout of the last batch of problems is
            kept, so :meth:`batch` and :meth:`phase1` agree; an energy whose answers change
            (another noisy objective) wants a new initialiser.
        keep_energy: leave ``energy`` set on the model after a rollout, so that the next
            rollout (of this or another initialiser with the same energy object) reuses the
            traced rollout instead of retracing it (seconds per trace).

    Attributes:
        model: the :class:`qaoa_meta.meta.MetaOptimizer`.
        source: the model directory, or None.
        energy: the rollout energy, or None.

    Raises:
        ValueError: when asked for a depth other than the model's (from :meth:`phase1`,
            :meth:`batch` and calls).
    """

    def __init__(
        self,
        model: Any,
        name: str | None = None,
        source: str | None = None,
        energy: Callable | None = None,
        keep_energy: bool = False,
    ):
        if isinstance(model, str | pathlib.Path):
            # Lazy: qaoa_meta.meta loads TensorFlow; the classical initialisers do not need it.
            from qaoa_meta.meta import MetaOptimizer

            source = source or str(model)
            model = MetaOptimizer.load_model(model)
        self.model = model
        self.source = source
        self.name = name or model.config.model
        self.energy = energy
        self.keep_energy = keep_energy
        self._cache: dict[tuple[int, ...], Phase1] = {}

    def _check_depth(self, p: int) -> None:
        if self.model.config.p != p:
            raise ValueError(
                f"The meta-learner was trained for p = {self.model.config.p}, asked for p = {p}; "
                "train one for this depth."
            )

    def phase1(self, problems, p):
        """The model's rollout on ``problems`` (cached for the last batch asked).

        Args:
            problems: the problems.
            p: QAOA depth; must be the model's.

        Returns:
            The :class:`Phase1` trajectory (``theta`` and ⟨C⟩ ``values``).

        Raises:
            ValueError: for a depth other than the model's.
        """
        self._check_depth(qaoa.check_depth(p))
        key = tuple(problem_fingerprint(pr) for pr in problems)
        if key not in self._cache:
            rollout = self._phase1_rollout(list(problems))
            self._cache = {key: Phase1(theta=rollout.theta, values=rollout.expectation)}
        return self._cache[key]

    def _phase1_rollout(self, problems: list[MaxCutProblem]):
        if self.energy is None:
            return self.model.rollout(problems)
        previous = self.model.energy_fn
        if previous is not self.energy:  # set_energy drops the traced rollout: only on change
            self.model.set_energy(self.energy)
        try:
            return self.model.rollout(problems)
        finally:
            if not self.keep_energy and previous is not self.energy:
                self.model.set_energy(previous)

    def batch(self, problems, p):
        """The last Phase-I point of each problem.

        Args:
            problems: the problems.
            p: QAOA depth; must be the model's.

        Returns:
            ``(B, 2p)`` float θ_T.

        Raises:
            ValueError: for a depth other than the model's.
        """
        return self.phase1(problems, p).theta[:, -1].astype(float)

    def __call__(self, problem, p):
        return self.batch([problem], p)[0]

    def config(self):
        return {
            "kind": "learned",
            "name": self.name,
            "source": self.source,
            "meta_config": dataclasses.asdict(self.model.config),
        }


# The data-free initialisers of qaoa_meta.initializer_names by canonical name (its order).
INITIALIZERS: dict[str, Callable[..., Initializer]] = {
    "random": RandomInitializer,
    **{
        name: (lambda name=name: paper_fixed_points()[name])
        for name in PAPER_FIXED_POINTS_PENNYLANE
    },
    "fixed-angle": lambda **kw: FixedAngleTable(allow_irregular=True, **kw),
    "linear-ramp": LinearRamp,
    "interp": Interp,
    "fourier": Fourier,
}

# The fitted ones: name -> fit(train, p), ``train`` the training problems, ``p`` the depth.
FITTED_INITIALIZERS: dict[str, Callable[[Sequence[MaxCutProblem], int], Initializer]] = {
    "fitted-fixed-angle": lambda train, p: FittedFixedAngle.fit(train, p),
    "regression": lambda train, p: FeatureRegression.fit(train),
}


def __getattr__(name: str):
    # Deprecated aliases of names that moved to qaoa_meta.optima and qaoa_meta.energy.
    if name == "instance_optimum":
        moved = _optima.instance_optimum
    elif name == "analytic_p1_grid":

        def moved(problem, gammas, betas, stats=None):
            return analytic_p1_expectation(problem, gammas, betas)

    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    home = "qaoa_meta.optima" if name == "instance_optimum" else "qaoa_meta.energy"
    warnings.warn(
        f"qaoa_meta.initializers.{name} moved: use {home}"
        + (".analytic_p1_expectation" if name == "analytic_p1_grid" else f".{name}"),
        DeprecationWarning,
        stacklevel=2,
    )
    return moved


def make_initializer(name: str, **kwargs: Any) -> Initializer:
    """Builds a data-free initialiser by name (see ``INITIALIZERS``; aliases accepted).

    Fitted (``fitted-fixed-angle``, ``regression``) initialisers need training data: build
    them with :func:`fit_initializer`; learned ones from a model (:class:`LearnedInitializer`).

    Args:
        name: a key of ``INITIALIZERS`` or one of its aliases in
            :mod:`qaoa_meta.initializer_names`.
        **kwargs: the initialiser's constructor settings.

    Returns:
        The initialiser.

    Raises:
        ValueError: for an unknown name (one line listing the data-free names), or settings
            the initialiser refuses.
        TypeError: for a keyword the initialiser does not take.
    """
    resolved = registry.ALIASES.get(name, name)
    if resolved in registry.FITTED or resolved in registry.LEARNED:
        raise ValueError(
            f"{name!r} is a {registry.BY_NAME[resolved].kind} initializer, not a data-free one; "
            "build fitted ones with fit_initializer(name, train, p) and learned ones with "
            "LearnedInitializer(model)."
        )
    return INITIALIZERS[registry.canonical(name, registry.DATA_FREE)](**kwargs)


def fit_initializer(name: str, train: Sequence[MaxCutProblem], p: int) -> Initializer:
    """Fits a fitted initialiser by name (see ``FITTED_INITIALIZERS``; aliases accepted).

    Args:
        name: ``fitted-fixed-angle`` or ``regression`` (alias ``feature-regression``).
        train: the training problems.
        p: QAOA depth of the fit (``regression`` fits p = 1 and resamples).

    Returns:
        The fitted initialiser.

    Raises:
        ValueError: for a name that is not a fitted initialiser (one line listing them).
    """
    return FITTED_INITIALIZERS[registry.canonical(name, registry.FITTED)](train, p)


def initializer_from_config(config: Mapping[str, Any]) -> Initializer:
    """Rebuilds a data-free or fitted initialiser from :meth:`Initializer.config`.

    A learned initialiser is reloaded from its ``source`` directory. A ``kind`` may be an
    alias of :mod:`qaoa_meta.initializer_names` (``fixed-angle-table``, ``feature-regression``:
    configs written under the older names).

    Args:
        config: a config written by :meth:`Initializer.config`.

    Returns:
        The initialiser.

    Raises:
        ValueError: for an unknown ``kind``, or a learned config without a ``source``.
        KeyError: when a required setting is missing.
    """
    kind = registry.ALIASES.get(config.get("kind"), config.get("kind"))
    if kind == "random":
        return RandomInitializer(
            config["seed"], config["low"], config["high"], config["convention"]
        )
    if kind == "fixed":
        return FixedInitializer(config["theta"], config.get("name", "fixed"))
    if kind == "fixed-angle":
        return FixedAngleTable(config.get("allow_irregular", False))
    if kind == "fitted-fixed-angle":
        return FittedFixedAngle(config["theta"], config.get("train_score"))
    if kind == "regression":
        return FeatureRegression(np.asarray(config["coefficients"]), config.get("r2"))
    if kind == "linear-ramp":
        return LinearRamp(config["dt"])
    if kind in ("interp", "fourier"):
        cls = Interp if kind == "interp" else Fourier
        return cls(initializer_from_config(config["base"]))
    if kind == "learned" and config.get("source"):
        return LearnedInitializer(config["source"], config.get("name"))
    raise ValueError(f"Cannot rebuild an initializer from config {dict(config)!r}.")
