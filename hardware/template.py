"""Route once, resolve many times: a compiled circuit whose structure is fixed and whose angles follow θ.

A variational circuit is evaluated at many parameter values. Compiling it *symbolically*
(:func:`hardware.to_gateset_symbolic`) keeps one circuit for every θ but needs the linear
``CX · Z**t · CX`` form TFQ can read: 4 √iSWAP (or Sycamore) gates per ZZ rotation instead of
2. Compiling it *resolved* (:func:`hardware.to_gateset`) at every θ gives the fewest native
gates but costs seconds per θ. :class:`CompiledTemplate` sits between the two:

1. the symbolic circuit is placed and routed once (the same routers as
   :func:`hardware.compile_circuit`);
2. consecutive two-qubit operations on one pair (a ZZ rotation and the SWAP after it, or two
   rotations with only single-qubit gates between them) form a *block*;
3. at each θ every distinct block unitary is decomposed to the native gate set by cirq's
   analytical decompositions, exactly as the resolved compile does, and the single-qubit gates
   between natives are merged into one ``PhasedXZGate`` per qubit and gap. On √iSWAP a ZZ
   rotation takes a closed form (``ZZ**t = (Z**t ⊗ Z**t) CZ**(-2t)`` and cirq's closed-form
   ``CZ**s`` construction), and a ZZ rotation next to a SWAP (single-qubit gates between
   them moved through the SWAP) cirq's √iSWAP solver on its known KAK vector, cached per
   angle; no block of a QAOA circuit then needs a numerical decomposition of its unitary.

The native two-qubit gates and their positions do not depend on θ (a block keeps the native
count it needs at a generic θ), so a noise model can be laid on the structure once and only the
single-qubit angles change per θ (:mod:`hardware.trajectories` uses this). The count equals the
resolved compile's (2 natives per ZZ rotation, 3 per ZZ + SWAP on √iSWAP and CZ).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence

import cirq
import numpy as np
import sympy

from hardware.compile import check_target
from hardware.devices import Device, SeedLike, import_cirq_google
from hardware.gatesets import quiet_cirq
from hardware.routing import check_at_most_two_qubits, route

_EYE2 = np.eye(2, dtype=complex)
_SWAP = cirq.unitary(cirq.SWAP)


@dataclasses.dataclass(frozen=True)
class _Op:
    """One routed operation as numbers: a fixed matrix, or eigen-components and an exponent."""

    qubits: tuple[cirq.Qid, ...]
    fixed: np.ndarray | None
    components: tuple[tuple[float, np.ndarray], ...] = ()
    shift: float = 0.0
    const: float = 0.0
    coefficients: np.ndarray | None = None  # d exponent / d value, per symbol

    def matrix(self, values: np.ndarray, offset: float = 0.0) -> np.ndarray:
        if self.fixed is not None:
            return self.fixed
        exponent = self.const + float(self.coefficients @ values) + offset
        return sum(
            projector * np.exp(1j * np.pi * exponent * (half_turns + self.shift))
            for half_turns, projector in self.components
        )


def _is_zz(op: _Op) -> bool:
    """True when the op's eigen-components are those of ``cirq.ZZPowGate``."""
    reference = cirq.ZZPowGate()._eigen_components()
    if len(op.qubits) != 2 or len(op.components) != len(reference):
        return False
    return all(
        abs(h1 - h2) < 1e-12 and np.allclose(p1, p2)
        for (h1, p1), (h2, p2) in zip(op.components, reference, strict=True)
    )


def _affine(expr, symbols: Sequence[sympy.Symbol], desc: str) -> tuple[float, np.ndarray]:
    """``(c0, c)`` with ``expr = c0 + c · symbols``; raises for anything else."""
    if not isinstance(expr, sympy.Basic):
        return float(expr), np.zeros(len(symbols))
    unknown = sorted(str(s) for s in expr.free_symbols if s not in set(symbols))
    if unknown:
        raise ValueError(f"{desc} uses symbols {unknown} that are not in the template's symbols")
    coefficients = [sympy.diff(expr, s) for s in symbols]
    const = expr.subs({s: 0 for s in symbols})
    if const.free_symbols or any(c.free_symbols for c in coefficients):
        raise TypeError(
            f"{desc} has exponent {expr}, which is not affine in its symbols; templates support "
            "exponents c0 + sum_k c_k * symbol_k"
        )
    return float(const), np.array([float(c) for c in coefficients])


def _as_op(op: cirq.Operation, symbols: Sequence[sympy.Symbol]) -> _Op:
    if not cirq.is_parameterized(op):
        return _Op(op.qubits, np.asarray(cirq.unitary(op), complex))
    gate = op.gate
    if not isinstance(gate, cirq.EigenGate):
        raise TypeError(
            f"cannot template symbolic operation {op}: only cirq.EigenGate powers (ZZPowGate, "
            "CZPowGate, XPowGate/rx, YPowGate/ry, ZPowGate/rz, ...) with affine exponents are "
            "supported; resolve it first"
        )
    const, coefficients = _affine(gate.exponent, symbols, str(op))
    components = tuple(
        (float(half_turns), np.asarray(projector, complex))
        for half_turns, projector in gate._eigen_components()
    )
    return _Op(op.qubits, None, components, float(gate._global_shift), const, coefficients)


@dataclasses.dataclass
class _Block:
    """Consecutive two-qubit operations on one pair (with the 1q gates between them)."""

    pair: tuple[cirq.Qid, cirq.Qid]
    ops: list[int]
    natives: int = 0
    # "zz" (one ZZ rotation) or "zz_swap" (a ZZ rotation then a SWAP): the KAK vector is
    # known in closed form, so √iSWAP decompositions skip the numerical KAK
    kind: str = "general"

    def unitary(self, matrices: Sequence[np.ndarray], ops: Sequence[_Op]) -> np.ndarray:
        a, b = self.pair
        total = np.eye(4, dtype=complex)
        for index in self.ops:
            op, u = ops[index], matrices[index]
            if len(op.qubits) == 1:
                u = np.kron(u, _EYE2) if op.qubits[0] == a else np.kron(_EYE2, u)
            elif op.qubits != (a, b):
                u = _SWAP @ u @ _SWAP
            total = u @ total
        return total


def _sqrt_iswap_layers(vector: tuple[float, float, float], natives: int) -> _Decomposition:
    """√iSWAP decomposition of ``exp(i(x XX + y YY + z ZZ))`` (up to global phase).

    Uses cirq's single-qubit solver of its √iSWAP decomposition (the numerical KAK, without
    building operations) where this cirq has it, else the public
    ``cirq.two_qubit_matrix_to_sqrt_iswap_operations`` on the unitary.
    """
    try:  # lazy: a private cirq module that other cirq versions may lack (fallback below)
        from cirq.transformers.analytical_decompositions import two_qubit_to_sqrt_iswap

        solver = two_qubit_to_sqrt_iswap._single_qubit_matrices_with_sqrt_iswap
    except (ImportError, AttributeError):  # pragma: no cover - other cirq versions
        x, y, z = vector
        return _decompose(_interaction(x, y, z), "sqrt_iswap", natives)
    layers, _ = solver(cirq.kak_canonicalize_vector(*vector), natives, atol=1e-10)
    layers = tuple((np.asarray(a, complex), np.asarray(b, complex)) for a, b in layers)
    return _Decomposition(layers, (cirq.SQRT_ISWAP,) * natives, (False,) * natives)


_PAULI = (
    np.array([[0, 1], [1, 0]], complex),
    np.array([[0, -1j], [1j, 0]], complex),
    np.array([[1, 0], [0, -1]], complex),
)


def _interaction(x: float, y: float, z: float) -> np.ndarray:
    """``exp(i(x XX + y YY + z ZZ))`` (the three terms commute)."""
    out = np.eye(4, dtype=complex)
    for c, p in zip((x, y, z), _PAULI, strict=True):
        out = out @ (np.cos(c) * np.eye(4) + 1j * np.sin(c) * np.kron(p, p))
    return out


def _rx(angle: float) -> np.ndarray:
    c, s = np.cos(angle / 2), np.sin(angle / 2)
    return np.array([[c, -1j * s], [-1j * s, c]])


def _rz(angle: float) -> np.ndarray:
    return np.diag([np.exp(-0.5j * angle), np.exp(0.5j * angle)])


def _zz_sqrt_iswap_layers(exponent: float) -> _Decomposition:
    """Closed-form 2-√iSWAP decomposition of ``cirq.ZZ**exponent`` (up to global phase).

    ``ZZ**t = (Z**t ⊗ Z**t) · CZ**(-2t)``, and ``CZ**s`` takes cirq's closed-form two-√iSWAP
    construction of ``cirq.parameterized_2q_op_to_sqrt_iswap_operations`` (its
    ``SQRT_ISWAP_INV = Z · SQRT_ISWAP · Z`` form), with the rotations merged per gap. No
    numerical KAK per θ; tests compare with ``cirq.unitary`` and cirq's decomposition count.
    """
    theta = np.mod(-2.0 * exponent, 2.0) * np.pi
    sign = np.sign(np.pi - theta + 1e-9)  # cirq's fudge: theta = π counts as below π
    theta_prime = (np.pi - sign * np.pi) + sign * theta
    phi = np.arcsin(np.sqrt(2) * np.sin(theta_prime / 4))
    xi = np.arctan(np.tan(phi) / np.sqrt(2))
    z = _PAULI[2]
    z_t = np.diag([1.0, np.exp(1j * np.pi * exponent)])
    layers = (
        (
            z @ _rx(xi) @ _rz(sign * theta_prime / 2),
            _rx(-sign * np.pi / 2) @ _rz(sign * theta_prime / 2),
        ),
        (_rx(-2 * phi) @ z, _EYE2.copy()),
        (z_t @ _rx(xi), z_t @ _rx(sign * np.pi / 2)),
    )
    return _Decomposition(layers, (cirq.SQRT_ISWAP,) * 2, (False,) * 2)


def _native_ops(u: np.ndarray, gateset: str, natives: int | None) -> list[cirq.Operation]:
    """cirq's analytical decomposition of a 2q unitary on LineQubit(0), LineQubit(1)."""
    a, b = cirq.LineQubit.range(2)
    with quiet_cirq():
        if gateset == "sqrt_iswap":
            ops = cirq.two_qubit_matrix_to_sqrt_iswap_operations(
                a, b, u, required_sqrt_iswap_count=natives, atol=1e-10
            )
        elif gateset == "cz":
            ops = cirq.two_qubit_matrix_to_cz_operations(
                a, b, u, allow_partial_czs=False, atol=1e-10
            )
        elif gateset == "sycamore":
            cg = import_cirq_google()
            ops = cg.SycamoreTargetGateset().decompose_to_target_gateset(
                cirq.MatrixGate(u).on(a, b), 0
            )
        else:  # pragma: no cover - validated by the caller
            raise ValueError(gateset)
    return list(cirq.flatten_to_ops(ops))


@dataclasses.dataclass(frozen=True)
class _Decomposition:
    """Layers of single-qubit matrices (``natives + 1`` pairs) and the native gates between."""

    layers: tuple[tuple[np.ndarray, np.ndarray], ...]
    natives: tuple[cirq.Gate, ...]
    orders: tuple[bool, ...]  # True when the native acts on (b, a)


def _decompose(u: np.ndarray, gateset: str, natives: int | None) -> _Decomposition:
    a, b = cirq.LineQubit.range(2)
    layers, gates, orders = [], [], []
    left, right = _EYE2.copy(), _EYE2.copy()
    for op in _native_ops(u, gateset, natives):
        if len(op.qubits) == 1:
            m = cirq.unitary(op)
            if op.qubits[0] == a:
                left = m @ left
            else:
                right = m @ right
        else:
            layers.append((left, right))
            gates.append(op.gate)
            orders.append(op.qubits != (a, b))
            left, right = _EYE2.copy(), _EYE2.copy()
    layers.append((left, right))
    return _Decomposition(tuple(layers), tuple(gates), tuple(orders))


def _is_identity(gate: Gate) -> bool:
    return gate.gate is None and cirq.equal_up_to_global_phase(gate.matrix, _EYE2, atol=1e-9)


@dataclasses.dataclass(frozen=True)
class Gate:
    """One gate of a resolved template: qubits and matrix (1q) or native gate (2q).

    Attributes:
        qubits: the device qubits, one or two (a 2q gate's in the native gate's order).
        matrix: the ``(2, 2)`` unitary of a 1q gate, or the ``(4, 4)`` unitary of the native
            2q gate.
        gate: the native gate object of a 2q gate; None for a 1q gate.
    """

    qubits: tuple[cirq.Qid, ...]
    matrix: np.ndarray
    gate: cirq.Gate | None = None  # the native gate object of a 2q gate

    def operation(self) -> cirq.Operation:
        """This gate as a cirq operation.

        Returns:
            ``gate.on(*qubits)`` for a 2q gate, else a ``PhasedXZGate`` of ``matrix`` (up to
            global phase).
        """
        if self.gate is not None:
            return self.gate.on(*self.qubits)
        return cirq.PhasedXZGate.from_matrix(self.matrix).on(*self.qubits)


class CompiledTemplate:
    """A routed circuit whose native structure is fixed and whose angles are functions of θ.

    Build with :func:`compile_template`. :meth:`gates` gives the resolved native gates at one
    parameter point (fast: numbers, no cirq objects), :meth:`resolve` the same as a
    ``cirq.Circuit`` on device qubits. ``final_map[q]`` is where logical qubit ``q`` is read.

    The constructor (called by :func:`compile_template`) finds the blocks, counts each
    block's natives at a random generic θ and marks the structurally empty gaps.

    Args:
        routed_ops: the routed operations on device qubits, in circuit order, without
            measurements; 1- and 2-qubit ops only.
        symbols: the parameters, in the order of value vectors.
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore``.
        initial_map: logical qubit -> device qubit at the start.
        final_map: logical qubit -> device qubit at the end (where it is read).
        device: the device name.
        routing: the router that produced ``routed_ops`` (:attr:`RoutedCircuit.method`).
        seed: seed of the generic reference points.

    Attributes:
        symbols, gateset, initial_map, final_map, device, routing: as given.
        compile_seconds: wall time of :func:`compile_template` (0 until it sets it).
        empty: indices of :meth:`all_gates` slots that are the identity at generic θ.
        qubits: the device qubits used, sorted.

    Raises:
        ValueError: for an op not on 1 or 2 qubits or a symbol that is not in ``symbols``.
        TypeError: for a symbolic op that is not a ``cirq.EigenGate`` power, or an exponent
            not affine in the symbols.
    """

    def __init__(
        self,
        routed_ops: Sequence[cirq.Operation],
        symbols: Sequence[sympy.Symbol],
        gateset: str,
        initial_map: Mapping[cirq.Qid, cirq.Qid],
        final_map: Mapping[cirq.Qid, cirq.Qid],
        device: str,
        routing: str,
        seed: int = 0,
    ):
        self.symbols = list(symbols)
        self.gateset = gateset
        self.initial_map = dict(initial_map)
        self.final_map = dict(final_map)
        self.device = device
        self.routing = routing
        self.compile_seconds = 0.0  # set by compile_template
        self.ops = [_as_op(op, self.symbols) for op in routed_ops]
        self.blocks, self._plan = self._build_plan()
        for block in self.blocks:
            block.kind = self._kind(block)
        self._cache: dict = {}
        self._natives: dict = {}
        rng = np.random.default_rng(seed)
        reference = [rng.uniform(0.3, 1.3, len(self.symbols)) for _ in range(2)]
        counted: dict[bytes, int] = {}  # blocks of one layer share their unitary
        for block, u in zip(self.blocks, self._block_unitaries(reference[0]), strict=True):
            key = np.round(u, 11).tobytes()
            if key not in counted:
                counted[key] = len(_decompose(u, gateset, None).natives)
            block.natives = counted[key]
        reference.append(rng.uniform(-1.3, -0.3, len(self.symbols)))
        # a 1q gap that is the identity at generic points is structurally empty: it gets no
        # gate (and no gate noise); cirq's CZ/Sycamore decompositions can still put a
        # rotation there at other points, which :meth:`resolve` then keeps
        samples = [self.all_gates(values) for values in reference]
        self.empty = frozenset(
            i
            for i, gate in enumerate(samples[0])
            if gate.gate is None
            and all(cirq.equal_up_to_global_phase(s[i].matrix, _EYE2, atol=1e-9) for s in samples)
        )
        self.qubits = sorted(
            {q for op in self.ops for q in op.qubits} | set(self.final_map.values())
        )
        self._build_recipe()

    # -- structure ----------------------------------------------------------------------------
    def _build_plan(self):
        blocks: list[_Block] = []
        open_block: dict[cirq.Qid, _Block | None] = {}
        pending: dict[cirq.Qid, list[int]] = {}
        plan: list[tuple] = []  # ("1q", index) | ("block", block index)
        for index, op in enumerate(self.ops):
            if len(op.qubits) == 1:
                (q,) = op.qubits
                pending.setdefault(q, []).append(index)
                continue
            if len(op.qubits) != 2:
                raise ValueError(f"template operations act on 1 or 2 qubits, got {op.qubits}")
            a, b = op.qubits
            block = open_block.get(a)
            if block is not None and open_block.get(b) is block:
                block.ops.extend(pending.pop(a, []) + pending.pop(b, []))
                block.ops.append(index)
                continue
            for q in (a, b):
                plan.extend(("1q", i) for i in pending.pop(q, []))
            block = _Block((a, b), [index])
            blocks.append(block)
            plan.append(("block", len(blocks) - 1))
            for q in (a, b):
                stale = open_block.get(q)
                if stale is not None:
                    for other in stale.pair:
                        if open_block.get(other) is stale:
                            open_block[other] = None
                open_block[q] = block
        for q in sorted(pending):
            plan.extend(("1q", i) for i in pending[q])
        return blocks, plan

    def _native_unitary(self, gate: cirq.Gate) -> np.ndarray:
        found = self._natives.get(gate)
        if found is None:
            found = self._natives[gate] = np.asarray(cirq.unitary(gate), complex)
        return found

    def _kind(self, block: _Block) -> str:
        gates = [self.ops[i] for i in block.ops]
        rotations = [g for g in gates if g.fixed is None and _is_zz(g)]
        pairs = [g for g in gates if len(g.qubits) == 2]
        swaps = [g for g in pairs if g.fixed is not None and np.allclose(g.fixed, _SWAP)]
        if len(gates) == 1 and len(rotations) == 1:
            return "zz"
        if len(pairs) == 2 and len(rotations) == 1 and len(swaps) == 1:
            # SWAP and a ZZ rotation on one pair commute; single-qubit gates between them (a
            # mixer rotation of a qubit whose layer is done) move through the SWAP
            return "zz_swap"
        return "general"

    @property
    def two_qubit_count(self) -> int:
        """The number of native two-qubit gates (the same at every θ)."""
        return sum(block.natives for block in self.blocks)

    def _values(self, values) -> np.ndarray:
        if isinstance(values, Mapping | cirq.ParamResolver):
            resolver = cirq.ParamResolver(values)
            missing = [
                s.name
                for s in self.symbols
                if s not in resolver.param_dict and s.name not in resolver.param_dict
            ]
            if missing:
                raise ValueError(f"no values for symbols {missing}")
            return np.array([float(resolver.value_of(s)) for s in self.symbols])
        values = np.asarray(values, float).reshape(-1)
        if values.size != len(self.symbols):
            raise ValueError(
                f"expected {len(self.symbols)} parameter values "
                f"({', '.join(s.name for s in self.symbols)}), got {values.size}"
            )
        return values

    def _matrices(self, values: np.ndarray, offsets=None) -> list[np.ndarray]:
        matrices = [op.matrix(values) for op in self.ops]
        for index, delta in (offsets or {}).items():
            matrices[index] = self.ops[index].matrix(values, delta)
        return matrices

    def parameterized_ops(self) -> list[tuple[int, str, float]]:
        """``(op index, symbol, d exponent / d value)`` of every θ-dependent routed gate.

        Each is an eigen-gate with two eigenvalues one half-turn apart (QAOA's ZZ and X
        rotations), so shifting its exponent by ±1/2 (``offsets`` of :meth:`all_gates`) gives
        the parameter-shift rule.

        Returns:
            One ``(index into the routed ops, symbol name, exponent slope)`` per θ-dependent
            op, in circuit order.

        Raises:
            ValueError: when a θ-dependent routed gate does not depend on exactly one symbol.
        """
        out = []
        for index, op in enumerate(self.ops):
            if op.fixed is None:
                nonzero = np.flatnonzero(op.coefficients)
                if len(nonzero) != 1:
                    raise ValueError(f"routed gate {index} depends on {len(nonzero)} symbols")
                k = int(nonzero[0])
                out.append((index, self.symbols[k].name, float(op.coefficients[k])))
        return out

    def _block_unitaries(self, values: np.ndarray) -> list[np.ndarray]:
        matrices = self._matrices(values)
        return [block.unitary(matrices, self.ops) for block in self.blocks]

    def _block_decomposition(self, block: _Block, matrices, values) -> _Decomposition:
        if self.gateset == "sqrt_iswap" and block.kind != "general" and block.natives:
            dec = self._zz_block_layers(block, values)
            return dec if len(block.ops) <= 2 else self._with_moved_1q(block, dec, matrices)
        return self._decomposition(block.unitary(matrices, self.ops), block.natives)

    def _with_moved_1q(self, block: _Block, dec: _Decomposition, matrices) -> _Decomposition:
        """A ZZ + SWAP decomposition with the block's single-qubit gates (between its two
        2q gates) moved through the SWAP into the first or last layer."""
        a, _ = block.pair
        moved = {True: _EYE2, False: _EYE2}  # on qubit a / on qubit b, in block order
        for i in block.ops:
            if len(self.ops[i].qubits) == 1:
                on_a = self.ops[i].qubits[0] == a
                moved[on_a] = matrices[i] @ moved[on_a]
        two = [i for i in block.ops if len(self.ops[i].qubits) == 2]
        layers = list(dec.layers)
        # SWAP · (Ma ⊗ Mb) = (Mb ⊗ Ma) · SWAP: the gates change qubit through the SWAP
        if self.ops[two[-1]].fixed is not None:  # the SWAP comes last: (Mb ⊗ Ma) after all
            left, right = layers[-1]
            layers[-1] = (moved[False] @ left, moved[True] @ right)
        else:  # the SWAP comes first: (Mb ⊗ Ma) before all
            left, right = layers[0]
            layers[0] = (left @ moved[False], right @ moved[True])
        return _Decomposition(tuple(layers), dec.natives, dec.orders)

    def _zz_block_layers(self, block: _Block, values) -> _Decomposition:
        """The cached √iSWAP layers of a ZZ or ZZ + SWAP block at ``values``."""
        op = next(
            self.ops[i]
            for i in block.ops
            if self.ops[i].fixed is None and len(self.ops[i].qubits) == 2
        )
        exponent = op.const + float(op.coefficients @ values)
        z = -np.pi * exponent / 2
        key = (block.kind, round(z, 12), block.natives)
        found = self._cache.get(key)
        if found is None:
            if block.kind == "zz" and block.natives == 2:
                found = _zz_sqrt_iswap_layers(exponent)  # closed form
            else:
                vector = (
                    (0.0, 0.0, z) if block.kind == "zz" else (np.pi / 4, np.pi / 4, np.pi / 4 + z)
                )
                found = _sqrt_iswap_layers(vector, block.natives)
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _decomposition(self, u: np.ndarray, natives: int) -> _Decomposition:
        key = np.round(u, 11).tobytes()
        found = self._cache.get(key)
        if found is None:
            found = _decompose(u, self.gateset, natives if self.gateset == "sqrt_iswap" else None)
            if len(found.natives) != natives:
                raise ValueError(
                    f"a block needs {len(found.natives)} native gates at this θ instead of its "
                    f"generic {natives} (a degenerate angle); use hardware.compile_circuit on the "
                    "resolved circuit for this point"
                )
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = found
        return found

    def _build_recipe(self) -> None:
        """What :meth:`slot_matrices` multiplies: every single-qubit slot of :meth:`all_gates`
        as a chain of factors (routed 1q op matrices and block layer matrices), fixed at build
        time because the plan is; per θ only the factors change."""
        ones = [i for i, op in enumerate(self.ops) if len(op.qubits) == 1]
        factor = {i: 1 + k for k, i in enumerate(ones)}  # factor 0 is the identity
        start = 1 + len(ones)
        self._layer_base = []
        for block in self.blocks:
            self._layer_base.append(start)
            start += 2 * (block.natives + 1)
        self._n_factors = start
        pending: dict[cirq.Qid, list[int]] = {}
        chains: list[list[int]] = []
        two: list[int] = []

        def emit(q) -> None:
            chains.append(pending.pop(q, []))

        for kind, index in self._plan:
            if kind == "1q":
                (q,) = self.ops[index].qubits
                pending.setdefault(q, []).append(factor[index])
                continue
            block, base = self.blocks[index], self._layer_base[index]
            a, b = block.pair
            for k in range(block.natives):
                pending.setdefault(a, []).append(base + 2 * k)
                pending.setdefault(b, []).append(base + 2 * k + 1)
                emit(a)
                emit(b)
                two.append(len(chains))
                chains.append([])
            pending.setdefault(a, []).append(base + 2 * block.natives)
            pending.setdefault(b, []).append(base + 2 * block.natives + 1)
        for q in sorted({q for op in self.ops for q in op.qubits}):
            emit(q)
        length = max([len(c) for c in chains] + [1])
        # chains[s][j] is applied j-th (rightmost first); padded with the identity
        self._chains = np.zeros((len(chains), length), np.int64)
        for s, chain in enumerate(chains):
            self._chains[s, : len(chain)] = chain
        self._two_slots = np.asarray(two, np.int64)
        self._one_ops = ones
        fixed = [i for i in ones if self.ops[i].fixed is not None]
        self._fixed_factors = np.array([factor[i] for i in fixed], np.int64)
        self._fixed_stack = np.array([self.ops[i].fixed for i in fixed], complex).reshape(-1, 2, 2)
        # parameterised 1q ops grouped by their number of eigen-components (vectorised)
        groups: dict[int, list[int]] = {}
        for i in ones:
            if self.ops[i].fixed is None:
                groups.setdefault(len(self.ops[i].components), []).append(i)
        self._rotations = []
        for members in groups.values():
            ops = [self.ops[i] for i in members]
            self._rotations.append(
                (
                    np.array([factor[i] for i in members], np.int64),
                    np.array([op.const for op in ops]),
                    np.array([op.coefficients for op in ops]).reshape(len(ops), -1),
                    np.array([[h + op.shift for h, _ in op.components] for op in ops]),
                    np.array([[p for _, p in op.components] for op in ops], complex),
                )
            )

    def slot_matrices(self, values) -> np.ndarray:
        """``(len(all_gates), 2, 2)``: the single-qubit slot matrices of :meth:`all_gates` at
        ``values`` (two-qubit slots hold the identity; their natives do not depend on θ).

        The same numbers as ``[g.matrix for g in all_gates(values)]`` without building a
        ``Gate`` per slot: the routed rotations are evaluated for all ops at once and every
        slot is a fixed chain of factors, multiplied for all slots together.

        Args:
            values: a vector in :attr:`symbols` order, or a mapping / ``cirq.ParamResolver``.

        Returns:
            A complex ``(len(all_gates), 2, 2)`` array.

        Raises:
            ValueError: when ``values`` has the wrong length or a resolver lacks a symbol, or
                a block needs a different native count at this θ (a degenerate angle).
        """
        values = self._values(values)
        factors = np.empty((self._n_factors, 2, 2), complex)
        factors[0] = _EYE2
        if self._fixed_factors.size:
            factors[self._fixed_factors] = self._fixed_stack
        for index, const, coefficients, turns, projectors in self._rotations:
            exponent = const + coefficients @ values
            phases = np.exp(1j * np.pi * exponent[:, None] * turns)
            factors[index] = np.einsum("mc,mcij->mij", phases, projectors)
        matrices = None
        # layers stacked once per decomposition object; the object is kept in the dict so
        # that its id cannot be reused by a later one within this call
        stacked: dict[int, tuple[_Decomposition, np.ndarray]] = {}
        for block, base in zip(self.blocks, self._layer_base, strict=True):
            if (
                self.gateset == "sqrt_iswap"
                and block.kind != "general"
                and block.natives
                and len(block.ops) <= 2
            ):
                dec = self._zz_block_layers(block, values)
            else:
                if matrices is None:
                    matrices = self._matrices(values)
                dec = self._block_decomposition(block, matrices, values)
            found = stacked.get(id(dec))
            if found is None:
                found = stacked[id(dec)] = (dec, np.array(dec.layers, complex).reshape(-1, 2, 2))
            factors[base : base + len(found[1])] = found[1]
        out = factors[self._chains[:, 0]]
        for j in range(1, self._chains.shape[1]):
            out = factors[self._chains[:, j]] @ out
        return out

    # -- resolution ---------------------------------------------------------------------------
    def gates(self, values) -> list[Gate]:
        """The native gates at ``values`` (a vector in :attr:`symbols` order, or a resolver).

        Structurally empty single-qubit gaps are left out unless they hold a rotation here.

        Args:
            values: a vector in :attr:`symbols` order, or a mapping / ``cirq.ParamResolver``.

        Returns:
            The gates in circuit order.

        Raises:
            ValueError: when ``values`` has the wrong length or a resolver lacks a symbol, or
                a block needs a different native count at this θ (a degenerate angle).
        """
        return [
            gate
            for i, gate in enumerate(self.all_gates(values))
            if i not in self.empty or not _is_identity(gate)
        ]

    def all_gates(self, values, offsets: Mapping[int, float] | None = None) -> list[Gate]:
        """Every gate slot at ``values``, empty gaps included (the same list length at every θ).

        Slot ``i`` is on the same qubits at every θ; :attr:`empty` names the gaps that are the
        identity at generic θ. ``offsets`` ({routed op index: Δ}) shifts single exponents
        (parameter-shift gradients, see :meth:`parameterized_ops`).

        Args:
            values: a vector in :attr:`symbols` order, or a mapping / ``cirq.ParamResolver``.
            offsets: ``{routed op index: Δ exponent}``, or None.

        Returns:
            Every slot in circuit order: each native 2q gate preceded by the 1q gaps of its
            two qubits, and one final 1q gap per qubit.

        Raises:
            ValueError: when ``values`` has the wrong length or a resolver lacks a symbol, or
                a block needs a different native count at this θ (a degenerate angle).
        """
        values = self._values(values)
        matrices = self._matrices(values, offsets)
        pending: dict[cirq.Qid, np.ndarray] = {}
        out: list[Gate] = []

        def emit(q) -> None:
            out.append(Gate((q,), pending.pop(q, _EYE2)))

        for kind, index in self._plan:
            if kind == "1q":
                (q,) = self.ops[index].qubits
                pending[q] = matrices[index] @ pending.get(q, _EYE2)
                continue
            block = self.blocks[index]
            a, b = block.pair
            if offsets and any(i in offsets for i in block.ops):
                dec = self._decomposition(block.unitary(matrices, self.ops), block.natives)
            else:
                dec = self._block_decomposition(block, matrices, values)
            for k, gate in enumerate(dec.natives):
                left, right = dec.layers[k]
                pending[a] = left @ pending.get(a, _EYE2)
                pending[b] = right @ pending.get(b, _EYE2)
                emit(a)
                emit(b)
                qubits = (b, a) if dec.orders[k] else (a, b)
                out.append(Gate(qubits, self._native_unitary(gate), gate))
            left, right = dec.layers[-1]
            pending[a] = left @ pending.get(a, _EYE2)
            pending[b] = right @ pending.get(b, _EYE2)
        for q in sorted({q for op in self.ops for q in op.qubits}):
            emit(q)
        return out

    def resolve(self, values) -> cirq.Circuit:
        """The native circuit at ``values`` (PhasedXZ single-qubit gates, native 2q gates).

        Args:
            values: a vector in :attr:`symbols` order, or a mapping / ``cirq.ParamResolver``.

        Returns:
            The ``cirq.Circuit`` of :meth:`gates` on device qubits, without measurements.

        Raises:
            ValueError: as :meth:`gates`.
        """
        return cirq.Circuit(g.operation() for g in self.gates(values))

    def summary(self) -> dict:
        """A JSON-ready description of the template.

        Returns:
            ``device``, ``gateset``, ``routing``, ``template`` (True), ``n_logical``,
            ``two_qubit_count`` and ``blocks`` (the number of blocks).
        """
        return {
            "device": self.device,
            "gateset": self.gateset,
            "routing": self.routing,
            "template": True,
            "n_logical": len(self.initial_map),
            "two_qubit_count": self.two_qubit_count,
            "blocks": len(self.blocks),
        }


def compile_template(
    circuit: cirq.AbstractCircuit,
    device: Device | str,
    gateset: str = "sqrt_iswap",
    *,
    symbols: Sequence[sympy.Symbol] | None = None,
    routing: str = "auto",
    seed: SeedLike = 0,
) -> CompiledTemplate:
    """Places and routes a symbolic circuit once and returns its :class:`CompiledTemplate`.

    Args:
        circuit: logical circuit of 1- and 2-qubit gates; symbolic gates must be
            ``cirq.EigenGate`` powers with affine exponents (QAOA's ZZ and X rotations are).
        device: a :class:`Device` or its name.
        gateset: ``cz``, ``sqrt_iswap`` or ``sycamore``.
        symbols: parameter order of :meth:`CompiledTemplate.gates` vectors (default: sorted
            by name).
        routing: ``auto`` (the router with fewer native gates), ``cqc`` or ``swap_network``.
        seed: seed of placement and line search (the same as :func:`hardware.compile_circuit`).

    Returns:
        The template; ``template.resolve(values)`` equals the resolved compile in state.

    Raises:
        ValueError: for an unknown gate set or router, a gate set the device lacks, gates on
            3+ qubits, measurements inside the circuit, a symbol missing from ``symbols``, or
            a circuit no router can route.
        TypeError: for a symbolic gate that is not a ``cirq.EigenGate`` power, or an
            exponent not affine in the symbols.
    """
    start = time.perf_counter()
    dev = check_target(device, gateset, routing)
    check_at_most_two_qubits(circuit)
    body = cirq.drop_terminal_measurements(circuit)
    if any(cirq.is_measurement(op) for op in body.all_operations()):
        raise ValueError("templates take circuits without mid-circuit measurements")
    if symbols is None:
        symbols = sorted(cirq.parameter_names(body))
        symbols = [sympy.Symbol(s) for s in symbols]
    methods = ["cqc", "swap_network"] if routing == "auto" else [routing]
    best, errors = None, []
    for method in methods:
        try:
            routed = route(body, dev, method=method, seed=seed)
        except ValueError as error:
            if routing != "auto":
                raise
            errors.append(str(error))
            continue
        template = CompiledTemplate(
            list(routed.circuit.all_operations()),
            symbols,
            gateset,
            routed.initial_map,
            routed.final_map,
            dev.name,
            routed.method,
        )
        if best is None or template.two_qubit_count < best.two_qubit_count:
            best = template
    if best is None:
        raise ValueError("; ".join(dict.fromkeys(errors)))
    best.compile_seconds = time.perf_counter() - start
    return best


__all__ = ["CompiledTemplate", "Gate", "compile_template"]
