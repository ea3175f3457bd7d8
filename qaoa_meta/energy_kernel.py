"""Compiled CPU kernel for exact Max-Cut QAOA energies and their adjoint gradients (numba).

The state is kept as two real "planes" (real and imaginary parts, float32 or float64). The mixer
``e^{-iβ ΣX}`` factorises qubit by qubit, and its butterfly is the same formula for both
members of a pair, ``x' = c x - i s x_partner``; the forward sweeps apply it divided by c,
``x' = x - i t x_partner`` with t = tan β (one fused multiply-add per output), and put the
layer's factor c^n back with the next phase (see ``_mixer_constants``). The sweeps are written
with explicit 8-lane vectors (``_Lanes``, an LLVM ``<8 x float>`` made by the numba intrinsics
below: numba's loop vectoriser does not vectorise butterflies whose pair distance is a runtime
value):

* the three lowest bits pair lanes of one vector: one sweep with lane shuffles applies all
  three (``_rot_lanes``), fused on a contiguous block with the pass's elementwise work (|+⟩ and
  the first phase, a cost phase between two mixers, ⟨C⟩; ``_inner_forward``);
* a bit of pair distance h ≥ 8 pairs whole vectors h apart; one sweep applies two bits (radix
  4: four vectors loaded, rotated by both bits in registers, stored; ``_sweep``).

The qubits are split into two groups: the low ``g`` bits (contiguous blocks of ``2^g``
amplitudes, worked on in place and cache-resident) and the high ``n - g`` bits (tiles of
``2^(n-g)`` rows of ``w`` contiguous amplitudes, copied to a per-thread buffer and back; the
rows of a later tile are prefetched, as the hardware prefetchers do not follow ``2^(n-g)``
streams). The state is stored as ``2^(n-g)`` rows of ``2^g`` amplitudes padded by up to 64
(:func:`layout`), and planes start at different offsets modulo 4 KiB, so that neither a tile's
rows nor the planes fall in the same cache sets. One sweep over memory ("pass") on a group
applies the rest of one layer's mixer on that group, the next layer's cost phase (elementwise,
fits in any pass) and the next layer's mixer on the same group. A depth-p energy is therefore
``p + 1`` passes (one, when the whole register fits in one block), the first one writing |+⟩
with its phase without reading, the last one reducing ⟨C⟩ without writing back.

The cost phase ``e^{-iγ C(x)}`` reads a cost code per amplitude: for integer edge weights the
cut value minus its minimum as ``uint8``/``uint16`` (a table of ``cos``/``sin`` per level and
layer, looked up per lane; 1–2 bytes read per amplitude), otherwise the float cut value
(``cos``/``sin`` per amplitude). The expectation is reduced in float64 whatever the state's
precision.

The gradient is the adjoint method: after the forward passes, λ = Cψ, and the passes run back
(un-applying each layer to ψ and λ) accumulating ``dE/dθ_k = 2 Im⟨λ|G_k|ψ⟩`` with ``G = C``
for a phase and ``G = X_j`` per qubit for a mixer, summed in float64. ``X_j`` commutes with
every rotation of its layer's mixer, so each bit's term is read from the vectors loaded for its
butterfly while ψ and λ are un-mixed in the same sweep (``_sweep_adjoint``); on a block, the
in-vector bits of both mixers, the phase term and the division by the phase share one sweep
(``_inner_backward``). Memory: two states per circuit in flight.
"""

from __future__ import annotations

import contextlib
import functools
import math
import mmap
import operator
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model

from qaoa_meta.problems import MAX_DIAGONAL_NODES, MaxCutProblem, cost_diagonal
from qaoa_meta.system import available_memory

# Register bits handled inside one contiguous block (2^14 complex64 = 128 KiB: in L2).
BLOCK_BITS = 14
# Contiguous amplitudes per tile row in the high-bit passes (16 float32 = one cache line).
TILE_WIDTH = 16
# Circuits of a batch run in parallel (one per thread) up to this many qubits; above it, one
# circuit at a time with the tiles in parallel.
_PARALLEL_ROWS_MAX_N = BLOCK_BITS

# No "reassoc": with it, LLVM reassociated the adjoint's float32 sums differently when numba
# compiled a kernel in the process and when it loaded the same kernel from its cache, so two
# processes disagreed in the last bit of a gradient (tested). The sweeps are explicit SIMD
# vectors and do not need it to vectorise.
_JIT = {
    "nogil": True,
    "cache": True,
    "error_model": "numpy",
    "fastmath": {"contract", "arcp", "nsz"},
}


# --- cost codes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CostCodes:
    """The cost diagonals of a batch of problems, in the form the kernel reads.

    Attributes:
        codes: ``(B, 2^n)`` ``uint8``/``uint16`` level indices (integer weights) or float cut
            values (``levels`` is None).
        levels: ``(B, L)`` float64 cut value of each level, or None for float codes.
        n: register size.
    """

    codes: np.ndarray
    levels: np.ndarray | None
    n: int

    @property
    def nbytes(self) -> int:
        return int(self.codes.nbytes) + (0 if self.levels is None else int(self.levels.nbytes))

    def column_tiles(self) -> np.ndarray:
        """The codes in the order the high-group sweeps of a circuit over memory read them.

        Tile t (columns ``t w .. t w + w - 1`` of the ``2^high`` rows of :func:`groups`) is
        contiguous. Read in place, a tile's codes are ``w`` entries from each of ``2^high``
        rows 2^low apart, which DRAM serves at a line and a row activation per piece
        (0.7 GB/s at n = 24). Built on first use and kept with the codes (for the layout
        :func:`groups` gives now).

        Returns:
            ``(B, 2^n)`` codes, tile-major.
        """
        layout_now = groups(self.n)
        kept = self.__dict__.setdefault("_column_tiles", {})  # frozen: a cache, not a field
        tiles = kept.get(layout_now)
        if tiles is None:  # two threads may both build it; each returns its own
            low, high, w = layout_now
            rows = self.codes.shape[0]
            shaped = self.codes.reshape(rows, 1 << high, (1 << low) // w, w)
            tiles = np.ascontiguousarray(shaped.transpose(0, 2, 1, 3)).reshape(rows, -1)
            kept.clear()
            kept[layout_now] = tiles
        return tiles


def _integer_weights(problem: MaxCutProblem) -> bool:
    return all(float(w).is_integer() for _, _, w in problem.edges)


@numba.njit(**_JIT)
def _integer_cut_values(n: int, us: np.ndarray, vs: np.ndarray, ws: np.ndarray) -> np.ndarray:
    """All 2^n cut values (node 0 = most significant bit) for integer weights, by doubling.

    Edges (u, v, w) have u < v and are sorted by v. After step k, ``out[:2^(k+1)]`` holds the
    cut values of nodes 0..k; node k's edges to earlier nodes add w·(bit_u xor bit_k).
    """
    out = np.zeros(1 << n, np.int32)
    first = 0
    for k in range(1, n):
        last = first
        while last < vs.size and vs[last] == k:
            last += 1
        for i in range((1 << k) - 1, -1, -1):
            zero = 0
            one = 0
            for e in range(first, last):
                if (i >> (k - 1 - us[e])) & 1:
                    zero += ws[e]
                else:
                    one += ws[e]
            base = out[i]
            out[2 * i] = base + zero
            out[2 * i + 1] = base + one
        first = last
    return out


def cost_codes(
    problems: Sequence[MaxCutProblem], n_qubits: int, float_dtype=np.float32
) -> CostCodes:
    """Cost codes for ``problems`` padded to ``n_qubits`` (idle qubits repeat each value).

    Integer-weighted batches whose cut values span at most 65536 levels get ``uint8``/``uint16``
    codes; others float codes of ``float_dtype``.

    Args:
        problems: the batch; each ``problem.n <= n_qubits``.
        n_qubits: register size of the codes (the batch's largest ``n``).
        float_dtype: dtype of float codes (unused for integer codes).

    Returns:
        :class:`CostCodes` with ``(B, 2^n_qubits)`` codes; ``levels`` is ``(B, L)`` for
        integer codes (the same row for every problem), None for float codes.

    Raises:
        ValueError: on the float path, for a problem with more than
            :data:`~qaoa_meta.problems.MAX_DIAGONAL_NODES` nodes.
    """
    if all(_integer_weights(pr) for pr in problems):
        values = []
        for pr in problems:
            edges = sorted(
                ((min(u, v), max(u, v), int(w)) for u, v, w in pr.edges), key=lambda e: e[1]
            )
            us = np.array([e[0] for e in edges], np.int64)
            vs = np.array([e[1] for e in edges], np.int64)
            ws = np.array([e[2] for e in edges], np.int64)
            values.append(
                _integer_cut_values(pr.n, us, vs, ws) if pr.n > 1 else np.zeros(2, np.int32)
            )
        low = min(int(v.min()) for v in values)
        span = max(int(v.max()) for v in values) - low + 1
        if span <= 65536:
            code_dtype = np.uint8 if span <= 256 else np.uint16
            codes = np.empty((len(problems), 1 << n_qubits), code_dtype)
            for row, (pr, v) in enumerate(zip(problems, values, strict=True)):
                shifted = (v - low).astype(code_dtype)
                codes[row] = (
                    np.repeat(shifted, 1 << (n_qubits - pr.n)) if pr.n < n_qubits else shifted
                )
            levels = np.tile(np.arange(low, low + span, dtype=np.float64), (len(problems), 1))
            return CostCodes(codes, levels, n_qubits)
    codes = np.empty((len(problems), 1 << n_qubits), float_dtype)
    for row, pr in enumerate(problems):
        if pr.n > MAX_DIAGONAL_NODES:
            raise ValueError(f"n = {pr.n} exceeds the cost diagonal limit {MAX_DIAGONAL_NODES}.")
        codes[row] = np.repeat(cost_diagonal(pr, float_dtype), 1 << (n_qubits - pr.n))
    return CostCodes(codes, None, n_qubits)


# --- 8-lane vectors -------------------------------------------------------------------------
#
# numba's loop vectoriser gives up on the radix butterflies (a runtime pair distance means too
# many runtime alias checks, and its SLP vectoriser is off), so the sweeps are written with
# explicit vectors: ``_Lanes`` is an LLVM ``<8 x float>`` (or ``<8 x double>``) value, made and
# used by the intrinsics below; LLVM maps it to one AVX register (two for float64, or SSE/NEON
# halves elsewhere).

_LANES = 8
_FAST = ("contract", "nsz", "arcp")  # as _JIT's fastmath


class _Lanes(types.Type):
    """8 lanes of a float type."""

    def __init__(self, dtype):
        self.dtype = dtype
        super().__init__(name=f"Lanes{_LANES}[{dtype}]")


@register_model(_Lanes)
class _LanesModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        scalar = dmm.lookup(fe_type.dtype).get_value_type()
        super().__init__(dmm, fe_type, ir.VectorType(scalar, _LANES))


def _lanes_type(context, dtype):
    return ir.VectorType(context.get_value_type(dtype), _LANES)


def _i32_vector(values):
    return ir.Constant(ir.VectorType(ir.IntType(32), len(values)), list(values))


def _element_ptr(context, builder, arrty, arr, index, indexty):
    data = context.make_array(arrty)(context, builder, arr).data
    return builder.gep(data, [context.cast(builder, index, indexty, types.intp)])


@intrinsic
def _vload(typingctx, arr, index):
    """Lanes ``arr[index : index + 8]`` (no bounds check)."""
    if not (isinstance(arr, types.Array) and isinstance(arr.dtype, types.Float)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_ptr(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        ptr = builder.bitcast(ptr, _lanes_type(context, arr.dtype).as_pointer())
        return builder.load(ptr, align=arr.dtype.bitwidth // 8)

    return _Lanes(arr.dtype)(arr, index), codegen


@intrinsic
def _vstore(typingctx, arr, index, value):
    """``arr[index : index + 8] = value`` (no bounds check)."""
    if not (isinstance(arr, types.Array) and isinstance(value, _Lanes)):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_ptr(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        ptr = builder.bitcast(ptr, _lanes_type(context, arr.dtype).as_pointer())
        builder.store(args[2], ptr, align=arr.dtype.bitwidth // 8)
        return context.get_dummy_value()

    return types.none(arr, index, value), codegen


@intrinsic
def _vsplat(typingctx, like, x):
    """``x`` in every lane, in the dtype of the array ``like``."""
    if not isinstance(like, types.Array):
        return None
    dtype = like.dtype

    def codegen(context, builder, sig, args):
        value = context.cast(builder, args[1], sig.args[1], dtype)
        undef = ir.Constant(_lanes_type(context, dtype), ir.Undefined)
        one = builder.insert_element(undef, value, ir.Constant(ir.IntType(32), 0))
        return builder.shuffle_vector(one, undef, _i32_vector([0] * _LANES))

    return _Lanes(dtype)(like, x), codegen


def _lanes_binary(name):
    @intrinsic
    def operation(typingctx, a, b):
        if not (isinstance(a, _Lanes) and a == b):
            return None

        def codegen(context, builder, sig, args):
            return getattr(builder, name)(args[0], args[1], flags=_FAST)

        return a(a, b), codegen

    return operation


_vadd = _lanes_binary("fadd")
_vsub = _lanes_binary("fsub")
_vmul = _lanes_binary("fmul")


@overload(operator.add)
def _lanes_add(a, b):
    if isinstance(a, _Lanes) and isinstance(b, _Lanes):
        return lambda a, b: _vadd(a, b)


@overload(operator.sub)
def _lanes_sub(a, b):
    if isinstance(a, _Lanes) and isinstance(b, _Lanes):
        return lambda a, b: _vsub(a, b)


@overload(operator.mul)
def _lanes_mul(a, b):
    if isinstance(a, _Lanes) and isinstance(b, _Lanes):
        return lambda a, b: _vmul(a, b)


@intrinsic
def _vswap(typingctx, v, k):
    """Lane j of the result is lane ``j xor k`` of ``v`` (``k`` a literal 1, 2 or 4)."""
    if not (isinstance(v, _Lanes) and isinstance(k, types.IntegerLiteral)):
        return None
    mask = [j ^ k.literal_value for j in range(_LANES)]

    def codegen(context, builder, sig, args):
        return builder.shuffle_vector(args[0], args[0], _i32_vector(mask))

    return v(v, k), codegen


@intrinsic
def _vwiden(typingctx, v):
    """The lanes as float64."""
    if not isinstance(v, _Lanes):
        return None

    def codegen(context, builder, sig, args):
        if v.dtype == types.float64:
            return args[0]
        return builder.fpext(args[0], _lanes_type(context, types.float64))

    return _Lanes(types.float64)(v), codegen


@intrinsic
def _vnarrow(typingctx, v, like):
    """float64 lanes in the dtype of the array ``like``."""
    if not (isinstance(v, _Lanes) and isinstance(like, types.Array)):
        return None
    dtype = like.dtype

    def codegen(context, builder, sig, args):
        if dtype == v.dtype:
            return args[0]
        return builder.fptrunc(args[0], _lanes_type(context, dtype))

    return _Lanes(dtype)(v, like), codegen


@intrinsic
def _vsum(typingctx, v):
    """The sum of the lanes."""
    if not isinstance(v, _Lanes):
        return None

    def codegen(context, builder, sig, args):
        x, width = args[0], _LANES
        while width > 1:
            width //= 2
            low = builder.shuffle_vector(x, x, _i32_vector(range(width)))
            high = builder.shuffle_vector(x, x, _i32_vector(range(width, 2 * width)))
            x = builder.fadd(low, high, flags=_FAST)
        return builder.extract_element(x, ir.Constant(ir.IntType(32), 0))

    return v.dtype(v), codegen


@intrinsic
def _prefetch(typingctx, arr, index):
    """Hints the cache line of ``arr[index]`` into cache (no effect on values; never faults)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, sig, args):
        ptr = _element_ptr(context, builder, sig.args[0], args[0], args[1], sig.args[1])
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32]),
            "llvm.prefetch.p0",
        )  # fmt: skip
        # read, high temporal locality, data cache
        arguments = [builder.bitcast(ptr, byte_ptr), i32(0), i32(3), i32(1)]
        builder.call(function, arguments)
        return context.get_dummy_value()

    return types.none(arr, index), codegen


def _code_lanes(context, builder, codes_type, codes, index, index_type):
    """The 8 codes at ``index`` as a list of LLVM scalars."""
    first = _element_ptr(context, builder, codes_type, codes, index, index_type)
    return [builder.load(builder.gep(first, [ir.Constant(ir.IntType(64), j)])) for j in range(8)]


def _table_lanes(context, builder, table_type, table, codes_type, values):
    """Lanes ``table[code]`` for integer codes."""
    data = context.make_array(table_type)(context, builder, table).data
    out = ir.Constant(_lanes_type(context, table_type.dtype), ir.Undefined)
    for j, code in enumerate(values):
        index = context.cast(builder, code, codes_type.dtype, types.intp)
        value = builder.load(builder.gep(data, [index]))
        out = builder.insert_element(out, value, ir.Constant(ir.IntType(32), j))
    return out


def _float_lanes(context, builder, codes_type, values):
    """Float codes as float64 lanes."""
    out = ir.Constant(_lanes_type(context, types.float64), ir.Undefined)
    for j, code in enumerate(values):
        value = context.cast(builder, code, codes_type.dtype, types.float64)
        out = builder.insert_element(out, value, ir.Constant(ir.IntType(32), j))
    return out


def _lanes_trig(name):
    @intrinsic
    def trig(typingctx, codes, table, gamma, index):
        """Lanes ``{name}(γ C(x))`` of the 8 amplitudes at ``index``: a table lookup for
        integer codes, computed for float codes; in the dtype of ``table``."""
        if not (isinstance(codes, types.Array) and isinstance(table, types.Array)):
            return None
        dtype = table.dtype

        def codegen(context, builder, sig, args):
            values = _code_lanes(context, builder, sig.args[0], args[0], args[3], sig.args[3])
            if isinstance(codes.dtype, types.Integer):
                return _table_lanes(context, builder, sig.args[1], args[1], sig.args[0], values)
            wide = _lanes_type(context, types.float64)
            angle = context.cast(builder, args[2], sig.args[2], types.float64)
            angle = builder.shuffle_vector(
                builder.insert_element(
                    ir.Constant(wide, ir.Undefined), angle, ir.Constant(ir.IntType(32), 0)
                ),
                ir.Constant(wide, ir.Undefined),
                _i32_vector([0] * _LANES),
            )
            angle = builder.fmul(angle, _float_lanes(context, builder, sig.args[0], values))
            function = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(wide, [wide]), f"llvm.{name}.v{_LANES}f64"
            )
            out = builder.call(function, [angle])
            if dtype == types.float64:
                return out
            return builder.fptrunc(out, _lanes_type(context, dtype))

        return _Lanes(dtype)(codes, table, gamma, index), codegen

    return trig


_vcos = _lanes_trig("cos")
_vsin = _lanes_trig("sin")


@intrinsic
def _vcost(typingctx, codes, levels, index):
    """float64 lanes C(x) of the 8 amplitudes at ``index`` (``levels[code]`` for integers)."""
    if not (isinstance(codes, types.Array) and isinstance(levels, types.Array)):
        return None

    def codegen(context, builder, sig, args):
        values = _code_lanes(context, builder, sig.args[0], args[0], args[2], sig.args[2])
        if isinstance(codes.dtype, types.Integer):
            return _table_lanes(context, builder, sig.args[1], args[1], sig.args[0], values)
        return _float_lanes(context, builder, sig.args[0], values)

    return _Lanes(types.float64)(codes, levels, index), codegen


# --- mixer sweeps -----------------------------------------------------------------------------
#
# ``e^{-iβX}`` on the pair (a, b) of one qubit: a' = c a - i s b, b' = c b - i s a, the same
# formula for both, so a butterfly is x' = c x - i s x_partner on whole vectors. The three lowest
# bits pair lanes of one vector (``_rot_lanes``: the partner is a lane shuffle, applied in the
# fused sweeps below); a bit of distance h ≥ 8 pairs whole vectors h apart, and one sweep applies
# 1 or 2 such bits at once (radix 2/4: 2 or 4 vectors loaded, rotated by each bit in registers,
# stored). A pair is the tuple (re, im, re, im) of the vectors at q and q + h, a quad the pairs
# at q and q + 2h.


@numba.njit(**_JIT)
def _rot(pair, c, s):
    ar, ai, br, bi = pair
    return c * ar + s * bi, c * ai - s * br, c * br + s * ai, c * bi - s * ar


@numba.njit(**_JIT)
def _tan_rot(pair, t):
    """:func:`_rot` divided by c = cos β (t = tan β): one fused multiply-add per output."""
    ar, ai, br, bi = pair
    return ar + t * bi, ai - t * br, br + t * ai, bi - t * ar


@numba.njit(**_JIT)
def _rot_quad(quad, c, s):
    """Both bits of a quad: the pairs (0, 1) and (2, 3), then (0, 2) and (1, 3)."""
    r0, i0, r1, i1 = _rot(quad[:4], c, s)
    r2, i2, r3, i3 = _rot(quad[4:], c, s)
    r0, i0, r2, i2 = _rot((r0, i0, r2, i2), c, s)
    r1, i1, r3, i3 = _rot((r1, i1, r3, i3), c, s)
    return r0, i0, r1, i1, r2, i2, r3, i3


@numba.njit(**_JIT)
def _tan_rot_quad(quad, t):
    """:func:`_rot_quad` in tangent form (:func:`_tan_rot`)."""
    r0, i0, r1, i1 = _tan_rot(quad[:4], t)
    r2, i2, r3, i3 = _tan_rot(quad[4:], t)
    r0, i0, r2, i2 = _tan_rot((r0, i0, r2, i2), t)
    r1, i1, r3, i3 = _tan_rot((r1, i1, r3, i3), t)
    return r0, i0, r1, i1, r2, i2, r3, i3


@numba.njit(**_JIT)
def _tan_rot_lanes(r, i, t):
    """:func:`_rot_lanes` in tangent form (:func:`_tan_rot`)."""
    pr, pi = _vswap(r, 1), _vswap(i, 1)
    r, i = r + t * pi, i - t * pr
    pr, pi = _vswap(r, 2), _vswap(i, 2)
    r, i = r + t * pi, i - t * pr
    pr, pi = _vswap(r, 4), _vswap(i, 4)
    return r + t * pi, i - t * pr


@numba.njit(**_JIT)
def _rot_lanes(r, i, c, s):
    """The three in-vector bits (pair distances 1, 2, 4) of 8 amplitudes."""
    pr, pi = _vswap(r, 1), _vswap(i, 1)
    r, i = c * r + s * pi, c * i - s * pr
    pr, pi = _vswap(r, 2), _vswap(i, 2)
    r, i = c * r + s * pi, c * i - s * pr
    pr, pi = _vswap(r, 4), _vswap(i, 4)
    return c * r + s * pi, c * i - s * pr


@numba.njit(**_JIT)
def _load_pair(tr, ti, q, h):
    return _vload(tr, q), _vload(ti, q), _vload(tr, q + h), _vload(ti, q + h)


@numba.njit(**_JIT)
def _store_pair(tr, ti, q, h, pair):
    r0, i0, r1, i1 = pair
    _vstore(tr, q, r0)
    _vstore(ti, q, i0)
    _vstore(tr, q + h, r1)
    _vstore(ti, q + h, i1)


@numba.njit(**_JIT)
def _load_quad(tr, ti, q, h):
    return _load_pair(tr, ti, q, h) + _load_pair(tr, ti, q + 2 * h, h)


@numba.njit(**_JIT)
def _store_quad(tr, ti, q, h, quad):
    _store_pair(tr, ti, q, h, quad[:4])
    _store_pair(tr, ti, q + 2 * h, h, quad[4:])


@numba.njit(**_JIT)
def _sweep(tr, ti, h, t, radix):
    """Bit ``h`` (``radix`` 2) or bits ``h`` and ``2h`` (``radix`` 4) of ``e^{-iβX}/cos β``
    (t = tan β), h ≥ 8."""
    tv = _vsplat(tr, t)
    for start in range(0, tr.size, radix * h):
        for q in range(start, start + h, _LANES):
            if radix == 4:
                _store_quad(tr, ti, q, h, _tan_rot_quad(_load_quad(tr, ti, q, h), tv))
            else:
                _store_pair(tr, ti, q, h, _tan_rot(_load_pair(tr, ti, q, h), tv))


@numba.njit(**_JIT)
def _mix(tr, ti, lo, hi, t):
    """``e^{-iβX}/cos β`` (t = tan β) on each of bits ``lo..hi-1`` of the buffer (lo ≥ 3), two
    bits per sweep."""
    b = lo
    while b + 1 < hi:
        _sweep(tr, ti, 1 << b, t, 4)
        b += 2
    if b < hi:
        _sweep(tr, ti, 1 << b, t, 2)


# --- adjoint sweeps: un-mix ψ and λ, reading Im⟨λ|X_b|ψ⟩ on the way -----------------------------
#
# X_b commutes with every rotation of the layer's mixer, so Im⟨λ|X_b|ψ⟩ is the same before,
# during and after un-applying it: each bit's term is read from the vectors loaded for its
# butterfly, and ψ and λ are un-mixed in the same sweep.


@numba.njit(**_JIT)
def _x_term(psi, lam):
    """Im⟨λ|X|ψ⟩ of one bit, per lane, from the ψ and λ pairs it joins."""
    pra, pia, prb, pib = psi
    lra, lia, lrb, lib = lam
    return lra * pib - lia * prb + lrb * pia - lib * pra


@numba.njit(**_JIT)
def _x_term_quad(psi, lam):
    """The sum of :func:`_x_term` over the quad's four pairs, in :func:`_rot_quad`'s order."""
    r0, i0, r1, i1, r2, i2, r3, i3 = psi
    a0, b0, a1, b1, a2, b2, a3, b3 = lam
    term = _x_term(psi[:4], lam[:4])
    term = term + _x_term(psi[4:], lam[4:])
    term = term + _x_term((r0, i0, r2, i2), (a0, b0, a2, b2))
    return term + _x_term((r1, i1, r3, i3), (a1, b1, a3, b3))


@numba.njit(**_JIT)
def _sweep_adjoint(pr, pi, lr, li, h, c, s, radix):
    """:func:`_sweep` on ψ and λ; returns Σ Im⟨λ|X_b|ψ⟩ over its bits (float64)."""
    cv, sv = _vsplat(pr, c), _vsplat(pr, s)
    total = _vwiden(_vsplat(pr, 0.0))
    for start in range(0, pr.size, radix * h):
        for q in range(start, start + h, _LANES):
            if radix == 4:
                psi, lam = _load_quad(pr, pi, q, h), _load_quad(lr, li, q, h)
                total = total + _vwiden(_x_term_quad(psi, lam))
                _store_quad(pr, pi, q, h, _rot_quad(psi, cv, sv))
                _store_quad(lr, li, q, h, _rot_quad(lam, cv, sv))
            else:
                psi, lam = _load_pair(pr, pi, q, h), _load_pair(lr, li, q, h)
                total = total + _vwiden(_x_term(psi, lam))
                _store_pair(pr, pi, q, h, _rot(psi, cv, sv))
                _store_pair(lr, li, q, h, _rot(lam, cv, sv))
    return _vsum(total)


@numba.njit(**_JIT)
def _unmix_grad(pr, pi, lr, li, lo, hi, c, s):
    """Un-applies ``e^{-iβX}`` on bits ``lo..hi-1`` (lo ≥ 3) to ψ and λ; returns
    Σ_b Im⟨λ|X_b|ψ⟩."""
    total = 0.0
    b = lo
    while b + 1 < hi:
        total += _sweep_adjoint(pr, pi, lr, li, 1 << b, c, -s, 4)
        b += 2
    if b < hi:
        total += _sweep_adjoint(pr, pi, lr, li, 1 << b, c, -s, 2)
    return total


# --- elementwise sweeps -----------------------------------------------------------------------


@numba.njit(**_JIT)
def _init_phase(tr, ti, dc, cos_t, sin_t, gamma, amplitude):
    """Writes ``e^{-iγ C(x)}/√dim`` (the first cost layer on |+⟩) without reading the buffer."""
    av = _vsplat(tr, amplitude)
    nv = _vsplat(tr, -amplitude)
    for k in range(0, tr.size, _LANES):
        _vstore(tr, k, av * _vcos(dc, cos_t, gamma, k))
        _vstore(ti, k, nv * _vsin(dc, sin_t, gamma, k))


@numba.njit(**_JIT)
def _phase(tr, ti, dc, cos_t, sin_t, gamma, scale):
    """Multiplies by ``scale e^{-iγ C(x)}``; ``dc`` holds the codes of the buffer's amplitudes."""
    kv = _vsplat(tr, scale)
    for k in range(0, tr.size, _LANES):
        cr, sr = kv * _vcos(dc, cos_t, gamma, k), kv * _vsin(dc, sin_t, gamma, k)
        r, i = _vload(tr, k), _vload(ti, k)
        _vstore(tr, k, r * cr + i * sr)
        _vstore(ti, k, i * cr - r * sr)


@numba.njit(**_JIT)
def _expect(tr, ti, dc, levels):
    """Σ |ψ_x|² C(x) over the buffer, in float64."""
    total = _vwiden(_vsplat(tr, 0.0))
    for k in range(0, tr.size, _LANES):
        r, i = _vload(tr, k), _vload(ti, k)
        total = total + _vwiden(r * r + i * i) * _vcost(dc, levels, k)
    return _vsum(total)


@numba.njit(**_JIT)
def _apply_cost(pr, pi, lr, li, dc, levels):
    """λ = C ψ; returns ⟨ψ|C|ψ⟩ (float64)."""
    total = _vwiden(_vsplat(pr, 0.0))
    for k in range(0, pr.size, _LANES):
        v = _vcost(dc, levels, k)
        r, i = _vload(pr, k), _vload(pi, k)
        total = total + _vwiden(r * r + i * i) * v
        _vstore(lr, k, _vnarrow(_vwiden(r) * v, lr))
        _vstore(li, k, _vnarrow(_vwiden(i) * v, li))
    return _vsum(total)


@numba.njit(**_JIT)
def _phase_grad(pr, pi, lr, li, dc, levels, cos_t, sin_t, gamma, undo):
    """Σ C(x) Im(conj(λ_x) ψ_x) in float64; then, if ``undo``, divides ψ and λ by the phase."""
    total = _vwiden(_vsplat(pr, 0.0))
    for k in range(0, pr.size, _LANES):
        r, i, a, b = _vload(pr, k), _vload(pi, k), _vload(lr, k), _vload(li, k)
        total = total + _vwiden(a * i - b * r) * _vcost(dc, levels, k)
        if undo:
            cr, sr = _vcos(dc, cos_t, gamma, k), _vsin(dc, sin_t, gamma, k)
            _vstore(pr, k, r * cr - i * sr)
            _vstore(pi, k, i * cr + r * sr)
            _vstore(lr, k, a * cr - b * sr)
            _vstore(li, k, b * cr + a * sr)
    return _vsum(total)


# --- one buffer: the work of one sweep over memory on one qubit group ---------------------------


# --- fused sweeps of a contiguous block: the in-vector bits with the elementwise work ------------


@numba.njit(inline="always", **_JIT)
def _inner_forward_body(
    tr, ti, dc, cos_t, sin_t, levels, gamma, amplitude, tb, before, phase, scale, ta, after,
    expect,
):  # fmt: skip
    """One sweep over 8-amplitude vectors: the in-vector bits of one mixer (if ``before``; tangent
    form, t = ``tb``), the phase (``phase``: 1 writes |+⟩ with it without reading, 2 multiplies by
    ``scale`` times it), the in-vector bits of the next mixer (if ``after``; t = ``ta``); then ⟨C⟩
    is reduced (``expect``, nothing written) or the vectors are stored. Returns ⟨C⟩ or 0."""
    tbv, tav, kv = _vsplat(tr, tb), _vsplat(tr, ta), _vsplat(tr, scale)
    av, nv = _vsplat(tr, amplitude), _vsplat(tr, -amplitude)
    total = _vwiden(_vsplat(tr, 0.0))
    for q in range(0, tr.size, _LANES):
        if phase == 1:
            r, i = av * _vcos(dc, cos_t, gamma, q), nv * _vsin(dc, sin_t, gamma, q)
        else:
            r, i = _vload(tr, q), _vload(ti, q)
        if before:
            r, i = _tan_rot_lanes(r, i, tbv)
        if phase == 2:
            cr, sr = kv * _vcos(dc, cos_t, gamma, q), kv * _vsin(dc, sin_t, gamma, q)
            r, i = r * cr + i * sr, i * cr - r * sr
        if after:
            r, i = _tan_rot_lanes(r, i, tav)
        if expect:
            total = total + _vwiden(r * r + i * i) * _vcost(dc, levels, q)
        else:
            _vstore(tr, q, r)
            _vstore(ti, q, i)
    return _vsum(total)


@numba.njit(**_JIT)
def _inner_forward(
    tr, ti, dc, cos_t, sin_t, levels, gamma, amplitude, tb, before, phase, scale, ta, after,
    expect,
):  # fmt: skip
    """:func:`_inner_forward_body`, compiled separately for the flag sets the sweeps use: with
    the flags constant, each loop holds only its own work (LLVM does not take the flag tests
    out of the loop by itself; specialised, a block's fused sweep of |+⟩, the first phase and
    the in-vector bits takes 16.3 instead of 19.0 µs)."""
    if not before and phase == 1 and after and not expect:  # |+⟩, first phase, first mixer
        return _inner_forward_body(
            tr, ti, dc, cos_t, sin_t, levels, gamma, amplitude, tb, False, 1, scale, ta, True,
            False,
        )  # fmt: skip
    if before and phase == 2 and after and not expect:  # between two mixers
        return _inner_forward_body(
            tr, ti, dc, cos_t, sin_t, levels, gamma, amplitude, tb, True, 2, scale, ta, True,
            False,
        )  # fmt: skip
    if not before and phase == 2 and after and not expect:  # a layer of a block circuit
        return _inner_forward_body(
            tr, ti, dc, cos_t, sin_t, levels, gamma, amplitude, tb, False, 2, scale, ta, True,
            False,
        )  # fmt: skip
    if before and phase == 0 and not after and expect:  # the last mixer, then ⟨C⟩
        return _inner_forward_body(
            tr, ti, dc, cos_t, sin_t, levels, gamma, amplitude, tb, True, 0, scale, ta, False,
            True,
        )  # fmt: skip
    return _inner_forward_body(
        tr, ti, dc, cos_t, sin_t, levels, gamma, amplitude, tb, before, phase, scale, ta, after,
        expect,
    )  # fmt: skip


@numba.njit(**_JIT)
def _lanes_x_term(r, i, a, b):
    """Σ over the three in-vector bits of Im⟨λ|X_b|ψ⟩, per lane (each pair counted once)."""
    term = a * _vswap(i, 1) - b * _vswap(r, 1)
    term = term + a * _vswap(i, 2) - b * _vswap(r, 2)
    return term + a * _vswap(i, 4) - b * _vswap(r, 4)


@numba.njit(**_JIT)
def _inner_backward(
    pr, pi, lr, li, dc, cos_t, sin_t, levels, gamma, start, ta, ca, sa, after, phase, undo, cb,
    sb, before, out,
):  # fmt: skip
    """The adjoint of :func:`_inner_forward` in one sweep over ψ and λ. With ``start``, first
    applies the in-vector bits of the mixer ``after`` to ψ (tangent form, as the forward sweeps:
    t = ``ta``), reduces ⟨C⟩ (``out[0]``) and sets λ = Cψ. Then un-applies to ψ and λ the
    in-vector bits of ``after`` (Im⟨λ|X|ψ⟩ to ``out[1]``), reads Im⟨λ|C|ψ⟩ (``phase``, to
    ``out[2]``) and divides by the phase (``undo``), and un-applies the in-vector bits of
    ``before`` (to ``out[3]``)."""
    tav, cav, unsav = _vsplat(pr, ta), _vsplat(pr, ca), _vsplat(pr, -sa)
    cbv, unsbv = _vsplat(pr, cb), _vsplat(pr, -sb)
    zero = _vwiden(_vsplat(pr, 0.0))
    energy, x_after, cost, x_before = zero, zero, zero, zero
    for q in range(0, pr.size, _LANES):
        r, i = _vload(pr, q), _vload(pi, q)
        if start:
            if after:
                r, i = _tan_rot_lanes(r, i, tav)
            v = _vcost(dc, levels, q)
            energy = energy + _vwiden(r * r + i * i) * v
            a, b = _vnarrow(_vwiden(r) * v, pr), _vnarrow(_vwiden(i) * v, pr)
        else:
            a, b = _vload(lr, q), _vload(li, q)
        if after:
            x_after = x_after + _vwiden(_lanes_x_term(r, i, a, b))
            r, i = _rot_lanes(r, i, cav, unsav)
            a, b = _rot_lanes(a, b, cav, unsav)
        if phase:
            cost = cost + _vwiden(a * i - b * r) * _vcost(dc, levels, q)
            if undo:
                cr, sr = _vcos(dc, cos_t, gamma, q), _vsin(dc, sin_t, gamma, q)
                r, i = r * cr - i * sr, i * cr + r * sr
                a, b = a * cr - b * sr, b * cr + a * sr
        if before:
            x_before = x_before + _vwiden(_lanes_x_term(r, i, a, b))
            r, i = _rot_lanes(r, i, cbv, unsbv)
            a, b = _rot_lanes(a, b, cbv, unsbv)
        _vstore(pr, q, r)
        _vstore(pi, q, i)
        _vstore(lr, q, a)
        _vstore(li, q, b)
    out[0] += _vsum(energy)
    out[1] += _vsum(x_after)
    out[2] += _vsum(cost)
    out[3] += _vsum(x_before)


# --- one buffer: the work of one sweep over memory on one qubit group ---------------------------


@numba.njit(**_JIT)
def _forward_buffer(
    tr, ti, tc, lo, hi, cos_t, sin_t, levels, gammas, mixer, mix_before, phase_layer, expect,
    amplitude,
):  # fmt: skip
    """Mixer of layer ``mix_before`` on bits ``lo..hi-1``, the phase of ``phase_layer`` (the first
    one writes |+⟩) and that layer's mixer on the same bits; or ⟨C⟩ after ``mix_before`` when
    ``expect`` (returned). Layers < 0 are skipped. Mixers are applied in tangent form (rows of
    ``mixer``: :func:`_mixer_constants`); a phase after the first multiplies by the previous
    layer's ``cos^n β``, so the state is whole again once a layer is through.

    A contiguous block (``lo == 0``) applies the bits ≥ 3 of the first mixer, then one fused
    sweep (:func:`_inner_forward`), then the bits ≥ 3 of the second: the bits of one layer's
    mixer commute, so their order is free."""
    tangent = mixer[_TAN]
    scale = mixer[_SCALE, max(phase_layer - 1, 0)]
    if lo == 0:
        b, a = max(mix_before, 0), max(phase_layer, 0)
        if mix_before >= 0:
            _mix(tr, ti, 3, hi, tangent[b])
        phase = 1 if phase_layer == 0 else (2 if phase_layer > 0 else 0)
        value = _inner_forward(
            tr, ti, tc, cos_t[a], sin_t[a], levels, gammas[a], amplitude, tangent[b],
            mix_before >= 0, phase, scale, tangent[a], phase_layer >= 0, expect,
        )  # fmt: skip
        if phase_layer >= 0:
            _mix(tr, ti, 3, hi, tangent[a])
        return value
    if mix_before >= 0:
        _mix(tr, ti, lo, hi, tangent[mix_before])
    if phase_layer == 0:
        _init_phase(tr, ti, tc, cos_t[0], sin_t[0], gammas[0], amplitude)
    elif phase_layer > 0:
        g = gammas[phase_layer]
        _phase(tr, ti, tc, cos_t[phase_layer], sin_t[phase_layer], g, scale)
    if phase_layer >= 0:
        _mix(tr, ti, lo, hi, tangent[phase_layer])
    if expect:
        return _expect(tr, ti, tc, levels)
    return 0.0


@numba.njit(**_JIT)
def _backward_buffer(
    pr, pi, lr, li, tc, lo, hi, cos_t, sin_t, levels, gammas, mixer, start, mix_after,
    phase_layer, undo_phase, mix_before, out,
):  # fmt: skip
    """Adjoint work on one buffer (see :func:`_backward_pass`); adds the four sums to ``out``.

    A contiguous block (``lo == 0``) un-applies the bits ≥ 3 of ``mix_after``, then one fused
    sweep (:func:`_inner_backward`), then the bits ≥ 3 of ``mix_before``."""
    cb, sb, tangent = mixer[_COS], mixer[_SIN], mixer[_TAN]
    if lo == 0:
        a, b, g = max(mix_after, 0), max(mix_before, 0), max(phase_layer, 0)
        if start and mix_after >= 0:  # the last forward mixer on ψ, its bits ≥ 3
            _mix(pr, pi, 3, hi, tangent[a])
        if mix_after >= 0 and not start:
            out[1] += _unmix_grad(pr, pi, lr, li, 3, hi, cb[a], sb[a])
        _inner_backward(
            pr, pi, lr, li, tc, cos_t[g], sin_t[g], levels, gammas[g], start, tangent[a], cb[a],
            sb[a], mix_after >= 0, phase_layer >= 0, undo_phase, cb[b], sb[b], mix_before >= 0,
            out,
        )  # fmt: skip
        if start and mix_after >= 0:
            out[1] += _unmix_grad(pr, pi, lr, li, 3, hi, cb[a], sb[a])
        if mix_before >= 0:
            out[3] += _unmix_grad(pr, pi, lr, li, 3, hi, cb[b], sb[b])
        return
    if start:
        if mix_after >= 0:
            _mix(pr, pi, lo, hi, tangent[mix_after])
        out[0] += _apply_cost(pr, pi, lr, li, tc, levels)
    if mix_after >= 0:
        out[1] += _unmix_grad(pr, pi, lr, li, lo, hi, cb[mix_after], sb[mix_after])
    if phase_layer >= 0:
        g = gammas[phase_layer]
        ct, st = cos_t[phase_layer], sin_t[phase_layer]
        out[2] += _phase_grad(pr, pi, lr, li, tc, levels, ct, st, g, undo_phase)
    if mix_before >= 0:
        out[3] += _unmix_grad(pr, pi, lr, li, lo, hi, cb[mix_before], sb[mix_before])


# --- mixer constants ------------------------------------------------------------------------
#
# Rows of the (4, p) ``mixer`` array of a circuit. The forward sweeps apply each qubit's
# rotation in tangent form, e^{-iβX} = cos β (1 - i tan β X): one fused multiply-add per output
# instead of a multiply and one (the 11 out-of-vector bits of a 2^14 block: 19.2 -> 17.3 µs;
# a pass over the block costs about the same for one bit or two, in L1 or L2: its loads and
# stores bound it more than the arithmetic). The n factors cos β of a layer are applied once,
# with the next layer's phase (or to the sums after the last layer).
# β is first reduced to β' in [-π/4, π/4] (|tan β'| <= 1, cos β' >= 1/√2, so the state grows by
# at most 2^(n/2) between two phases): e^{-iβX} = (-iX)^m e^{-iβ'X} with β = β' + mπ/2, and the
# X^⊗n this leaves on the register is the identity on every state the circuit reaches, since a
# cut value is the same for x and its complement and |+⟩ is invariant; only a global phase
# remains, which no energy or gradient sees. The adjoint sweeps use cos β', sin β'.
_COS, _SIN, _TAN, _SCALE = 0, 1, 2, 3
_HALF_PI = math.pi / 2


@numba.njit(**_JIT)
def _mixer_constants(betas, n, out):
    """Fills ``out`` (4, p) with cos β', sin β', tan β' and cos^n β' of each layer's β."""
    for layer in range(betas.size):
        beta = betas[layer]
        reduced = beta - _HALF_PI * math.floor(beta / _HALF_PI + 0.5)
        c = math.cos(reduced)
        s = math.sin(reduced)
        out[_COS, layer] = c
        out[_SIN, layer] = s
        out[_TAN, layer] = s / c
        out[_SCALE, layer] = c**n


# --- whole circuits that fit one block ------------------------------------------------------


@numba.njit(**_JIT)
def _block_circuit(tr, ti, lr, li, dc, cos_t, sin_t, levels, gammas, mixer, grads):
    """Forward (and, if ``grads`` has entries, adjoint) pass of one circuit held in cache."""
    n = int(np.log2(tr.size) + 0.5)
    p = gammas.size
    amplitude = 1.0 / math.sqrt(tr.size)
    common = (cos_t, sin_t, levels, gammas, mixer)
    for layer in range(p):
        _forward_buffer(tr, ti, dc, 0, n, *common, -1, layer, False, amplitude)
    # ψ is the true state divided by the last layer's cos^n β: every sum below is quadratic in it
    norm = mixer[_SCALE, p - 1] ** 2
    if grads.size == 0:
        return _expect(tr, ti, dc, levels) * norm
    sums = np.zeros(4)
    _backward_buffer(tr, ti, lr, li, dc, 0, n, *common, True, -1, -1, False, -1, sums)
    for layer in range(p - 1, -1, -1):
        sums[1:] = 0.0
        _backward_buffer(
            tr, ti, lr, li, dc, 0, n, *common, False, layer, layer, layer > 0, -1, sums
        )
        grads[p + layer] = 2.0 * norm * sums[1]
        grads[layer] = 2.0 * norm * sums[2]
    return sums[0] * norm


@numba.njit(**_JIT)
def _block_rows(codes, rows, levels, params, integer, values, grads, one, first, last):
    """Circuits ``first..last-1`` of a batch, each in one cache-resident block.

    ``levels`` is indexed by problem row (``rows[i]``), ``params`` by circuit; the per-layer
    tables are computed here, so a call costs a few microseconds beyond the simulation.
    """
    dim = codes.shape[1]
    p = params.shape[1] // 2
    count = levels.shape[1] if integer else 1
    tr = np.empty(dim, one.dtype)
    ti = np.empty(dim, one.dtype)
    size = dim if grads.shape[1] else 0
    lr = np.empty(size, one.dtype)
    li = np.empty(size, one.dtype)
    cos_t = np.empty((p, count), one.dtype)
    sin_t = np.empty((p, count), one.dtype)
    mixer = np.empty((4, p))
    n = int(np.log2(dim) + 0.5)
    for i in range(first, last):
        row = rows[i]
        gammas = params[i, :p]
        _mixer_constants(params[i, p:], n, mixer)
        for layer in range(p):
            if integer:
                for level in range(count):
                    angle = gammas[layer] * levels[row, level]
                    cos_t[layer, level] = math.cos(angle)
                    sin_t[layer, level] = math.sin(angle)
        values[i] = _block_circuit(
            tr, ti, lr, li, codes[row], cos_t, sin_t, levels[row], gammas, mixer, grads[i]
        )


# --- circuits larger than a block: passes over memory -----------------------------------------


# Planes (ψ and λ, real and imaginary parts, and a buffer's codes) start at these offsets modulo
# 4 KiB: arrays of equal power-of-two sizes would otherwise share cache sets and alias in the
# store-to-load check of the core, slowing the sweeps that read several planes at once by 2x.
_PLANE_STAGGER = 1088


@numba.njit(**_JIT)
def _stagger(buffer, count, size):
    """``count`` planes of ``size`` elements in ``buffer`` (of ``count * (size + period) + period``
    elements, a period being 4 KiB), each starting at a different offset modulo 4 KiB."""
    itemsize = buffer.itemsize
    step = _PLANE_STAGGER // itemsize
    period = 4096 // itemsize
    first = (period - (buffer.ctypes.data % 4096) // itemsize) % period
    planes = []
    for k in range(count):
        start = first + k * (size + period) + (k * step) % period
        planes.append(buffer[start : start + size])
    return planes


@numba.njit(**_JIT)
def _staggered(count, size, dtype_like):
    """``count`` fresh planes of ``size`` elements (:func:`_stagger`)."""
    period = 4096 // dtype_like.itemsize
    return _stagger(np.empty(count * (size + period) + period, dtype_like.dtype), count, size)


# Tiles ahead that the high-group passes prefetch (forward: 2 planes, backward: 4).
_PREFETCH_FORWARD = 2
_PREFETCH_BACKWARD = 1


@numba.njit(**_JIT)
def _load(src, dst, base, rows, stride, w, ahead):
    """Copies rows ``base + r * stride + [0, w)`` of ``src`` into the (rows, w) buffer ``dst``,
    prefetching the rows ``ahead`` amplitudes further (a later tile's: a tile's rows are 2^high
    cache lines a page or more apart, which the hardware prefetchers do not follow)."""
    for r in range(rows):
        start = base + r * stride
        _prefetch(src, start + ahead)
        for j in range(0, w, _LANES):
            _vstore(dst, r * w + j, _vload(src, start + j))


@numba.njit(**_JIT)
def _store(dst, src, base, rows, stride, w):
    """Copies the (rows, w) buffer ``src`` back to rows ``base + r * stride`` of ``dst``."""
    for r in range(rows):
        start = base + r * stride
        for j in range(0, w, _LANES):
            _vstore(dst, start + j, _vload(src, r * w + j))


@numba.njit(**_JIT)
def _forward_pass(
    re, im, dc, dt, blocks, bits, w, stride, cos_t, sin_t, levels, gammas, mixer,
    mix_before, phase_layer, write, expect, first_tile, last_tile,
):  # fmt: skip
    """One sweep: mixer of layer ``mix_before`` on this group, phase of ``phase_layer`` (the
    first one initialises |+⟩) and that layer's mixer on this group; or ⟨C⟩ after
    ``mix_before`` when ``expect``. Layers < 0 are skipped. Returns the float64 partial sums.

    The state is 2^high rows of 2^low amplitudes, ``stride`` apart (a little more than 2^low,
    see :func:`layout`); ``dc`` holds the codes unpadded, ``dt`` the same codes tile by tile
    (:meth:`CostCodes.column_tiles`). With ``blocks``, the low group: tile t is row t, worked
    on in place (``bits`` = low). Otherwise the high group: tile t is columns
    ``t w .. t w + w - 1`` of all 2^bits rows, copied to a buffer and back."""
    rows = 1 << bits
    partial = np.zeros(last_tile - first_tile, np.float64)
    amplitude = 1.0 / math.sqrt(dc.size)
    common = (cos_t, sin_t, levels, gammas, mixer, mix_before, phase_layer, expect, amplitude)
    if blocks:
        for t in range(first_tile, last_tile):
            lo = t * stride
            partial[t - first_tile] = _forward_buffer(
                re[lo : lo + rows], im[lo : lo + rows], dc[t * rows : (t + 1) * rows], 0, bits,
                *common,
            )  # fmt: skip
        return partial
    low = int(np.log2(w) + 0.5)
    planes = _staggered(2, rows * w, re[:1])
    tr, ti = planes[0], planes[1]
    ahead = _PREFETCH_FORWARD * w
    for t in range(first_tile, last_tile):
        tc = dt[t * rows * w : (t + 1) * rows * w]
        if phase_layer != 0:
            _load(re, tr, t * w, rows, stride, w, ahead)
            _load(im, ti, t * w, rows, stride, w, ahead)
        partial[t - first_tile] = _forward_buffer(tr, ti, tc, low, low + bits, *common)
        if write:
            _store(re, tr, t * w, rows, stride, w)
            _store(im, ti, t * w, rows, stride, w)
    return partial


@numba.njit(**_JIT)
def _backward_pass(
    re, im, lre, lim, dc, dt, blocks, bits, w, stride, cos_t, sin_t, levels, gammas, mixer,
    mix_after, phase_layer, mix_before, start, write, first_tile, last_tile,
):  # fmt: skip
    """Adjoint sweep mirroring a forward pass: un-applies (in reverse) the mixer of
    ``mix_after`` on this group, the phase of ``phase_layer`` and the mixer of ``mix_before``,
    to ψ and λ, accumulating 2 Im⟨λ|G|ψ⟩ for each. With ``start``, the sweep is the last forward
    one: it applies the mixer of ``mix_after`` to ψ, reduces ⟨C⟩ and sets λ = Cψ first.
    Layers < 0 are skipped. Returns (tiles, 4) float64 partial sums: ⟨C⟩, Im⟨λ|ΣX|ψ⟩ at
    ``mix_after``, Im⟨λ|C|ψ⟩ at ``phase_layer``, Im⟨λ|ΣX|ψ⟩ at ``mix_before``."""
    rows = 1 << bits
    partial = np.zeros((last_tile - first_tile, 4), np.float64)
    # The first phase need not be undone: nothing is left after it.
    undo = mix_before >= 0
    common = (cos_t, sin_t, levels, gammas, mixer, start, mix_after, phase_layer, undo, mix_before)
    if blocks:
        for t in range(first_tile, last_tile):
            lo, hi = t * stride, t * stride + rows
            _backward_buffer(
                re[lo:hi], im[lo:hi], lre[lo:hi], lim[lo:hi], dc[t * rows : (t + 1) * rows],
                0, bits, *common, partial[t - first_tile],
            )  # fmt: skip
        return partial
    low = int(np.log2(w) + 0.5)
    planes = _staggered(4, rows * w, re[:1])
    pr, pi, lr, li = planes[0], planes[1], planes[2], planes[3]
    ahead = _PREFETCH_BACKWARD * w
    for t in range(first_tile, last_tile):
        base = t * w
        tc = dt[t * rows * w : (t + 1) * rows * w]
        _load(re, pr, base, rows, stride, w, ahead)
        _load(im, pi, base, rows, stride, w, ahead)
        if not start:
            _load(lre, lr, base, rows, stride, w, ahead)
            _load(lim, li, base, rows, stride, w, ahead)
        _backward_buffer(pr, pi, lr, li, tc, low, low + bits, *common, partial[t - first_tile])
        if write:
            _store(re, pr, base, rows, stride, w)
            _store(im, pi, base, rows, stride, w)
            _store(lre, lr, base, rows, stride, w)
            _store(lim, li, base, rows, stride, w)
    return partial


# Amplitudes per high-group tile: 2^14 (128 KiB of float32 ψ; 256 KiB with λ).
_TILE_AMPLITUDE_BITS = 14
# At most 2^11 rows per high-group tile: at TILE_WIDTH amplitudes a row that is 256 KiB of ψ
# (512 KiB with λ), a core's L2; at n = 26 twelve high bits made tiles of twice that, which
# spilled (n = 26, p = 1: energy 495 -> 408 ms, with the gradient 1.81 -> 1.61 s, single
# thread), so from n = 26 on the low group grows instead.
_MAX_HIGH_BITS = 11


def groups(n: int) -> tuple[int, int, int]:
    """(low bits, high bits, tile width) of the two qubit groups of a circuit over memory.

    The low group is the ``low`` least significant bits (contiguous blocks); the high group the
    rest, as tiles of ``2^high`` rows ``2^low`` apart, each ``width`` amplitudes wide.

    Args:
        n: register size (the kernel uses this for ``n > BLOCK_BITS``).

    Returns:
        ``(low, high, width)``: ``high = max(1, n - BLOCK_BITS)`` up to 11, ``low = n - high``.
    """
    high = min(max(1, n - BLOCK_BITS), _MAX_HIGH_BITS)
    low = n - high
    width = min(1 << low, max(TILE_WIDTH, 1 << max(0, _TILE_AMPLITUDE_BITS - high)))
    return low, high, width


def layout(n: int) -> tuple[int, int]:
    """(rows, row stride) of the state planes: 2^high rows of 2^low amplitudes, each row padded
    by up to 64 amplitudes so that a tile's rows do not all fall in the same cache sets.

    Args:
        n: register size.

    Returns:
        ``(2^high, 2^low + min(width, 64))`` with ``(low, high, width)`` of :func:`groups`.
    """
    low, high, width = groups(n)
    return 1 << high, (1 << low) + min(width, 64)


_HUGE_PAGE = 2 << 20


def page_backed(nbytes: int) -> np.ndarray:
    """``nbytes`` of fresh anonymous memory, 2 MiB aligned, advised onto transparent huge pages.

    A sweep over the high bits of a 2^22+ state touches a new 4 KiB page every few cache
    lines, so the TLB misses of 4 KiB pages cost more than the arithmetic; with Linux's
    transparent huge pages in ``madvise`` mode only memory that asks gets 2 MiB pages.
    Elsewhere (no ``madvise``) it is plain memory.

    Args:
        nbytes: size of the buffer.

    Returns:
        A ``uint8`` array of ``nbytes`` (zeroed), which keeps its mapping alive.
    """
    memory = mmap.mmap(-1, nbytes + _HUGE_PAGE)
    try:
        memory.madvise(mmap.MADV_HUGEPAGE)
    except (AttributeError, OSError, ValueError):  # not Linux, or no transparent huge pages
        pass
    raw = np.frombuffer(memory, np.uint8)
    start = -raw.ctypes.data % _HUGE_PAGE
    return raw[start : start + nbytes]


def state_planes(n: int, count: int, dtype) -> list[np.ndarray]:
    """``count`` state planes of the padded layout (see :func:`layout`).

    Args:
        n: register size.
        count: how many planes.
        dtype: element dtype.

    Returns:
        ``count`` 1-D arrays of ``rows * stride`` elements, views of one huge-page-backed
        buffer (:func:`page_backed`), each starting at a different offset modulo 4 KiB.
    """
    rows, stride = layout(n)
    size = rows * stride
    itemsize = np.dtype(dtype).itemsize
    period = 4096 // itemsize
    buffer = page_backed((count * (size + period) + period) * itemsize).view(dtype)
    return list(_stagger(buffer, count, size))


class Workspace:
    """State planes kept from one call of :func:`run` to the next on the same register size.

    Fresh planes cost a page fault per 4 KiB on every call (a quarter of a GiB of faults per
    call at n = 24); kept planes are faulted in once. An :class:`~qaoa_meta.energy.Energy`
    owns one, so the memory goes with it. A call that finds the planes in use by another
    thread takes fresh ones instead of waiting.
    """

    def __init__(self) -> None:
        self._planes: list[np.ndarray] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def planes(self, n: int, count: int, dtype) -> Iterator[list[np.ndarray]]:
        """``count`` planes as :func:`state_planes` gives, reused when the last ones fit.

        Args:
            n: register size.
            count: how many planes (2 for values, 4 with the gradient).
            dtype: element dtype.

        Yields:
            The planes, for the duration of the ``with`` block.
        """
        if not self._lock.acquire(blocking=False):
            yield state_planes(n, count, dtype)
            return
        try:
            rows, stride = layout(n)
            kept = self._planes
            if len(kept) < count or kept[0].size != rows * stride or kept[0].dtype != dtype:
                self._planes = []  # released before the new ones are allocated
                self._planes = state_planes(n, count, dtype)
            yield self._planes[:count]
        finally:
            self._lock.release()


_POOL: list = [None, 0]  # a ThreadPoolExecutor and its size


def set_threads(count: int | None = None) -> int:
    """Sets the threads the kernel uses (default: all CPUs); returns the count.

    Circuits up to ``BLOCK_BITS`` qubits are split across threads by batch row; larger ones by
    tiles of each sweep. The compiled functions release the GIL, so plain Python threads run
    them side by side (no OpenMP or TBB runtime, and nothing to compile per thread count).

    Args:
        count: number of threads; None (or 0) for ``os.cpu_count()``. Changing it replaces
            the thread pool.

    Returns:
        The thread count now in use.

    Raises:
        ValueError: for a negative count.
    """
    count = int(count or os.cpu_count() or 1)
    if count < 1:
        raise ValueError(f"Expected a positive thread count, got {count}.")
    if _POOL[1] != count:
        if _POOL[0] is not None:
            _POOL[0].shutdown()
        _POOL[0] = ThreadPoolExecutor(count) if count > 1 else None
        _POOL[1] = count
    return count


def threads() -> int:
    """The kernel's thread count (see :func:`set_threads`)."""
    return _POOL[1] or set_threads()


def _split(function, total: int, *args):
    """``function(*args, first, last)`` over ``[0, total)`` in one chunk per thread."""
    count = min(_POOL[1] or threads(), total)
    if count <= 1:
        return [function(*args, 0, total)]
    bounds = [total * i // count for i in range(count + 1)]
    futures = [_POOL[0].submit(function, *args, bounds[i], bounds[i + 1]) for i in range(1, count)]
    first = function(*args, bounds[0], bounds[1])
    return [first] + [future.result() for future in futures]


def _large_circuit(re, im, lre, lim, dc, dt, tables, gammas, mixer, grads):
    """One circuit over memory (n > BLOCK_BITS): p + 1 forward sweeps (and p + 1 back).

    ``re``, ``im`` (and ``lre``, ``lim`` for the gradient) are planes of :func:`state_planes`.
    """
    cos_t, sin_t, levels = tables
    p = gammas.size
    n = int(dc.size).bit_length() - 1
    low, high, w = groups(n)
    _, stride = layout(n)
    # (blocks, bits, width, tiles) of the two groups
    group = ((True, low, w, 1 << high), (False, high, w, (1 << low) // w))
    common = (cos_t, sin_t, levels, gammas, mixer)
    norm = float(mixer[_SCALE, p - 1]) ** 2  # see _block_circuit

    def forward(g, mix_before, phase_layer, write, expect):
        blocks, bits, width, tiles = group[g]
        args = (re, im, dc, dt, blocks, bits, width, stride, *common)
        args += (mix_before, phase_layer, write, expect)
        return sum(float(part.sum()) for part in _split(_forward_pass, tiles, *args))

    forward(0, -1, 0, True, False)
    for layer in range(1, p):
        forward(layer % 2, layer - 1, layer, True, False)
    if grads is None:
        return forward(p % 2, p - 1, -1, False, True) * norm

    def backward(g, mix_after, phase_layer, mix_before, start, write):
        blocks, bits, width, tiles = group[g]
        args = (re, im, lre, lim, dc, dt, blocks, bits, width, stride, *common)
        args += (mix_after, phase_layer, mix_before, start, write)
        parts = _split(_backward_pass, tiles, *args)
        return np.sum([part.sum(axis=0) for part in parts], axis=0)

    sums = backward(p % 2, p - 1, -1, -1, True, True)
    energy = float(sums[0])
    grads[:] = 0.0
    grads[2 * p - 1] += sums[1]
    for layer in range(p - 1, -1, -1):
        sums = backward(layer % 2, layer, layer, layer - 1, False, layer > 0)
        grads[p + layer] += sums[1]
        grads[layer] += sums[2]
        if layer:
            grads[p + layer - 1] += sums[3]
    grads *= 2.0 * norm
    return energy * norm


# --- memory ----------------------------------------------------------------------------------


class MemoryLimitError(ValueError):
    """The exact energy of a batch needs more memory than the machine has available."""


def code_bytes_per_amplitude(problems: Sequence[MaxCutProblem], float_dtype) -> int:
    """Bytes per amplitude of the cost codes of ``problems`` (an upper bound for integers).

    Args:
        problems: the batch.
        float_dtype: dtype of float codes.

    Returns:
        1 or 2 for integer weights whose cut values may span at most 256 or 65536 levels
        (bounded by twice the largest total absolute weight), else ``float_dtype``'s size.
    """
    if all(_integer_weights(pr) for pr in problems):
        span = max(sum(abs(int(w)) for _, _, w in pr.edges) for pr in problems) * 2 + 1
        if span <= 65536:
            return 1 if span <= 256 else 2
    return np.dtype(float_dtype).itemsize


def required_memory(problems: Sequence[MaxCutProblem], n_qubits: int, float_dtype) -> dict:
    """Bytes the kernel path needs for ``problems`` on ``n_qubits``: codes, build, states.

    Args:
        problems: the batch.
        n_qubits: register size.
        float_dtype: dtype of the state vectors (and of float codes).

    Returns:
        ``{"codes", "build", "states", "total"}`` in bytes; ``states`` counts one set of
        state vectors per thread for small registers; ``codes`` counts the codes twice for
        registers over ``BLOCK_BITS`` (:meth:`CostCodes.column_tiles`).
    """
    dim = 1 << n_qubits
    itemsize = np.dtype(float_dtype).itemsize
    codes = len(problems) * dim * code_bytes_per_amplitude(problems, float_dtype)
    build = dim * 8  # one problem's int32 cut values (or float64 diagonal) while coding it
    if n_qubits <= _PARALLEL_ROWS_MAX_N:  # ψ and λ, real and imaginary parts, per thread
        states = 4 * dim * itemsize * threads()
    else:  # padded rows, see layout(); the codes a second time, tile by tile (column_tiles)
        rows, stride = layout(n_qubits)
        states = 4 * (rows * stride * itemsize + 4096)
        codes *= 2
    return {"codes": codes, "build": build, "states": states, "total": codes + build + states}


def check_memory(problems: Sequence[MaxCutProblem], n_qubits: int, float_dtype) -> None:
    """Raises :class:`MemoryLimitError` (before allocating) if the batch does not fit.

    Nothing is checked when the available memory cannot be determined.

    Args:
        problems: the batch.
        n_qubits: register size.
        float_dtype: dtype of the state vectors.

    Raises:
        MemoryLimitError: with the memory needed (codes, states) and the memory available.
    """
    need = required_memory(problems, n_qubits, float_dtype)
    free = available_memory()
    if free is not None and need["total"] > free:
        gib = 1 << 30
        raise MemoryLimitError(
            f"The exact energy of {len(problems)} problem(s) at n = {n_qubits} "
            f"({np.dtype(float_dtype).name}) needs {need['total'] / gib:.2f} GiB "
            f"(cost codes {need['codes'] / gib:.2f} GiB, state vectors {need['states'] / gib:.2f} "
            f"GiB, building {need['build'] / gib:.2f} GiB), but only {free / gib:.2f} GiB is "
            "available; use fewer problems per Energy, a smaller n, or float32."
        )


# --- batches ---------------------------------------------------------------------------------


def layer_tables(
    codes: CostCodes, params: np.ndarray, float_dtype
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-row (γ, mixer constants, cos γv, sin γv, levels) arrays the kernels read.

    Args:
        codes: the batch's :class:`CostCodes`.
        params: ``(B, 2p)`` textbook θ.
        float_dtype: dtype of the trigonometric tables.

    Returns:
        ``gammas`` ``(B, p)`` float64; ``mixer`` ``(B, 4, p)`` float64 (cos β', sin β',
        tan β', cos^n β' of the reduced angle β', see ``_mixer_constants``); ``cos γv``,
        ``sin γv`` ``(B, p, L)`` for every level v (``(B, p, 1)`` zeros for float codes);
        ``levels`` ``(B, L)`` (``(B, 1)`` zeros for float codes).
    """
    p = params.shape[1] // 2
    gammas = np.ascontiguousarray(params[:, :p], np.float64)
    betas = np.ascontiguousarray(params[:, p:], np.float64)
    mixer = np.empty((len(params), 4, p))
    for row in range(len(params)):
        _mixer_constants(betas[row], codes.n, mixer[row])
    if codes.levels is None:
        empty = np.zeros((len(params), p, 1), float_dtype)
        levels = np.zeros((len(params), 1))
        return gammas, mixer, empty, empty, levels
    angles = gammas[:, :, None] * codes.levels[:, None, :]
    return (
        gammas,
        mixer,
        np.cos(angles).astype(float_dtype),
        np.sin(angles).astype(float_dtype),
        codes.levels,
    )


_NO_LEVELS = np.zeros((1, 1))
_ONE = {"f": np.ones(1, np.float32), "d": np.ones(1, np.float64)}
_ONE.update({np.float32: _ONE["f"], np.float64: _ONE["d"]})  # the dtype of a call, unconverted
_FLOAT64 = np.dtype(np.float64)


@functools.lru_cache(maxsize=64)
def _no_grads(rows: int, dtype) -> np.ndarray:
    """The ``(rows, 0)`` gradient of calls without one: shared, as it holds nothing (and not
    read-only, which numba would compile as another type)."""
    return np.zeros((rows, 0), dtype)


def run(
    codes: CostCodes,
    rows: np.ndarray,
    params: np.ndarray,
    with_grad: bool,
    float_dtype=np.float32,
    out_dtype=np.float64,
    workspace: Workspace | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """⟨C⟩ (and d⟨C⟩/dθ) for ``params[i]`` on the problem ``codes.codes[rows[i]]``.

    Args:
        codes: the batch's cost codes (:func:`cost_codes`).
        rows: ``(K,)`` int row of ``codes`` per parameter row.
        params: ``(K, 2p)`` float64 θ = (γ_1..γ_p, β_1..β_p).
        with_grad: also return the ``(K, 2p)`` gradient.
        float_dtype: precision of the state (np.float32 or np.float64).
        out_dtype: dtype of the returned arrays. Sums are reduced in float64 either way and
            rounded once when stored, so a float32 result equals the float64 one cast.
        workspace: where circuits larger than a block keep their state planes between calls;
            None for planes of this call only.

    Returns:
        ``(K,)`` energies and the ``(K, 2p)`` gradient (or None), of ``out_dtype``.
    """
    if not (params.dtype is _FLOAT64 and params.flags.c_contiguous):
        params = np.ascontiguousarray(params, np.float64)
    if codes.n < 3:  # the sweeps need 8 amplitudes: idle qubits leave ⟨C⟩ and its gradient as is
        padded = np.repeat(codes.codes, 1 << (3 - codes.n), axis=1)
        codes = CostCodes(padded, codes.levels, 3)
    integer = codes.levels is not None
    k, p2 = params.shape
    if codes.n <= _PARALLEL_ROWS_MAX_N:
        # Written in out_dtype by the kernel: small circuits take microseconds, and a cast
        # after them would be a visible part of a call.
        values = np.empty(k, out_dtype)
        grads = np.zeros((k, p2), out_dtype) if with_grad else _no_grads(k, out_dtype)
        levels = codes.levels if integer else _NO_LEVELS
        one = _ONE.get(float_dtype)
        if one is None:
            one = _ONE[np.dtype(float_dtype).char]
        args = (codes.codes, rows, levels, params, integer, values, grads, one)
        _split(_block_rows, k, *args)
        return values, (grads if with_grad else None)
    values = np.empty(k)
    grads = np.zeros((k, p2 if with_grad else 0))
    view = CostCodes(codes.codes, codes.levels[rows] if integer else None, codes.n)
    gammas, mixer, cos_t, sin_t, levels = layer_tables(view, params, float_dtype)
    tiles = codes.column_tiles()  # kept with the batch's codes: built by its first call
    with (workspace or Workspace()).planes(codes.n, 4 if with_grad else 2, float_dtype) as planes:
        re, im = planes[:2]
        lre, lim = planes[2:] if with_grad else (re[:0], im[:0])
        for i in range(k):
            tables = (cos_t[i], sin_t[i], levels[i])
            values[i] = _large_circuit(
                re, im, lre, lim, codes.codes[rows[i]], tiles[rows[i]], tables, gammas[i],
                mixer[i], grads[i] if with_grad else None,
            )  # fmt: skip
    values = values.astype(out_dtype, copy=False)
    return values, (grads.astype(out_dtype, copy=False) if with_grad else None)
