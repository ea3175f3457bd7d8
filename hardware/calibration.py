"""Google device calibrations as noise: cirq-google's model and its TFQ-channel form.

:func:`google_noise` is cirq-google's calibration-based model for ``rainbow``/``weber``;
:class:`CalibratedNoise` writes the same calibration with TFQ's channels only (what
:func:`hardware.noise.to_tfq_compatible` returns for the Google model). The functions on
cirq-google's model (:func:`is_google_model`, :func:`scale_google_model`, ...) are the
protocol answers for a class this package cannot extend.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import cirq
import numpy as np
from cirq.devices import noise_utils

from hardware.devices import google_noise_properties, import_cirq_google
from hardware.gatesets import is_native_two_qubit
from hardware.noise_models import (
    NEVER,
    ReadoutBeforeMeasurement,
    is_noise_free,
    scaled_probability,
)
from hardware.tfq_noise import local_pauli_channels, pauli_twirl


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
    props = google_noise_properties(processor_id)
    errors = dict(props.gate_pauli_errors)
    for op_id, err in props.gate_pauli_errors.items():
        if op_id.gate_type is cirq.ISwapPowGate and len(op_id.qubits) == 2:
            errors.setdefault(noise_utils.OpIdentifier(cirq.CZPowGate, *op_id.qubits), err)
    return dataclasses.replace(props, gate_pauli_errors=errors)


def google_model_properties(model):
    """The calibration a cirq-google model was built from.

    cirq 1.5 keeps it only in the private field ``_noise_properties`` (there is no public
    accessor), so this is the one place that reads it.

    Args:
        model: a ``cirq_google.NoiseModelFromGoogleNoiseProperties`` (see
            :func:`is_google_model`).

    Returns:
        Its ``cirq_google.GoogleNoiseProperties`` (the object itself, not a copy).
    """
    return model._noise_properties


def is_google_model(model) -> bool:
    """Whether ``model`` is cirq-google's calibration-based noise model.

    Args:
        model: any object (None included).

    Returns:
        True for a ``cirq_google.NoiseModelFromGoogleNoiseProperties``, such as
        :func:`google_noise` and :func:`scale_google_model` return.
    """
    cg = import_cirq_google()

    return isinstance(model, cg.NoiseModelFromGoogleNoiseProperties)


def _two_qubit_class(gate) -> str:
    for name in ("sycamore", "sqrt_iswap", "cz"):
        if is_native_two_qubit(gate, name):
            return name
    return "other"


@dataclass(frozen=True)
class CalibratedNoise(ReadoutBeforeMeasurement):
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

    def errors(self, q: cirq.Qid) -> tuple[float, float]:
        """The calibrated readout errors of one qubit.

        Args:
            q: the qubit.

        Returns:
            ``(p01, p10)`` from ``readout``, ``(0.0, 0.0)`` where it has no entry.
        """
        return tuple(self.readout.get(q, (0.0, 0.0)))

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
            if cirq.is_measurement(op) or is_noise_free(op) or not cirq.has_unitary(op):
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
                    coh_ops.extend(local_pauli_channels(np.asarray(entry[1:]), sorted(op.qubits)))
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
        """This model with every error rate times ``factor``.

        Depolarising probabilities and coherent angles (or twirled error probabilities) are
        multiplied by ``factor``, T1 and T_phi divided by it (:data:`NEVER` for factor 0),
        and readout errors multiplied but capped so that ``p01 + p10 <= 1``; gate durations
        are kept. Factor 0 is exactly noiseless.

        Args:
            factor: the multiplier, finite and >= 0.

        Returns:
            A new :class:`CalibratedNoise`.

        Raises:
            ValueError: when a scaled depolarising probability exceeds 1 or a twirled
                coherent error's total probability exceeds 1.
        """
        f = factor
        return CalibratedNoise(
            {q: scaled_probability("p1", p, f) for q, p in self.p1.items()},
            {k: scaled_probability("p2", p, f) for k, p in self.p2.items()},
            {k: _scaled_coherent(v, f) for k, v in self.coherent.items()},
            {q: t / f if f > 0 else NEVER for q, t in self.t1_ns.items()},
            {q: t / f if f > 0 else NEVER for q, t in self.tphi_ns.items()},
            {q: tuple(_scaled_readout(e, f)) for q, e in self.readout.items()},
            self.durations_ns,
        )

    def tfq_compatible(self):
        """This model: it is written with TFQ's channels only.

        Returns:
            ``self``.
        """
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

    return calibrated_from_properties(_google_properties(processor_id), cg)


def _coherent_entry(gate: cirq.PhasedFSimGate):
    """``("fsim", theta, phi)`` when the error is an FSimGate (TFQ-exact), else twirled probs."""
    if all(abs(float(x)) < 1e-12 for x in (gate.zeta, gate.chi, gate.gamma)):
        return ("fsim", float(gate.theta), float(gate.phi))
    return ("pauli", *pauli_twirl(cirq.kraus(gate)))


def calibrated_from_properties(props, cg) -> CalibratedNoise:
    """The :class:`CalibratedNoise` of a cirq-google noise-properties object.

    1q depolarising errors are read from the ``PhasedXZGate`` entries, 2q ones from the SYC,
    ``ISWAP**0.5`` and CZ entries (negative values clipped to 0); coherent errors from
    ``fsim_errors`` (an ``FSimGate`` when the error has no zeta/chi/gamma part, else its
    Pauli twirl); T1, T_phi, readout errors and gate durations as stored (SYC 12 ns,
    √iSWAP and CZ 32 ns where missing; ``other`` the longer of √iSWAP and CZ).

    Args:
        props: a ``cirq_google.GoogleNoiseProperties`` (e.g. :func:`google_model_properties`
            of a Google model); it must have a ``PhasedXZGate`` gate time.
        cg: the imported ``cirq_google`` module (:func:`hardware.devices.import_cirq_google`).

    Returns:
        The model, with the calibration's qubits and couplers as keys.
    """
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


def scale_google_model(model, f: float):
    """cirq-google's model rebuilt from its calibration with every error rate times ``f``.

    Pauli errors and coherent angles are multiplied by ``f``, T1 and T_phi divided by it
    (:data:`NEVER` for ``f = 0``), readout errors multiplied but capped so that
    ``p01 + p10 <= 1``; a qubit whose scaled readout errors are both 0 is left out of the
    calibration (no readout error). The model's own calibration is not changed.

    Args:
        model: a cirq-google model (:func:`is_google_model`).
        f: the factor, finite and >= 0 (checked by :func:`hardware.noise.scale`).

    Returns:
        A new ``cirq_google.NoiseModelFromGoogleNoiseProperties``.

    Raises:
        ValueError: when a scaled Pauli error exceeds 1.
    """
    cg = import_cirq_google()

    props = google_model_properties(model)
    inf = NEVER
    readout = {q: _scaled_readout(e, f) for q, e in props.readout_errors.items()}
    new = dataclasses.replace(
        props,
        t1_ns={q: (t / f if f > 0 else inf) for q, t in props.t1_ns.items()},
        tphi_ns={q: (t / f if f > 0 else inf) for q, t in props.tphi_ns.items()},
        # cirq-google builds the readout channel as p11 / (p00 + p11): a qubit whose errors
        # are both 0 (e.g. factor 0) would give 0/0, so it is left out (no readout error).
        readout_errors={q: e for q, e in readout.items() if e.sum() > 0},
        gate_pauli_errors={
            k: scaled_probability("pauli error", v, f) for k, v in props.gate_pauli_errors.items()
        },
        fsim_errors={
            k: cirq.PhasedFSimGate(
                theta=g.theta * f, zeta=g.zeta * f, chi=g.chi * f, gamma=g.gamma * f, phi=g.phi * f
            )
            for k, g in props.fsim_errors.items()
        },
    )
    return cg.NoiseModelFromGoogleNoiseProperties(new)


__all__ = [
    "CalibratedNoise",
    "calibrated_from_properties",
    "calibrated_noise",
    "google_model_properties",
    "google_noise",
    "is_google_model",
    "scale_google_model",
]
