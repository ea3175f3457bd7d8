"""The exact noisy QAOA energy: deterministic, with adjoint gradients, usable in TensorFlow.

TFQ's noisy backend estimates ⟨C⟩ from Monte-Carlo trajectories and seeds itself from OS
entropy on every call (it has no seed input), so noise-aware training on it can never be
reproduced. :class:`ExactNoisyEnergy` computes the same quantity exactly: it evolves the
density matrix ρ (B, 2^n, 2^n) through the compiled noisy circuit, every operation applied as
a local superoperator Σ_K K ⊗ K* on its qubits (one NumPy ``einsum``), and returns
Tr(C ρ) + W/2. Symbolic gates must be ``cirq.EigenGate`` s whose exponent is linear in one
QAOA symbol (what :func:`hardware.tfq_safe` circuits contain); their superoperator
Σ_{k,l} e^{iπt(a_k − a_l)} P_k ⊗ P_l* is built per batch row. Constant operations that act on
the qubits of the operation before them are fused into it.

The gradient is the adjoint method (one backward sweep through the transposed
superoperators), and TensorFlow sees the whole energy as one ``tf.numpy_function`` with a
custom gradient. The first version built the same contraction from TF ops: a rollout of ten
steps over four graphs became a graph of tens of thousands of einsums that took about a
minute to trace and 0.5 s per graph to run, so noise-aware fine-tuning took 20–30 minutes.

Cost grows as 4^n: meant for small registers (n ≤ 8), tests and reference values.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence

import cirq
import numpy as np
import sympy
import threadpoolctl

from qaoa_meta import qaoa
from qaoa_meta._tf import tf, tfq

MAX_QUBITS = 8


@functools.cache
def _blas() -> threadpoolctl.ThreadpoolController:
    """The process's thread pools, inspected once (a scan of the loaded libraries)."""
    return threadpoolctl.ThreadpoolController()


def _local_superop(kraus: Sequence[np.ndarray], k: int) -> np.ndarray:
    """S[o, p, i, j] = Σ_K K[o, i] conj(K[p, j]) with each index split into k qubit axes."""
    dim = 2**k
    total = np.zeros((dim, dim, dim, dim), np.complex128)
    for op in kraus:
        total += np.einsum("oi,pj->opij", op, op.conj())
    return total.reshape([2] * (4 * k))


class _Program:
    """One circuit as a list of steps: ("const", S, axes) or ("param", terms, axes, c, b, j)."""

    def __init__(self, circuit, observable, symbols: Sequence[str], dtype=np.complex64):
        self.dtype = np.dtype(dtype)
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
        # Tr(O ρ) = Σ_rc O[c, r] ρ[r, c]: the observable as a vector in ρ's index layout.
        self.observable = matrix.T.reshape([2] * (2 * self.n)).astype(self.dtype)
        self.symbol_count = len(symbols)
        self.steps = [self._plan(step) for step in self.steps]

    def _plan(self, step: tuple) -> tuple:
        """A step as matrices on the flattened (rows, columns) indices of its qubits.

        ``("const", targets, S)`` or ``("param", targets, π·freqs, M, slope, offset, j)``
        where ``S``/``M_f`` are ``(4^k, 4^k)`` and ``targets`` the ρ axes they act on (the
        row axes of the step's qubits, then their column axes).
        """
        axes = step[2]
        k = len(axes)
        targets = tuple(axes) + tuple(self.n + a for a in axes)
        if step[0] == "const":
            return ("const", targets, np.asarray(step[1], self.dtype).reshape(4**k, 4**k))
        (freqs, matrices), _, slope, offset, j = step[1:]
        matrices = np.asarray(matrices, self.dtype).reshape(-1, 4**k, 4**k)
        return ("param", targets, np.pi * np.asarray(freqs, np.float64), matrices, slope, offset, j)

    @staticmethod
    def _apply(state: np.ndarray, order: list[int], targets: tuple[int, ...], matrix):
        """``matrix`` (``(D, D)`` or per row ``(B, D, D)``) times ρ on its ``targets`` axes.

        ``state`` is ``(B, 2, ..., 2)`` with its axes in the logical ``order``; the result
        keeps the other axes first and the targets last (no transposing back), and the new
        order is returned with it.
        """
        others = [axis for axis in order if axis not in targets]
        where = {axis: i + 1 for i, axis in enumerate(order)}
        moved = state.transpose([0] + [where[a] for a in others] + [where[a] for a in targets])
        rows = state.shape[0]
        flat = moved.reshape(rows, -1, matrix.shape[-1])
        if matrix.ndim == 2:
            result = flat @ matrix.T
        else:
            result = np.matmul(flat, matrix.transpose(0, 2, 1))
        return result.reshape(state.shape), others + list(targets)

    def _phases(self, angles: np.ndarray, slope: float, offset: float, freqs: np.ndarray):
        """``(B, F)`` e^{iπ f (slope θ + offset)} in the state's dtype."""
        return np.exp(1j * (slope * angles + offset)[:, None] * freqs[None]).astype(self.dtype)

    @staticmethod
    def _aligned(state: np.ndarray, order: list[int], target_order: list[int]) -> np.ndarray:
        """A view of ``state`` with its axes in ``target_order``."""
        where = {axis: i + 1 for i, axis in enumerate(order)}
        return state.transpose([0] + [where[a] for a in target_order])

    def value_and_gradient(
        self, theta: np.ndarray, with_gradient: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Tr(O ρ(θ)) for the rows of ``theta`` and, by the adjoint method, its gradient.

        With ρ as a vector, E = oᵀ S_L ⋯ S_1 ρ_0. The forward pass keeps ρ before every
        parameterised step; the backward pass carries w = (S_L ⋯ S_{k+1})ᵀ o back through the
        transposed superoperators, and each parameterised step adds Re wᵀ (∂S_k/∂θ) ρ_{k-1}
        to its symbol's derivative.

        Args:
            theta: ``(B, 2p)`` angles.
            with_gradient: also return the ``(B, 2p)`` gradient.

        Returns:
            ``(B,)`` float64 values and the gradient (or None).
        """
        theta = np.asarray(theta, np.float64)
        rows = theta.shape[0]
        axes = 2 * self.n
        rho = np.zeros((rows,) + (2,) * axes, self.dtype)
        rho[(slice(None),) + (0,) * axes] = 1.0
        order = list(range(axes))
        kept = []
        for step in self.steps:
            if step[0] == "const":
                rho, order = self._apply(rho, order, step[1], step[2])
                continue
            _, targets, freqs, matrices, slope, offset, j = step
            phases = self._phases(theta[:, j], slope, offset, freqs)
            if with_gradient:
                kept.append((rho, order))
            rho, order = self._apply(rho, order, targets, np.tensordot(phases, matrices, 1))
        observable = self.observable[None]
        product = rho * self._aligned(observable, list(range(axes)), order)
        values = np.real(np.sum(product.reshape(rows, -1), axis=1, dtype=np.complex128))
        if not with_gradient:
            return values, None
        gradient = np.zeros((rows, self.symbol_count))
        w = np.broadcast_to(observable, rho.shape)
        w_order = list(range(axes))
        for step in reversed(self.steps):
            if step[0] == "const":
                w, w_order = self._apply(w, w_order, step[1], step[2].T)
                continue
            _, targets, freqs, matrices, slope, offset, j = step
            phases = self._phases(theta[:, j], slope, offset, freqs)
            scale = (1j * slope * freqs).astype(self.dtype)
            derivative = np.tensordot(phases * scale[None], matrices, 1)
            before, before_order = kept.pop()
            moved, moved_order = self._apply(before, before_order, targets, derivative)
            product = moved * self._aligned(w, w_order, moved_order)
            gradient[:, j] += np.real(
                np.sum(product.reshape(rows, -1), axis=1, dtype=np.complex128)
            )
            transposed = np.tensordot(phases, matrices, 1).transpose(0, 2, 1)
            w, w_order = self._apply(w, w_order, targets, transposed)
        return values, gradient

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


class ExactNoisyEnergy:
    """Deterministic ⟨C⟩ of the noisy circuits of :func:`qaoa_meta.noise_aware.encode_noisy`.

    A rollout energy for :meth:`qaoa_meta.meta.MetaOptimizer.set_energy`: the batch must carry
    ``problem_index`` (row → problem) and ``offset``; the circuits and operators are read once
    from ``data`` (the whole encoded set).

    Args:
        data: the dict of :func:`encode_noisy` for every problem the batches may contain.
        p: QAOA depth (names the symbols).
        dtype: the density matrix's dtype: ``np.complex64`` (default; 2.8x faster matrix
            products at n = 8, values within ~1e-5 of ``np.complex128``, which the tests use
            for tight finite-difference checks).
    """

    def __init__(self, data: Mapping[str, np.ndarray], p: int, dtype=np.complex64):
        symbols = [s.name for s in qaoa.parameter_symbols(p)]
        circuits = tfq.from_tensor(tf.constant(data["noisy_circuit"]))
        operators = tfq.from_tensor(tf.constant(data["noisy_operator"]))
        self.programs = [
            _Program(c, ops[0], symbols, dtype) for c, ops in zip(circuits, operators, strict=True)
        ]

    def value_and_gradient(
        self, index: np.ndarray, theta: np.ndarray, with_gradient: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Tr(C ρ) (without the offset) of ``theta[i]`` on problem ``index[i]``, in NumPy.

        Args:
            index: ``(B,)`` problem of each row.
            theta: ``(B, 2p)`` angles.
            with_gradient: also return the ``(B, 2p)`` gradient.

        Returns:
            ``(B,)`` float64 values and the float64 gradient (or None).
        """
        index = np.asarray(index, np.int64).reshape(-1)
        theta = np.asarray(theta, np.float64)
        values = np.zeros(len(index))
        gradient = np.zeros(theta.shape) if with_gradient else None
        if len(index) and (index.min() < 0 or index.max() >= len(self.programs)):
            raise ValueError(
                f"Expected problem indices in [0, {len(self.programs)}), got {sorted(set(index))}."
            )
        # One BLAS thread: the products are small (4^n entries), and on a shared machine
        # BLAS threads that wait for a core made a model comparison 4x slower (36 s -> 147 s
        # with two busy processes on the 2 cores); on an idle machine it is the same speed.
        with _blas().limit(limits=1, user_api="blas"):
            for problem in np.unique(index):
                rows = np.flatnonzero(index == problem)
                value, grad = self.programs[problem].value_and_gradient(theta[rows], with_gradient)
                values[rows] = value
                if with_gradient:
                    gradient[rows] = grad
        return values, gradient

    def __call__(self, batch: Mapping[str, tf.Tensor], theta: tf.Tensor) -> tf.Tensor:
        """⟨C⟩ of each row of ``theta`` on its batch problem, differentiable in ``theta``."""
        index = tf.cast(batch["problem_index"], tf.int32)

        def values_of(index_np, theta_np):
            return self.value_and_gradient(index_np, theta_np, False)[0].astype(np.float32)

        def gradient_of(index_np, theta_np):
            return self.value_and_gradient(index_np, theta_np, True)[1].astype(np.float32)

        # The gradient pass runs only when a gradient is asked for (it repeats the forward
        # pass, keeping ρ at the parameterised steps): scoring and evaluation pay one pass.
        @tf.custom_gradient
        def energy(angles):
            values = tf.numpy_function(values_of, [index, angles], tf.float32, stateful=False)
            values.set_shape(angles.shape[:1])

            def backward(upstream):
                gradient = tf.numpy_function(
                    gradient_of, [index, angles], tf.float32, stateful=False
                )
                gradient.set_shape(angles.shape)
                return upstream[:, None] * gradient

            return values, backward

        return energy(tf.cast(theta, tf.float32)) + tf.cast(batch["offset"], tf.float32)


__all__ = ["MAX_QUBITS", "ExactNoisyEnergy"]
