"""Noisy, shot-based QAOA energies on a compiled device circuit, with exact cost accounting.

The pipeline per problem (built once, reused for every θ):

1. the symbolic QAOA circuit (:func:`qaoa_meta.qaoa.qaoa_circuit`) is placed and routed once
   (:func:`hardware.template.compile_template`); at each θ its blocks are decomposed to the
   device's native gates exactly as the resolved compile does (2 √iSWAP per ZZ rotation, 3 per
   ZZ + SWAP), so the noisy circuit has the native count a hardware user would run;
2. each energy evaluation samples ``shots`` bitstrings from noisy Monte-Carlo trajectories
   (:class:`hardware.trajectories.NoisyTemplate`, the noise model laid on the fixed native
   structure once: Google calibration, depolarising, thermal, readout, scaled), read at the
   logical qubits' final positions;
3. ⟨C⟩ is the mean cut value of the sampled bitstrings, optionally readout-corrected
   (tensored inverse of the model's readout confusion matrices on each edge's marginal).

Noisy shots are drawn in ``trajectories`` groups: each group is one qsim Monte-Carlo noise
trajectory (readout channels included) from which ``shots / trajectories`` bitstrings are
sampled. The estimator is unbiased for the noisy ⟨C⟩ for any number of trajectories; with
``trajectories == shots`` every shot has its own trajectory, exactly as on hardware (and as
qsim's ``run``), fewer trajectories only add a little variance and save most of the time.

Gradients use the parameter-shift rule: every routed gate whose exponent depends on a
parameter (one per cost term and per mixer qubit and layer) is shifted by ±½ in its exponent,
so a gradient costs ``2 × occurrences`` circuits of ``shots`` shots each (plus one for the
value). ``NoisySetup(engine="symbolic")`` keeps the older path (qsim on the symbolic,
TFQ-compatible compile, 1.6–2× the native gates on √iSWAP and Sycamore); TFQ training uses
that form because TFQ needs exponents linear in the symbols. :class:`NoisyObjective` counts energy evaluations, gradients, circuits and shots
exactly; it has the interface of :class:`qaoa_meta.optimize.InstanceObjective`, so every
Phase-II optimiser runs on it through :func:`optimize_noisy`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import cirq
import numpy as np
import sympy

import hardware
from hardware import serialization, simulate
from hardware.noise import readout_errors
from hardware.template import compile_template
from hardware.trajectories import NoisyTemplate
from qaoa_meta import qaoa
from qaoa_meta.energy import statevector_energy
from qaoa_meta.initializers import LearnedInitializer
from qaoa_meta.optimize import CountedObjective, Optimizer, OptimizeResult
from qaoa_meta.problems import MaxCutProblem, Seed, as_generator, cost_diagonal

SCHEMA_VERSION = 1
ENGINES = ("template", "symbolic")


# --- configuration ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class NoisySetup(serialization.Serializable):
    """Where and how a QAOA circuit is run: device, gate set, noise, shots, mitigation.

    Saved with ``schema_version``, keys sorted (:class:`hardware.serialization.Serializable`);
    keys a file lacks take their defaults.

    Attributes:
        device: ``weber``, ``rainbow``, ``sycamore23`` or a grid such as ``grid4x4``
            (anything :func:`hardware.get_device` accepts).
        gateset: native two-qubit gate set (``sqrt_iswap``, ``sycamore``, ``cz``).
        noise: noise spec for :func:`hardware.noise_from_spec`, e.g. ``"weber"``,
            ``"weber*0.5"``, ``"depolarizing:0.001,0.01+readout:0.02,0.05"`` or ``"none"``.
        shots: measurement shots per energy evaluation.
        mitigate_readout: undo the model's readout errors (tensored, per edge marginal).
        trajectories: noise trajectories per evaluation (capped at ``shots``).
        routing: router for :func:`hardware.compile_circuit`.
        engine: ``template`` (route once, resolved native count, numba trajectories) or
            ``symbolic`` (qsim on the symbolic compile; what TFQ reads).
        schema_version: the setup's JSON schema.

    Raises:
        ValueError: for an unknown engine, or ``shots`` / ``trajectories`` not a positive
            integer.
    """

    device: str = "weber"
    gateset: str = "sqrt_iswap"
    noise: str = "weber"
    shots: int = 1024
    mitigate_readout: bool = False
    trajectories: int = 64
    routing: str = "auto"
    engine: str = "template"
    schema_version: int = SCHEMA_VERSION

    _schema = serialization.Schema(version=SCHEMA_VERSION)
    _json_sort_keys = True

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}.")
        for name in ("shots", "trajectories"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}.")

    def noise_model(self) -> cirq.NoiseModel | None:
        """The noise model (``None`` when noiseless).

        Returns:
            :func:`hardware.noise_from_spec` of :attr:`noise`.

        Raises:
            ValueError: for a malformed noise spec.
        """
        return hardware.noise_from_spec(self.noise)


# --- the compiled, noisy QAOA of one problem -------------------------------------------------
def _shift_rule_ok(gate: cirq.Gate) -> bool:
    """True for gates ``G**t`` whose two eigenphases differ by ``π t`` (shift rule ±½)."""
    if not isinstance(gate, cirq.EigenGate):
        return False
    shifts = sorted({round(float(s), 9) for s in gate._eigen_shifts()})
    return len(shifts) == 2 and abs(shifts[1] - shifts[0] - 1.0) < 1e-9


@dataclasses.dataclass(frozen=True)
class ShiftTerm:
    """One parameter-dependent gate occurrence: its location, symbol and ``d exponent / dθ``.

    On the symbolic compile the location is (moment, operation); on a template ``moment`` is
    -1 and ``operation`` is the routed gate's index.

    Attributes:
        moment: moment index in the symbolic compile, or -1 on a template.
        operation: operation index in that moment, or the routed gate's index.
        symbol: the parameter's symbol name (``gamma_k`` or ``beta_k``).
        slope: ``d exponent / d symbol`` of the gate.
    """

    moment: int
    operation: int
    symbol: str
    slope: float


class NoisyQAOA:
    """Depth-p QAOA of one problem compiled to a device, simulated with noise and shots.

    Args:
        problem: the Max-Cut instance.
        p: QAOA depth.
        setup: device, noise, shots and mitigation (:class:`NoisySetup`).
        seed: seed of placement/routing.
        template: a :class:`hardware.template.CompiledTemplate` of this problem's QAOA circuit
            to reuse (``engine="template"``; it does not depend on the noise).

    Attributes:
        problem: the problem.
        p: QAOA depth.
        setup: the setup.
        symbols: the 2p symbol names, in parameter order.
        model: the noise model, or None.
        template: the compiled template (``engine="template"``), else None.
        noisy: the :class:`hardware.trajectories.NoisyTemplate`, else None.
        qubits: device qubit of each logical node at the end of the circuit.
        shift_terms: the parameter-dependent gates (:class:`ShiftTerm`).
        edges: the problem's ``(u, v, w)`` edges.
        diagonal: ``(2^n,)`` cut values (:func:`qaoa_meta.problems.cost_diagonal`).
        operator: the cut as a Z-string ``cirq.PauliSum`` (:func:`qaoa_meta.qaoa.cost_operator`),
            for readout mitigation per edge.
        readout: ``(p01, p10)`` of each read qubit, or None without readout errors.

    Raises:
        ValueError: for a problem without edges, a depth that is not a positive integer, a
            device, gate set, routing or noise spec the compile refuses, or (symbolic engine)
            a compiled gate the parameter-shift rule cannot take.
    """

    def __init__(
        self,
        problem: MaxCutProblem,
        p: int,
        setup: NoisySetup,
        seed: Seed = 0,
        template: Any | None = None,
    ):
        if problem.num_edges == 0:
            raise ValueError(f"Problem {problem.name!r} has no edges; its cost is identically 0.")
        self.problem = problem
        self.p = int(p)
        self.setup = setup
        self._logical = qaoa.qaoa_circuit(problem, self.p)
        self._seed = int(as_generator(seed).integers(2**31 - 1))
        self._compiled = None
        line = qaoa.default_qubits(problem)
        self.symbols = [s.name for s in qaoa.parameter_symbols(self.p)]
        self.model = setup.noise_model()
        if setup.engine == "template":
            self.template = template or compile_template(
                self._logical,
                setup.device,
                setup.gateset,
                symbols=qaoa.parameter_symbols(self.p),
                routing=setup.routing,
                seed=self._seed,
            )
            self.qubits = [self.template.final_map[q] for q in line]
            self.noisy = NoisyTemplate(self.template, self.model, self.qubits)
            self.shift_terms = [
                ShiftTerm(-1, index, name, slope)
                for index, name, slope in self.template.parameterized_ops()
            ]
        else:
            self.template = self.noisy = None
            self.qubits = [self.compiled.final_map[q] for q in line]
            self.shift_terms = self._shift_terms()
        self.edges = [(int(u), int(v), float(w)) for u, v, w in problem.edges]
        # hardware.simulate knows no Max-Cut: it gets the cost as a diagonal (probabilities,
        # counts) or as a Z-string PauliSum on line qubits (readout mitigation per edge).
        self.diagonal = cost_diagonal(problem)
        self.operator = qaoa.cost_operator(problem)
        errors = readout_errors(self.model, self.qubits) if self.model is not None else None
        self.readout = [errors[q] for q in self.qubits] if errors else None

    @property
    def compiled(self) -> hardware.CompiledCircuit:
        """The symbolic compile (TFQ-compatible form; built on first use).

        Returns:
            The :class:`hardware.CompiledCircuit` with sympy symbols.
        """
        if self._compiled is None:
            self._compiled = hardware.compile_circuit(
                self._logical,
                self.setup.device,
                self.setup.gateset,
                routing=self.setup.routing,
                symbolic=True,
                seed=self._seed,
            )
        return self._compiled

    def summary(self) -> dict:
        """Plain-JSON description of the circuit the noisy estimates run.

        Returns:
            The template's or the compile's summary with ``engine`` added.
        """
        if self.template is not None:
            return {**self.template.summary(), "engine": "template"}
        return {**self.compiled.summary(), "engine": "symbolic"}

    # -- structure ----------------------------------------------------------------------------
    def _shift_terms(self) -> list[ShiftTerm]:
        terms = []
        for m, moment in enumerate(self.compiled.circuit):
            for k, op in enumerate(moment.operations):
                if not cirq.is_parameterized(op):
                    continue
                gate = op.gate
                names = cirq.parameter_names(gate)
                if len(names) != 1 or not _shift_rule_ok(gate):
                    raise ValueError(
                        f"Parameter shift needs single-symbol two-eigenvalue gates, got {op!r}; "
                        "compile with hardware.compile_circuit(..., symbolic=True)."
                    )
                (name,) = names
                exponent = sympy.sympify(gate.exponent)
                slope = float(sympy.diff(exponent, sympy.Symbol(name)))
                if any(s.name != name for s in exponent.free_symbols) or sympy.diff(
                    exponent, sympy.Symbol(name), 2
                ):
                    raise ValueError(f"Exponent {exponent} of {op!r} is not linear in {name}.")
                terms.append(ShiftTerm(m, k, name, slope))
        return terms

    @property
    def is_noisy(self) -> bool:
        """Whether the setup has a noise model."""
        return self.model is not None

    def circuits_per_gradient(self) -> int:
        """Circuits a parameter-shift gradient runs (two per parameter-dependent gate).

        Returns:
            ``2 * len(shift_terms)``.
        """
        return 2 * len(self.shift_terms)

    def _resolved(self, theta: np.ndarray, shift: tuple[ShiftTerm, float] | None = None):
        circuit = self.compiled.circuit
        if shift is not None:
            term, delta = shift
            moment = circuit[term.moment]
            op = moment.operations[term.operation]
            new_op = op.gate._with_exponent(op.gate.exponent + delta).on(*op.qubits)
            ops = list(moment.operations)
            ops[term.operation] = new_op
            circuit = (
                circuit[: term.moment] + cirq.Circuit(cirq.Moment(ops)) + circuit[term.moment + 1 :]
            )
        return cirq.resolve_parameters(circuit, qaoa.resolver(theta))

    # -- probabilities and estimates ----------------------------------------------------------
    def trajectory_probabilities(
        self, theta: np.ndarray, trajectories: int, seed: Seed = None, shift=None
    ) -> np.ndarray:
        """``(R, 2^n)`` outcome probabilities (R = 1 and exact without noise).

        Args:
            theta: ``(2p,)`` textbook θ.
            trajectories: noise trajectories R.
            seed: seed of the trajectories.
            shift: optional ``(ShiftTerm, Δ exponent)``: run the circuit with that gate's
                exponent shifted (a parameter-shift term).

        Returns:
            One distribution per trajectory, big-endian over the logical nodes (readout
            errors included).

        Raises:
            ValueError: for ``trajectories < 1`` with noise.
        """
        if self.noisy is not None:
            offsets = None if shift is None else {shift[0].operation: shift[1]}
            rows = 1 if self.model is None else trajectories
            return self.noisy.probabilities(
                np.asarray(theta, float), rows, as_generator(seed), offsets
            )
        circuit = self._resolved(np.asarray(theta, float), shift)
        if self.model is None:
            return simulate.probabilities(circuit, qubits=self.qubits)[None, :]
        return simulate.trajectory_probabilities(
            circuit, self.model, trajectories, qubits=self.qubits, seed=as_generator(seed)
        )

    def sample_counts(
        self, theta: np.ndarray, shots: int, seed: Seed = None, shift=None
    ) -> np.ndarray:
        """``(2^n,)`` counts of ``shots`` bitstrings (big-endian over logical qubits).

        Shots are drawn in ``setup.trajectories`` groups (one without noise), readout errors
        included.

        Args:
            theta: ``(2p,)`` textbook θ.
            shots: number of bitstrings.
            seed: seed of the trajectories and draws.
            shift: optional ``(ShiftTerm, Δ exponent)``: run the circuit with that gate's
                exponent shifted (a parameter-shift term).

        Returns:
            Integer counts summing to ``shots``.
        """
        rng = as_generator(seed)
        if self.noisy is not None:
            offsets = None if shift is None else {shift[0].operation: shift[1]}
            return self.noisy.sample(theta, shots, self.setup.trajectories, rng, offsets)
        groups = 1 if self.model is None else min(self.setup.trajectories, shots)
        probs = self.trajectory_probabilities(theta, groups, rng, shift)
        sizes = np.full(groups, shots // groups)
        sizes[: shots % groups] += 1
        counts = np.zeros(probs.shape[1], np.int64)
        for size, row in zip(sizes, probs, strict=True):
            row = np.clip(row, 0.0, None)
            counts += rng.multinomial(int(size), row / row.sum())
        return counts

    def energy_from_counts(self, counts: np.ndarray) -> float:
        """⟨C⟩ from outcome counts, readout-mitigated when the setup asks for it.

        Args:
            counts: ``(2^n,)`` outcome counts (big-endian over the logical nodes).

        Returns:
            The mean cut value (or its readout-corrected estimate).
        """
        shots = int(counts.sum())
        if self.setup.mitigate_readout and self.readout is not None:
            n = self.problem.n
            index = np.repeat(np.arange(counts.size), counts)
            bits = ((index[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1).astype(np.uint8)
            return simulate.mitigated_expectation(bits, self.operator, self.readout)
        return float(counts @ self.diagonal / shots)

    def estimate(self, theta: np.ndarray, shots: int | None = None, seed: Seed = None, shift=None):
        """One sampled (and optionally mitigated) energy estimate with ``shots`` shots.

        Args:
            theta: ``(2p,)`` textbook θ.
            shots: shots (default ``setup.shots``).
            seed: seed of the trajectories and draws.
            shift: optional ``(ShiftTerm, Δ exponent)``: run the circuit with that gate's
                exponent shifted (a parameter-shift term).

        Returns:
            The estimate of ⟨C⟩.
        """
        shots = int(shots or self.setup.shots)
        return self.energy_from_counts(self.sample_counts(theta, shots, seed, shift))

    def expectation(
        self,
        theta: np.ndarray,
        trajectories: int = 256,
        seed: Seed = 0,
        mitigate: bool | None = None,
    ) -> float:
        """The noisy ⟨C⟩ itself (infinite shots, ``trajectories`` noise samples; not counted).

        With readout mitigation (``mitigate``, default ``setup.mitigate_readout``) the
        correction is applied to the averaged distribution: the limit of the mitigated
        estimator.

        Args:
            theta: ``(2p,)`` textbook θ.
            trajectories: noise trajectories averaged.
            seed: seed of the trajectories.
            mitigate: apply readout mitigation (default ``setup.mitigate_readout``).

        Returns:
            The noisy expectation.
        """
        mitigate = self.setup.mitigate_readout if mitigate is None else mitigate
        raw, mitigated = self.expectations(theta, trajectories, seed)
        return mitigated if mitigate else raw

    def expectations(
        self, theta: np.ndarray, trajectories: int = 256, seed: Seed = 0
    ) -> tuple[float, float]:
        """Raw and readout-mitigated noisy ⟨C⟩ from one set of trajectories (not counted).

        Equal to ``expectation(..., mitigate=False)`` and ``expectation(..., mitigate=True)``
        with the same seed, at the cost of one; without readout errors both are the raw value.

        Args:
            theta: ``(2p,)`` textbook θ.
            trajectories: noise trajectories averaged.
            seed: seed of the trajectories.

        Returns:
            ``(raw, mitigated)``.
        """
        if self.noisy is not None and self.model is not None:
            # readout errors are linear: lay them on the mean, not on every trajectory
            probs = self.noisy.probabilities(
                np.asarray(theta, float), trajectories, as_generator(seed), readout=False
            ).mean(axis=0)
            probs = self.noisy.apply_readout(probs[None, :])[0]
        else:
            probs = self.trajectory_probabilities(theta, trajectories, seed).mean(axis=0)
        raw = float(probs @ self.diagonal)
        if self.readout is None:
            return raw, raw
        return raw, float(simulate.mitigate_probabilities(probs, self.readout) @ self.diagonal)


# --- counted objective -----------------------------------------------------------------------
class NoisyObjective(CountedObjective):
    """Counted noisy ⟨C⟩(θ) of one problem: the :class:`~qaoa_meta.optimize.InstanceObjective`
    interface on :class:`NoisyQAOA` estimates.

    Counters: ``n_evaluations`` (energy estimates asked for), ``n_gradients`` (parameter-shift
    gradients), ``n_circuits`` (circuits run), ``shots_used`` (= ``n_circuits × shots``).
    :meth:`exact` (noiseless, for traces) and :meth:`noisy_expectation` are not counted.

    Args:
        circuit: the problem's :class:`NoisyQAOA`.
        shots: shots per circuit (default ``circuit.setup.shots``).
        seed: seed of the shot sampling.

    Attributes:
        circuit: the noisy circuit.
        problem: its problem.
        shots: shots per circuit.
        rng: the sampling generator.
        n_evaluations, n_gradients, n_circuits, shots_used: the counters above.

    Raises:
        ValueError: for negative ``shots`` (0 or None take ``setup.shots``).
    """

    def __init__(self, circuit: NoisyQAOA, shots: int | None = None, seed: Seed = None):
        self.circuit = circuit
        self.problem = circuit.problem
        self.shots = int(shots or circuit.setup.shots)
        if self.shots < 1:
            raise ValueError(f"shots must be a positive integer, got {shots!r}.")
        self.rng = as_generator(seed)
        self._diagonal = cost_diagonal(circuit.problem)
        super().__init__()
        self.n_circuits = 0

    def _run(self, theta: np.ndarray, shift=None) -> float:
        self.n_circuits += 1
        self.shots_used += self.shots
        return self.circuit.estimate(theta, self.shots, self.rng, shift)

    def exact(self, theta: np.ndarray) -> float:
        """Noiseless exact ⟨C⟩ (not counted).

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            The exact expectation (:func:`qaoa_meta.energy.statevector_energy`).
        """
        return statevector_energy(self._diagonal, theta)

    def noisy_expectation(self, theta: np.ndarray, trajectories: int = 256) -> float:
        """Noisy ⟨C⟩ without shot noise (not counted).

        Args:
            theta: ``(2p,)`` textbook θ.
            trajectories: noise trajectories averaged.

        Returns:
            :meth:`NoisyQAOA.expectation` at ``theta``.
        """
        return self.circuit.expectation(theta, trajectories)

    def value(self, theta: np.ndarray) -> float:
        """One shot-based estimate: one circuit, ``shots`` shots.

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            The estimate of ⟨C⟩.
        """
        self.n_evaluations += 1
        return self._run(np.asarray(theta, float))

    def value_and_gradient(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        """Estimate and parameter-shift gradient: ``1 + 2 × occurrences`` circuits.

        Args:
            theta: ``(2p,)`` textbook θ.

        Returns:
            ``(estimate, (2p,) gradient)``, both from shots.
        """
        theta = np.asarray(theta, float)
        self.n_gradients += 1
        value = self._run(theta)
        gradient = np.zeros(theta.size)
        index = {name: i for i, name in enumerate(self.circuit.symbols)}
        for term in self.circuit.shift_terms:
            plus = self._run(theta, (term, 0.5))
            minus = self._run(theta, (term, -0.5))
            gradient[index[term.symbol]] += term.slope * math.pi / 2 * (plus - minus)
        return value, gradient

    def counters(self) -> dict[str, int]:
        """The counters so far.

        Returns:
            ``{"evaluations", "gradients", "circuits", "shots"}``.
        """
        return {
            "evaluations": self.n_evaluations,
            "gradients": self.n_gradients,
            "circuits": self.n_circuits,
            "shots": self.shots_used,
        }


# --- optimisers on a noisy objective ---------------------------------------------------------
def optimize_noisy(
    optimizer: Optimizer, objective: NoisyObjective, x0: Sequence[float], seed: Seed = None
) -> OptimizeResult:
    """Runs any Phase-II optimiser of :mod:`qaoa_meta.optimize` on a noisy objective.

    Gradient-free optimisers (COBYLA, Nelder–Mead, SPSA) see shot estimates; L-BFGS-B, SGD and
    Adam get parameter-shift gradients of shot estimates. Trace values are the noiseless
    ⟨C⟩ at each iterate (not counted), ``shots`` is every shot spent.

    Args:
        optimizer: an optimiser of :mod:`qaoa_meta.optimize`.
        objective: the noisy objective.
        x0: ``(2p,)`` initial θ.
        seed: seed of the optimiser's own randomness.

    Returns:
        The :class:`~qaoa_meta.optimize.OptimizeResult`.

    Raises:
        TypeError: when ``optimizer`` is not an :class:`~qaoa_meta.optimize.Optimizer`.
    """
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimize_noisy takes an optimiser of qaoa_meta.optimize (make_optimizer), got "
            f"{type(optimizer).__name__}."
        )
    return optimizer.optimize(objective, x0, seed)


class ShotEnergy:
    """A rollout energy that asks :attr:`objective` for counted shot estimates.

    The objective can be swapped between rollouts without retracing the model's rollout
    function (a retrace costs seconds per cell in the noise study).

    Calling it with ``(batch, theta)`` returns the ``(rows,)`` float32 estimates of the
    rows of ``theta`` (a ``tf.numpy_function``; not differentiable); a call without an
    objective raises ``RuntimeError``.

    Args:
        objective: the objective to query, or None (set :attr:`objective` before use).

    Attributes:
        objective: the current objective.
    """

    def __init__(self, objective: NoisyObjective | None = None):
        self.objective = objective

    def __call__(self, batch, theta):
        """Counted shot estimates of the rows of ``theta``.

        Args:
            batch: the encoded batch (unused: the objective knows its problem).
            theta: ``(B, 2p)`` textbook θ.

        Returns:
            ``(B,)`` float32 tensor of estimates (no gradient).
        """
        from qaoa_meta._tf import tf  # lazy: this module imports without TF

        def run(values):
            if self.objective is None:
                raise RuntimeError("ShotEnergy has no objective; set .objective first.")
            return np.array([self.objective.value(row) for row in values], np.float32)

        out = tf.numpy_function(run, [theta], tf.float32)
        return tf.reshape(out, [-1])


def noisy_phase1(model: Any, objective: NoisyObjective, keep_energy: bool = False) -> np.ndarray:
    """A learned initialiser's Phase I run on the noisy device: ``(T, 2p)`` textbook θ_t.

    The meta-learner's rollout queries the energy T times; here every query is a counted
    shot estimate from ``objective`` (through :meth:`qaoa_meta.meta.MetaOptimizer.set_energy`).
    The model's own energy is restored afterwards unless ``keep_energy`` (then the next call
    reuses the traced rollout with the new objective).

    Args:
        model: a :class:`qaoa_meta.meta.MetaOptimizer`.
        objective: the noisy objective of the problem (its counters record the queries).
        keep_energy: leave the :class:`ShotEnergy` set on the model.

    Returns:
        ``(T, 2p)`` float θ_t of the rollout.
    """
    previous = model.energy_fn
    energy = previous if isinstance(previous, ShotEnergy) else ShotEnergy()
    energy.objective = objective
    learned = LearnedInitializer(model, energy=energy, keep_energy=keep_energy)
    try:
        return learned.phase1([objective.problem], model.config.p).theta[0].astype(float)
    finally:
        energy.objective = None


__all__ = [
    "NoisyObjective",
    "NoisyQAOA",
    "NoisySetup",
    "ShiftTerm",
    "ShotEnergy",
    "noisy_phase1",
    "optimize_noisy",
    "statevector_energy",
]
