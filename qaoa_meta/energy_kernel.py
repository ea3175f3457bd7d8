"""Compiled CPU kernel for exact Max-Cut QAOA energies and their adjoint gradients (numba).

The state is kept as two real arrays (real and imaginary parts, float32 or float64) so the
butterflies vectorise. The mixer ``e^{-iβ ΣX}`` commutes qubit by qubit, so its qubits are split
into two groups: the low ``g`` bits (a contiguous block of ``2^g`` amplitudes, cache-resident)
and the high ``n - g`` bits (a tile of ``2^(n-g)`` rows of ``w`` contiguous amplitudes, copied
into a per-thread buffer). One sweep over memory ("pass") on a group applies the rest of one
layer's mixer on that group, the next layer's cost phase (elementwise, fits in any pass) and the
next layer's mixer on the same group. A depth-p energy is therefore ``p + 1`` passes (one, when
the whole register fits in one block), the first one writing |+⟩ with its phase without reading,
the last one reducing ⟨C⟩ without writing back.

The cost phase ``e^{-iγ C(x)}`` reads a cost code per amplitude: for integer edge weights the
cut value minus its minimum as ``uint8``/``uint16`` (a table of ``cos``/``sin`` per level and
layer; 1–2 bytes read per amplitude), otherwise the float cut value (``cos``/``sin`` per
amplitude). The expectation is reduced in float64 whatever the state's precision.

The gradient is the adjoint method: after the forward passes, λ = Cψ, and the passes run back
(un-applying each layer to ψ and λ) accumulating ``dE/dθ_k = 2 Im⟨λ|G_k|ψ⟩`` with ``G = C``
for a phase and ``G = X_j`` per qubit for a mixer, summed in float64. Memory: two states per
circuit in flight.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from qaoa_meta.problems import MAX_DIAGONAL_NODES, MaxCutProblem, cost_diagonal
from qaoa_meta.system import available_memory

# Register bits handled inside one contiguous block (2^14 complex64 = 128 KiB: in L2).
BLOCK_BITS = 14
# Contiguous amplitudes per tile row in the high-bit passes (16 float32 = one cache line).
TILE_WIDTH = 16
# Circuits of a batch run in parallel (one per thread) up to this many qubits; above it, one
# circuit at a time with the tiles in parallel.
_PARALLEL_ROWS_MAX_N = BLOCK_BITS

_JIT = {
    "nogil": True,
    "cache": True,
    "error_model": "numpy",
    "fastmath": {"contract", "arcp", "nsz", "reassoc"},
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


# --- in-cache building blocks ---------------------------------------------------------------


@numba.njit(**_JIT)
def _pairs(ar_, ai_, br_, bi_, c, s):
    """``e^{-iβX}`` on amplitude pairs (a, b) held in four equal-length slices."""
    for k in range(ar_.size):
        ar = ar_[k]
        ai = ai_[k]
        br = br_[k]
        bi = bi_[k]
        ar_[k] = c * ar + s * bi
        ai_[k] = c * ai - s * br
        br_[k] = c * br + s * ai
        bi_[k] = c * bi - s * ar


@numba.njit(**_JIT)
def _pairs_x(pr_a, pi_a, pr_b, pi_b, lr_a, li_a, lr_b, li_b):
    """Im⟨λ|X|ψ⟩ over amplitude pairs (read only, so it vectorises), in float64."""
    total = 0.0
    for k in range(pr_a.size):
        total += np.float64(
            lr_a[k] * pi_b[k] - li_a[k] * pr_b[k] + lr_b[k] * pi_a[k] - li_b[k] * pr_a[k]
        )
    return total


def _make_low_bit(h: int):
    """Kernels for one bit of pair distance ``h`` < 16, written with ``h`` a compile-time
    constant so the interleaved loads vectorise (a loop of length h per pair does not)."""

    @numba.njit(**_JIT)
    def mix(tr, ti, c, s):
        for m in range(tr.size // (2 * h)):
            for q in range(h):
                i = 2 * h * m + q
                ar = tr[i]
                ai = ti[i]
                br = tr[i + h]
                bi = ti[i + h]
                tr[i] = c * ar + s * bi
                ti[i] = c * ai - s * br
                tr[i + h] = c * br + s * ai
                ti[i + h] = c * bi - s * ar

    @numba.njit(**_JIT)
    def x_grad(pr, pi, lr, li):
        total = 0.0
        for m in range(pr.size // (2 * h)):
            for q in range(h):
                i = 2 * h * m + q
                j = i + h
                total += np.float64(lr[i] * pi[j] - li[i] * pr[j] + lr[j] * pi[i] - li[j] * pr[i])
        return total

    return mix, x_grad


_mix1, _x_grad1 = _make_low_bit(1)
_mix2, _x_grad2 = _make_low_bit(2)
_mix4, _x_grad4 = _make_low_bit(4)
_mix8, _x_grad8 = _make_low_bit(8)


@numba.njit(**_JIT)
def _mix(tr, ti, nbits, w, c, s):
    """Applies ``e^{-iβX}`` (c = cos β, s = sin β) to each row bit of a (2^nbits, w) buffer."""
    first = 0
    if w == 1:  # contiguous block: the four lowest bits by the constant-distance kernels
        if nbits > 0:
            _mix1(tr, ti, c, s)
        if nbits > 1:
            _mix2(tr, ti, c, s)
        if nbits > 2:
            _mix4(tr, ti, c, s)
        if nbits > 3:
            _mix8(tr, ti, c, s)
        first = 4
    size = tr.size
    for b in range(first, nbits):
        h = w << b
        for start in range(0, size, 2 * h):
            mid = start + h
            end = mid + h
            _pairs(tr[start:mid], ti[start:mid], tr[mid:end], ti[mid:end], c, s)


@numba.njit(**_JIT)
def _unmix_grad(pr, pi, lr, li, nbits, w, c, s):
    """Un-applies ``e^{-iβX}`` per row bit to ψ and λ; returns Σ_bits Im⟨λ|X_b|ψ⟩ (float64).

    Each X_b commutes with every rotation of the mixer, so all the terms are read before
    un-applying any of it (read-only loops, then two in-place mixers: both vectorise).
    """
    total = 0.0
    first = 0
    if w == 1:
        if nbits > 0:
            total += _x_grad1(pr, pi, lr, li)
        if nbits > 1:
            total += _x_grad2(pr, pi, lr, li)
        if nbits > 2:
            total += _x_grad4(pr, pi, lr, li)
        if nbits > 3:
            total += _x_grad8(pr, pi, lr, li)
        first = 4
    size = pr.size
    for b in range(first, nbits):
        h = w << b
        for start in range(0, size, 2 * h):
            mid = start + h
            end = mid + h
            total += _pairs_x(
                pr[start:mid], pi[start:mid], pr[mid:end], pi[mid:end],
                lr[start:mid], li[start:mid], lr[mid:end], li[mid:end],
            )  # fmt: skip
    _mix(pr, pi, nbits, w, c, -s)
    _mix(lr, li, nbits, w, c, -s)
    return total


@numba.njit(**_JIT)
def _phase(tr, ti, dc, cos_table, sin_table, gamma, integer, sign):
    """Multiplies by ``e^{-i sign γ C(x)}``; ``dc`` holds the codes of the buffer's amplitudes."""
    for k in range(tr.size):
        if integer:
            cr = cos_table[np.intp(dc[k])]
            sr = sign * sin_table[np.intp(dc[k])]
        else:
            angle = gamma * np.float64(dc[k])
            cr = math.cos(angle)
            sr = sign * math.sin(angle)
        ar = tr[k]
        ai = ti[k]
        tr[k] = ar * cr + ai * sr
        ti[k] = ai * cr - ar * sr


@numba.njit(**_JIT)
def _init_phase(tr, ti, dc, cos_table, sin_table, gamma, integer, amplitude):
    """Writes ``e^{-iγ C(x)}/√dim`` (the first cost layer on |+⟩) without reading the buffer."""
    for k in range(tr.size):
        if integer:
            cr = cos_table[np.intp(dc[k])]
            sr = sin_table[np.intp(dc[k])]
        else:
            angle = gamma * np.float64(dc[k])
            cr = math.cos(angle)
            sr = math.sin(angle)
        tr[k] = amplitude * cr
        ti[k] = -amplitude * sr


@numba.njit(**_JIT)
def _value(dc, k, levels, integer):
    if integer:
        return levels[np.intp(dc[k])]
    return np.float64(dc[k])


@numba.njit(**_JIT)
def _expect(tr, ti, dc, levels, integer):
    """Σ |ψ_x|² C(x) over the buffer, in float64."""
    total = 0.0
    for k in range(tr.size):
        total += np.float64(tr[k] * tr[k] + ti[k] * ti[k]) * _value(dc, k, levels, integer)
    return total


@numba.njit(**_JIT)
def _apply_cost(pr, pi, lr, li, dc, levels, integer):
    """λ = C ψ; returns ⟨ψ|C|ψ⟩ (float64)."""
    total = 0.0
    for k in range(pr.size):
        v = _value(dc, k, levels, integer)
        total += np.float64(pr[k] * pr[k] + pi[k] * pi[k]) * v
        lr[k] = pr[k] * v
        li[k] = pi[k] * v
    return total


@numba.njit(**_JIT)
def _phase_grad(pr, pi, lr, li, dc, levels, integer):
    """Σ C(x) Im(conj(λ_x) ψ_x) in float64."""
    total = 0.0
    for k in range(pr.size):
        total += np.float64(lr[k] * pi[k] - li[k] * pr[k]) * _value(dc, k, levels, integer)
    return total


# --- whole circuits that fit one block ------------------------------------------------------


@numba.njit(**_JIT)
def _block_circuit(tr, ti, lr, li, dc, cos_t, sin_t, levels, gammas, cb, sb, integer, grads):
    """Forward (and, if ``grads`` has entries, adjoint) pass of one circuit held in cache."""
    n = int(np.log2(tr.size) + 0.5)
    p = gammas.size
    amplitude = 1.0 / math.sqrt(tr.size)
    _init_phase(tr, ti, dc, cos_t[0], sin_t[0], gammas[0], integer, amplitude)
    _mix(tr, ti, n, 1, cb[0], sb[0])
    for layer in range(1, p):
        _phase(tr, ti, dc, cos_t[layer], sin_t[layer], gammas[layer], integer, 1.0)
        _mix(tr, ti, n, 1, cb[layer], sb[layer])
    if grads.size == 0:
        return _expect(tr, ti, dc, levels, integer)
    energy = _apply_cost(tr, ti, lr, li, dc, levels, integer)
    for layer in range(p - 1, -1, -1):
        grads[p + layer] = 2.0 * _unmix_grad(tr, ti, lr, li, n, 1, cb[layer], sb[layer])
        grads[layer] = 2.0 * _phase_grad(tr, ti, lr, li, dc, levels, integer)
        if layer:
            _phase(tr, ti, dc, cos_t[layer], sin_t[layer], gammas[layer], integer, -1.0)
            _phase(lr, li, dc, cos_t[layer], sin_t[layer], gammas[layer], integer, -1.0)
    return energy


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
    cb = np.empty(p, one.dtype)
    sb = np.empty(p, one.dtype)
    for i in range(first, last):
        row = rows[i]
        gammas = params[i, :p]
        for layer in range(p):
            cb[layer] = math.cos(params[i, p + layer])
            sb[layer] = math.sin(params[i, p + layer])
            if integer:
                for level in range(count):
                    angle = gammas[layer] * levels[row, level]
                    cos_t[layer, level] = math.cos(angle)
                    sin_t[layer, level] = math.sin(angle)
        values[i] = _block_circuit(
            tr, ti, lr, li, codes[row], cos_t, sin_t, levels[row], gammas, cb, sb, integer,
            grads[i],
        )  # fmt: skip


# --- circuits larger than a block: passes over memory -----------------------------------------


@numba.njit(**_JIT)
def _load(src, dst, base, rows, stride, w):
    """Copies rows ``base + r * stride + [0, w)`` of ``src`` into the (rows, w) buffer ``dst``."""
    for r in range(rows):
        start = base + r * stride
        for j in range(w):
            dst[r * w + j] = src[start + j]


@numba.njit(**_JIT)
def _store(dst, src, base, rows, stride, w):
    """Copies the (rows, w) buffer ``src`` back to rows ``base + r * stride`` of ``dst``."""
    for r in range(rows):
        start = base + r * stride
        for j in range(w):
            dst[start + j] = src[r * w + j]


@numba.njit(**_JIT)
def _forward_pass(
    re, im, dc, row_bits, stride, w, cos_t, sin_t, levels, gammas, cb, sb, integer,
    mix_before, phase_layer, write, expect, first_tile, last_tile,
):  # fmt: skip
    """One sweep: mixer of layer ``mix_before`` on this group, phase of ``phase_layer`` (the
    first one initialises |+⟩) and that layer's mixer on this group; or ⟨C⟩ after
    ``mix_before`` when ``expect``. Layers < 0 are skipped. Returns the float64 partial sums."""
    rows = 1 << row_bits
    dim = re.size
    chunks = stride // w if stride > 1 else 1
    tile_w = w if stride > 1 else 1
    partial = np.zeros(last_tile - first_tile, np.float64)
    amplitude = 1.0 / math.sqrt(dim)
    tr = np.empty(rows * tile_w, re.dtype)
    ti = np.empty(rows * tile_w, re.dtype)
    tc = np.empty(rows * tile_w, dc.dtype)
    for t in range(first_tile, last_tile):
        outer = t // chunks
        base = outer * rows * stride + (t % chunks) * tile_w
        _load(dc, tc, base, rows, stride, tile_w)
        if phase_layer == 0:
            _init_phase(tr, ti, tc, cos_t[0], sin_t[0], gammas[0], integer, amplitude)
        else:
            _load(re, tr, base, rows, stride, tile_w)
            _load(im, ti, base, rows, stride, tile_w)
        if mix_before >= 0:
            _mix(tr, ti, row_bits, tile_w, cb[mix_before], sb[mix_before])
        if phase_layer > 0:
            _phase(
                tr, ti, tc, cos_t[phase_layer], sin_t[phase_layer], gammas[phase_layer],
                integer, 1.0,
            )  # fmt: skip
        if phase_layer >= 0:
            _mix(tr, ti, row_bits, tile_w, cb[phase_layer], sb[phase_layer])
        if expect:
            partial[t - first_tile] = _expect(tr, ti, tc, levels, integer)
        if write:
            _store(re, tr, base, rows, stride, tile_w)
            _store(im, ti, base, rows, stride, tile_w)
    return partial


@numba.njit(**_JIT)
def _backward_pass(
    re, im, lre, lim, dc, row_bits, stride, w, cos_t, sin_t, levels, gammas, cb, sb, integer,
    mix_after, phase_layer, mix_before, start, write, first_tile, last_tile,
):  # fmt: skip
    """Adjoint sweep mirroring a forward pass: un-applies (in reverse) the mixer of
    ``mix_after`` on this group, the phase of ``phase_layer`` and the mixer of ``mix_before``,
    to ψ and λ, accumulating 2 Im⟨λ|G|ψ⟩ for each. With ``start``, the sweep is the last forward
    one: it applies the mixer of ``mix_after`` to ψ, reduces ⟨C⟩ and sets λ = Cψ first.
    Layers < 0 are skipped. Returns (tiles, 4) float64 partial sums: ⟨C⟩, Im⟨λ|ΣX|ψ⟩ at
    ``mix_after``, Im⟨λ|C|ψ⟩ at ``phase_layer``, Im⟨λ|ΣX|ψ⟩ at ``mix_before``."""
    rows = 1 << row_bits
    chunks = stride // w if stride > 1 else 1
    tile_w = w if stride > 1 else 1
    partial = np.zeros((last_tile - first_tile, 4), np.float64)
    size = rows * tile_w
    pr = np.empty(size, re.dtype)
    pi = np.empty(size, re.dtype)
    lr = np.empty(size, re.dtype)
    li = np.empty(size, re.dtype)
    tc = np.empty(size, dc.dtype)
    for t in range(first_tile, last_tile):
        outer = t // chunks
        base = outer * rows * stride + (t % chunks) * tile_w
        i = t - first_tile
        _load(dc, tc, base, rows, stride, tile_w)
        _load(re, pr, base, rows, stride, tile_w)
        _load(im, pi, base, rows, stride, tile_w)
        if start:
            _mix(pr, pi, row_bits, tile_w, cb[mix_after], sb[mix_after])
            partial[i, 0] = _apply_cost(pr, pi, lr, li, tc, levels, integer)
        else:
            _load(lre, lr, base, rows, stride, tile_w)
            _load(lim, li, base, rows, stride, tile_w)
        if mix_after >= 0:
            c, s = cb[mix_after], sb[mix_after]
            partial[i, 1] = _unmix_grad(pr, pi, lr, li, row_bits, tile_w, c, s)
        if phase_layer >= 0:
            partial[i, 2] = _phase_grad(pr, pi, lr, li, tc, levels, integer)
            if mix_before >= 0:  # the first phase need not be undone: nothing is left after it
                g = gammas[phase_layer]
                ct, st = cos_t[phase_layer], sin_t[phase_layer]
                _phase(pr, pi, tc, ct, st, g, integer, -1.0)
                _phase(lr, li, tc, ct, st, g, integer, -1.0)
        if mix_before >= 0:
            c, s = cb[mix_before], sb[mix_before]
            partial[i, 3] = _unmix_grad(pr, pi, lr, li, row_bits, tile_w, c, s)
        if write:
            _store(re, pr, base, rows, stride, tile_w)
            _store(im, pi, base, rows, stride, tile_w)
            _store(lre, lr, base, rows, stride, tile_w)
            _store(lim, li, base, rows, stride, tile_w)
    return partial


# Amplitudes per high-group tile: 2^14 (128 KiB of float32 ψ; 256 KiB with λ).
_TILE_AMPLITUDE_BITS = 14


def groups(n: int) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """(row bits, row stride, row width) of the low (block) and high (tile) qubit groups.

    The low group is the ``n - high`` least significant bits (contiguous blocks); the high group
    the rest, as tiles of ``2^high`` rows ``2^low`` apart, each ``width`` amplitudes wide.
    """
    high = max(1, n - BLOCK_BITS)
    low = n - high
    width = min(1 << low, max(TILE_WIDTH, 1 << max(0, _TILE_AMPLITUDE_BITS - high)))
    return (low, 1, 1), (high, 1 << low, width)


_POOL: list = [None, 0]  # a ThreadPoolExecutor and its size


def set_threads(count: int | None = None) -> int:
    """Sets the threads the kernel uses (default: all CPUs); returns the count.

    Circuits up to ``BLOCK_BITS`` qubits are split across threads by batch row; larger ones by
    tiles of each sweep. The compiled functions release the GIL, so plain Python threads run
    them side by side (no OpenMP or TBB runtime, and nothing to compile per thread count).
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


def _tiles(n: int, group: tuple[int, int, int]) -> int:
    bits, stride, w = group
    return (1 << n) // ((1 << bits) * (w if stride > 1 else 1))


def _large_circuit(re, im, lre, lim, dc, tables, gammas, cb, sb, integer, grads):
    """One circuit over memory (n > BLOCK_BITS): p + 1 forward sweeps (and p + 1 back)."""
    cos_t, sin_t, levels = tables
    p = gammas.size
    n = int(re.size).bit_length() - 1
    group = groups(n)
    common = (cos_t, sin_t, levels, gammas, cb, sb, integer)

    def forward(g, mix_before, phase_layer, write, expect):
        bits, stride, w = group[g]
        args = (re, im, dc, bits, stride, w, *common, mix_before, phase_layer, write, expect)
        return sum(float(part.sum()) for part in _split(_forward_pass, _tiles(n, group[g]), *args))

    forward(0, -1, 0, True, False)
    for layer in range(1, p):
        forward(layer % 2, layer - 1, layer, True, False)
    if grads is None:
        return forward(p % 2, p - 1, -1, False, True)

    def backward(g, mix_after, phase_layer, mix_before, start, write):
        bits, stride, w = group[g]
        args = (re, im, lre, lim, dc, bits, stride, w, *common)
        args += (mix_after, phase_layer, mix_before, start, write)
        parts = _split(_backward_pass, _tiles(n, group[g]), *args)
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
    grads *= 2.0
    return energy


# --- memory ----------------------------------------------------------------------------------


class MemoryLimitError(ValueError):
    """The exact energy of a batch needs more memory than the machine has available."""


def code_bytes_per_amplitude(problems: Sequence[MaxCutProblem], float_dtype) -> int:
    """Bytes per amplitude of the cost codes of ``problems`` (an upper bound for integers)."""
    if all(_integer_weights(pr) for pr in problems):
        span = max(sum(abs(int(w)) for _, _, w in pr.edges) for pr in problems) * 2 + 1
        if span <= 65536:
            return 1 if span <= 256 else 2
    return np.dtype(float_dtype).itemsize


def required_memory(problems: Sequence[MaxCutProblem], n_qubits: int, float_dtype) -> dict:
    """Bytes the kernel path needs for ``problems`` on ``n_qubits``: codes, build, states."""
    dim = 1 << n_qubits
    itemsize = np.dtype(float_dtype).itemsize
    codes = len(problems) * dim * code_bytes_per_amplitude(problems, float_dtype)
    build = dim * 8  # one problem's int32 cut values (or float64 diagonal) while coding it
    count = threads() if n_qubits <= _PARALLEL_ROWS_MAX_N else 1
    states = 4 * dim * itemsize * count  # ψ and λ, real and imaginary parts
    return {"codes": codes, "build": build, "states": states, "total": codes + build + states}


def check_memory(problems: Sequence[MaxCutProblem], n_qubits: int, float_dtype) -> None:
    """Raises :class:`MemoryLimitError` (before allocating) if the batch does not fit.

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
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-row (γ, cos β, sin β, cos γv, sin γv, levels) arrays the kernels read."""
    p = params.shape[1] // 2
    gammas = np.ascontiguousarray(params[:, :p], np.float64)
    betas = params[:, p:]
    cb = np.cos(betas).astype(float_dtype)
    sb = np.sin(betas).astype(float_dtype)
    if codes.levels is None:
        empty = np.zeros((len(params), p, 1), float_dtype)
        levels = np.zeros((len(params), 1))
        return gammas, cb, sb, empty, empty, levels
    angles = gammas[:, :, None] * codes.levels[:, None, :]
    return (
        gammas,
        cb,
        sb,
        np.cos(angles).astype(float_dtype),
        np.sin(angles).astype(float_dtype),
        codes.levels,
    )


_NO_LEVELS = np.zeros((1, 1))
_ONE = {"f": np.ones(1, np.float32), "d": np.ones(1, np.float64)}


def run(
    codes: CostCodes,
    rows: np.ndarray,
    params: np.ndarray,
    with_grad: bool,
    float_dtype=np.float32,
) -> tuple[np.ndarray, np.ndarray | None]:
    """⟨C⟩ (and d⟨C⟩/dθ) for ``params[i]`` on the problem ``codes.codes[rows[i]]``.

    Args:
        codes: the batch's cost codes (:func:`cost_codes`).
        rows: ``(K,)`` int row of ``codes`` per parameter row.
        params: ``(K, 2p)`` float64 θ = (γ_1..γ_p, β_1..β_p).
        with_grad: also return the ``(K, 2p)`` gradient.
        float_dtype: precision of the state (np.float32 or np.float64).

    Returns:
        ``(K,)`` float64 energies and the ``(K, 2p)`` float64 gradient or None.
    """
    params = np.ascontiguousarray(params, np.float64)
    integer = codes.levels is not None
    k, p2 = params.shape
    values = np.empty(k)
    grads = np.zeros((k, p2 if with_grad else 0))
    if codes.n <= _PARALLEL_ROWS_MAX_N:
        levels = codes.levels if integer else _NO_LEVELS
        one = _ONE[np.dtype(float_dtype).char]
        args = (codes.codes, rows, levels, params, integer, values, grads, one)
        _split(_block_rows, k, *args)
        return values, (grads if with_grad else None)
    view = CostCodes(codes.codes, codes.levels[rows] if integer else None, codes.n)
    gammas, cb, sb, cos_t, sin_t, levels = layer_tables(view, params, float_dtype)
    dim = 1 << codes.n
    re = np.empty(dim, float_dtype)
    im = np.empty(dim, float_dtype)
    lre = np.empty(dim if with_grad else 0, float_dtype)
    lim = np.empty(dim if with_grad else 0, float_dtype)
    for i in range(k):
        tables = (cos_t[i], sin_t[i], levels[i])
        values[i] = _large_circuit(
            re, im, lre, lim, codes.codes[rows[i]], tables, gammas[i], cb[i], sb[i], integer,
            grads[i] if with_grad else None,
        )  # fmt: skip
    return values, (grads if with_grad else None)
