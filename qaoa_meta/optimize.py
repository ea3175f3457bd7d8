"""Phase-II optimisers behind one interface, counting circuit evaluations and shots.

Every optimiser maximises ⟨C⟩(θ) (textbook θ = (γ_1..γ_p, β_1..β_p), see :mod:`qaoa_meta.qaoa`)
for a list of problems from a ``(B, 2p)`` array of initial points and returns one
:class:`OptimizeResult` per problem, holding the full trace and the cost counters:

* ``n_evaluations``: energy evaluations ⟨C⟩(θ) the optimiser asked for;
* ``n_gradients``: exact gradients the optimiser asked for (each one also yields ⟨C⟩ at that
  point, which is *not* counted again in ``n_evaluations``);
* ``shots``: measurement shots spent (only when the objective is estimated from samples).

:meth:`OptimizeResult.circuit_evaluations` converts these into circuit executions on hardware,
where a gradient costs two circuits per parameter (parameter-shift-style estimate). Trace values
recorded for diagnostics (e.g. ⟨C⟩ at each SPSA iterate) are computed exactly and not counted.

Gradient optimisers (:class:`SGD`, :class:`Adam`) run all instances of a batch together through
one exact-energy call per iteration; each instance still keeps its own stopping rule, so the
result is identical to running the instances one by one. :class:`SGD` with its defaults is the
paper's Phase II (arXiv 2512.05058; PyTorch ``optim.SGD``, lr 1e-3, stop when |Δcost| ≤ 1e-6,
at most 300 iterations, float32 parameters).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import scipy.optimize
from tqdm.auto import tqdm

from hardware import serialization
from qaoa_meta.problems import MaxCutProblem, Seed, as_generator, cost_diagonal

if TYPE_CHECKING:
    from qaoa_meta.energy import ExactEvaluator

# Moved to qaoa_meta.energy (which owns every <C> path); still importable from here, loaded on
# first use so that this module (and run records) import without TensorFlow or Cirq: for that
# reason every import of qaoa_meta.energy in this module sits in the function that needs it.
_MOVED_TO_ENERGY = ("ExactEvaluator", "qaoa_probabilities")


def __getattr__(name: str):
    if name in _MOVED_TO_ENERGY:
        from qaoa_meta import energy

        return getattr(energy, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


SCHEMA_VERSION = 1


# --- results ------------------------------------------------------------------------------
@dataclasses.dataclass
class OptimizeResult(serialization.Serializable):
    """The outcome of optimising one instance.

    Saved inside a run record (:class:`hardware.serialization.Serializable`).

    Attributes:
        params: ``(2p,)`` the final point (the last evaluated iterate).
        value: ⟨C⟩ at ``params``.
        trace_params: ``(K, 2p)`` iterates θ_0 (the initial point) .. θ_{K-1} = ``params``.
        trace_values: ``(K,)`` ⟨C⟩ at each iterate.
        iterations: optimiser iterations taken (gradient steps for SGD/Adam).
        n_evaluations: energy evaluations requested by the optimiser.
        n_gradients: exact gradient evaluations requested by the optimiser.
        shots: measurement shots spent (0 for exact expectations).
        converged: whether the optimiser's own stopping rule fired (not the iteration cap).
        trace_evaluations: cumulative optimiser cost (evaluations + gradients) at each iterate,
            used to count evaluations to reach a target.
    """

    params: np.ndarray
    value: float
    trace_params: np.ndarray
    trace_values: np.ndarray
    iterations: int
    n_evaluations: int
    n_gradients: int
    shots: int = 0
    converged: bool = False
    trace_evaluations: np.ndarray | None = None

    # Part of a run record (which carries the schema version); arrays read back with their dtype.
    _schema = serialization.Schema(
        write_version=False,
        decode={
            "params": serialization.array(float),
            "trace_params": serialization.array(float),
            "trace_values": serialization.array(float),
            "trace_evaluations": serialization.array(int),
        },
    )

    def circuit_evaluations(self) -> int:
        """Circuit executions on hardware: one per energy, ``2 * 2p`` per gradient.

        Returns:
            ``n_evaluations + 2 * 2p * n_gradients``.
        """
        n_params = int(np.asarray(self.params).size)
        return int(self.n_evaluations + 2 * n_params * self.n_gradients)

    def paper_history(self) -> np.ndarray:
        """The paper's ``cost_history`` (PennyLane cost −⟨C⟩) for SGD/Adam runs.

        The paper's loop stores the initial cost and then, at every iteration, the cost of the
        point *before* the step, so the initial cost appears twice: ``[c0, c0, c1, .., c_{K-1}]``.

        Returns:
            ``(K + 1,)`` float64 costs −⟨C⟩.
        """
        values = -np.asarray(self.trace_values, dtype=np.float64)
        return np.concatenate([values[:1], values])


# --- exact, counted objectives ------------------------------------------------------------
class CountedObjective:
    """The counters of :class:`Objective`, zero to start, and their sum :attr:`cost`.

    Attributes:
        n_evaluations: energy evaluations so far.
        n_gradients: gradient evaluations so far.
        shots_used: measurement shots so far.
    """

    def __init__(self):
        self.n_evaluations = 0
        self.n_gradients = 0
        self.shots_used = 0

    @property
    def cost(self) -> int:
        """Evaluations plus gradients so far."""
        return self.n_evaluations + self.n_gradients


class InstanceObjective(CountedObjective):
    """Counted ⟨C⟩(θ) of one problem, exact or estimated from ``shots`` samples.

    Args:
        problem: the problem.
        evaluator: shared :class:`qaoa_meta.energy.ExactEvaluator`.
        shots: ``None`` for exact expectations; else the number of measurement shots per
            energy estimate (the mean cut value of sampled bitstrings).
        seed: seed of the shot sampling.

    Attributes:
        problem: the problem.
        diagonal: ``(1, 2^n)`` cut values of the problem.
        evaluator: the shared evaluator.
        shots: shots per estimate, or None.
        rng: the shot-sampling generator.
        n_evaluations, n_gradients, shots_used: the counters of :class:`Objective`.

    Raises:
        ValueError: for ``shots`` < 1.
    """

    def __init__(
        self,
        problem: MaxCutProblem,
        evaluator: ExactEvaluator,
        shots: int | None = None,
        seed: Seed = None,
    ):
        self.problem = problem
        self.diagonal = cost_diagonal(problem)[None, :]
        self.evaluator = evaluator
        if shots is not None and int(shots) < 1:
            raise ValueError(f"shots must be a positive integer or None, got {shots!r}.")
        self.shots = None if shots is None else int(shots)
        self.rng = as_generator(seed)
        super().__init__()

    def exact(self, theta: np.ndarray) -> float:
        """Exact ⟨C⟩, not counted (for traces and reports).

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            The exact expectation.
        """
        return float(self.evaluator.value(self.diagonal, np.asarray(theta)[None, :])[0])

    def value(self, theta: np.ndarray) -> float:
        """⟨C⟩ (exact, or a shot estimate), counted as one energy evaluation.

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            The exact expectation, or the mean cut of ``shots`` sampled bitstrings (added to
            ``shots_used``).
        """
        self.n_evaluations += 1
        if self.shots is None:
            return self.exact(theta)
        from qaoa_meta.energy import qaoa_probabilities  # lazy: Cirq (see _MOVED_TO_ENERGY)

        probabilities = qaoa_probabilities(self.diagonal[0], theta)
        counts = self.rng.multinomial(self.shots, probabilities / probabilities.sum())
        self.shots_used += self.shots
        return float(counts @ self.diagonal[0] / self.shots)

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Exact ⟨C⟩ and gradient (:meth:`Objective.value_and_gradient`), counted as one
        gradient evaluation.

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            ``(value, (2p,) gradient)`` of the exact expectation.

        Raises:
            ValueError: when the objective uses shots (no exact gradient).
        """
        if self.shots is not None:
            raise ValueError(
                "Exact gradients are not available with shots; use a gradient-free optimiser "
                "(COBYLA, Nelder-Mead, SPSA) or shots=None."
            )
        self.n_gradients += 1
        values, grads = self.evaluator.value_and_gradient(self.diagonal, np.asarray(theta)[None])
        return float(values[0]), grads[0]


# --- the interface ------------------------------------------------------------------------
class Objective(Protocol):
    """What :meth:`Optimizer.optimize` maximises: a counted ⟨C⟩(θ) of one problem.

    :class:`InstanceObjective` (exact or shot energies) and
    :class:`qaoa_meta.noisy.NoisyObjective` (noisy shots on a compiled circuit) implement it.

    Contract for implementations: :meth:`value` adds one to ``n_evaluations`` and
    :meth:`value_and_gradient` one to ``n_gradients`` (both add the shots they spend to
    ``shots_used``); :attr:`cost` is ``n_evaluations + n_gradients``; :meth:`exact` changes no
    counter. Optimisers read the counters into their :class:`OptimizeResult` and call
    :meth:`exact` for the trace, so the trace costs nothing. An objective without gradients
    raises ``ValueError`` from :meth:`value_and_gradient`. θ is always the ``(2p,)`` textbook
    vector (γ_1..γ_p, β_1..β_p).

    Attributes:
        n_evaluations: energy evaluations so far.
        n_gradients: gradient evaluations so far.
        shots_used: measurement shots spent so far (0 for exact energies).
    """

    n_evaluations: int
    n_gradients: int
    shots_used: int

    @property
    def cost(self) -> int:
        """Evaluations plus gradients: the x axis of a trace."""

    def exact(self, theta: np.ndarray) -> float:
        """The noiseless exact ⟨C⟩ at ``theta``, not counted (for traces).

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            The exact expectation.
        """

    def value(self, theta: np.ndarray) -> float:
        """⟨C⟩ at ``theta`` as the optimiser sees it, counted as one evaluation.

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            The (possibly noisy or shot-estimated) expectation.
        """

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """⟨C⟩ and its gradient at ``theta``, counted as one gradient evaluation.

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            ``(value, (2p,) gradient)``.

        Raises:
            ValueError: when the objective has no gradient (e.g. exact gradients with shots).
        """


class Optimizer(abc.ABC):
    """A Phase-II optimiser: maximises ⟨C⟩ from given initial points.

    Subclasses implement :meth:`optimize` (one objective from one start), :meth:`run` (a
    batch of problems on exact or shot energies, one :class:`OptimizeResult` per problem, in
    order), and set :attr:`name` (the key in :data:`OPTIMIZERS`) and :attr:`config_fields`.
    :meth:`optimize` must take only what the :class:`Objective` protocol offers, record
    ``objective.exact`` at each iterate (initial and final point included) and copy the
    objective's counters into the result; ``config()`` (``name`` and the
    :attr:`config_fields`) must be keyword settings that :func:`optimizer_from_config` turns
    back into an equal optimiser. :class:`SGD` and :class:`Adam` batch exact energies in :meth:`run`;
    :class:`ScipyOptimizer` and :class:`SPSA` run :meth:`optimize` per instance.

    Attributes:
        name: the optimiser's registry name.
        config_fields: the constructor arguments :meth:`config` records, each stored as the
            attribute of the same name.
    """

    name: str = "optimizer"
    config_fields: tuple[str, ...] = ()

    @abc.abstractmethod
    def optimize(
        self, objective: Objective, x0: Sequence[float], seed: Seed = None
    ) -> OptimizeResult:
        """Maximises ``objective`` from ``x0``.

        Args:
            objective: the counted energy (:class:`Objective`), e.g. an
                :class:`InstanceObjective` or a noisy :class:`qaoa_meta.noisy.NoisyObjective`.
            x0: ``(2p,)`` initial θ = (γ_1..γ_p, β_1..β_p).
            seed: seed of the optimiser's own randomness (SPSA's perturbations).

        Returns:
            The trace; its values are ``objective.exact`` at each iterate, its counts the
            objective's counters.
        """

    @abc.abstractmethod
    def run(
        self,
        problems: Sequence[MaxCutProblem],
        initial_params: np.ndarray,
        *,
        seed: Seed = None,
        progress: bool = False,
    ) -> list[OptimizeResult]:
        """Optimises every problem from its row of ``initial_params`` (``(B, 2p)``).

        Args:
            problems: the problems.
            initial_params: ``(B, 2p)`` initial θ, one row per problem (a ``(2p,)`` vector is
                used for every problem).
            seed: seed of the run's randomness (shots, SPSA perturbations).
            progress: show a tqdm progress bar.

        Returns:
            One :class:`OptimizeResult` per problem, in order.

        Raises:
            ValueError: when ``initial_params`` does not have shape ``(B, 2p)``, or for
                settings the energies refuse (e.g. ``shots`` < 1).
        """

    def config(self) -> dict[str, Any]:
        """JSON-serialisable settings (``{"name": ..., ...}``) recreating this optimiser.

        Returns:
            ``name`` and the :attr:`config_fields`; :func:`optimizer_from_config` builds the
            optimiser back from them.
        """
        return {"name": self.name, **{field: getattr(self, field) for field in self.config_fields}}


def _check_initial(problems: Sequence[MaxCutProblem], initial_params) -> np.ndarray:
    params = np.asarray(initial_params, dtype=np.float64)
    if params.ndim == 1:
        params = np.tile(params, (len(problems), 1))
    if params.ndim != 2 or params.shape[0] != len(problems) or params.shape[1] % 2:
        raise ValueError(
            f"initial_params must have shape ({len(problems)}, 2p), got {params.shape}."
        )
    return params


# --- first-order, batched -----------------------------------------------------------------
class _FirstOrder(Optimizer):
    """Gradient ascent loop with the paper's stopping rule, batched over instances.

    Iteration k evaluates ⟨C⟩(θ_k) and its gradient, then steps. The run stops after the
    iteration whose value differs from the previous one by at most ``tol`` (checked from the
    second iteration on), or after ``max_iter`` iterations.
    """

    def __init__(
        self, lr: float, tol: float, max_iter: int, param_dtype: str, batch_size: int | None
    ):
        if lr <= 0 or tol < 0 or max_iter < 1:
            raise ValueError(
                f"Need lr > 0, tol >= 0 and max_iter >= 1, got lr={lr}, tol={tol}, "
                f"max_iter={max_iter}."
            )
        if param_dtype not in ("float32", "float64"):
            raise ValueError(f"param_dtype must be 'float32' or 'float64', got {param_dtype!r}.")
        self.lr = float(lr)
        self.tol = float(tol)
        self.max_iter = int(max_iter)
        self.param_dtype = param_dtype
        self.batch_size = batch_size

    @abc.abstractmethod
    def _init_state(self, params: np.ndarray) -> dict[str, np.ndarray]: ...

    @abc.abstractmethod
    def _step(
        self, params: np.ndarray, grad: np.ndarray, state: dict[str, np.ndarray], t: int
    ) -> np.ndarray:
        """Returns new params for *minimising* the cost whose gradient is ``grad``."""

    def optimize(self, objective, x0, seed=None):
        """One objective, one θ at a time (:meth:`run` batches exact energies instead).

        Each iteration evaluates the value and gradient, records the iterate, then steps; it
        stops once the value changed by at most ``tol`` or after ``max_iter`` iterations.

        Args:
            objective: the counted energy; needs :meth:`Objective.value_and_gradient`.
            x0: ``(2p,)`` initial θ.
            seed: unused (the step is deterministic).

        Returns:
            The :class:`OptimizeResult`.

        Raises:
            ValueError: when the objective has no gradient (shots).
        """
        recorder = _Recorder(objective)
        theta = np.asarray(x0, float)[None, :].copy()
        state = self._init_state(theta)
        previous, converged, iterations = None, False, 0
        for iteration in range(self.max_iter):
            value, gradient = objective.value_and_gradient(theta[0])
            recorder.record(theta[0])
            iterations = iteration + 1
            theta = np.asarray(self._step(theta, -gradient[None, :], state, iteration + 1), float)
            if previous is not None and abs(value - previous) <= self.tol:
                converged = True
                break
            previous = value
        recorder.record(theta[0])
        return recorder.result(iterations, converged)

    def run(self, problems, initial_params, *, seed=None, progress=False):
        problems = list(problems)
        params0 = _check_initial(problems, initial_params)
        results: list[OptimizeResult | None] = [None] * len(problems)
        from qaoa_meta.energy import ExactEvaluator  # lazy: Cirq (see _MOVED_TO_ENERGY)

        evaluator = ExactEvaluator()
        # Group by size so no qubits are padded; optionally split big groups.
        groups: dict[int, list[int]] = {}
        for index, problem in enumerate(problems):
            groups.setdefault(problem.n, []).append(index)
        chunks = []
        for indices in groups.values():
            size = self.batch_size or len(indices)
            chunks += [indices[i : i + size] for i in range(0, len(indices), size)]
        iterator = chunks
        if progress:
            iterator = tqdm(chunks, desc=f"Phase II ({self.name})", unit="batch")
        for indices in iterator:
            batch = self._run_batch([problems[i] for i in indices], params0[indices], evaluator)
            for i, result in zip(indices, batch, strict=True):
                results[i] = result
        return results  # type: ignore[return-value]

    def _cast(self, params: np.ndarray) -> np.ndarray:
        return params.astype(np.float32) if self.param_dtype == "float32" else params

    def _run_batch(self, problems, params0, evaluator) -> list[OptimizeResult]:
        diagonals = np.stack([cost_diagonal(problem) for problem in problems])
        batch = len(problems)
        params = self._cast(params0.copy())
        state = self._init_state(params)
        active = np.ones(batch, bool)
        converged = np.zeros(batch, bool)
        trace_params = [[] for _ in range(batch)]
        trace_values = [[] for _ in range(batch)]
        for iteration in range(self.max_iter):
            rows = np.flatnonzero(active)
            values, grads = evaluator.value_and_gradient(
                diagonals[rows], params[rows].astype(np.float64)
            )
            for row, value in zip(rows, values, strict=True):
                trace_params[row].append(params[row].astype(np.float64).copy())
                trace_values[row].append(float(value))
            # Minimise the paper's cost -<C>: its gradient is -d<C>/dθ.
            cost_grad = -grads
            if self.param_dtype == "float32":
                cost_grad = cost_grad.astype(np.float32)
            sub_state = {key: value[rows] for key, value in state.items()}
            new_params = self._step(params[rows], cost_grad, sub_state, iteration + 1)
            params[rows] = new_params
            for key, value in sub_state.items():
                state[key][rows] = value
            if iteration > 0:
                change = np.abs(np.array([trace_values[r][-1] - trace_values[r][-2] for r in rows]))
                done = rows[change <= self.tol]
                converged[done] = True
                active[done] = False
            if not active.any():
                break
        results = []
        for row in range(batch):
            values = np.array(trace_values[row])
            count = len(values)
            results.append(
                OptimizeResult(
                    params=trace_params[row][-1],
                    value=float(values[-1]),
                    trace_params=np.array(trace_params[row]),
                    trace_values=values,
                    iterations=count,
                    n_evaluations=0,
                    n_gradients=count,
                    converged=bool(converged[row]),
                    trace_evaluations=np.arange(1, count + 1),
                )
            )
        return results


class SGD(_FirstOrder):
    """Plain gradient descent on −⟨C⟩ (PyTorch ``optim.SGD`` without momentum).

    Defaults are the paper's Phase II: lr 1e-3, stop when |Δcost| ≤ 1e-6, at most 300
    iterations, parameters held in float32 (as the paper's ``torch.float32`` tensor) while
    energies and gradients are computed in float64.

    Args:
        lr: learning rate, > 0.
        tol: stop once |Δ⟨C⟩| between iterations is at most this, >= 0.
        max_iter: iteration cap, >= 1.
        param_dtype: ``float32`` or ``float64``: the dtype the parameters are held in.
        batch_size: most instances in one batched energy call in :meth:`run` (default: all
            instances of a size).

    Raises:
        ValueError: for ``lr <= 0``, ``tol < 0``, ``max_iter < 1`` or another
            ``param_dtype``.
    """

    name = "sgd"
    config_fields = ("lr", "tol", "max_iter", "param_dtype")

    def __init__(
        self,
        lr: float = 1e-3,
        tol: float = 1e-6,
        max_iter: int = 300,
        param_dtype: str = "float32",
        batch_size: int | None = None,
    ):
        super().__init__(lr, tol, max_iter, param_dtype, batch_size)

    def _init_state(self, params):
        return {}

    def _step(self, params, grad, state, t):
        if self.param_dtype == "float32":
            return params + np.float32(-self.lr) * grad
        return params - self.lr * grad


class Adam(_FirstOrder):
    """Adam on −⟨C⟩ (PyTorch ``optim.Adam`` defaults) with the paper's stopping rule.

    Args:
        lr, tol, max_iter, param_dtype, batch_size: as for :class:`SGD` (here lr 1e-2 and
            float64 parameters by default).
        beta1, beta2: decay rates of the first and second moment estimates.
        eps: added to the denominator.

    Raises:
        ValueError: as :class:`SGD`.
    """

    name = "adam"
    config_fields = ("lr", "tol", "max_iter", "beta1", "beta2", "eps", "param_dtype")

    def __init__(
        self,
        lr: float = 1e-2,
        tol: float = 1e-6,
        max_iter: int = 300,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        param_dtype: str = "float64",
        batch_size: int | None = None,
    ):
        super().__init__(lr, tol, max_iter, param_dtype, batch_size)
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def _init_state(self, params):
        return {"m": np.zeros_like(params), "v": np.zeros_like(params)}

    def _step(self, params, grad, state, t):
        state["m"] = self.beta1 * state["m"] + (1 - self.beta1) * grad
        state["v"] = self.beta2 * state["v"] + (1 - self.beta2) * grad**2
        m_hat = state["m"] / (1 - self.beta1**t)
        v_hat = state["v"] / (1 - self.beta2**t)
        step = self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return (params - step).astype(params.dtype)


# --- per-instance optimisers --------------------------------------------------------------
class _PerInstance(Optimizer):
    """Runs each instance on its own counted :class:`InstanceObjective`."""

    def __init__(self, shots: int | None = None):
        self.shots = shots

    def run(self, problems, initial_params, *, seed=None, progress=False):
        problems = list(problems)
        params0 = _check_initial(problems, initial_params)
        from qaoa_meta.energy import ExactEvaluator  # lazy: Cirq (see _MOVED_TO_ENERGY)

        evaluator = ExactEvaluator()
        rng = as_generator(seed)
        seeds = rng.integers(2**32, size=len(problems))
        iterator = range(len(problems))
        if progress:
            iterator = tqdm(iterator, desc=f"Phase II ({self.name})", unit="graph")
        results = []
        for i in iterator:
            objective = InstanceObjective(problems[i], evaluator, self.shots, int(seeds[i]))
            results.append(self.optimize(objective, params0[i], np.random.default_rng(seeds[i])))
        return results


class _Recorder:
    """Records (θ, exact ⟨C⟩, cost so far) at each iteration of an optimiser."""

    def __init__(self, objective: Objective):
        self.objective = objective
        self.params: list[np.ndarray] = []
        self.values: list[float] = []
        self.costs: list[int] = []

    def record(self, theta: np.ndarray) -> None:
        self.params.append(np.array(theta, float))
        self.values.append(self.objective.exact(theta))
        self.costs.append(self.objective.cost)

    def result(self, iterations: int, converged: bool) -> OptimizeResult:
        objective = self.objective
        return OptimizeResult(
            params=self.params[-1],
            value=self.values[-1],
            trace_params=np.array(self.params),
            trace_values=np.array(self.values),
            iterations=iterations,
            n_evaluations=objective.n_evaluations,
            n_gradients=objective.n_gradients,
            shots=objective.shots_used,
            converged=converged,
            trace_evaluations=np.array(self.costs),
        )


class ScipyOptimizer(_PerInstance):
    """``scipy.optimize.minimize`` on −⟨C⟩: ``"L-BFGS-B"`` (exact gradients), ``"COBYLA"``,
    ``"Nelder-Mead"``.

    Args:
        method: the SciPy method.
        max_iter: iteration cap (``maxiter``).
        tol: SciPy's ``tol``.
        shots: shot-estimated energies (gradient-free methods only).
        options: extra SciPy options.

    Raises:
        ValueError: for a method outside :attr:`METHODS`, or ``L-BFGS-B`` with shots.
    """

    METHODS = ("L-BFGS-B", "COBYLA", "Nelder-Mead")
    config_fields = ("method", "max_iter", "tol", "shots", "options")

    def __init__(
        self,
        method: str = "L-BFGS-B",
        max_iter: int = 300,
        tol: float | None = 1e-8,
        shots: int | None = None,
        options: Mapping[str, Any] | None = None,
    ):
        if method not in self.METHODS:
            raise ValueError(f"Unknown SciPy method {method!r}; expected one of {self.METHODS}.")
        if method == "L-BFGS-B" and shots is not None:
            raise ValueError("L-BFGS-B needs exact gradients; use shots=None or COBYLA/SPSA.")
        super().__init__(shots)
        self.method = method
        self.name = method.lower()
        self.max_iter = int(max_iter)
        self.tol = tol
        self.options = dict(options or {})

    def optimize(self, objective, x0, seed=None):
        """Minimises −⟨C⟩ with SciPy from ``x0`` (see :meth:`Optimizer.optimize`).

        L-BFGS-B asks ``objective.value_and_gradient``, the other methods ``objective.value``;
        ``converged`` is SciPy's ``success``.

        Args:
            objective: the counted energy.
            x0: ``(2p,)`` initial θ.
            seed: unused (SciPy's methods here are deterministic).

        Returns:
            The :class:`OptimizeResult`.

        Raises:
            ValueError: with L-BFGS-B, when the objective has no gradient (shots).
        """
        x0 = np.asarray(x0, float)
        recorder = _Recorder(objective)
        recorder.record(x0)
        options = {"maxiter": self.max_iter, **self.options}
        if self.method == "L-BFGS-B":

            def fun(theta):
                value, grad = objective.value_and_gradient(theta)
                return -value, -grad

            result = scipy.optimize.minimize(
                fun,
                x0,
                jac=True,
                method="L-BFGS-B",
                tol=self.tol,
                options=options,
                callback=recorder.record,
            )
        else:
            result = scipy.optimize.minimize(
                lambda theta: -objective.value(theta),
                x0,
                method=self.method,
                tol=self.tol,
                options=options,
                callback=None if self.method == "COBYLA" else recorder.record,
            )
            if self.method == "COBYLA":  # COBYLA's callback support varies across SciPy
                recorder.record(result.x)
        if not np.allclose(recorder.params[-1], result.x):
            recorder.record(result.x)
        iterations = int(getattr(result, "nit", 0) or result.nfev)
        return recorder.result(iterations, bool(result.success))


class SPSA(_PerInstance):
    """Simultaneous-perturbation stochastic approximation (Spall 1998), maximising ⟨C⟩.

    Gains ``a_k = a / (k + 1 + A)^alpha``, ``c_k = c / (k + 1)^gamma``; two energy
    evaluations per iteration. Stops after ``max_iter`` iterations.

    Args:
        max_iter: number of iterations.
        a, c, A, alpha, gamma: the gain-sequence constants above.
        shots: shot-estimated energies, or None for exact ones.
    """

    name = "spsa"
    config_fields = ("max_iter", "a", "c", "A", "alpha", "gamma", "shots")

    def __init__(
        self,
        max_iter: int = 150,
        a: float = 0.05,
        c: float = 0.1,
        A: float = 10.0,
        alpha: float = 0.602,
        gamma: float = 0.101,
        shots: int | None = None,
    ):
        super().__init__(shots)
        self.max_iter = int(max_iter)
        self.a, self.c, self.A, self.alpha, self.gamma = a, c, A, alpha, gamma

    def optimize(self, objective, x0, seed=None):
        """``max_iter`` SPSA steps from ``x0`` (see :meth:`Optimizer.optimize`).

        Args:
            objective: the counted energy (only ``value`` is used: two calls per step).
            x0: ``(2p,)`` initial θ.
            seed: seed of the ±1 perturbations.

        Returns:
            The :class:`OptimizeResult` (``converged`` is always False).
        """
        rng = as_generator(seed)
        recorder = _Recorder(objective)
        theta = np.array(x0, float)
        recorder.record(theta)
        for k in range(self.max_iter):
            ak = self.a / (k + 1 + self.A) ** self.alpha
            ck = self.c / (k + 1) ** self.gamma
            delta = rng.choice([-1.0, 1.0], size=theta.size)
            plus = objective.value(theta + ck * delta)
            minus = objective.value(theta - ck * delta)
            gradient = (plus - minus) / (2 * ck) * delta  # 1/delta_i == delta_i for ±1
            theta = theta + ak * gradient
            recorder.record(theta)
        return recorder.result(self.max_iter, False)


# --- registry -----------------------------------------------------------------------------
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    "sgd": SGD,
    "adam": Adam,
    "l-bfgs-b": lambda **kw: ScipyOptimizer("L-BFGS-B", **kw),
    "cobyla": lambda **kw: ScipyOptimizer("COBYLA", **kw),
    "nelder-mead": lambda **kw: ScipyOptimizer("Nelder-Mead", **kw),
    "spsa": SPSA,
}


def make_optimizer(name: str, **kwargs: Any) -> Optimizer:
    """Builds an optimiser by name (see ``OPTIMIZERS``) with keyword settings.

    Args:
        name: registry name, case-insensitive.
        **kwargs: the optimiser's constructor settings.

    Returns:
        The optimiser.

    Raises:
        ValueError: for an unknown name, or settings the optimiser refuses.
        TypeError: for a keyword the optimiser does not take.
    """
    key = name.lower()
    if key not in OPTIMIZERS:
        raise ValueError(f"Unknown optimizer {name!r}; expected one of {sorted(OPTIMIZERS)}.")
    return OPTIMIZERS[key](**kwargs)


def optimizer_from_config(config: Mapping[str, Any]) -> Optimizer:
    """Inverse of :meth:`Optimizer.config`.

    Args:
        config: settings with a ``name`` (a ``method`` entry is ignored).

    Returns:
        The optimiser.

    Raises:
        KeyError: when ``name`` is missing.
        ValueError: as :func:`make_optimizer`.
    """
    settings = dict(config)
    name = settings.pop("name")
    settings.pop("method", None)
    return make_optimizer(name, **settings)
