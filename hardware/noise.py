"""Noise models for noisy-hardware studies, their scaling, and TFQ-compatible approximations.

Models (all ``cirq.NoiseModel``s, applied moment by moment):

- :class:`DepolarizingNoise`: depolarising channel after every 1q (``p1``) and 2q (``p2``) gate.
- :class:`ThermalNoise`: amplitude + phase damping from T1/T2 over each moment's duration, on
  every qubit (idle ones too).
- :class:`ReadoutNoise`: classical bit flips ``p(0->1)``, ``p(1->0)`` before measurement,
  written exactly as a generalized amplitude damping channel.
- :class:`NoiseStack`: several of the above together.
- :func:`google_noise`: cirq-google's calibration-based model for ``rainbow``/``weber``.
- :class:`CalibratedNoise`: the same calibration written with TFQ's channels only; it is what
  :func:`to_tfq_compatible` returns for the Google model.

:func:`scale` multiplies every error rate (noise-level sweeps); :func:`to_tfq_compatible`
rewrites any model with the 8 single-qubit channels TFQ's noisy backend parses: channels
already in that family are kept, thermal-like 1q channels are refitted exactly as
amplitude + phase damping, other channels and coherent errors are Pauli-twirled, and 2q
errors become independent 1q Pauli channels with the same process fidelity.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cirq
import numpy as np

from hardware.devices import CALIBRATED_DEVICES, google_noise_properties, import_cirq_google
from hardware.gatesets import is_native_two_qubit

# A relaxation time standing for "never" (a model scaled by 0 keeps its kind, with no decay).
_NEVER = 1e30

# The 8 single-qubit channel types TFQ's noisy backend parses.
TFQ_CHANNELS: tuple[type, ...] = (
    cirq.DepolarizingChannel,
    cirq.AsymmetricDepolarizingChannel,
    cirq.AmplitudeDampingChannel,
    cirq.PhaseDampingChannel,
    cirq.GeneralizedAmplitudeDampingChannel,
    cirq.ResetChannel,
    cirq.BitFlipChannel,
    cirq.PhaseFlipChannel,
)

_PAULIS = [cirq.unitary(g) for g in (cirq.I, cirq.X, cirq.Y, cirq.Z)]


def _check_finite(name: str, value: float) -> float:
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    return value


def _check_probability(name: str, value: float, upper: float = 1.0) -> float:
    value = _check_finite(name, value)
    if not 0.0 <= value <= upper:
        raise ValueError(f"{name} must be a probability in [0, {upper:g}], got {value}")
    return value


def _is_noise_free(op: cirq.Operation) -> bool:
    """Ops that get no gate noise: virtual Z rotations, identities, global phases."""
    return isinstance(op.gate, cirq.ZPowGate | cirq.IdentityGate | cirq.GlobalPhaseGate)


class _MomentNoise(cirq.NoiseModel):
    """Base: noise as moments before and after each circuit moment.

    Subclass contract: override :meth:`before` and/or :meth:`after` (both default to no
    noise) to return the noise moments for one circuit moment; do not override
    :meth:`noisy_moment`. The three noise-model protocol methods that :func:`scale`,
    :func:`readout_errors` and :func:`to_tfq_compatible` call have defaults a subclass
    overrides where it can do better: :meth:`scaled` raises ``TypeError`` (a model that can be
    scaled must say how), :meth:`readout_errors` reports none, :meth:`tfq_compatible` wraps the
    model in :class:`TwirledNoise`. Subclasses here are frozen dataclasses whose fields are the
    whole model.

    The base class guarantees: the circuit moment itself is kept unchanged, between the
    ``before`` and ``after`` moments; moments without operations are dropped; a moment
    holding any op tagged ``cirq.VirtualTag`` passes through without noise (neither hook is
    called). Only subclasses can be members of a :class:`NoiseStack`.
    """

    def before(self, moment: cirq.Moment, qubits: Sequence[cirq.Qid]) -> list[cirq.Moment]:
        """Noise moments to insert before ``moment`` (default: none).

        Args:
            moment: the circuit moment (never a virtual one).
            qubits: every qubit of the system, idle ones included.

        Returns:
            Moments in circuit order; empty ones are dropped by the caller.
        """
        return []

    def after(self, moment: cirq.Moment, qubits: Sequence[cirq.Qid]) -> list[cirq.Moment]:
        """Noise moments to insert after ``moment`` (default: none).

        Args:
            moment: the circuit moment (never a virtual one).
            qubits: every qubit of the system, idle ones included.

        Returns:
            Moments in circuit order; empty ones are dropped by the caller.
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
        """
        return {q: (0.0, 0.0) for q in qubits}

    def tfq_compatible(self) -> cirq.NoiseModel:
        """This model written with TFQ's channels (default: :class:`TwirledNoise` of it)."""
        return TwirledNoise(self)

    @staticmethod
    def is_virtual_moment(moment: cirq.Moment) -> bool:
        """Whether any op of ``moment`` is tagged ``cirq.VirtualTag`` (such moments get no noise).

        Args:
            moment: the circuit moment.
        """
        return any(isinstance(t, cirq.VirtualTag) for op in moment for t in op.tags)


@dataclass(frozen=True)
class DepolarizingNoise(_MomentNoise):
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
        _check_probability("p1", self.p1)
        _check_probability("p2", self.p2)

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
            if cirq.is_measurement(op) or _is_noise_free(op) or not cirq.has_unitary(op):
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
        """``p1`` and ``p2`` times ``factor`` (``ValueError`` above 1)."""
        return dataclasses.replace(
            self, p1=_scaled("p1", self.p1, factor), p2=_scaled("p2", self.p2, factor)
        )

    def tfq_compatible(self):
        """The 2q channel as two local 1q channels of the same process fidelity."""
        return dataclasses.replace(self, two_qubit_local=True)


@dataclass(frozen=True)
class ThermalNoise(_MomentNoise):
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
            _check_finite(name, getattr(self, name))
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
            if cirq.is_measurement(op) or _is_noise_free(op) or not cirq.has_unitary(op):
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
        """T1 and T2 divided by ``factor`` (rates times it); 1e30 us for factor 0."""
        return dataclasses.replace(
            self,
            t1_us=self.t1_us / factor if factor > 0 else _NEVER,
            t2_us=self.t2_us / factor if factor > 0 else _NEVER,
        )

    def tfq_compatible(self):
        """Itself: amplitude and phase damping are TFQ channels."""
        return self


@dataclass(frozen=True)
class ReadoutNoise(_MomentNoise):
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
        _check_probability("p01", self.p01)
        _check_probability("p10", self.p10)
        for q, (a, b) in (self.per_qubit or {}).items():
            _check_probability(f"p01 of {q}", a)
            _check_probability(f"p10 of {q}", b)
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

    def before(self, moment, qubits):
        """One moment of readout channels on the qubits measured in ``moment``.

        Args:
            moment: the circuit moment.
            qubits: every qubit of the system (unused).

        Returns:
            ``[cirq.Moment(channels)]``, empty when nothing with an error is measured.
        """
        ops = []
        for op in moment:
            if cirq.is_measurement(op):
                for q in op.qubits:
                    ch = readout_channel(*self.errors(q))
                    if ch is not None:
                        ops.append(ch.on(q))
        return [cirq.Moment(ops)]

    def scaled(self, factor):
        """Every error times ``factor``, uncapped (``ValueError`` above 1 or p01 + p10 > 1)."""
        per_qubit = None
        if self.per_qubit:
            per_qubit = {
                q: (_scaled("p01", a, factor), _scaled("p10", b, factor))
                for q, (a, b) in self.per_qubit.items()
            }
        return ReadoutNoise(
            _scaled("p01", self.p01, factor), _scaled("p10", self.p10, factor), per_qubit
        )

    def readout_errors(self, qubits):
        """:meth:`errors` of each qubit."""
        return {q: self.errors(q) for q in qubits}

    def tfq_compatible(self):
        """Itself: the readout channel is a generalized amplitude damping."""
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


@dataclass(frozen=True)
class NoiseStack(_MomentNoise):
    """Several moment-noise models applied together (their before/after moments in order).

    Each model sees the original moment, not the noise of the models before it.

    Attributes:
        models: the models, in order; :class:`_MomentNoise` subclasses only (not the Google
            model).
    """

    models: tuple[_MomentNoise, ...]

    def before(self, moment, qubits):
        """The ``before`` moments of every model, model by model.

        Args:
            moment: the circuit moment.
            qubits: every qubit of the system.

        Returns:
            The concatenated moments.
        """
        return [m for model in self.models for m in model.before(moment, qubits)]

    def after(self, moment, qubits):
        """The ``after`` moments of every model, model by model.

        Args:
            moment: the circuit moment.
            qubits: every qubit of the system.

        Returns:
            The concatenated moments.
        """
        return [m for model in self.models for m in model.after(moment, qubits)]

    def scaled(self, factor):
        """Every member scaled by ``factor``."""
        return NoiseStack(tuple(scale(m, factor) for m in self.models))

    def readout_errors(self, qubits):
        """The members' readout errors; a later member's nonzero errors win."""
        out = {q: (0.0, 0.0) for q in qubits}
        for sub in self.models:
            for q, (a, b) in readout_errors(sub, qubits).items():
                if a or b:
                    out[q] = (a, b)
        return out

    def tfq_compatible(self):
        """Every member converted."""
        return NoiseStack(tuple(to_tfq_compatible(m) for m in self.models))


def readout_errors(model: cirq.NoiseModel | None, qubits: Sequence[cirq.Qid]) -> dict:
    """Modelled readout errors ``{qubit: (p01, p10)}`` of a model (zeros when it has none).

    The noise-model protocol: a model's own ``readout_errors(qubits)`` method (the models of
    this module; :class:`NoiseStack`: a later member's nonzero errors win; :class:`TwirledNoise`
    reports none), the calibration of a cirq-google model, zeros for any other model or None.

    Args:
        model: a noise model, or None.
        qubits: the qubits to report.

    Returns:
        ``{qubit: (p01, p10)}`` for every qubit of ``qubits``.
    """
    method = getattr(model, "readout_errors", None)
    if callable(method):
        return method(qubits)
    out = {q: (0.0, 0.0) for q in qubits}
    if _is_google(model):
        errors = _google_properties_of(model).readout_errors
        for q in qubits:
            if q in errors:
                out[q] = (float(errors[q][0]), float(errors[q][1]))
    return out


# ----------------------------------------------------------------------------- Google


def google_noise(processor_id: str) -> cirq.NoiseModel:
    """cirq-google's noise model from the stored median calibration of ``rainbow``/``weber``.

    Depolarising and coherent (PhasedFSim) gate errors, T1/T_phi thermal channels (Kraus)
    and readout errors. Gates are recognised by type: 1q gates must be ``PhasedXZGate``
    and 2q gates SYC/``ISWAP**0.5``/CZ (the output of :func:`hardware.to_gateset`); other
    gate types receive no gate error. qsim and the density-matrix simulator accept it; TFQ
    does not (use :func:`to_tfq_compatible`).

    The stored calibrations have no CZ entries. This model (and :func:`calibrated_noise`,
    its TFQ form) assumes **CZ has the total Pauli error of the same coupler's √iSWAP, all
    of it incoherent** (depolarising plus the thermal part over CZ's 32 ns; no coherent
    CZ error): both gates are single 32 ns flux pulses. cirq-google's own noisy virtual
    engine (:func:`hardware.virtual_engine`) does not add this error.

    Args:
        processor_id: ``rainbow`` or ``weber``.

    Returns:
        A ``cirq_google.NoiseModelFromGoogleNoiseProperties``.

    Raises:
        ValueError: for a processor without a stored calibration.
    """
    cg = import_cirq_google()

    return cg.NoiseModelFromGoogleNoiseProperties(_google_properties(processor_id))


def _google_properties(processor_id: str):
    """The stored calibration with CZ errors set to the coupler's √iSWAP Pauli error."""
    from cirq.devices import noise_utils

    props = google_noise_properties(processor_id)
    errors = dict(props.gate_pauli_errors)
    for op_id, err in props.gate_pauli_errors.items():
        if op_id.gate_type is cirq.ISwapPowGate and len(op_id.qubits) == 2:
            errors.setdefault(noise_utils.OpIdentifier(cirq.CZPowGate, *op_id.qubits), err)
    return dataclasses.replace(props, gate_pauli_errors=errors)


def _google_properties_of(model):
    """The calibration a cirq-google model was built from.

    cirq 1.5 keeps it only in the private field ``_noise_properties`` (there is no public
    accessor), so this is the one place that reads it.
    """
    return model._noise_properties


def _is_google(model) -> bool:
    cg = import_cirq_google()

    return isinstance(model, cg.NoiseModelFromGoogleNoiseProperties)


def _two_qubit_class(gate) -> str:
    for name in ("sycamore", "sqrt_iswap", "cz"):
        if is_native_two_qubit(gate, name):
            return name
    return "other"


@dataclass(frozen=True)
class CalibratedNoise(_MomentNoise):
    """Per-qubit/per-coupler calibrated noise written with TFQ's channels only.

    1q gates are classed by size, not type, so TFQ-safe circuits (``PhasedXPowGate``) get
    the same noise as ``PhasedXZGate`` ones. 2q gates are classed by
    :func:`hardware.gatesets.is_native_two_qubit`: SYC is any ``FSimGate(π/2, π/6)`` (so
    TFQ-safe ``FSimGate`` SYC counts), √iSWAP an ``ISwapPowGate`` of exponent ±0.5, CZ a
    ``CZPowGate`` of exponent 1; any other 2q gate is ``other``. Noise-free ops are those
    of :class:`DepolarizingNoise`. Per moment: readout GAD before measurements; after
    gates, depolarising (1q) and local depolarising of equal process fidelity (2q), coherent
    2q errors (an ``FSimGate`` or twirled local Pauli channels), then amplitude + phase
    damping over the moment duration (its longest gate) on every qubit. Built by
    :func:`calibrated_noise` or by :func:`to_tfq_compatible` from a Google model.

    Attributes:
        p1: {qubit: depolarising probability per 1q gate}.
        p2: {(frozenset(pair), gate class): 2q depolarising probability}; gate class is
            ``sycamore``, ``sqrt_iswap``, ``cz`` or ``other``. A native class without an
            entry gets no depolarising error (as in cirq-google's model); ``other`` (a
            non-native 2q gate) falls back to the pair's mean. :func:`calibrated_noise`
            fills ``cz`` with the √iSWAP error (see :func:`google_noise`).
        coherent: {(frozenset(pair), gate class): coherent 2q error after the gate, either
            ``("fsim", theta, phi)`` (kept exactly as a TFQ-serialisable ``FSimGate``) or
            ``("pauli", 16 probabilities)`` (twirled; (I,X,Y,Z) x (I,X,Y,Z), sorted pair)}.
        t1_ns, tphi_ns: {qubit: ns}; a qubit without an entry gets no such damping.
        readout: {qubit: (p01, p10)}.
        durations_ns: {"1q": ns, "sycamore": ns, "sqrt_iswap": ns, "cz": ns, "other": ns};
            "1q" and "other" are required, a missing 2q class falls back to "other".
    """

    p1: Mapping
    p2: Mapping
    coherent: Mapping
    t1_ns: Mapping
    tphi_ns: Mapping
    readout: Mapping
    durations_ns: Mapping

    def before(self, moment, qubits):
        """One moment of readout channels on the qubits measured in ``moment``.

        Args:
            moment: the circuit moment.
            qubits: every qubit of the system (unused).

        Returns:
            ``[cirq.Moment(channels)]``, empty when nothing with an error is measured.
        """
        ops = []
        for op in moment:
            if cirq.is_measurement(op):
                for q in op.qubits:
                    ch = readout_channel(*self.readout.get(q, (0.0, 0.0)))
                    if ch is not None:
                        ops.append(ch.on(q))
        return [cirq.Moment(ops)]

    def _p2(self, pair, cls) -> float:
        if (pair, cls) in self.p2:
            return self.p2[(pair, cls)]
        if cls != "other":  # a native gate without calibration: no gate error, as in cirq-google
            return 0.0
        vals = [v for (p, _), v in self.p2.items() if p == pair]
        return float(np.mean(vals)) if vals else 0.0

    def after(self, moment, qubits):
        """Gate errors, coherent 2q errors, then thermal damping of every qubit.

        Args:
            moment: the circuit moment.
            qubits: every qubit of the system; idle qubits decay too.

        Returns:
            ``[depolarising, coherent]`` moments, followed by ``[amplitude damping, phase
            damping]`` when the moment takes time.
        """
        gate_ops, coh_ops = [], []
        duration = 0.0
        for op in moment:
            if cirq.is_measurement(op) or _is_noise_free(op) or not cirq.has_unitary(op):
                continue
            if len(op.qubits) == 1:
                duration = max(duration, self.durations_ns["1q"])
                p = self.p1.get(op.qubits[0], 0.0)
                if p > 0:
                    gate_ops.append(cirq.depolarize(p).on(*op.qubits))
            elif len(op.qubits) == 2:
                cls = _two_qubit_class(op.gate)
                duration = max(duration, self.durations_ns.get(cls, self.durations_ns["other"]))
                pair = frozenset(op.qubits)
                p = self._p2(pair, cls)
                if p > 0:
                    q = 1.0 - np.sqrt(1.0 - p)
                    gate_ops.extend(cirq.depolarize(q).on(x) for x in op.qubits)
                entry = self.coherent.get((pair, cls))
                if entry is not None and entry[0] == "fsim":
                    coh_ops.append(cirq.FSimGate(entry[1], entry[2]).on(*sorted(op.qubits)))
                elif entry is not None:
                    coh_ops.extend(_local_pauli_channels(np.asarray(entry[1:]), sorted(op.qubits)))
        out = [cirq.Moment(gate_ops), cirq.Moment(coh_ops)]
        if duration > 0:
            ad, pd = [], []
            for q in qubits:
                gamma = 1.0 - np.exp(-duration / self.t1_ns[q]) if q in self.t1_ns else 0.0
                lam = 1.0 - np.exp(-2.0 * duration / self.tphi_ns[q]) if q in self.tphi_ns else 0.0
                if gamma > 0:
                    ad.append(cirq.amplitude_damp(gamma).on(q))
                if lam > 0:
                    pd.append(cirq.phase_damp(lam).on(q))
            out += [cirq.Moment(ad), cirq.Moment(pd)]
        return out

    def scaled(self, factor):
        """Probabilities and coherent angles times ``factor``, times divided by it; readout
        errors capped so that p01 + p10 <= 1."""
        f = factor
        return CalibratedNoise(
            {q: _scaled("p1", p, f) for q, p in self.p1.items()},
            {k: _scaled("p2", p, f) for k, p in self.p2.items()},
            {k: _scaled_coherent(v, f) for k, v in self.coherent.items()},
            {q: t / f if f > 0 else _NEVER for q, t in self.t1_ns.items()},
            {q: t / f if f > 0 else _NEVER for q, t in self.tphi_ns.items()},
            {q: tuple(_scaled_readout(e, f)) for q, e in self.readout.items()},
            self.durations_ns,
        )

    def readout_errors(self, qubits):
        """The calibrated ``readout`` of each qubit (zeros where none)."""
        return {q: tuple(self.readout.get(q, (0.0, 0.0))) for q in qubits}

    def tfq_compatible(self):
        """Itself: written with TFQ's channels only."""
        return self


def calibrated_noise(processor_id: str) -> CalibratedNoise:
    """The TFQ-channel approximation of :func:`google_noise` for ``rainbow``/``weber``.

    Args:
        processor_id: ``rainbow`` or ``weber``.

    Returns:
        The :class:`CalibratedNoise` of the stored calibration (CZ set as in
        :func:`google_noise`).

    Raises:
        ValueError: for a processor without a stored calibration.
    """
    cg = import_cirq_google()

    return _calibrated_from_props(_google_properties(processor_id), cg)


def _coherent_entry(gate: cirq.PhasedFSimGate):
    """``("fsim", theta, phi)`` when the error is an FSimGate (TFQ-exact), else twirled probs."""
    if all(abs(float(x)) < 1e-12 for x in (gate.zeta, gate.chi, gate.gamma)):
        return ("fsim", float(gate.theta), float(gate.phi))
    return ("pauli", *pauli_twirl(cirq.kraus(gate)))


def _calibrated_from_props(props, cg) -> CalibratedNoise:
    type_to_cls = {
        cg.SycamoreGate: "sycamore",
        cirq.ISwapPowGate: "sqrt_iswap",
        cirq.CZPowGate: "cz",
    }
    p1, p2, coherent = {}, {}, {}
    for op_id, err in props._depolarizing_error.items():
        if op_id.gate_type is cirq.PhasedXZGate:
            p1[op_id.qubits[0]] = max(0.0, float(err))
        elif op_id.gate_type in type_to_cls and len(op_id.qubits) == 2:
            p2[(frozenset(op_id.qubits), type_to_cls[op_id.gate_type])] = max(0.0, float(err))
    for op_id, gate in props.fsim_errors.items():
        if op_id.gate_type in type_to_cls:
            a, b = op_id.qubits
            if a > b:
                continue  # stored for both orders; one insertion per pair
            coherent[(frozenset(op_id.qubits), type_to_cls[op_id.gate_type])] = _coherent_entry(
                gate
            )
    durations = {
        "1q": float(props.gate_times_ns[cirq.PhasedXZGate]),
        "sycamore": float(props.gate_times_ns.get(cg.SycamoreGate, 12.0)),
        "sqrt_iswap": float(props.gate_times_ns.get(cirq.ISwapPowGate, 32.0)),
        "cz": float(props.gate_times_ns.get(cirq.CZPowGate, 32.0)),
    }
    durations["other"] = max(durations["sqrt_iswap"], durations["cz"])
    readout = {q: (float(e[0]), float(e[1])) for q, e in props.readout_errors.items()}
    return CalibratedNoise(
        p1, p2, coherent, dict(props.t1_ns), dict(props.tphi_ns), readout, durations
    )


# ----------------------------------------------------------------------------- twirling


def pauli_twirl(kraus_ops: Sequence[np.ndarray]) -> np.ndarray:
    """Pauli-twirled error probabilities of a channel, Pauli strings in (I,X,Y,Z)^n order.

    Args:
        kraus_ops: Kraus operators of an n-qubit channel, each ``(2^n, 2^n)`` in Cirq's
            (big-endian) qubit order.

    Returns:
        ``(4^n,)`` float probabilities summing to 1 (round-off negatives clipped to 0);
        entry ``sum_k c_k 4^(n-1-k)`` is the Pauli string with ``c_k`` (I=0, X=1, Y=2, Z=3)
        on qubit k, so entry 0 is the no-error probability.
    """
    dim = kraus_ops[0].shape[0]
    n = int(round(np.log2(dim)))
    probs = []
    for combo in itertools.product(range(4), repeat=n):
        pauli = _PAULIS[combo[0]]
        for c in combo[1:]:
            pauli = np.kron(pauli, _PAULIS[c])
        probs.append(sum(abs(np.trace(pauli.conj().T @ k)) ** 2 for k in kraus_ops) / dim**2)
    probs = np.clip(np.real(np.array(probs)), 0.0, None)
    return probs / probs.sum()


def _local_pauli_channels(probs: np.ndarray, qubits) -> list[cirq.Operation]:
    """Independent 1q Pauli channels for a 2q Pauli channel, same total error, marginal shape."""
    table = probs.reshape(4, 4)
    err = 1.0 - table[0, 0]
    if err <= 1e-15:
        return []
    per_qubit = 1.0 - np.sqrt(1.0 - err)
    ops = []
    for axis, q in enumerate(qubits):
        marg = table.sum(axis=1 - axis)
        tot = marg[1:].sum()
        if tot <= 0:
            continue
        px, py, pz = per_qubit * marg[1:] / tot
        ops.append(cirq.asymmetric_depolarize(px, py, pz).on(q))
    return ops


def _ptm(kraus_ops) -> np.ndarray:
    """Pauli transfer matrix R[i, j] = tr(P_i E(P_j)) / 2 of a 1q channel."""
    return np.array(
        [
            [
                np.real(np.trace(pi @ sum(k @ pj @ k.conj().T for k in kraus_ops))) / 2
                for pj in _PAULIS
            ]
            for pi in _PAULIS
        ]
    )


def _tfq_one_qubit(kraus_ops, q) -> list[cirq.Operation]:
    """Exact amplitude+phase damping when the channel has that form, else its Pauli twirl."""
    r = _ptm(kraus_ops)
    gamma = float(np.clip(r[3, 0], 0.0, 1.0))
    if gamma < 1:
        c = 0.5 * (r[1, 1] + r[2, 2])
        lam = float(np.clip(1.0 - c**2 / (1.0 - gamma), 0.0, 1.0))
        fit = np.diag(
            [1.0, np.sqrt((1 - gamma) * (1 - lam)), np.sqrt((1 - gamma) * (1 - lam)), 1 - gamma]
        )
        fit[3, 0] = gamma
        if gamma > 0 and np.max(np.abs(fit - r)) < 1e-9:
            ops = [cirq.amplitude_damp(gamma).on(q)]
            if lam > 1e-15:
                ops.append(cirq.phase_damp(lam).on(q))
            return ops
    px, py, pz = pauli_twirl(kraus_ops)[1:]
    if px + py + pz <= 1e-15:
        return []
    return [cirq.asymmetric_depolarize(px, py, pz).on(q)]


@dataclass(frozen=True)
class TwirledNoise(cirq.NoiseModel):
    """Any noise model rewritten with TFQ channels (see :func:`to_tfq_compatible`).

    Of the base model's noisy moments, the circuit's own ops and measurements are kept, 1q
    ops already in :data:`TFQ_CHANNELS` are kept, other 1q ops are refitted exactly as
    amplitude + phase damping when they have that form and Pauli-twirled otherwise, and 2q
    ops (channels or coherent error gates) are twirled into independent 1q Pauli channels
    with the same process fidelity. The circuit's own ops are recognised by equality of their
    untagged forms (tags are dropped, as TFQ's serializer expects).

    Attributes:
        base: the model to approximate.
    """

    base: cirq.NoiseModel

    def noisy_moment(self, moment: cirq.Moment, system_qubits: Sequence[cirq.Qid]):
        """The base model's noisy moments with every noise op made TFQ-compatible.

        Args:
            moment: the circuit moment.
            system_qubits: every qubit of the system.

        Returns:
            The list of moments that replaces ``moment``.

        Raises:
            TypeError: when the base model adds a noise op on 3 or more qubits.
        """
        # The circuit's own ops are recognised by their untagged form, so a tagged circuit op
        # (a virtual Z, a dynamical-decoupling pulse) is kept, never twirled as noise; it is
        # emitted untagged, as TFQ's serializer expects.
        original = [op.untagged for op in moment.operations]
        out = []
        for noisy in cirq.Circuit(self.base.noisy_moment(moment, system_qubits)):
            ops = []
            for op in noisy:
                untagged = op.untagged
                if any(untagged == own for own in original):
                    ops.append(untagged)
                elif cirq.is_measurement(op):
                    ops.append(untagged)
                elif isinstance(untagged.gate, TFQ_CHANNELS) and len(op.qubits) == 1:
                    ops.append(untagged)
                elif len(op.qubits) == 1:
                    ops.extend(_tfq_one_qubit(cirq.kraus(untagged), op.qubits[0]))
                elif len(op.qubits) == 2:
                    ops.extend(_local_pauli_channels(pauli_twirl(cirq.kraus(untagged)), op.qubits))
                else:
                    raise TypeError(f"cannot approximate {len(op.qubits)}-qubit noise op {op}")
            out.extend(cirq.Circuit(ops).moments)
        return out

    def scaled(self, factor):
        """The twirl of the base model scaled by ``factor``."""
        return TwirledNoise(scale(self.base, factor))

    def readout_errors(self, qubits):
        """None reported (zeros), whatever the base: the twirl may symmetrise a readout
        channel, so the base's errors are not this model's."""
        return {q: (0.0, 0.0) for q in qubits}

    def tfq_compatible(self):
        """Itself."""
        return self


def to_tfq_compatible(model: cirq.NoiseModel) -> cirq.NoiseModel:
    """Approximates a noise model with the 8 single-qubit channels TFQ's noisy backend parses.

    - :class:`ThermalNoise`, :class:`ReadoutNoise`, :class:`CalibratedNoise`: already exact.
    - :class:`DepolarizingNoise`: the 2q depolarising channel becomes independent 1q
      depolarising channels with the same process fidelity, ``q = 1 - sqrt(1 - p2)``.
    - The Google model: :class:`CalibratedNoise` from the same calibration (thermal
      channels exact; coherent errors exact where they are ``FSimGate``s, else twirled; 2q
      depolarising made local).
    - :class:`NoiseStack`: each member converted.
    - Any other model: :class:`TwirledNoise` (thermal-like 1q channels refitted exactly,
      other channels Pauli-twirled, 2q channels made local with equal process fidelity).

    The noise-model protocol: a model's own ``tfq_compatible()`` method (the models of this
    module, whose cases are listed above), the Google case, else :class:`TwirledNoise`.

    Args:
        model: a noise model, or None.

    Returns:
        A model whose noise ops all pass :func:`uses_only_tfq_channels`, or None for None.
    """
    if model is None:
        return None
    method = getattr(model, "tfq_compatible", None)
    if callable(method):
        return method()
    if _is_google(model):
        return _calibrated_from_props(_google_properties_of(model), import_cirq_google())
    return TwirledNoise(model)


def uses_only_tfq_channels(circuit: cirq.AbstractCircuit) -> bool:
    """True when every non-unitary op of a noisy circuit is one of TFQ's 8 channels.

    Args:
        circuit: the noisy circuit.

    Returns:
        Whether every op is a measurement, has a unitary, or is a single-qubit op of a
        :data:`TFQ_CHANNELS` type.
    """
    for op in circuit.all_operations():
        if cirq.is_measurement(op) or cirq.has_unitary(op):
            continue
        if not isinstance(op.gate, TFQ_CHANNELS) or len(op.qubits) != 1:
            return False
    return True


# ----------------------------------------------------------------------------- scaling


def scale(model: cirq.NoiseModel, factor: float) -> cirq.NoiseModel:
    """Multiplies every error rate of a model by ``factor`` (noise-level sweeps).

    Probabilities scale linearly, T1/T2/T_phi times by ``1/factor`` (rates linearly), coherent
    error angles linearly. ``factor=0`` gives a noiseless model of the same kind (times
    become 1e30). Calibrated readout errors (:class:`CalibratedNoise`, the Google model) are
    capped so that ``p01 + p10 <= 1``; those of :class:`ReadoutNoise` are not and raise.

    The noise-model protocol: a model's own ``scaled(factor)`` method (every model of this
    module), else the cirq-google model's calibration is scaled.

    Args:
        model: a :class:`DepolarizingNoise`, :class:`ThermalNoise`, :class:`ReadoutNoise`,
            :class:`NoiseStack`, :class:`CalibratedNoise`, :class:`TwirledNoise` (its base
            is scaled), a Google model, or any model with a ``scaled(factor)`` method.
        factor: the multiplier, finite and >= 0.

    Returns:
        A new model of the same type.

    Raises:
        ValueError: for a negative or non-finite factor, or a scaled probability above its
            maximum.
        TypeError: for a model type it does not know.
    """
    f = _check_finite("noise scale factor", factor)
    if f < 0:
        raise ValueError(f"noise scale factor must be >= 0, got {factor}")
    method = getattr(model, "scaled", None)
    if callable(method):
        return method(f)
    if _is_google(model):
        return _scale_google(model, f)
    raise TypeError(
        f"cannot scale noise model of type {type(model).__name__}; supported: DepolarizingNoise, "
        "ThermalNoise, ReadoutNoise, NoiseStack, CalibratedNoise, TwirledNoise, Google models, "
        "or any model with a scaled(factor) method"
    )


def _scaled(name: str, p: float, f: float) -> float:
    value = p * f
    if value > 1.0:
        raise ValueError(
            f"scaling {name}={p} by {f} gives {value} > 1; use a factor <= {1.0 / p:.4g}"
        )
    return value


def _scaled_readout(errors, f: float) -> np.ndarray:
    """Calibrated readout errors scaled by ``f``, capped so that p01 + p10 <= 1."""
    e = np.asarray(errors, dtype=float)
    total = e.sum()
    return e * (min(f, 1.0 / total) if total > 0 else f)


def _scaled_coherent(entry, f: float) -> tuple:
    if entry[0] == "fsim":
        return ("fsim", entry[1] * f, entry[2] * f)
    return ("pauli", *_scaled_pauli(entry[1:], f))


def _scaled_pauli(probs, f: float) -> tuple:
    probs = np.asarray(probs, dtype=float)
    err = probs.copy()
    err[0] = 0.0
    err = err * f
    if err.sum() > 1:
        raise ValueError(f"scaled coherent error exceeds probability 1 (factor {f})")
    err[0] = 1.0 - err.sum()
    return tuple(err)


def _scale_google(model, f: float):
    cg = import_cirq_google()

    props = _google_properties_of(model)
    inf = _NEVER
    readout = {q: _scaled_readout(e, f) for q, e in props.readout_errors.items()}
    new = dataclasses.replace(
        props,
        t1_ns={q: (t / f if f > 0 else inf) for q, t in props.t1_ns.items()},
        tphi_ns={q: (t / f if f > 0 else inf) for q, t in props.tphi_ns.items()},
        # cirq-google builds the readout channel as p11 / (p00 + p11): a qubit whose errors
        # are both 0 (e.g. factor 0) would give 0/0, so it is left out (no readout error).
        readout_errors={q: e for q, e in readout.items() if e.sum() > 0},
        gate_pauli_errors={
            k: _scaled("pauli error", v, f) for k, v in props.gate_pauli_errors.items()
        },
        fsim_errors={
            k: cirq.PhasedFSimGate(
                theta=g.theta * f, zeta=g.zeta * f, chi=g.chi * f, gamma=g.gamma * f, phi=g.phi * f
            )
            for k, g in props.fsim_errors.items()
        },
    )
    return cg.NoiseModelFromGoogleNoiseProperties(new)


# ----------------------------------------------------------------------------- specs


def noise_from_spec(spec: str | None) -> cirq.NoiseModel | None:
    """Parses a noise description (CLI): parts joined by ``+``.

    Parts: ``none``; ``rainbow`` / ``weber`` (Google calibration); ``depolarizing:P1,P2``;
    ``thermal:T1_US,T2_US``; ``readout:P01,P10``; a trailing ``*F`` scales the whole model,
    e.g. ``depolarizing:0.001,0.01+readout:0.02,0.05*2``. Case-insensitive; ``none`` only
    as the whole spec. Several parts give a :class:`NoiseStack`.

    Args:
        spec: the description, or None.

    Returns:
        The model, or None for None, an empty string or ``none``.

    Raises:
        ValueError: for an unknown part, a non-numeric or non-finite number, the Google
            model combined with other parts, or values the model or :func:`scale` rejects.
    """
    if spec is None or spec.strip().lower() in ("", "none"):
        return None
    text = spec.strip().lower()
    factor = None
    if "*" in text:
        text, _, f = text.rpartition("*")
        try:
            factor = _check_finite("noise scale after '*'", f)
        except ValueError as error:
            raise ValueError(f"noise scale after '*' must be a finite number, got {f!r}") from error
    parts = [p.strip() for p in text.split("+") if p.strip()]
    if not parts:
        raise ValueError(
            f"noise spec {spec!r} names no noise; e.g. 'weber' or "
            "'depolarizing:0.001,0.01+readout:0.02,0.05'"
        )
    models: list[cirq.NoiseModel] = []
    for part in parts:
        name, _, args = part.partition(":")
        try:
            values = [float(x) for x in args.split(",")] if args else []
        except ValueError as error:
            raise ValueError(f"noise part {part!r}: arguments must be numbers") from error
        if not all(np.isfinite(values)):
            raise ValueError(f"noise part {part!r}: every number must be finite")
        if name in CALIBRATED_DEVICES and not values:
            models.append(google_noise(name))
        elif name == "depolarizing" and len(values) == 2:
            models.append(DepolarizingNoise(*values))
        elif name == "thermal" and len(values) == 2:
            models.append(ThermalNoise(*values))
        elif name == "readout" and len(values) == 2:
            models.append(ReadoutNoise(*values))
        else:
            raise ValueError(
                f"unknown noise part {part!r}; expected 'rainbow', 'weber', "
                "'depolarizing:P1,P2', 'thermal:T1_US,T2_US' or 'readout:P01,P10' joined by '+' "
                "(or 'none' alone for no noise)"
            )
    if len(models) == 1:
        model = models[0]
    elif any(not isinstance(m, _MomentNoise) for m in models):
        raise ValueError("the Google calibration model cannot be combined with other parts")
    else:
        model = NoiseStack(tuple(models))
    return scale(model, factor) if factor is not None else model


__all__ = [
    "CalibratedNoise",
    "DepolarizingNoise",
    "NoiseStack",
    "ReadoutNoise",
    "TFQ_CHANNELS",
    "ThermalNoise",
    "TwirledNoise",
    "calibrated_noise",
    "google_noise",
    "noise_from_spec",
    "pauli_twirl",
    "readout_channel",
    "readout_errors",
    "scale",
    "to_tfq_compatible",
    "uses_only_tfq_channels",
]
