"""Moment noise models: depolarising, thermal relaxation, readout, and stacks of them.

All are ``cirq.NoiseModel``s applied moment by moment through :class:`MomentNoise`, whose
docstring states the subclass contract and the noise-model protocol (``scaled``,
``readout_errors``, ``tfq_compatible``) that :mod:`hardware.noise` calls.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import cirq
import numpy as np

from hardware.tfq_noise import TwirledNoise

# A relaxation time standing for "never" (a model scaled by 0 keeps its kind, with no decay).
NEVER = 1e30


def check_finite(name: str, value: float) -> float:
    """Converts ``value`` to a float and checks that it is finite.

    Args:
        name: what the value is, for the error message.
        value: the number (anything ``float()`` accepts).

    Returns:
        ``float(value)``.

    Raises:
        ValueError: when ``value`` is NaN or infinite (or a string ``float()`` rejects).
    """
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def check_probability(name: str, value: float, upper: float = 1.0) -> float:
    """Converts ``value`` to a float and checks that it is a probability in ``[0, upper]``.

    Args:
        name: what the value is, for the error message.
        value: the number.
        upper: the largest allowed value.

    Returns:
        ``float(value)``.

    Raises:
        ValueError: when ``value`` is not finite or lies outside ``[0, upper]``.
    """
    value = check_finite(name, value)
    if not 0.0 <= value <= upper:
        raise ValueError(f"{name} must be a probability in [0, {upper:g}], got {value}")
    return value


def is_noise_free(op: cirq.Operation) -> bool:
    """Whether ``op`` gets no gate noise: virtual Z rotations, identities, global phases.

    Args:
        op: a circuit operation.

    Returns:
        True when the op's gate is a ``ZPowGate`` (any exponent, so every Z rotation),
        ``IdentityGate`` or ``GlobalPhaseGate``.
    """
    return isinstance(op.gate, cirq.ZPowGate | cirq.IdentityGate | cirq.GlobalPhaseGate)


class MomentNoise(cirq.NoiseModel):
    """Base: noise as moments before and after each circuit moment.

    Subclass contract: override :meth:`before` and/or :meth:`after` (both default to no
    noise) to return the noise moments for one circuit moment; do not override
    :meth:`noisy_moment`. The three noise-model protocol methods that :func:`scale`,
    :func:`readout_errors` and :func:`to_tfq_compatible` call have defaults a subclass
    overrides where it can do better: :meth:`scaled` raises ``TypeError`` (a model that can be
    scaled must say how), :meth:`readout_errors` reports none, :meth:`tfq_compatible` wraps the
    model in :class:`TwirledNoise`. Subclasses here are frozen dataclasses whose fields are the
    whole model.

    What the hooks receive and return:

    - ``before(moment, qubits)`` / ``after(moment, qubits)``: the circuit moment (never a
      virtual one) and every qubit of the system, idle ones included; they return a list of
      ``cirq.Moment`` in circuit order (empty ones are fine, they are dropped). They must not
      change or repeat the circuit's own ops: the moment is inserted by the base class.
    - ``scaled(factor)``: a new model of the same kind with every error rate times
      ``factor`` (``factor`` is already checked finite and >= 0 by :func:`scale`). Factor 0
      must be exactly noiseless (any channel left in the circuit is the identity; the
      models here keep their kind, with zero probabilities and relaxation times of
      :data:`NEVER`), as the noise-level sweeps compare it with the ideal circuit. Raise
      ``ValueError`` when a scaled probability would leave its range.
    - ``readout_errors(qubits)``: ``{qubit: (p01, p10)}`` for every qubit asked, with
      ``p01`` = P(read 1 | state 0) and ``p10`` = P(read 0 | state 1), exactly the errors
      the model applies before measurement (readout mitigation inverts them); ``(0.0,
      0.0)`` where the model has none.
    - ``tfq_compatible()``: a model whose every noise op is a single-qubit channel of
      :data:`TFQ_CHANNELS` (so TFQ's noisy backend can parse it; see
      :func:`uses_only_tfq_channels`), the same model where that holds already, else the
      closest such approximation.

    The base class guarantees: the circuit moment itself is kept unchanged, between the
    ``before`` and ``after`` moments; moments without operations are dropped; a moment
    holding any op tagged ``cirq.VirtualTag`` passes through without noise (neither hook is
    called). Only subclasses can be members of a :class:`NoiseStack`.
    """

    def before(self, moment: cirq.Moment, qubits: Sequence[cirq.Qid]) -> list[cirq.Moment]:
        """Noise moments to insert before ``moment`` (default: none); see the class docstring.

        Args:
            moment: the circuit moment (never a virtual one).
            qubits: every qubit of the system, idle ones included.

        Returns:
            The noise moments, in circuit order (empty moments are dropped by the caller).
        """
        return []

    def after(self, moment: cirq.Moment, qubits: Sequence[cirq.Qid]) -> list[cirq.Moment]:
        """Noise moments to insert after ``moment`` (default: none); see the class docstring.

        Args: as :meth:`MomentNoise.before`.
        """
        return []

    def noisy_moment(self, moment: cirq.Moment, system_qubits: Sequence[cirq.Qid]):
        """``[*before, moment, *after]`` without empty moments; a virtual moment unchanged.

        Args:
            moment: the circuit moment.
            system_qubits: every qubit of the system.

        Returns:
            The list of moments that replaces ``moment``.
        """
        if self.is_virtual_moment(moment):
            return [moment]
        pre = [m for m in self.before(moment, system_qubits) if m.operations]
        post = [m for m in self.after(moment, system_qubits) if m.operations]
        return [*pre, moment, *post]

    def scaled(self, factor: float) -> cirq.NoiseModel:
        """This model with every error rate multiplied by ``factor`` (see :func:`scale`).

        Args:
            factor: the multiplier, finite and >= 0 (checked by :func:`scale`).

        Returns:
            In a subclass, a new model of its kind; factor 0 exactly noiseless.

        Raises:
            TypeError: always, unless a subclass says how it scales.
        """
        raise TypeError(
            f"cannot scale noise model of type {type(self).__name__}: it defines no scaled(); "
            "supported: DepolarizingNoise, ThermalNoise, ReadoutNoise, NoiseStack, "
            "CalibratedNoise, TwirledNoise, Google models"
        )

    def readout_errors(self, qubits: Sequence[cirq.Qid]) -> dict:
        """Modelled readout errors ``{qubit: (p01, p10)}`` (default: none, all zeros).

        Args:
            qubits: the qubits to report.

        Returns:
            ``{qubit: (p01, p10)}`` for every qubit of ``qubits``; here all ``(0.0, 0.0)``.
        """
        return {q: (0.0, 0.0) for q in qubits}

    def tfq_compatible(self) -> cirq.NoiseModel:
        """This model written with TFQ's channels (default: :class:`TwirledNoise` of it).

        Returns:
            A model whose noise ops are single-qubit :data:`TFQ_CHANNELS` ops.
        """
        return TwirledNoise(self)

    @staticmethod
    def is_virtual_moment(moment: cirq.Moment) -> bool:
        """Whether any op of ``moment`` is tagged ``cirq.VirtualTag`` (such moments get no noise).

        Args:
            moment: the circuit moment.

        Returns:
            True when at least one op carries a ``cirq.VirtualTag``.
        """
        return any(isinstance(t, cirq.VirtualTag) for op in moment for t in op.tags)


@dataclass(frozen=True)
class DepolarizingNoise(MomentNoise):
    """Depolarising noise after gates: ``p1`` per 1q gate, ``p2`` per 2q gate.

    The probabilities are Cirq's (``cirq.depolarize``): with probability ``p`` one of the
    non-identity Paulis, uniformly (``p/3`` each for 1q, ``p/15`` for 2q). Virtual Z
    rotations (every ``ZPowGate``), identities, global phases, measurements, non-unitary
    ops and ops on 3+ qubits get no noise. ``two_qubit_local=True`` replaces the two-qubit
    channel with independent 1q channels of the same process fidelity,
    ``q = 1 - sqrt(1 - p2)`` on each qubit (TFQ-compatible).

    Attributes:
        p1: depolarising probability after each 1q gate, in [0, 1].
        p2: depolarising probability after each 2q gate, in [0, 1].
        two_qubit_local: write the 2q channel as two local 1q channels.

    Raises:
        ValueError: when ``p1`` or ``p2`` is not a finite number in [0, 1].
    """

    p1: float
    p2: float
    two_qubit_local: bool = False

    def __post_init__(self):
        check_probability("p1", self.p1)
        check_probability("p2", self.p2)

    def after(self, moment, qubits):
        """One moment of depolarising channels on the qubits of the moment's noisy gates.

        Args:
            moment: the circuit moment.
            qubits: every qubit of the system (unused: idle qubits get no noise).

        Returns:
            ``[cirq.Moment(channels)]``, empty when no gate gets noise.
        """
        ops = []
        for op in moment:
            if cirq.is_measurement(op) or is_noise_free(op) or not cirq.has_unitary(op):
                continue
            if len(op.qubits) == 1 and self.p1 > 0:
                ops.append(cirq.depolarize(self.p1).on(*op.qubits))
            elif len(op.qubits) == 2 and self.p2 > 0:
                if self.two_qubit_local:
                    q = 1.0 - np.sqrt(1.0 - self.p2)
                    ops.extend(cirq.depolarize(q).on(x) for x in op.qubits)
                else:
                    ops.append(cirq.depolarize(self.p2, n_qubits=2).on(*op.qubits))
        return [cirq.Moment(ops)]

    def scaled(self, factor):
        """This model with ``p1`` and ``p2`` times ``factor``.

        Args:
            factor: the multiplier, finite and >= 0.

        Returns:
            A new :class:`DepolarizingNoise` (same ``two_qubit_local``).

        Raises:
            ValueError: when a scaled probability exceeds 1.
        """
        return dataclasses.replace(
            self,
            p1=scaled_probability("p1", self.p1, factor),
            p2=scaled_probability("p2", self.p2, factor),
        )

    def tfq_compatible(self):
        """This model with the 2q channel as two local 1q channels of the same process fidelity.

        Returns:
            A copy with ``two_qubit_local=True``.
        """
        return dataclasses.replace(self, two_qubit_local=True)


@dataclass(frozen=True)
class ThermalNoise(MomentNoise):
    """T1/T2 relaxation over each moment's duration on every qubit (idle ones too).

    Amplitude damping ``gamma = 1 - exp(-t/T1)`` then phase damping
    ``lambda = 1 - exp(-2t/T_phi)`` with ``1/T_phi = 1/T2 - 1/(2 T1)``: coherences decay as
    ``exp(-t/T2)``, populations as ``exp(-t/T1)``. Moments of virtual Z gates take no time,
    nor do measurements (no decay during readout); see :meth:`duration_ns`.

    Attributes:
        t1_us, t2_us: relaxation and coherence times in microseconds (``t2_us <= 2 t1_us``).
        gate_ns_1q, gate_ns_2q: gate durations in nanoseconds (``gate_ns_2q`` also for gates
            on 3+ qubits).

    Raises:
        ValueError: when a field is not finite, T1 or T2 is not positive, or T2 > 2 T1.
    """

    t1_us: float
    t2_us: float
    gate_ns_1q: float = 25.0
    gate_ns_2q: float = 32.0

    def __post_init__(self):
        for name in ("t1_us", "t2_us", "gate_ns_1q", "gate_ns_2q"):
            check_finite(name, getattr(self, name))
        if self.t1_us <= 0 or self.t2_us <= 0:
            raise ValueError(f"T1 and T2 must be positive, got T1={self.t1_us}, T2={self.t2_us}")
        if self.t2_us > 2 * self.t1_us * (1 + 1e-12):
            raise ValueError(
                f"T2 ({self.t2_us} us) cannot exceed 2*T1 ({2 * self.t1_us} us); lower T2"
            )

    def duration_ns(self, moment: cirq.Moment) -> float:
        """Duration of ``moment``: its longest timed gate.

        Measurements, Z rotations, identities, global phases and non-unitary ops take no
        time; a 1q gate takes ``gate_ns_1q``, any larger gate ``gate_ns_2q``.

        Args:
            moment: the circuit moment.

        Returns:
            The duration in nanoseconds, 0.0 when the moment has no timed gate.
        """
        t = 0.0
        for op in moment:
            if cirq.is_measurement(op) or is_noise_free(op) or not cirq.has_unitary(op):
                continue
            t = max(t, self.gate_ns_1q if len(op.qubits) == 1 else self.gate_ns_2q)
        return t

    def channels(self, t_ns: float) -> tuple[float, float]:
        """Amplitude- and phase-damping parameters for a duration ``t_ns``.

        Args:
            t_ns: duration in nanoseconds.

        Returns:
            ``(gamma, lam)`` for ``cirq.amplitude_damp(gamma)`` and ``cirq.phase_damp(lam)``
            (``lam`` is 0 when ``T2 = 2 T1``).
        """
        t1, t2 = self.t1_us * 1e3, self.t2_us * 1e3
        gamma = 1.0 - np.exp(-t_ns / t1)
        rate_phi = max(0.0, 1.0 / t2 - 0.5 / t1)
        lam = 1.0 - np.exp(-2.0 * t_ns * rate_phi)
        return float(gamma), float(lam)

    def after(self, moment, qubits):
        """Amplitude damping, then phase damping, on every qubit over the moment's duration.

        Args:
            moment: the circuit moment.
            qubits: every qubit of the system; idle qubits decay too.

        Returns:
            ``[amplitude-damping moment, phase-damping moment]``, or ``[]`` for a moment
            that takes no time.
        """
        t = self.duration_ns(moment)
        if t <= 0:
            return []
        gamma, lam = self.channels(t)
        ad = [cirq.amplitude_damp(gamma).on(q) for q in qubits]
        pd = [cirq.phase_damp(lam).on(q) for q in qubits] if lam > 0 else []
        return [cirq.Moment(ad), cirq.Moment(pd)]

    def scaled(self, factor):
        """This model with T1 and T2 divided by ``factor`` (decay rates times it).

        Args:
            factor: the multiplier, finite and >= 0.

        Returns:
            A new :class:`ThermalNoise` (same gate durations); T1 = T2 = :data:`NEVER` us
            for factor 0, so every damping channel is the identity.
        """
        return dataclasses.replace(
            self,
            t1_us=self.t1_us / factor if factor > 0 else NEVER,
            t2_us=self.t2_us / factor if factor > 0 else NEVER,
        )

    def tfq_compatible(self):
        """This model: amplitude and phase damping are TFQ channels.

        Returns:
            ``self``.
        """
        return self


class ReadoutBeforeMeasurement(MomentNoise):
    """Base of the models with readout errors: channels before each measurement.

    Subclass contract: :meth:`errors` gives a qubit's ``(p01, p10)``; :meth:`before` puts
    the readout channels (:func:`readout_moment`) of those errors before each measurement and
    :meth:`readout_errors` reports the same numbers, so that mitigation inverts exactly what
    the model applies.
    """

    def errors(self, q: cirq.Qid) -> tuple[float, float]:
        """Readout errors ``(p01, p10)`` of one qubit; every subclass must implement it.

        Args:
            q: the qubit.

        Returns:
            ``(p01, p10)``: P(read 1 | state 0) and P(read 0 | state 1), each in [0, 1].

        Raises:
            NotImplementedError: here, in the base class.
        """
        raise NotImplementedError(f"{type(self).__name__} must implement errors(q).")

    def before(self, moment, qubits):
        """One moment of readout channels on the qubits measured in ``moment``.

        Args:
            moment: the circuit moment.
            qubits: every qubit of the system (unused).

        Returns:
            ``[cirq.Moment(channels)]``, empty when nothing with an error is measured.
        """
        return readout_moment(moment, self.errors)

    def readout_errors(self, qubits):
        """The readout errors of each qubit (:meth:`errors`).

        Args:
            qubits: the qubits to report.

        Returns:
            ``{qubit: (p01, p10)}``.
        """
        return {q: tuple(self.errors(q)) for q in qubits}


@dataclass(frozen=True)
class ReadoutNoise(ReadoutBeforeMeasurement):
    """Readout errors: ``p01`` = P(read 1 | state 0), ``p10`` = P(read 0 | state 1).

    Per-qubit values can be given in ``per_qubit`` ({qubit: (p01, p10)}); others use the
    defaults. Written as a generalized amplitude damping channel right before measurement,
    which is exact for Z-basis readout and TFQ-compatible. Only measured qubits get it.

    Attributes:
        p01: default P(read 1 | state 0).
        p10: default P(read 0 | state 1).
        per_qubit: ``{qubit: (p01, p10)}`` overriding the defaults, or None.

    Raises:
        ValueError: when a probability is not finite or not in [0, 1], or a pair has
            ``p01 + p10 > 1``.
    """

    p01: float
    p10: float
    per_qubit: Mapping[cirq.Qid, tuple[float, float]] | None = None

    def __post_init__(self):
        check_probability("p01", self.p01)
        check_probability("p10", self.p10)
        for q, (a, b) in (self.per_qubit or {}).items():
            check_probability(f"p01 of {q}", a)
            check_probability(f"p10 of {q}", b)
            if a + b > 1:
                raise ValueError(f"p01 + p10 of {q} must be <= 1, got {a + b}")
        if self.p01 + self.p10 > 1:
            raise ValueError(
                f"p01 + p10 must be <= 1 (else readout is inverted), got {self.p01 + self.p10}"
            )

    def errors(self, q: cirq.Qid) -> tuple[float, float]:
        """Readout errors of one qubit.

        Args:
            q: the qubit.

        Returns:
            ``(p01, p10)`` from ``per_qubit``, else the defaults.
        """
        return tuple((self.per_qubit or {}).get(q, (self.p01, self.p10)))

    def scaled(self, factor):
        """This model with every readout error (defaults and ``per_qubit``) times ``factor``.

        Unlike :class:`CalibratedNoise`, the errors are not capped.

        Args:
            factor: the multiplier, finite and >= 0.

        Returns:
            A new :class:`ReadoutNoise`; factor 0 gives no readout channels at all.

        Raises:
            ValueError: when a scaled error exceeds 1 or a scaled pair has p01 + p10 > 1.
        """
        per_qubit = None
        if self.per_qubit:
            per_qubit = {
                q: (scaled_probability("p01", a, factor), scaled_probability("p10", b, factor))
                for q, (a, b) in self.per_qubit.items()
            }
        return ReadoutNoise(
            scaled_probability("p01", self.p01, factor),
            scaled_probability("p10", self.p10, factor),
            per_qubit,
        )

    def tfq_compatible(self):
        """This model: its readout channel is a generalized amplitude damping.

        Returns:
            ``self``.
        """
        return self


def readout_channel(p01: float, p10: float) -> cirq.Gate | None:
    """Generalized amplitude damping with P(0->1) = p01 and P(1->0) = p10 (None if both 0).

    Args:
        p01: P(read 1 | state 0).
        p10: P(read 0 | state 1).

    Returns:
        ``cirq.generalized_amplitude_damp(p=p10 / (p01 + p10), gamma=p01 + p10)``, or None
        when ``p01 + p10 <= 0``.

    Raises:
        ValueError: from Cirq when ``p01 + p10 > 1``.
    """
    gamma = p01 + p10
    if gamma <= 0:
        return None
    return cirq.generalized_amplitude_damp(p=p10 / gamma, gamma=gamma)


def readout_moment(
    moment: cirq.Moment, errors: Callable[[cirq.Qid], tuple[float, float]]
) -> list[cirq.Moment]:
    """One moment of readout channels (:func:`readout_channel`) on the qubits measured in
    ``moment``.

    Args:
        moment: the circuit moment.
        errors: ``(p01, p10)`` of a qubit.

    Returns:
        ``[cirq.Moment(channels)]``, empty when nothing with an error is measured.
    """
    ops = []
    for op in moment:
        if cirq.is_measurement(op):
            for q in op.qubits:
                channel = readout_channel(*errors(q))
                if channel is not None:
                    ops.append(channel.on(q))
    return [cirq.Moment(ops)]


@dataclass(frozen=True)
class NoiseStack(MomentNoise):
    """Several moment-noise models applied together (their before/after moments in order).

    Each model sees the original moment, not the noise of the models before it. An empty
    stack is noiseless.

    Attributes:
        models: the models, in order; :class:`MomentNoise` subclasses only (not the Google
            model).
    """

    models: tuple[MomentNoise, ...]

    def before(self, moment, qubits):
        """The ``before`` moments of every member, first member's first; each member sees
        the original ``moment``.

        Args: as :meth:`MomentNoise.before`.
        """
        return [m for model in self.models for m in model.before(moment, qubits)]

    def after(self, moment, qubits):
        """The ``after`` moments of every member, first member's first; each member sees
        the original ``moment``.

        Args: as :meth:`MomentNoise.before`.
        """
        return [m for model in self.models for m in model.after(moment, qubits)]

    def scaled(self, factor):
        """This stack with every member scaled by ``factor`` (the member's ``scaled``).

        Args:
            factor: the multiplier, finite and >= 0.

        Returns:
            A new :class:`NoiseStack` of the scaled members, in order.

        Raises:
            ValueError: when a member's scaled probability leaves its range.
            TypeError: when a member defines no ``scaled`` (the base class default).
        """
        return NoiseStack(tuple(m.scaled(factor) for m in self.models))

    def readout_errors(self, qubits):
        """The members' readout errors; a later member's nonzero errors win.

        The errors are not combined: with two members reporting readout errors on a qubit,
        the stack applies both channels but reports only the later pair.

        Args:
            qubits: the qubits to report.

        Returns:
            ``{qubit: (p01, p10)}`` for every qubit of ``qubits``, zeros where no member has
            an error.
        """
        out = {q: (0.0, 0.0) for q in qubits}
        for sub in self.models:
            for q, (a, b) in sub.readout_errors(qubits).items():
                if a or b:
                    out[q] = (a, b)
        return out

    def tfq_compatible(self):
        """This stack with every member's ``tfq_compatible()``.

        Returns:
            A new :class:`NoiseStack` of the converted members, in order.
        """
        return NoiseStack(tuple(m.tfq_compatible() for m in self.models))


def scaled_probability(name: str, p: float, f: float) -> float:
    """Scales a probability, refusing results above 1.

    Args:
        name: what the probability is, for the error message.
        p: the probability.
        f: the factor (>= 0).

    Returns:
        ``p * f``.

    Raises:
        ValueError: when ``p * f > 1``; the message names the largest allowed factor.
    """
    value = p * f
    if value > 1.0:
        raise ValueError(
            f"scaling {name}={p} by {f} gives {value} > 1; use a factor <= {1.0 / p:.4g}"
        )
    return value


__all__ = [
    "NEVER",
    "DepolarizingNoise",
    "MomentNoise",
    "NoiseStack",
    "ReadoutBeforeMeasurement",
    "ReadoutNoise",
    "ThermalNoise",
    "check_finite",
    "check_probability",
    "is_noise_free",
    "readout_channel",
    "readout_moment",
    "scaled_probability",
]
