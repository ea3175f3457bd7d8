"""The exact noisy QAOA energy as a deterministic, differentiable TensorFlow function.

TFQ's noisy backend estimates ⟨C⟩ from Monte-Carlo trajectories and seeds itself from OS
entropy on every call (it has no seed input), so noise-aware training on it can never be
reproduced. :class:`ExactNoisyEnergy` computes the same quantity exactly: it evolves the
density matrix ρ (B, 2^n, 2^n) through the compiled noisy circuit, every operation applied as
a local superoperator Σ_K K ⊗ K* on its qubits (one ``einsum``), and returns
Tr(C ρ) + W/2. Symbolic gates must be ``cirq.EigenGate`` s whose exponent is linear in one
QAOA symbol (what :func:`hardware.tfq_safe` circuits contain); their superoperator
Σ_{k,l} e^{iπt(a_k − a_l)} P_k ⊗ P_l* is built per batch row, so gradients come from autodiff.
Constant operations that act on the qubits of the operation before them are fused into it.

Cost grows as 4^n: meant for small registers (n ≤ 8), tests and reference values.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence

import numpy as np

from qaoa_meta._tf import tf, tfq

MAX_QUBITS = 8


def _local_superop(kraus: Sequence[np.ndarray], k: int) -> np.ndarray:
    """S[o, p, i, j] = Σ_K K[o, i] conj(K[p, j]) with each index split into k qubit axes."""
    dim = 2**k
    total = np.zeros((dim, dim, dim, dim), np.complex128)
    for op in kraus:
        total += np.einsum("oi,pj->opij", op, op.conj())
    return total.reshape([2] * (4 * k))


class _Program:
    """One circuit as a list of steps: ("const", S, axes) or ("param", terms, axes, c, b, j)."""

    def __init__(self, circuit, observable, symbols: Sequence[str]):
        import cirq
        import sympy

        qubits = sorted(set(circuit.all_qubits()) | set(observable.qubits))
        self.n = len(qubits)
        if self.n > MAX_QUBITS:
            raise ValueError(
                f"The exact noisy energy handles at most {MAX_QUBITS} qubits (density matrices "
                f"grow as 4^n); this circuit has {self.n}. Use Monte-Carlo trajectories instead."
            )
        index = {q: i for i, q in enumerate(qubits)}
        # Constant operations fuse into blocks of at most this many qubits: the whole register
        # for n <= 4 (superoperators of 256 x 256), pairs above (the graph stays small).
        widest = self.n if self.n <= 4 else 2
        self.steps: list[tuple] = []
        for op in circuit.all_operations():
            if cirq.is_measurement(op):
                continue
            axes = tuple(index[q] for q in op.qubits)
            k = len(axes)
            if not cirq.is_parameterized(op):
                superop = _local_superop(cirq.kraus(op), k)
                last = self.steps[-1] if self.steps else None
                target = tuple(last[2]) + tuple(a for a in axes if a not in last[2]) if last else ()
                if last is not None and last[0] == "const" and len(target) <= widest:
                    block = self._embed(last[1], last[2], target)
                    self.steps[-1] = ("const", self._then(block, target, superop, axes), target)
                else:
                    self.steps.append(("const", superop, axes))
                continue
            gate = op.gate
            if not isinstance(gate, cirq.EigenGate) or not isinstance(gate.exponent, sympy.Basic):
                raise ValueError(
                    f"The exact noisy energy supports symbolic EigenGates only, got {op!r}."
                )
            expr = sympy.sympify(gate.exponent)
            (symbol,) = expr.free_symbols
            slope = expr.diff(symbol)
            if slope.free_symbols:
                raise ValueError(f"Exponent {expr} of {op!r} is not linear in {symbol}.")
            if str(symbol) not in symbols:
                raise ValueError(f"Unknown symbol {symbol} in {op!r}; expected {list(symbols)}.")
            components = [(float(a), p) for a, p in gate._eigen_components()]
            terms: dict[float, np.ndarray] = {}
            for a_k, p_k in components:
                for a_l, p_l in components:
                    freq = round(a_k - a_l, 12)
                    part = np.einsum("oi,pj->opij", p_k, p_l.conj()).reshape([2] * (4 * k))
                    terms[freq] = terms.get(freq, 0) + part
            freqs = sorted(terms)
            self.steps.append(
                (
                    "param",
                    (np.array(freqs), np.stack([terms[f] for f in freqs])),
                    axes,
                    float(slope),
                    float(expr.subs(symbol, 0)),
                    list(symbols).index(str(symbol)),
                )
            )
        matrix = observable.matrix(qubits)
        if not np.allclose(matrix, matrix.conj().T):
            raise ValueError("The observable must be Hermitian.")
        self.observable = tf.constant(matrix.T.reshape([2] * (2 * self.n)), tf.complex64)
        # Traced once and called at every rollout step (and its gradient built once).
        self.energy = tf.function(
            self._energy, input_signature=[tf.TensorSpec([None, len(symbols)], tf.float32)]
        )
        self.steps = [
            (s[0], tf.constant(s[1], tf.complex64), *s[2:])
            if s[0] == "const"
            else (
                s[0],
                (tf.constant(np.pi * s[1][0], tf.float32), tf.constant(s[1][1], tf.complex64)),
                *s[2:],
            )
            for s in self.steps
        ]

    @staticmethod
    def _then(block: np.ndarray, target: tuple[int, ...], superop, axes) -> np.ndarray:
        """The block superoperator on ``target`` followed by ``superop`` on ``axes`` ⊆ target."""
        m, k = len(target), len(axes)
        where = [target.index(a) for a in axes]
        labels = list(range(4 * m))  # o(m) p(m) i(m) j(m)
        new_o, new_p = list(range(4 * m, 4 * m + k)), list(range(4 * m + k, 4 * m + 2 * k))
        op_labels = new_o + new_p + [labels[w] for w in where] + [labels[m + w] for w in where]
        out = list(labels)
        for i, w in enumerate(where):
            out[w], out[m + w] = new_o[i], new_p[i]
        return np.einsum(superop, op_labels, block, labels, out)

    @staticmethod
    def _embed(superop: np.ndarray, axes: tuple[int, ...], target: tuple[int, ...]) -> np.ndarray:
        """A superoperator on ``axes`` ⊆ ``target`` as one on ``target`` (identity elsewhere)."""
        k, m = len(axes), len(target)
        rest = [q for q in target if q not in axes]
        identity = _local_superop([np.eye(2 ** len(rest))], len(rest))
        full = np.multiply.outer(superop, identity)  # axes: o(k) p(k) i(k) j(k) O(r) P(r) I(r) J(r)
        order = list(axes) + rest
        r = len(rest)
        groups = []
        for g in range(4):
            own = list(range(g * k, (g + 1) * k))
            other = list(range(4 * k + g * r, 4 * k + (g + 1) * r))
            labelled = dict(zip(order, own + other, strict=True))
            groups += [labelled[q] for q in target]
        return full.transpose(groups).reshape([2] * (4 * m))

    def _apply(self, rho, superop, axes, batched: bool):
        n = self.n
        letters = string.ascii_letters
        rows, cols = letters[:n], letters[n : 2 * n]
        k = len(axes)
        out_r, out_c = letters[2 * n : 2 * n + k], letters[2 * n + k : 2 * n + 2 * k]
        s_idx = out_r + out_c + "".join(rows[a] for a in axes) + "".join(cols[a] for a in axes)
        new_rows, new_cols = list(rows), list(cols)
        for i, a in enumerate(axes):
            new_rows[a], new_cols[a] = out_r[i], out_c[i]
        batch = "Z"
        spec = (
            f"{batch + s_idx if batched else s_idx},{batch}{rows}{cols}"
            f"->{batch}{''.join(new_rows)}{''.join(new_cols)}"
        )
        return tf.einsum(spec, superop, rho)

    def _energy(self, theta: tf.Tensor) -> tf.Tensor:
        """Tr(O ρ(θ)) for the rows of ``theta`` (B, 2p); shape (B,)."""
        rows = tf.shape(theta)[0]
        start = np.zeros([2] * (2 * self.n), np.complex64)
        start[(0,) * (2 * self.n)] = 1.0
        rho = tf.tile(tf.constant(start)[None], [rows] + [1] * (2 * self.n))
        for step in self.steps:
            if step[0] == "const":
                rho = self._apply(rho, step[1], step[2], batched=False)
                continue
            _, (freqs, matrices), axes, slope, offset, j = step
            angle = (slope * theta[:, j] + offset)[:, None] * freqs[None]  # (B, F): π f t
            weights = tf.complex(tf.cos(angle), tf.sin(angle))
            superop = tf.tensordot(weights, matrices, axes=1)
            rho = self._apply(rho, superop, axes, batched=True)
        letters = string.ascii_letters[: 2 * self.n]
        value = tf.einsum(f"Z{letters},{letters}->Z", rho, self.observable)
        return tf.math.real(value)


class ExactNoisyEnergy:
    """Deterministic ⟨C⟩ of the noisy circuits of :func:`qaoa_meta.noise_aware.encode_noisy`.

    A rollout energy for :meth:`qaoa_meta.meta.MetaOptimizer.set_energy`: the batch must carry
    ``problem_index`` (row → problem) and ``offset``; the circuits and operators are read once
    from ``data`` (the whole encoded set).

    Args:
        data: the dict of :func:`encode_noisy` for every problem the batches may contain.
        p: QAOA depth (names the symbols).
    """

    def __init__(self, data: Mapping[str, np.ndarray], p: int):
        from qaoa_meta import qaoa

        symbols = [s.name for s in qaoa.parameter_symbols(p)]
        circuits = tfq.from_tensor(tf.constant(data["noisy_circuit"]))
        operators = tfq.from_tensor(tf.constant(data["noisy_operator"]))
        self.programs = [
            _Program(c, ops[0], symbols) for c, ops in zip(circuits, operators, strict=True)
        ]

    def __call__(self, batch: Mapping[str, tf.Tensor], theta: tf.Tensor) -> tf.Tensor:
        index = tf.cast(batch["problem_index"], tf.int32)
        count = len(self.programs)
        positions = tf.dynamic_partition(tf.range(tf.shape(theta)[0]), index, count)
        parts = tf.dynamic_partition(theta, index, count)
        values = [
            program.energy(tf.cast(part, tf.float32))
            for program, part in zip(self.programs, parts, strict=True)
        ]
        return tf.dynamic_stitch(positions, values) + tf.cast(batch["offset"], tf.float32)


__all__ = ["MAX_QUBITS", "ExactNoisyEnergy"]
