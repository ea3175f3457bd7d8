"""Fast noisy Monte-Carlo trajectories of a :class:`hardware.template.CompiledTemplate`.

The noise model is laid on the template's fixed gate structure once (``cirq`` noise models,
readout included); each θ then only changes the gate matrices. Every channel is unravelled
exactly (quantum jumps): the no-jump Kraus operator is applied by default and a jump happens
when the trajectory's survival probability falls below a uniform threshold, with the jump
operator drawn by its weight. Operations are grouped into segments on at most two qubits.
The trajectories of one call advance together, their states side by side (real and imaginary
parts apart, the trajectory index innermost), and each segment is one pass over them with one
shared 4×4 operator (its gates and its channels' no-jump operators): a trajectory's state is
left unnormalised, so its squared norm, summed in the same pass, is its survival probability.
Only a trajectory whose survival fell below its threshold inside the segment (a jump) is
redone alone, channel by channel on its two-qubit reduced density matrix, from its state
before the segment. Each trajectory still draws its jumps from its own random numbers, exactly
as alone. The kernel is compiled with numba (pinned in setup.cfg).

The mean of the trajectories' outcome distributions converges to the density-matrix
distribution (tests compare with ``cirq.DensityMatrixSimulator``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import cirq
import numba
import numpy as np

from hardware.noise import readout_errors
from hardware.template import CompiledTemplate, Gate

_GATE, _FIXED, _CHANNEL = 0, 1, 2
_EYE2 = np.eye(2, dtype=complex)


def _embed(matrix: np.ndarray, qubits: Sequence[cirq.Qid], local: Sequence[cirq.Qid]) -> np.ndarray:
    """A 1q or 2q matrix on ``qubits`` as a 4×4 on the segment's ``local`` (1 or 2) qubits."""
    if len(local) == 1:
        return np.kron(matrix, _EYE2)
    if len(qubits) == 1:
        return np.kron(matrix, _EYE2) if qubits[0] == local[0] else np.kron(_EYE2, matrix)
    if tuple(qubits) == tuple(local):
        return matrix
    swap = cirq.unitary(cirq.SWAP)
    return swap @ matrix @ swap


def _placement(qubits: Sequence[cirq.Qid], local: Sequence[cirq.Qid]) -> int:
    """How :func:`_embed` places a matrix: 0 kron(m, I), 1 kron(I, m), 2 as is, 3 reversed."""
    if len(local) == 1 or (len(qubits) == 1 and qubits[0] == local[0]):
        return 0
    if len(qubits) == 1:
        return 1
    return 2 if tuple(qubits) == tuple(local) else 3


_REVERSED = np.array([0, 2, 1, 3])


def _embed_many(matrices: np.ndarray, placement: int) -> np.ndarray:
    """:func:`_embed` of a stack of matrices that share one :func:`_placement`."""
    if placement == 2:
        return matrices
    if placement == 3:
        return matrices[:, _REVERSED][:, :, _REVERSED]
    count = len(matrices)
    if placement == 0:  # kron(m, I)[2i + k, 2j + l] = m[i, j] δ_kl
        out = matrices[:, :, None, :, None] * _EYE2[None, None, :, None, :]
    else:  # kron(I, m)[2i + k, 2j + l] = δ_ij m[k, l]
        out = _EYE2[None, :, None, :, None] * matrices[:, None, :, None, :]
    return out.reshape(count, 4, 4)


def _without_readout(noisy: cirq.Circuit, known: bool) -> cirq.Circuit:
    """The noisy circuit up to its measurement, without the readout channels before it.

    Readout channels are the generalised amplitude damping channels the noise models put
    between the last gate moment and the measurement; what comes after the measurement cannot
    change its outcome.
    """
    last = max(i for i, m in enumerate(noisy) if any(cirq.is_measurement(op) for op in m))
    first = max(
        (i for i, m in enumerate(noisy[:last]) if any(cirq.has_unitary(op) for op in m)),
        default=-1,
    )
    kept, dropped = [], 0
    for i, moment in enumerate(noisy[:last]):
        ops = []
        for op in moment:
            if i > first and isinstance(op.gate, cirq.GeneralizedAmplitudeDampingChannel):
                dropped += 1
                continue
            ops.append(op)
        kept.append(cirq.Moment(ops))
    if dropped and not known:
        raise ValueError(
            f"the noise model adds {dropped} readout channels but hardware.noise.readout_errors "
            "knows no readout errors for it; give them through hardware.ReadoutNoise"
        )
    return cirq.Circuit(kept)


def _compress(kraus: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The minimal Kraus set of a channel (eigenvectors of its Gram/Choi matrix), heaviest first.

    Two Kraus sets describe the same channel exactly when ``sum vec(K) vec(K)^H`` agree, so
    this changes nothing but the number of operators (at most 16 on two qubits).
    """
    vectors = np.asarray(kraus).reshape(len(kraus), -1)
    gram = vectors.T @ vectors.conj()
    values, vecs = np.linalg.eigh(gram)
    order = np.argsort(-values, kind="stable")
    order = order[values[order] > 1e-14]
    return list((np.sqrt(values[order]) * vecs[:, order]).T.reshape(-1, 4, 4))


@dataclasses.dataclass
class _Segment:
    qubits: tuple[cirq.Qid, ...]
    elements: list[tuple[int, int, tuple[cirq.Qid, ...]]]  # (kind, index, qubits)


def _segments(items: Sequence[tuple[int, int, tuple[cirq.Qid, ...]]]) -> list[_Segment]:
    """Groups (kind, index, qubits) items into segments on <= 2 qubits, in a valid order."""
    segments: list[_Segment | None] = []
    current: dict[cirq.Qid, int] = {}
    for item in items:
        qubits = item[2]
        if len(qubits) == 1:
            (q,) = qubits
            if q in current:
                segments[current[q]].elements.append(item)
            else:
                segments.append(_Segment((q,), [item]))
                current[q] = len(segments) - 1
            continue
        if len(qubits) != 2:
            raise ValueError(f"trajectories need 1- and 2-qubit operations, got {qubits}")
        a, b = qubits
        ia, ib = current.get(a), current.get(b)
        if ia is not None and ia == ib:
            segments[ia].elements.append(item)
            continue
        merged = _Segment((a, b), [])
        for index in (ia, ib):
            # a single-qubit segment still open on q moves into the new pair segment
            if index is not None and len(segments[index].qubits) == 1:
                merged.elements.extend(segments[index].elements)
                segments[index] = None
        merged.elements.append(item)
        segments.append(merged)
        current[a] = current[b] = len(segments) - 1
    return [s for s in segments if s is not None]


class NoisyTemplate:
    """A template with a noise model laid on its structure: noisy outcome distributions per θ.

    Args:
        template: the compiled template.
        noise: a ``cirq.NoiseModel`` (Google calibration, depolarising, thermal, readout, ...)
            or None.
        read: device qubits to read, in output bit order (default: the logical qubits'
            final positions, logical order).

    Attributes:
        template: the compiled template.
        noise: the noise model, or None.
        read: the read-out device qubits, in output bit order.
        order: simulation qubit order: :attr:`read`, then the template's spare qubits.
        index: qubit -> position in :attr:`order`.
        readout: ``(len(read), 2)`` readout errors ``(p01, p10)`` per read qubit (zeros
            without noise); applied to outcomes, not inside trajectories.
        fixed: the noise model's fixed unitaries, before merging into segments.
        channels: the Kraus operators of each noise channel (heaviest first), before merging.
        n_segments: number of segments (runs of operations on at most two qubits).
        n_channels: number of merged noise channels; 0 means every trajectory is the same.

    Raises:
        ValueError: when the noise model makes an operation that is neither unitary nor a
            channel with Kraus operators.
    """

    def __init__(
        self,
        template: CompiledTemplate,
        noise: cirq.NoiseModel | None,
        read: Sequence[cirq.Qid] | None = None,
    ):
        self.template = template
        self.noise = noise
        if read is None:
            read = [template.final_map[q] for q in sorted(template.final_map)]
        self.read = list(read)
        spare = sorted(set(template.qubits) - set(self.read))
        self.order = self.read + spare
        self.index = {q: k for k, q in enumerate(self.order)}
        reference = template.all_gates(np.linspace(0.31, 0.97, len(template.symbols)))
        kept = [i for i in range(len(reference)) if i not in template.empty]
        operations = [reference[i].operation() for i in kept]
        slots: dict = {}
        for i, op in zip(kept, operations, strict=True):
            slots.setdefault(op, []).append(i)
        circuit = cirq.Circuit(operations)
        # Readout errors act per shot on the measured bits (classical flips), not per
        # trajectory: they are applied to the outcome distribution (:meth:`probabilities`) or
        # to each sampled bit (:meth:`sample`), as on hardware.
        self.readout = np.zeros((len(self.read), 2))
        noisy = circuit
        if noise is not None:
            errors = readout_errors(noise, self.read)
            self.readout = np.array([errors[q] for q in self.read], float)
            noisy = _without_readout(
                (circuit + cirq.Moment(cirq.measure(*self.read, key="m"))).with_noise(noise),
                bool(self.readout.any()),
            )
        items: list[tuple[int, int, tuple]] = []
        self.fixed: list[np.ndarray] = []
        self.channels: list[list[np.ndarray]] = []
        for op in noisy.all_operations():
            if cirq.is_measurement(op):
                continue
            try:
                queue = slots.get(op.untagged)  # cirq-google tags the gates it makes noisy
            except TypeError:  # channels such as cirq.KrausChannel are not hashable
                queue = None
            if queue:
                items.append((_GATE, queue.pop(0), op.qubits))
            elif cirq.has_unitary(op):
                if len(op.qubits) == 0:
                    continue  # global phase
                self.fixed.append(np.asarray(cirq.unitary(op), complex))
                items.append((_FIXED, len(self.fixed) - 1, op.qubits))
            elif cirq.has_kraus(op):
                kraus = [np.asarray(k, complex) for k in cirq.kraus(op)]
                weights = [float(np.real(np.trace(k.conj().T @ k))) for k in kraus]
                order = np.argsort(weights)[::-1]  # the heaviest Kraus operator is "no jump"
                kraus = [kraus[i] for i in order if weights[i] > 1e-15]
                if len(kraus) == 1 and cirq.is_unitary(kraus[0]):
                    self.fixed.append(kraus[0])
                    items.append((_FIXED, len(self.fixed) - 1, op.qubits))
                    continue
                self.channels.append(kraus)
                items.append((_CHANNEL, len(self.channels) - 1, op.qubits))
            else:
                raise ValueError(f"cannot simulate noisy operation {op!r}")
        # Empty slots (identity at generic θ) carry no gate noise but can hold a rotation at
        # other θ: each goes right before the next gate on its qubit.
        for i in sorted(template.empty):
            (q,) = reference[i].qubits
            following = next(
                (
                    j
                    for j in range(i + 1, len(reference))
                    if j not in template.empty and q in reference[j].qubits
                ),
                None,
            )
            at = next(
                (k for k, item in enumerate(items) if item[0] == _GATE and item[1] == following),
                len(items),
            )
            items.insert(at, (_GATE, i, (q,)))
        self._build_arrays(_segments(items))

    def _merged(self, segment: _Segment) -> list[tuple[int, object]]:
        """Segment elements with each run of channels and fixed unitaries merged into one
        channel (its minimal Kraus set) or one unitary: (kind, slot or 4×4 Kraus list)."""
        local = segment.qubits
        out: list[tuple[int, object]] = []
        run: list[np.ndarray] | None = None

        def flush() -> None:
            if run is None:
                return
            kraus = _compress(run)
            if len(kraus) == 1 and np.allclose(kraus[0].conj().T @ kraus[0], np.eye(4), atol=1e-12):
                if not cirq.equal_up_to_global_phase(kraus[0], np.eye(4), atol=1e-13):
                    out.append((_FIXED, kraus[0]))
            else:
                out.append((_CHANNEL, kraus))

        for kind, index, qubits in segment.elements:
            if kind == _GATE:
                flush()
                run = None
                out.append((_GATE, (index, qubits)))
                continue
            ops = [self.fixed[index]] if kind == _FIXED else self.channels[index]
            ops = np.array([_embed(k, qubits, local) for k in ops])
            run = ops if run is None else (ops[:, None] @ np.asarray(run)[None]).reshape(-1, 4, 4)
            if len(run) > 16:
                run = _compress(run)
        flush()
        return out

    def _build_arrays(self, segments: Sequence[_Segment]) -> None:
        seg_q = np.full((len(segments), 2), -1, np.int64)
        seg_range = np.zeros((len(segments), 2), np.int64)
        kinds, refs = [], []
        gate_elements = []  # (slot, qubits, local)
        fixed4, channel4, channel_range = [], [], []
        for s, segment in enumerate(segments):
            local = segment.qubits
            seg_q[s, : len(local)] = [self.index[q] for q in local]
            seg_range[s, 0] = len(kinds)
            for kind, payload in self._merged(segment):
                kinds.append(kind)
                if kind == _GATE:
                    index, qubits = payload
                    gate_elements.append((index, qubits, local))
                    refs.append(len(gate_elements) - 1)
                elif kind == _FIXED:
                    fixed4.append(payload)
                    refs.append(len(fixed4) - 1)
                else:
                    start = len(channel4)
                    channel4.extend(payload)
                    channel_range.append((start, len(channel4)))
                    refs.append(len(channel_range) - 1)
            seg_range[s, 1] = len(kinds)
        self._seg_q, self._seg_range = seg_q, seg_range
        self._kinds = np.asarray(kinds, np.int64)
        self._refs = np.asarray(refs, np.int64)
        self._gate_elements = gate_elements
        # how each gate slot is embedded in its segment's 4×4 (see :func:`_embed`): 1q on the
        # first local qubit (kron(m, I)), on the second (kron(I, m)), 2q in order, 2q reversed
        placement = [_placement(qubits, local) for _, qubits, local in gate_elements]
        self._embedding = [
            (
                np.array([e for e, kind in enumerate(placement) if kind == k], np.int64),
                np.array([gate_elements[e][0] for e, kind in enumerate(placement) if kind == k]),
            )
            for k in range(4)
        ]
        reference = self.template.all_gates(np.linspace(0.31, 0.97, len(self.template.symbols)))
        self._natives = {
            kind: _embed_many(np.array([reference[s].matrix for s in slots]), kind)
            for kind, (elements, slots) in enumerate(self._embedding)
            if kind >= 2 and elements.size
        }
        self._fixed4 = np.asarray(fixed4 or np.zeros((0, 4, 4)), complex).reshape(-1, 4, 4)
        self._channel4 = np.asarray(channel4 or np.zeros((0, 4, 4)), complex).reshape(-1, 4, 4)
        self._channel_range = np.asarray(channel_range or np.zeros((0, 2)), np.int64).reshape(-1, 2)
        self.n_segments = len(segments)
        self.n_channels = len(self._channel_range)

    @property
    def n_qubits(self) -> int:
        """The number of simulated qubits (read and spare)."""
        return len(self.order)

    def gate_matrices(self, values, offsets=None) -> np.ndarray:
        """The (E, 4, 4) segment-local gate matrices at ``values``.

        Without ``offsets`` the single-qubit slots come from
        :meth:`CompiledTemplate.slot_matrices` (all at once) and the natives, which do not
        depend on θ, from the reference point of the constructor.

        Args:
            values: the template's parameter values (θ).
            offsets: optional ``{routed op index: Δ exponent}`` passed to
                :meth:`CompiledTemplate.all_gates`; when given, every gate is rebuilt.

        Returns:
            ``(E, 4, 4)`` complex matrices, one per gate element, embedded in its segment.
        """
        out = np.empty((len(self._gate_elements), 4, 4), complex)
        if offsets:
            gates: list[Gate] = self.template.all_gates(values, offsets)
            for kind, (elements, slots) in enumerate(self._embedding):
                if elements.size:
                    out[elements] = _embed_many(np.array([gates[s].matrix for s in slots]), kind)
            return out
        matrices = self.template.slot_matrices(values)
        for kind, (elements, slots) in enumerate(self._embedding):
            if not elements.size:
                continue
            if kind < 2:
                out[elements] = _embed_many(matrices[slots], kind)
            else:
                out[elements] = self._natives[kind]
        return out

    def _kernel(self, gates: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
        """One trajectory per row of ``uniforms`` (``2 n_channels + 2`` per row) at ``gates``
        (:meth:`gate_matrices`): ``(rows, 2**len(read))`` distributions without readout."""
        program = (
            self._kinds,
            self._refs,
            gates,
            self._fixed4,
            self._channel4,
            self._channel_range,
        )
        return _run(self.n_qubits, len(self.read), self._seg_q, self._seg_range, program, uniforms)

    def apply_readout(self, probs: np.ndarray) -> np.ndarray:
        """Outcome distributions (rows, big-endian over :attr:`read`) after readout errors.

        Args:
            probs: ``(rows, 2**len(read))`` distributions without readout errors.

        Returns:
            The distributions with each read qubit's confusion matrix applied (``probs``
            itself when there are no readout errors).
        """
        if not self.readout.any():
            return probs
        rows = probs.shape[0]
        tensor = probs.reshape((rows,) + (2,) * len(self.read))
        for k, (p01, p10) in enumerate(self.readout):
            confusion = np.array([[1 - p01, p10], [p01, 1 - p10]])
            tensor = np.moveaxis(np.tensordot(confusion, tensor, axes=([1], [k + 1])), 0, k + 1)
        return tensor.reshape(rows, -1)

    def sample(
        self,
        values,
        shots: int,
        trajectories: int,
        seed: int | np.random.Generator | None = 0,
        offsets: dict[int, float] | None = None,
    ) -> np.ndarray:
        """``(2**len(read),)`` counts of ``shots`` bitstrings, ``trajectories`` noise groups.

        Group ``r`` draws ``shots / trajectories`` bitstrings from trajectory ``r``; every bit
        of every shot then gets its own readout error.

        Args:
            values: the template's parameter values (θ).
            shots: number of bitstrings.
            trajectories: number of noise groups (at most ``shots``; one without channels).
            seed: seed or generator for the trajectories, draws and readout flips.
            offsets: optional single-gate exponent shifts (see :meth:`gate_matrices`).

        Returns:
            ``(2**len(read),)`` integer counts, big-endian over :attr:`read`, summing to
            ``shots``.

        Raises:
            ValueError: as :meth:`probabilities` (e.g. too many qubits, or no shot or
                trajectory for a noisy template).
        """
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        groups = 1 if self.n_channels == 0 else min(int(trajectories), int(shots))
        probs = self.probabilities(values, groups, rng, offsets, readout=False)
        sizes = np.full(groups, shots // groups)
        sizes[: shots % groups] += 1
        probs = np.clip(probs, 0.0, None)
        # one call for all groups: the same draws, in the same order, as one call per group
        counts = rng.multinomial(sizes, probs / probs.sum(axis=1, keepdims=True))
        outcomes = np.repeat(np.tile(np.arange(probs.shape[1]), groups), counts.reshape(-1))
        if self.readout.any():
            n = len(self.read)
            bits = (outcomes[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1
            flip = np.where(bits == 0, self.readout[:, 0], self.readout[:, 1])
            bits ^= (rng.random(bits.shape) < flip).astype(bits.dtype)
            outcomes = bits @ (1 << (n - 1 - np.arange(n)))
        return np.bincount(outcomes, minlength=2 ** len(self.read))

    def probabilities(
        self,
        values,
        trajectories: int,
        seed: int | np.random.Generator | None = 0,
        offsets: dict[int, float] | None = None,
        readout: bool = True,
    ) -> np.ndarray:
        """``(trajectories, 2**len(read))`` outcome distributions of noisy trajectories.

        Without noise every row is the exact distribution. Rows are big-endian over
        :attr:`read`; their mean converges to the density-matrix distribution. ``offsets``
        shifts single gate exponents (:meth:`CompiledTemplate.all_gates`); ``readout=False``
        leaves out the readout errors.

        Args:
            values: the template's parameter values (θ).
            trajectories: number of trajectories (rows), >= 1.
            seed: seed or generator for the trajectories' random numbers.
            offsets: optional single-gate exponent shifts (see :meth:`gate_matrices`).
            readout: apply the readout errors (:meth:`apply_readout`).

        Returns:
            ``(trajectories, 2**len(read))`` float distributions.

        Raises:
            ValueError: for ``trajectories < 1`` or more than 26 simulated qubits.
        """
        if trajectories < 1:
            raise ValueError(f"trajectories must be >= 1, got {trajectories}")
        if self.n_qubits > 26:
            raise ValueError(f"{self.n_qubits} qubits are too many for state-vector trajectories")
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        gates = self.gate_matrices(values, offsets)
        rows = 1 if self.n_channels == 0 else int(trajectories)
        probs = self._kernel(gates, rng.random((rows, 2 * self.n_channels + 2)))
        if rows < trajectories:
            probs = np.repeat(probs, trajectories, axis=0)
        return self.apply_readout(probs) if readout else probs


# ----------------------------------------------------------------------------- kernel
#
# Every row (trajectory) keeps an unnormalised state whose squared norm is its survival
# probability since its last jump (the product of the no-jump probabilities of the channels
# it went through). A segment is applied to all rows at once as one shared 4x4 operator, the
# product of its gates and of its channels' no-jump Kraus operators, in one pass that also
# sums each row's new squared norm. A row has a jump inside the segment exactly when that norm
# falls below its threshold (survival only decreases between jumps); such a row is redone
# from its state before the segment (the passes write out of place, so it is still there)
# with the per-channel rule of :func:`_segment` on its reduced density matrix. The decisions
# are those of running every channel on its own, and the jump-free rows, most of them, cost
# one pass and no per-row 4x4 algebra.


@numba.njit(cache=True, inline="always")
def _row_parts(t, j):
    """Row ``j`` of the 4×4 ``t`` as (real parts, imaginary parts), scalars numba keeps in
    registers across :func:`_apply_pair`'s row loop."""
    return (t[j, 0].real, t[j, 1].real, t[j, 2].real, t[j, 3].real), (
        t[j, 0].imag,
        t[j, 1].imag,
        t[j, 2].imag,
        t[j, 3].imag,
    )


@numba.njit(cache=True, fastmath=True, inline="always")
def _row_times(row, first, second):
    """(Re, Im) of a 4×4 row (:func:`_row_parts`) times a vector given as (Re, Im) of its
    entries 0 and 1 (``first``) and of its entries 2 and 3 (``second``)."""
    (a0, a1, a2, a3), (c0, c1, c2, c3) = row
    x0, y0, x1, y1 = first
    x2, y2, x3, y3 = second
    u = a0 * x0 - c0 * y0 + a1 * x1 - c1 * y1
    v = a0 * y0 + c0 * x0 + a1 * y1 + c1 * x1
    return u + a2 * x2 - c2 * y2 + a3 * x3 - c3 * y3, v + a2 * y2 + c2 * x2 + a3 * y3 + c3 * x3


@numba.njit(cache=True, fastmath=True)
def _apply_pair(re, im, out_re, out_im, n, b0, b1, t, norms):
    """``out = t @ state`` on bits (b0, b1) for every row (``t`` shared), ``norms[r]`` the
    squared norm of row ``r`` of ``out``. Local index ``2 bit(b0) + bit(b1)``; rows are the
    innermost axis. The norms are summed in a loop of their own: in the loop that writes
    ``out`` their stores would stop it from vectorising (numba cannot tell they do not alias)."""
    rows = re.shape[1]
    m0, m1 = 1 << b0, 1 << b1
    lo, hi = min(b0, b1), max(b0, b1)
    t0, t1, t2, t3 = _row_parts(t, 0), _row_parts(t, 1), _row_parts(t, 2), _row_parts(t, 3)
    for r in range(rows):
        norms[r] = 0.0
    size = 1 << n
    for a in range(0, size, 2 << hi):
        for b in range(a, a + (1 << hi), 2 << lo):
            for i0 in range(b, b + (1 << lo)):
                i1, i2 = i0 | m1, i0 | m0
                i3 = i2 | m1
                for r in range(rows):
                    x = (re[i0, r], im[i0, r], re[i1, r], im[i1, r])
                    y = (re[i2, r], im[i2, r], re[i3, r], im[i3, r])
                    out_re[i0, r], out_im[i0, r] = _row_times(t0, x, y)
                    out_re[i1, r], out_im[i1, r] = _row_times(t1, x, y)
                    out_re[i2, r], out_im[i2, r] = _row_times(t2, x, y)
                    out_re[i3, r], out_im[i3, r] = _row_times(t3, x, y)
                for r in range(rows):
                    x0, y0, x1, y1 = out_re[i0, r], out_im[i0, r], out_re[i1, r], out_im[i1, r]
                    x2, y2, x3, y3 = out_re[i2, r], out_im[i2, r], out_re[i3, r], out_im[i3, r]
                    s = x0 * x0 + y0 * y0 + x1 * x1 + y1 * y1
                    norms[r] += s + x2 * x2 + y2 * y2 + x3 * x3 + y3 * y3


@numba.njit(cache=True, fastmath=True)
def _apply_single(re, im, out_re, out_im, n, b0, t, norms):
    """:func:`_apply_pair` on one bit: ``t``'s (0, 2) block (the kron(m, I) embedding)."""
    rows = re.shape[1]
    m0 = 1 << b0
    a00, a02, a20, a22 = t[0, 0].real, t[0, 2].real, t[2, 0].real, t[2, 2].real
    c00, c02, c20, c22 = t[0, 0].imag, t[0, 2].imag, t[2, 0].imag, t[2, 2].imag
    for r in range(rows):
        norms[r] = 0.0
    size = 1 << n
    for a in range(0, size, 2 << b0):
        for i0 in range(a, a + m0):
            i2 = i0 | m0
            for r in range(rows):
                x0, y0, x2, y2 = re[i0, r], im[i0, r], re[i2, r], im[i2, r]
                out_re[i0, r] = a00 * x0 - c00 * y0 + a02 * x2 - c02 * y2
                out_im[i0, r] = a00 * y0 + c00 * x0 + a02 * y2 + c02 * x2
                out_re[i2, r] = a20 * x0 - c20 * y0 + a22 * x2 - c22 * y2
                out_im[i2, r] = a20 * y0 + c20 * x0 + a22 * y2 + c22 * x2
            for r in range(rows):
                x0, y0, x2, y2 = out_re[i0, r], out_im[i0, r], out_re[i2, r], out_im[i2, r]
                norms[r] += x0 * x0 + y0 * y0 + x2 * x2 + y2 * y2


@numba.njit(cache=True)
def _bases(n, b0, b1, two):
    """The indices whose bits b0 (and b1 when ``two``) are 0, in increasing order: the first
    of each group of amplitudes (2 or 4) that a segment's operator mixes."""
    mask = (1 << b0) | ((1 << b1) if two else 0)
    out = np.empty((1 << n) >> (2 if two else 1), np.int64)
    k = 0
    for i in range(1 << n):
        if i & mask == 0:
            out[k] = i
            k += 1
    return out


@numba.njit(cache=True)
def _reduced_rows(re, im, n, b0, b1, two, who, count, scales, rho):
    """``rho[q]``: ``scales[q]`` times the reduced density matrix of row ``who[q]`` on bits
    (b0, b1) (index ``2 bit(b0) + bit(b1)``), or on b0 alone in entries (0, 0), (0, 2),
    (2, 0), (2, 2) (the kron(m, I) embedding), for ``q < count``; one pass for them all."""
    acc = np.zeros((16, count))  # 4 diagonal entries, then re/im of the 6 upper ones
    upper = ((0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3))
    m0 = 1 << b0
    m1 = (1 << b1) if two else 0
    for i0 in _bases(n, b0, b1, two):
        i1, i2 = i0 | m1, i0 | m0
        i3 = i2 | m1
        for q in range(count):
            r = who[q]
            if two:
                x = (re[i0, r], re[i1, r], re[i2, r], re[i3, r])
                y = (im[i0, r], im[i1, r], im[i2, r], im[i3, r])
            else:  # the amplitudes of b0 = 0, 1 as local indices 0 and 2
                x = (re[i0, r], 0.0, re[i2, r], 0.0)
                y = (im[i0, r], 0.0, im[i2, r], 0.0)
            for d in range(4):
                acc[d, q] += x[d] * x[d] + y[d] * y[d]
            for u in range(6):  # rho[j, k] += v_j conj(v_k)
                j, k = upper[u]
                acc[4 + 2 * u, q] += x[j] * x[k] + y[j] * y[k]
                acc[5 + 2 * u, q] += y[j] * x[k] - x[j] * y[k]
    for q in range(count):
        for d in range(4):
            rho[q, d, d] = scales[q] * acc[d, q]
        for u in range(6):
            j, k = upper[u]
            value = scales[q] * complex(acc[4 + 2 * u, q], acc[5 + 2 * u, q])
            rho[q, j, k] = value
            rho[q, k, j] = np.conj(value)


@numba.njit(cache=True)
def _apply_rows(re, im, out_re, out_im, n, b0, b1, two, who, count, totals):
    """``out = totals[q] @ state`` for the rows ``who[q]``, ``q < count`` (one pass for them
    all; ``totals`` as ``t`` of :func:`_apply_pair`, or its (0, 2) block on one bit)."""
    tr = np.empty((count, 4, 4))
    ti = np.empty((count, 4, 4))
    for q in range(count):
        for j in range(4):
            for k in range(4):
                tr[q, j, k] = totals[q, j, k].real
                ti[q, j, k] = totals[q, j, k].imag
    m0 = 1 << b0
    m1 = (1 << b1) if two else 0
    for i0 in _bases(n, b0, b1, two):
        if two:
            index = (i0, i0 | m1, i0 | m0, i0 | m0 | m1)
            for q in range(count):
                r = who[q]
                x0, y0, x1, y1 = re[i0, r], im[i0, r], re[index[1], r], im[index[1], r]
                x2, y2 = re[index[2], r], im[index[2], r]
                x3, y3 = re[index[3], r], im[index[3], r]
                for j in range(4):
                    u = tr[q, j, 0] * x0 - ti[q, j, 0] * y0 + tr[q, j, 1] * x1
                    u += tr[q, j, 2] * x2 - ti[q, j, 2] * y2 + tr[q, j, 3] * x3
                    v = tr[q, j, 0] * y0 + ti[q, j, 0] * x0 + tr[q, j, 1] * y1
                    v += tr[q, j, 2] * y2 + ti[q, j, 2] * x2 + tr[q, j, 3] * y3
                    out_re[index[j], r] = u - ti[q, j, 1] * y1 - ti[q, j, 3] * y3
                    out_im[index[j], r] = v + ti[q, j, 1] * x1 + ti[q, j, 3] * x3
        else:
            i2 = i0 | m0
            for q in range(count):
                r = who[q]
                x0, y0, x2, y2 = re[i0, r], im[i0, r], re[i2, r], im[i2, r]
                u = tr[q, 0, 0] * x0 - ti[q, 0, 0] * y0 + tr[q, 0, 2] * x2
                v = tr[q, 0, 0] * y0 + ti[q, 0, 0] * x0 + tr[q, 0, 2] * y2
                out_re[i0, r] = u - ti[q, 0, 2] * y2
                out_im[i0, r] = v + ti[q, 0, 2] * x2
                u = tr[q, 2, 0] * x0 - ti[q, 2, 0] * y0 + tr[q, 2, 2] * x2
                v = tr[q, 2, 0] * y0 + ti[q, 2, 0] * x0 + tr[q, 2, 2] * y2
                out_re[i2, r] = u - ti[q, 2, 2] * y2
                out_im[i2, r] = v + ti[q, 2, 2] * x2


# The kernels below read the compiled circuit as one tuple, ``program``: (kinds, refs, gates,
# fixed4, channel4, channel_range), element e of the segments being of kind ``kinds[e]`` (a
# gate, a fixed unitary or a channel) and index ``refs[e]`` into ``gates``, ``fixed4`` or
# ``channel_range`` (a channel's [start, stop) rows of ``channel4``, its Kraus operators).


@numba.njit(cache=True)
def _identity(total):
    for r in range(4):
        for c in range(4):
            total[r, c] = 1.0 if r == c else 0.0


@numba.njit(cache=True)
def _fuse(first, last, program, total, scratch):
    """``total``: the product of a segment's gates, fixed unitaries and no-jump Kraus
    operators; returns whether the segment has a channel."""
    kinds, refs, gates, fixed4, channel4, channel_range = program
    _identity(total)
    noisy = False
    for e in range(first, last):
        kind = kinds[e]
        if kind == 2:
            noisy = True
            _mul(channel4[channel_range[refs[e], 0]], total, scratch)
        elif kind == 0:
            _mul(gates[refs[e]], total, scratch)
        else:
            _mul(fixed4[refs[e]], total, scratch)
        for r in range(4):
            for c in range(4):
                total[r, c] = scratch[r, c]
    return noisy


@numba.njit(cache=True)
def _mul(a, b, out):
    for r in range(4):
        for c in range(4):
            acc = 0j
            for k in range(4):
                acc += a[r, k] * b[k, c]
            out[r, c] = acc


@numba.njit(cache=True)
def _sandwich(k, rho, tmp, out):
    """out = k @ rho @ k^H; returns its real trace."""
    _mul(k, rho, tmp)
    trace = 0.0
    for r in range(4):
        for c in range(4):
            acc = 0j
            for j in range(4):
                acc += tmp[r, j] * np.conj(k[c, j])
            out[r, c] = acc
        trace += out[r, r].real
    return trace


@numba.njit(cache=True)
def _take(k, weight, total, rho, after, scratch):
    """Applies operator ``k`` of weight ``weight`` to the row: ``total = k @ total / √weight``
    and ``rho = after / weight``, ``after`` being ``k rho k^H`` (:func:`_sandwich`)."""
    _mul(k, total, scratch)
    scale = 1.0 / np.sqrt(weight)
    # Element loops, not ``total[:, :] = scratch``: a slice assignment compiles numba's
    # shape-mismatch error formatting, a third of this kernel's compile time.
    for r in range(4):
        for c in range(4):
            total[r, c] = scratch[r, c] * scale
            rho[r, c] = after[r, c] / weight


@numba.njit(cache=True)
def _segment(first, last, program, uniforms, row, jump, total, rho):
    """One row's segment elements: fuses them into ``total`` and draws its jumps.

    ``jump`` holds the row's (threshold, survival, next uniform) and is updated in place.
    """
    kinds, refs, gates, fixed4, channel4, channel_range = program
    scratch = np.empty((4, 4), np.complex128)
    tmp = np.empty((4, 4), np.complex128)
    after = np.empty((4, 4), np.complex128)
    _identity(total)
    for e in range(first, last):
        kind = kinds[e]
        if kind == 2:
            start, stop = channel_range[refs[e], 0], channel_range[refs[e], 1]
            k0 = channel4[start]
            q = _sandwich(k0, rho, tmp, after)
            if jump[1] * q >= jump[0] or stop - start == 1:
                jump[1] *= q
                _take(k0, q, total, rho, after, scratch)
            else:
                # a jump: pick a Kraus operator j >= 1 by its weight on this state
                draw = int(jump[2])
                u = uniforms[row, draw] * (1.0 - q)
                chosen = stop - 1
                acc = 0.0
                for j in range(start + 1, stop):
                    w = _sandwich(channel4[j], rho, tmp, after)
                    acc += w
                    if acc >= u and w > 0:
                        chosen = j
                        break
                weight = _sandwich(channel4[chosen], rho, tmp, after)
                _take(channel4[chosen], weight, total, rho, after, scratch)
                jump[0] = uniforms[row, draw + 1]
                jump[1] = 1.0
                jump[2] = draw + 2
        else:
            g = gates[refs[e]] if kind == 0 else fixed4[refs[e]]
            _sandwich(g, rho, tmp, after)
            _take(g, 1.0, total, rho, after, scratch)  # a unitary: weight 1, exactly


@numba.njit(cache=True)
def _run(n, n_read, seg_q, seg_range, program, uniforms):
    """``(rows, 2**n_read)`` outcome distributions, one trajectory per row of ``uniforms``.

    All rows advance together segment by segment (their states side by side, rows innermost);
    each row draws its own jumps from its own uniforms, exactly as if it ran alone.
    """
    rows = uniforms.shape[0]
    size = 1 << n
    re = np.zeros((size, rows))
    im = np.zeros((size, rows))
    out_re = np.zeros((size, rows))
    out_im = np.zeros((size, rows))
    for r in range(rows):
        re[0, r] = 1.0
    jumps = np.empty((rows, 3))  # threshold, survival (the state's squared norm), next uniform
    for r in range(rows):
        jumps[r, 0] = uniforms[r, 0]
        jumps[r, 1] = 1.0
        jumps[r, 2] = 1.0
    norms = np.empty(rows)
    total = np.empty((4, 4), np.complex128)
    scratch = np.empty((4, 4), np.complex128)
    who = np.empty(rows, np.int64)  # the rows with a jump in the segment
    scales = np.empty(rows)
    totals = np.empty((rows, 4, 4), np.complex128)
    rho = np.empty((rows, 4, 4), np.complex128)
    for s in range(seg_q.shape[0]):
        two = seg_q[s, 1] >= 0
        b0 = n - 1 - seg_q[s, 0]
        b1 = n - 1 - seg_q[s, 1] if two else 0
        first, last = seg_range[s, 0], seg_range[s, 1]
        noisy = _fuse(first, last, program, total, scratch)
        if two:
            _apply_pair(re, im, out_re, out_im, n, b0, b1, total, norms)
        else:
            _apply_single(re, im, out_re, out_im, n, b0, total, norms)
        count = 0
        if noisy:
            for r in range(rows):
                if norms[r] >= jumps[r, 0]:
                    jumps[r, 1] = norms[r]
                else:
                    who[count] = r
                    scales[count] = 1.0 / jumps[r, 1]
                    count += 1
        if count:
            # rows with a jump inside the segment: redone channel by channel from their
            # state before it (normalised), then given back their survival as their norm
            _reduced_rows(re, im, n, b0, b1, two, who, count, scales, rho)
            for q in range(count):
                r = who[q]
                _segment(first, last, program, uniforms, r, jumps[r], totals[q], rho[q])
                scale = np.sqrt(jumps[r, 1] * scales[q])
                for j in range(4):
                    for k in range(4):
                        totals[q, j, k] *= scale
            _apply_rows(re, im, out_re, out_im, n, b0, b1, two, who, count, totals)
        re, out_re = out_re, re
        im, out_im = out_im, im
    out = np.zeros((rows, 1 << n_read))
    shift = n - n_read  # the read qubits are the most significant bits
    for i in range(size):
        k = i >> shift
        for r in range(rows):
            out[r, k] += re[i, r] * re[i, r] + im[i, r] * im[i, r]
    for r in range(rows):
        norm = 0.0
        for k in range(1 << n_read):
            norm += out[r, k]
        for k in range(1 << n_read):
            out[r, k] /= norm
    return out


__all__ = ["NoisyTemplate"]
