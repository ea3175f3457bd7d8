"""Noise models for noisy-hardware studies: the protocol, scaling, TFQ forms and specs.

The models live in :mod:`hardware.noise_models` (moment models), :mod:`hardware.calibration`
(Google calibrations) and :mod:`hardware.tfq_noise` (TFQ's channels, the twirl); this module
holds what works on any model and re-exports them all (``from hardware.noise import ...``).

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

from collections.abc import Sequence

import cirq
import numpy as np

from hardware.calibration import (
    CalibratedNoise,
    calibrated_from_properties,
    calibrated_noise,
    google_model_properties,
    google_noise,
    is_google_model,
    scale_google_model,
)
from hardware.devices import CALIBRATED_DEVICES, import_cirq_google
from hardware.noise_models import (
    DepolarizingNoise,
    MomentNoise,
    NoiseStack,
    ReadoutNoise,
    ThermalNoise,
    check_finite,
    readout_channel,
)
from hardware.tfq_noise import TFQ_CHANNELS, TwirledNoise, pauli_twirl, uses_only_tfq_channels


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
    if is_google_model(model):
        errors = google_model_properties(model).readout_errors
        for q in qubits:
            if q in errors:
                out[q] = (float(errors[q][0]), float(errors[q][1]))
    return out


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
    if is_google_model(model):
        return calibrated_from_properties(google_model_properties(model), import_cirq_google())
    return TwirledNoise(model)


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
    f = check_finite("noise scale factor", factor)
    if f < 0:
        raise ValueError(f"noise scale factor must be >= 0, got {factor}")
    if isinstance(model, TwirledNoise):
        # Its base may be a model only this function can scale (the Google model).
        return TwirledNoise(scale(model.base, f))
    method = getattr(model, "scaled", None)
    if callable(method):
        return method(f)
    if is_google_model(model):
        return scale_google_model(model, f)
    raise TypeError(
        f"cannot scale noise model of type {type(model).__name__}; supported: DepolarizingNoise, "
        "ThermalNoise, ReadoutNoise, NoiseStack, CalibratedNoise, TwirledNoise, Google models, "
        "or any model with a scaled(factor) method"
    )


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
            factor = check_finite("noise scale after '*'", f)
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
    elif any(not isinstance(m, MomentNoise) for m in models):
        raise ValueError("the Google calibration model cannot be combined with other parts")
    else:
        model = NoiseStack(tuple(models))
    return scale(model, factor) if factor is not None else model


__all__ = [
    "CalibratedNoise",
    "DepolarizingNoise",
    "MomentNoise",
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
