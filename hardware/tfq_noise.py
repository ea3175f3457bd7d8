"""TFQ's noise channels and the Pauli-twirl approximation of any noise model.

TFQ's noisy backend parses 8 single-qubit channels (:data:`TFQ_CHANNELS`). :class:`TwirledNoise`
rewrites any model's noise with them: channels already in that family are kept, thermal-like
1q channels are refitted exactly as amplitude + phase damping, other channels and coherent
errors are Pauli-twirled, and 2q errors become independent 1q Pauli channels with the same
process fidelity. :func:`hardware.noise.to_tfq_compatible` picks the best form per model.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import cirq
import numpy as np

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


def local_pauli_channels(probs: np.ndarray, qubits) -> list[cirq.Operation]:
    """Independent 1q Pauli channels for a 2q Pauli channel: same total error, marginal shape.

    The 2q error probability ``e = 1 - p(II)`` becomes ``q = 1 - sqrt(1 - e)`` on each
    qubit (so the two channels together keep the process fidelity), split among X, Y and Z
    in proportion to that qubit's marginal of the 2q channel.

    Args:
        probs: ``(16,)`` Pauli probabilities in :func:`pauli_twirl`'s order (first index the
            first qubit).
        qubits: the two qubits, in the order of ``probs``.

    Returns:
        ``cirq.asymmetric_depolarize`` ops, one per qubit with a nonzero marginal error;
        empty when the channel has no error (``e <= 1e-15``).
    """
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
        """The moments that replace ``moment``: the base model's, with every noise op made
        TFQ-compatible.

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
                    ops.extend(local_pauli_channels(pauli_twirl(cirq.kraus(untagged)), op.qubits))
                else:
                    raise TypeError(f"cannot approximate {len(op.qubits)}-qubit noise op {op}")
            out.extend(cirq.Circuit(ops).moments)
        return out

    def scaled(self, factor):
        """The twirl of the base model scaled by ``factor`` (the base's own ``scaled``).

        :func:`hardware.noise.scale` does not call this: it scales the base itself, so a base
        without a ``scaled`` method (the Google model) scales there too.

        Args:
            factor: the multiplier, finite and >= 0.

        Returns:
            A new :class:`TwirledNoise` of the scaled base.

        Raises:
            TypeError: when the base model defines no ``scaled`` method.
        """
        method = getattr(self.base, "scaled", None)
        if not callable(method):
            raise TypeError(
                f"cannot scale the twirl of a {type(self.base).__name__}: it defines no "
                "scaled(); twirl the scaled model instead, "
                "TwirledNoise(hardware.noise.scale(base, factor))"
            )
        return TwirledNoise(method(factor))

    def readout_errors(self, qubits):
        """None reported (zeros), whatever the base: the twirl may symmetrise a readout
        channel, so the base's errors are not this model's.

        Args:
            qubits: the qubits to report.

        Returns:
            ``{qubit: (0.0, 0.0)}`` for every qubit of ``qubits``.
        """
        return {q: (0.0, 0.0) for q in qubits}

    def tfq_compatible(self):
        """This model: its noise ops are TFQ channels already.

        Returns:
            ``self``.
        """
        return self


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


__all__ = [
    "TFQ_CHANNELS",
    "TwirledNoise",
    "local_pauli_channels",
    "pauli_twirl",
    "uses_only_tfq_channels",
]
